/**
 * The pipeline on the test bed's real Docker engine, buildx, QEMU and authenticated registry.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  cellsOf,
  expectDefaultAttestations,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const EXAMPLE = {
  context: 'examples/ros-app',
  'smoke-test-file': 'examples/ros-app/smoke.yaml',
  // The test bed's ROS 2 bases are minimal (no ros2 CLI): the example checks its own ROS environment.
  'ros-checks': 'false'
}
const MINUTES = 60_000

function platformsOf(index: {
  manifests?: { platform: { os: string; architecture: string } }[]
}): string[] {
  return (index.manifests ?? []).map(m => `${m.platform.os}/${m.platform.architecture}`).sort()
}

describe('pipeline on the test bed', () => {
  const tb = testbed()
  const repo = uniqueRepo('example')
  const image = `${tb.registry}/${repo}`
  const base = `${tb.registry}/ros:{distro}-ros-base`
  let firstDigests: Record<string, string> = {}

  it(
    '2 distros x amd64/arm64: publishes complete indexes of exactly the tested images',
    async () => {
      const r = await runE2e({
        ...EXAMPLE,
        distros: 'humble, jazzy',
        image,
        'base-image': base,
        push: 'true'
      })
      expectPassed(r)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status])).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'passed'],
        ['jazzy-amd64', 'passed'],
        ['jazzy-arm64', 'passed']
      ])
      for (const distro of ['humble', 'jazzy']) {
        const index = await manifestOf(repo, `${distro}-main`)
        expect(index).not.toBeNull()
        // exactly linux/amd64 and linux/arm64, and the default provenance where the engine keeps it
        expect(platformsOf(index ?? {})).toEqual(['linux/amd64', 'linux/arm64'])
        expectDefaultAttestations(index)
        for (const entry of index?.manifests ?? []) {
          const arch = entry.platform.architecture
          const cell = cells.find(c => c.id === `${distro}-${arch}`)
          // the index points at what was pushed for the cell...
          expect(entry.digest).toBe(cell?.pushed?.digest)
          // ...and that manifest's config is the very image that was tested
          const manifest = await manifestOf(repo, entry.digest)
          if (tb.store === 'containerd') {
            // built with provenance (the default): the engine keeps an index of the image and its
            // attestations, and the image is told by its manifest digest, the very one pushed
            expect(cell?.imageId).toBe(entry.digest)
            expect(manifest?.config?.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
            expect(cell?.localId).not.toBe(entry.digest)
          } else {
            // the classic image store names the image by its config digest
            expect(manifest?.config?.digest).toBe(cell?.imageId)
            expect(cell?.localId).toBe(cell?.imageId)
          }
        }
      }
      expect(await tagsOf(repo)).toEqual(
        [
          'humble-main',
          'humble-main-amd64',
          'humble-main-arm64',
          'humble-sha-e2e0123',
          'jazzy-main',
          'jazzy-main-amd64',
          'jazzy-main-arm64',
          'jazzy-sha-e2e0123'
        ].sort()
      )
      firstDigests = JSON.parse(r.outputs.digests) as Record<string, string>
      expect(firstDigests[`${image}:humble-main`]).toBe(
        (await manifestOf(repo, 'humble-main'))?.digest
      )
      expect(r.outputs.tags.split('\n').sort()).toEqual(
        [
          `${image}:humble-main`,
          `${image}:humble-sha-e2e0123`,
          `${image}:jazzy-main`,
          `${image}:jazzy-sha-e2e0123`
        ].sort()
      )
      expect(r.summary).toContain('4 of 4 cells passed')
      expect(r.log).toContain('linux/arm64: QEMU already registered (qemu-aarch64)')
      expect(r.log).toContain(`Logged out of ${tb.registry}`)
    },
    15 * MINUTES
  )

  it(
    'an arm64 smoke test failure publishes nothing for that distro and leaves its tags where they were',
    async () => {
      const r = await runE2e({
        ...EXAMPLE,
        distros: 'humble, jazzy',
        image,
        'base-image': base,
        push: 'true',
        'smoke-tests': 'test "$(uname -m)" != aarch64 || test "$ROS_DISTRO" != humble'
      })
      expect(r.code).toBe(1)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status])).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'failed'],
        ['jazzy-amd64', 'passed'],
        ['jazzy-arm64', 'passed']
      ])
      // humble: not a tag moved, not even the tested amd64 image's arch tag
      expect((await manifestOf(repo, 'humble-main'))?.digest).toBe(
        firstDigests[`${image}:humble-main`]
      )
      expect((await manifestOf(repo, 'humble-main-amd64'))?.digest).toBe(
        firstDigests[`${image}:humble-main-amd64`]
      )
      // jazzy passed everywhere: published by this run
      const jazzy = await manifestOf(repo, 'jazzy-main')
      expect(platformsOf(jazzy ?? {})).toEqual(['linux/amd64', 'linux/arm64'])
      expect(r.outputs.tags.split('\n').sort()).toEqual([
        `${image}:jazzy-main`,
        `${image}:jazzy-sha-e2e0123`
      ])
      // the summary says which test failed where
      expect(r.summary).toContain('3 of 4 cells passed')
      expect(r.summary).toContain(
        '❌ humble-arm64: smoke test &quot;test &quot;$(uname -m)&quot; != aarch64'
      )
      expect(r.summary).toContain('not published: humble-arm64 failed')
      expect(r.log).toContain('::error title=humble-arm64 failed::humble-arm64: smoke test')
      expect(r.log).toMatch(/::error::1 of 4 cells did not pass \(humble-arm64\)/)
    },
    15 * MINUTES
  )

  it(
    'an amd64-only base fails in preflight, before any build',
    async () => {
      const failRepo = uniqueRepo('amd64-only')
      const r = await runE2e({
        ...EXAMPLE,
        distros: 'humble',
        image: `${tb.registry}/${failRepo}`,
        'base-image': tb.amd64OnlyBase,
        push: 'true'
      })
      expect(r.code).toBe(1)
      expect(r.log).toContain(
        `::error::Preflight: base image ${tb.amd64OnlyBase} has linux/amd64 only; missing linux/arm64 (needed by humble-arm64). Nothing was built`
      )
      expect(r.log).not.toMatch(/: build \((native|emulated)\)/)
      expect(await tagsOf(failRepo)).toEqual([])
    },
    10 * MINUTES
  )

  it(
    'a failing build fails its cell with the build log, and nothing is pushed',
    async () => {
      const failRepo = uniqueRepo('failing-build')
      const r = await runE2e({
        distros: 'humble',
        platforms: 'linux/arm64',
        image: `${tb.registry}/${failRepo}`,
        'base-image': base,
        context: '__tests__/fixtures/dockerfiles/failing-run',
        push: 'true'
      })
      expect(r.code).toBe(1)
      const cells = cellsOf(r)
      expect(cells[0]).toMatchObject({ id: 'humble-arm64', status: 'failed', tests: [] })
      expect(cells[0].failure).toMatch(/^build failed at step 2\/2 RUN .*: ERROR: failed to /)
      expect(cells[0].buildLog).toContain('about to fail on aarch64')
      // a failure of the build itself, under emulation: no QEMU crash, never retried
      expect(cells[0]).not.toHaveProperty('retries')
      expect(r.log).not.toContain('QEMU crashed')
      // the error annotation ends with the failing step's last lines
      const annotation = r.log
        .split('\n')
        .find(l => l.startsWith('::error title=humble-arm64 failed::'))
      expect(annotation).toMatch(/%0ALast lines of step 2\/2 RUN .*%0A.*about to fail on aarch64/)
      expect(r.summary).toContain('about to fail on aarch64')
      expect(await tagsOf(failRepo)).toEqual([])
    },
    10 * MINUTES
  )

  it(
    'push: false tests every cell and pushes nothing',
    async () => {
      const localRepo = uniqueRepo('no-push')
      const r = await runE2e({
        ...EXAMPLE,
        distros: 'kilted',
        image: `${tb.registry}/${localRepo}`,
        'base-image': base,
        push: 'false'
      })
      expectPassed(r)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status, c.pushed])).toEqual([
        ['kilted-amd64', 'passed', undefined],
        ['kilted-arm64', 'passed', undefined]
      ])
      // every test of every cell ran
      for (const c of cells) expect(c.tests.length).toBeGreaterThanOrEqual(4)
      expect(r.outputs.tags).toBe('')
      expect(await tagsOf(localRepo)).toEqual([])
    },
    10 * MINUTES
  )

  it(
    'a hanging smoke test is killed at its timeout, reported as timed out, its container removed',
    async () => {
      const r = await runE2e({
        distros: 'humble',
        platforms: 'linux/arm64',
        image: `${tb.registry}/${uniqueRepo('hang')}`,
        'base-image': base,
        context: 'examples/ros-app',
        'ros-checks': 'false',
        'smoke-tests': 'sleep 600',
        'smoke-timeout': '3'
      })
      expect(r.code).toBe(1)
      const cells = cellsOf(r)
      const hung = cells[0].tests[1]
      expect(hung).toMatchObject({
        name: 'sleep 600',
        status: 'timed out',
        reason: 'killed after its 3 s timeout'
      })
      expect(hung.seconds).toBeLessThan(60)
      const left = execFileSync(
        'docker',
        ['ps', '-a', '--filter', 'name=rma-', '--format', '{{.Names}}'],
        { encoding: 'utf8' }
      )
      expect(left.trim()).toBe('')
    },
    10 * MINUTES
  )

  it(
    'fail-fast cancels the cells still waiting after the first failure',
    async () => {
      const r = await runE2e({
        distros: 'humble, jazzy, kilted',
        platforms: 'linux/amd64',
        image: `${tb.registry}/${uniqueRepo('fail-fast')}`,
        'base-image': base,
        context: 'examples/ros-app',
        'ros-checks': 'false',
        'smoke-tests': 'test "$ROS_DISTRO" != humble',
        'fail-fast': 'true',
        'max-parallel': '1',
        push: 'true'
      })
      expect(r.code).toBe(1)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status])).toEqual([
        ['humble-amd64', 'failed'],
        ['jazzy-amd64', 'cancelled'],
        ['kilted-amd64', 'cancelled']
      ])
      expect(r.log).not.toMatch(/(jazzy|kilted)-amd64: build \(/)
      expect(r.outputs.tags).toBe('')
    },
    10 * MINUTES
  )

  it(
    'the real ROS 1 base passes the roscore pub/echo round trip under arm64 emulation',
    async () => {
      const r = await runE2e({
        context: 'examples/ros-app',
        distros: 'noetic',
        platforms: 'linux/arm64',
        image: `${tb.registry}/${uniqueRepo('ros1')}`,
        'base-image': tb.ros1Base,
        'ros-checks': 'true',
        'smoke-timeout': '600'
      })
      const cells = cellsOf(r)
      expect(cells[0].tests.map(t => [t.name, t.status])).toEqual([
        ['architecture is aarch64', 'passed'],
        ['ROS environment is noetic', 'passed'],
        ['rosversion -d answers', 'passed'],
        ['ROS 1 roscore pub/echo round trip', 'passed']
      ])
      expectPassed(r)
      expect(r.log).toContain('reached end of life on 2025-05-31')
    },
    20 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
