/**
 * Release tags, labels and annotations, as published to the test bed's registry.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  cellsOf,
  configOf,
  E2E_SHA,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000

function eventFile(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rma-event-')), 'event.json')
  writeFileSync(
    file,
    JSON.stringify({
      ref: 'refs/tags/v1.2.3',
      repository: {
        name: 'ros-app',
        html_url: 'https://github.com/acme/ros-app',
        description: 'A tiny ROS app',
        license: { spdx_id: 'Apache-2.0' }
      }
    })
  )
  return file
}

describe('releases on the test bed', () => {
  const tb = testbed()
  const common = {
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    'base-image': `${tb.registry}/ros:{distro}-ros-base`
  }

  it(
    'a v1.2.3 tag publishes the semver tags, latest for one distro, labels, and index annotations where the index can hold them',
    async () => {
      const repo = uniqueRepo('release')
      const r = await runE2e(
        {
          ...common,
          distros: 'humble, jazzy',
          image: `${tb.registry}/${repo}`,
          push: 'true',
          'latest-distro': 'jazzy',
          labels: 'org.opencontainers.image.vendor=Acme Robotics'
        },
        { env: { GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_EVENT_PATH: eventFile() } }
      )
      expectPassed(r)
      expect(await tagsOf(repo)).toEqual(
        [
          'humble-1.2.3',
          'humble-1.2',
          'humble-1',
          'humble',
          'humble-1.2.3-amd64',
          'humble-1.2.3-arm64',
          'jazzy-1.2.3',
          'jazzy-1.2',
          'jazzy-1',
          'jazzy',
          'jazzy-1.2.3-amd64',
          'jazzy-1.2.3-arm64',
          'latest'
        ].sort()
      )
      // every index tag of a distro is the same index
      const digest = (await manifestOf(repo, 'jazzy-1.2.3'))?.digest
      for (const tag of ['jazzy-1.2', 'jazzy-1', 'jazzy', 'latest']) {
        expect((await manifestOf(repo, tag))?.digest).toBe(digest)
      }
      const expected = {
        'org.opencontainers.image.source': 'https://github.com/acme/ros-app',
        'org.opencontainers.image.revision': E2E_SHA,
        'org.opencontainers.image.version': '1.2.3',
        'org.opencontainers.image.title': 'ros-app',
        'org.opencontainers.image.description': 'A tiny ROS app',
        'org.opencontainers.image.licenses': 'Apache-2.0',
        'org.opencontainers.image.vendor': 'Acme Robotics',
        'io.ros-multiarch.ros.distro': 'humble',
        'io.ros-multiarch.ros.version': '2'
      }
      const index = await manifestOf(repo, 'humble-1.2.3')
      // on every engine the images are published as OCI (the classic store pushes Docker v2
      // manifests, told as OCI by the action), so the index is OCI and carries the labels as
      // annotations, read back here from the registry
      expect(index?.mediaType).toBe('application/vnd.oci.image.index.v1+json')
      expect(index?.annotations).toMatchObject(expected)
      expect(r.log).not.toContain('cannot hold annotations')
      for (const entry of index?.manifests ?? []) {
        const manifest = await manifestOf(repo, entry.digest)
        const config = await configOf(repo, manifest?.config?.digest ?? '')
        expect(config.config.Labels).toMatchObject(expected)
      }
      const metadata = JSON.parse(r.outputs.metadata) as Record<
        string,
        { tags: string[]; version: string }
      >
      expect(metadata.jazzy.tags).toContain(`${tb.registry}/${repo}:latest`)
      expect(metadata.humble.version).toBe('1.2.3')
    },
    15 * MINUTES
  )

  it(
    'a pull request builds and tests but pushes nothing, even with push: true',
    async () => {
      const repo = uniqueRepo('pull-request')
      const r = await runE2e(
        { ...common, distros: 'humble', image: `${tb.registry}/${repo}`, push: 'true' },
        { env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge' } }
      )
      expectPassed(r)
      expect(r.log).toContain('push is off: a pull request builds and tests, and never pushes.')
      const cells = cellsOf(r)
      expect(cells.map(c => c.status)).toEqual(['passed', 'passed'])
      expect(await tagsOf(repo)).toEqual([])
      expect(r.outputs.tags).toBe('')
    },
    10 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
