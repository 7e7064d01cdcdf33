/**
 * Scale-out on the test bed: two build-mode slices (amd64, arm64) and a merge run that share a
 * workflow run id publish the same indexes, tags (arch tags too, each on the very image) and
 * labels as mode all; a merge with a slice missing publishes nothing for that distro.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import {
  cellsOf,
  configOf,
  type E2eRun,
  expectDefaultAttestations,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000

/** Labels that differ between any two runs by nature (the time of the run). */
const PER_RUN = ['org.opencontainers.image.created']

describe('build slices and a merge job on the test bed', () => {
  const tb = testbed()
  const common = {
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    'base-image': `${tb.registry}/ros:{distro}-ros-base`,
    push: 'true',
    // each run builds; this test is about slices, not reuse
    force: 'true'
  }
  const runId = (n: number): Record<string, string> => ({
    GITHUB_RUN_ID: String(9_000_000 + ((process.pid * 10 + n) % 1_000_000))
  })

  /** Per distro tag: the platforms and the labels (without per-run ones) of each image. */
  async function published(repo: string, tags: readonly string[]) {
    const out: Record<string, Record<string, Record<string, string>>> = {}
    for (const tag of tags) {
      const index = await manifestOf(repo, tag)
      const byPlatform: Record<string, Record<string, string>> = {}
      for (const entry of index?.manifests ?? []) {
        const manifest = await manifestOf(repo, entry.digest)
        const labels = (await configOf(repo, manifest?.config?.digest ?? '')).config.Labels ?? {}
        byPlatform[`${entry.platform.os}/${entry.platform.architecture}`] = Object.fromEntries(
          Object.entries(labels).filter(([key]) => !PER_RUN.includes(key))
        )
      }
      out[tag] = byPlatform
    }
    return out
  }

  const publicTags = (tags: string[]): string[] => tags.filter(t => !t.startsWith('rma-stage-'))

  it(
    'amd64 slice + arm64 slice + merge give the same indexes, tags and labels as mode all',
    async () => {
      const allRepo = uniqueRepo('mode-all')
      const all = await runE2e(
        { ...common, distros: 'humble, jazzy', image: `${tb.registry}/${allRepo}` },
        { env: runId(1) }
      )
      expectPassed(all)

      const repo = uniqueRepo('mode-slices')
      const image = `${tb.registry}/${repo}`
      const started = Date.now()
      const slices: E2eRun[] = []
      for (const platform of ['linux/amd64', 'linux/arm64']) {
        slices.push(
          await runE2e(
            { ...common, mode: 'build', distros: 'humble, jazzy', platforms: platform, image },
            { env: runId(2) }
          )
        )
      }
      for (const s of slices) {
        expectPassed(s)
        expect(s.outputs.tags).toBe('')
      }
      // the native slice does not touch QEMU at all
      expect(slices[0].log).toContain('linux/amd64: native on this runner, no emulation needed')
      expect(slices[0].log).not.toMatch(/QEMU/)
      // slices publish no public tag: only staging tags
      expect((await tagsOf(repo)).every(t => t.startsWith('rma-stage-'))).toBe(true)
      const merge = await runE2e(
        { ...common, mode: 'merge', distros: 'humble, jazzy', image },
        { env: runId(2) }
      )
      const flowSeconds = (Date.now() - started) / 1000
      expectPassed(merge)
      expect(merge.log).toContain('no builder and no QEMU are set up')
      expect(merge.log).not.toMatch(/: build \((native|emulated)\)/)
      console.log(
        `three-run flow: build amd64 ${slices[0].seconds} s, build arm64 ${slices[1].seconds} s, merge ${merge.seconds} s; ${flowSeconds.toFixed(1)} s wall in all (mode all: ${all.seconds} s)`
      )

      const allTags = publicTags(await tagsOf(allRepo))
      expect(publicTags(await tagsOf(repo))).toEqual(allTags)
      expect(allTags).toEqual([
        'humble-main',
        'humble-main-amd64',
        'humble-main-arm64',
        'humble-sha-e2e0123',
        'jazzy-main',
        'jazzy-main-amd64',
        'jazzy-main-arm64',
        'jazzy-sha-e2e0123'
      ])
      // the merge's arch tags hold the very images of its index, not one-entry indexes
      for (const distro of ['humble', 'jazzy']) {
        const index = await manifestOf(repo, `${distro}-main`)
        for (const entry of index?.manifests ?? []) {
          const arch = await manifestOf(repo, `${distro}-main-${entry.platform.architecture}`)
          expect(arch?.digest).toBe(entry.digest)
          expect(arch?.config?.digest).toMatch(/^sha256:/)
        }
        // the build jobs staged each image with its attestations; the merge published them
        expectDefaultAttestations(index)
      }
      const indexTags = allTags.filter(t => !/-(amd64|arm64)$/.test(t))
      const a = await published(allRepo, indexTags)
      const b = await published(repo, indexTags)
      expect(Object.keys(b['humble-main']).sort()).toEqual(['linux/amd64', 'linux/arm64'])
      expect(b).toEqual(a)
    },
    15 * MINUTES
  )

  it(
    'a merge with a slice missing fails, names the slice and publishes nothing for that distro',
    async () => {
      const repo = uniqueRepo('mode-missing')
      const image = `${tb.registry}/${repo}`
      // humble-arm64's job "failed": only three slices are staged
      const amd64 = await runE2e(
        { ...common, mode: 'build', distros: 'humble, jazzy', platforms: 'linux/amd64', image },
        { env: runId(3) }
      )
      const jazzyArm = await runE2e(
        { ...common, mode: 'build', distros: 'jazzy', platforms: 'linux/arm64', image },
        { env: runId(3) }
      )
      expect([amd64.code, jazzyArm.code]).toEqual([0, 0])
      const merge = await runE2e(
        { ...common, mode: 'merge', distros: 'humble, jazzy', image },
        { env: runId(3) }
      )
      expect(merge.code).toBe(1)
      expect(merge.log).toMatch(
        /::error[^\n]*humble-arm64: slice missing: [^\n]*rma-stage-\d+-humble-arm64/
      )
      const tags = await tagsOf(repo)
      expect(tags.filter(t => t.startsWith('humble'))).toEqual([])
      expect(tags).toContain('jazzy-main')
      const results = cellsOf(merge)
      expect(results.map(c => [c.id, c.status])).toEqual([
        ['humble-amd64', 'passed'],
        ['humble-arm64', 'failed'],
        ['jazzy-amd64', 'passed'],
        ['jazzy-arm64', 'passed']
      ])
    },
    15 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})
