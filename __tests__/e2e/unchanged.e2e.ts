/**
 * Skip unchanged on the test bed: a second run with the same inputs reuses the published images
 * (no build, no test), a new distro or a changed context is built, and force rebuilds everything.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  cellsOf,
  configOf,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000

const statuses = (outputs: Record<string, string>): string[][] =>
  cellsOf({ outputs }).map(c => [c.id, c.status])

describe('skip unchanged on the test bed', () => {
  const tb = testbed()
  const repo = uniqueRepo('unchanged')
  // A workspace of its own: the test changes a file of the build context.
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'rma-unchanged-'))
  cpSync('examples/ros-app', workspace, { recursive: true })
  const inputs = {
    context: '.',
    'smoke-test-file': 'smoke.yaml',
    'ros-checks': 'false',
    'base-image': `${tb.registry}/ros:{distro}-ros-base`,
    image: `${tb.registry}/${repo}`,
    push: 'true'
  }
  const env = { GITHUB_WORKSPACE: workspace }
  const run = (extra: Record<string, string>) =>
    runE2e({ ...inputs, ...extra }, { env, cwd: workspace })

  let first: Record<string, string> = {}

  it(
    'the first run builds, tests and records the base digest and inputs hash on each image',
    async () => {
      const r = await run({ distros: 'humble, jazzy' })
      expectPassed(r)
      expect(statuses(r.outputs)).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'passed'],
        ['jazzy-amd64', 'passed'],
        ['jazzy-arm64', 'passed']
      ])
      first = JSON.parse(r.outputs.digests) as Record<string, string>
      const index = await manifestOf(repo, 'humble-main')
      const base = await manifestOf('ros', 'humble-ros-base')
      for (const entry of index?.manifests ?? []) {
        const manifest = await manifestOf(repo, entry.digest)
        const labels = (await configOf(repo, manifest?.config?.digest ?? '')).config.Labels ?? {}
        const baseEntry = base?.manifests?.find(
          m => m.platform.architecture === entry.platform.architecture
        )
        expect(labels['io.ros-multiarch.base.digest']).toBe(
          `${tb.registry}/ros:humble-ros-base@${baseEntry?.digest}`
        )
        expect(labels['io.ros-multiarch.inputs.hash']).toMatch(/^sha256:[0-9a-f]{64}$/)
      }
    },
    10 * MINUTES
  )

  it(
    'a second run with nothing changed builds and tests nothing, and leaves every tag as it was',
    async () => {
      const before = await tagsOf(repo)
      const r = await run({ distros: 'humble, jazzy' })
      expectPassed(r)
      expect(statuses(r.outputs)).toEqual([
        ['humble-amd64', 'unchanged'],
        ['humble-arm64', 'unchanged'],
        ['jazzy-amd64', 'unchanged'],
        ['jazzy-arm64', 'unchanged']
      ])
      expect(r.log).not.toMatch(/: build \((native|emulated)\)/)
      expect(r.log).not.toMatch(/smoke tests/)
      expect(r.log).toContain('humble-arm64: unchanged since')
      expect(r.log).toMatch(/already hold this index/)
      // the indexes and the arch tags hold what they held: nothing was written
      expect(JSON.parse(r.outputs.digests)).toEqual(first)
      expect(r.log).not.toMatch(/^Tagged /m)
      expect(await tagsOf(repo)).toEqual(before)
      expect(r.summary).toContain('4 unchanged')
      expect(r.summary).toContain('reused from')
    },
    10 * MINUTES
  )

  it(
    'a new distro is built while the others are reused; their index keeps the same images',
    async () => {
      const r = await run({ distros: 'humble, jazzy, kilted' })
      expectPassed(r)
      expect(statuses(r.outputs)).toEqual([
        ['humble-amd64', 'unchanged'],
        ['humble-arm64', 'unchanged'],
        ['jazzy-amd64', 'unchanged'],
        ['jazzy-arm64', 'unchanged'],
        ['kilted-amd64', 'passed'],
        ['kilted-arm64', 'passed']
      ])
      expect(r.log).toContain('kilted-arm64: building (nothing published under its tags yet)')
      expect(await manifestOf(repo, 'kilted-main')).not.toBeNull()
    },
    10 * MINUTES
  )

  it(
    'a changed file in the build context rebuilds and retests, and the index moves to the new images',
    async () => {
      writeFileSync(path.join(workspace, 'CHANGED.txt'), 'a change\n')
      const r = await run({ distros: 'humble' })
      expectPassed(r)
      expect(statuses(r.outputs)).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'passed']
      ])
      expect(r.log).toContain('its build inputs changed')
      const digests = JSON.parse(r.outputs.digests) as Record<string, string>
      const tag = `${tb.registry}/${repo}:humble-main`
      expect(digests[tag]).toBeDefined()
      expect(digests[tag]).not.toBe(first[tag])
    },
    10 * MINUTES
  )

  it(
    'force rebuilds and retests every cell even when nothing changed',
    async () => {
      const r = await run({ distros: 'humble', force: 'true' })
      expectPassed(r)
      expect(statuses(r.outputs)).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'passed']
      ])
      expect(r.log).toMatch(/humble-arm64: build \(emulated\) done/)
      expect(r.log).toContain('force: every cell is rebuilt and retested')
    },
    10 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})
