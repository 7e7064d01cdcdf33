/**
 * Cache mounts carried between runs, for real: the C++ workspace of examples/ros2-workspace keeps
 * ccache in a BuildKit cache mount. A first run fills it and saves it (cache registry: an artifact
 * under the cell's mountcache- tag; cache local: a file under the runner's temp folder); then the
 * builder is emptied as on a new runner (`docker buildx prune --all --force`, every local image
 * removed), one source file changes, and the next run's colcon step reports ccache hits, where the
 * same run without the restore (cache-mounts: false) reports none.
 *
 * Docker 20.10 too (its frontend leaves `${TARGETARCH}` in a mount id as written).
 *
 * linux/amd64 only: the same steps for the emulated arm64 cell take minutes each on these machines
 * (its compile is the bench's: scripts/bench.mjs, BENCH_ONLY=mounts). Both image stores: the
 * containerd store exports the layer cache too, the classic store with the docker driver carries
 * the mounts alone (and says the layer cache is not kept).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CellResult } from '../../src/results/results.js'
import {
  cellsOf,
  expectNoLeftovers,
  expectPassed,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo,
  type E2eRun
} from './testbed.js'

const MINUTES = 60_000
/**
 * The example's ccache mount id (`ros2-workspace-ccache-${TARGETARCH}`) as the engine's frontend
 * reads it: substituted, or on Docker 20.10 (BuildKit 0.8) as written, one mount for every platform
 */
const MOUNT = testbed().legacy
  ? 'ros2-workspace-ccache-${TARGETARCH}'
  : 'ros2-workspace-ccache-amd64'

/** A new runner: no build cache, no cache mount, no image left in the engine. */
function newRunner(): void {
  execFileSync('docker', ['buildx', 'prune', '--all', '--force'], { stdio: 'ignore' })
  execFileSync('docker', ['image', 'prune', '--all', '--force'], { stdio: 'ignore' })
}

/** The workspace copied where a test may change it: the runner's checkout of it. */
function checkout(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-mounts-ws-'))
  cpSync('examples/ros2-workspace', dir, { recursive: true })
  return dir
}

/** One source file changed (a comment): its object is compiled again, every other is in ccache. */
function changeOneFile(dir: string, note: string): void {
  appendFileSync(path.join(dir, 'src/robot_status/src/report.cpp'), `\n// ${note}\n`)
}

/**
 * The ccache hits the colcon step printed (`ccache hits: 12 / 14 (85.71%)` from
 * `ccache --show-stats`), or null when the step did not run.
 */
function ccacheHits(log: string): number | null {
  const m = /ccache hits:\s+(\d+)/.exec(log)
  return m === null ? null : Number(m[1])
}

const mountOf = (cells: readonly CellResult[]) => cells[0]?.mounts?.find(m => m.id === MOUNT)

describe(`cache mounts carried between runs on the ${testbed().engine} engine`, () => {
  const tb = testbed()
  const run = (
    dir: string,
    repo: string,
    inputs: Record<string, string>,
    env: Record<string, string> = {}
  ): Promise<E2eRun> =>
    runE2e(
      {
        context: '.',
        distros: 'jazzy',
        platforms: 'linux/amd64',
        image: `${tb.registry}/${repo}`,
        'base-image': tb.lowerBase,
        'ros-checks': 'false',
        push: 'true',
        force: 'true',
        ...inputs
      },
      { cwd: dir, env }
    )

  it(
    'cache registry: a fresh builder gets the ccache mount back from the registry, and the one-file change hits it; without the restore, no hit',
    async () => {
      const dir = checkout()
      const repo = uniqueRepo('mounts-registry')
      newRunner()
      const first = await run(dir, repo, { cache: 'registry' })
      expectPassed(first)
      expect(ccacheHits(first.log)).toBe(0)
      const filled = mountOf(cellsOf(first))
      expect(filled?.restore.outcome).toBe('none')
      expect(filled?.save?.outcome).toBe('saved')
      expect(filled?.save?.bytes).toBeGreaterThan(100_000)
      const tag = (await tagsOf(repo)).filter(t => t.startsWith('mountcache-'))
      expect(tag).toEqual([`mountcache-${repo.replaceAll('/', '_')}-jazzy-amd64`])
      if (tb.store === 'classic') {
        expect(first.log).toContain(
          'the layer cache is not kept (set driver: docker-container for it); the cache mounts are carried'
        )
      }

      changeOneFile(dir, 'second run')
      newRunner()
      const second = await run(dir, repo, { cache: 'registry' })
      expectPassed(second)
      const hits = ccacheHits(second.log)
      const restored = mountOf(cellsOf(second))
      expect(restored?.restore).toMatchObject({ outcome: 'restored', bytes: filled?.save?.bytes })
      expect(restored?.save?.outcome).toBe('saved')
      expect(second.log).toContain(`Cache mount ${MOUNT}: restored `)
      expect(second.log).toMatch(/: restored [\d.]+ [kM]B from .*:mountcache-.* in [\d.]+ s/)
      expect(second.summary).toContain('<h3>Cache mounts</h3>')
      expect(hits).toBeGreaterThan(0)

      changeOneFile(dir, 'third run')
      newRunner()
      // without the mounts; on the classic store the docker driver exports no layer cache
      // either, so cache registry without mounts would do nothing (refused): cache none there
      const third = await run(
        dir,
        repo,
        tb.store === 'classic' ? { cache: 'none' } : { cache: 'registry', 'cache-mounts': 'false' }
      )
      expectPassed(third)
      expect(ccacheHits(third.log)).toBe(0)
      expect(cellsOf(third)[0].mounts).toBeUndefined()
      console.log(
        `cache mounts (registry) on the ${tb.engine} engine: colcon + ccache ${first.seconds.toFixed(1)} s cold, ${second.seconds.toFixed(1)} s restored (${hits} hits, restore ${restored?.restore.seconds} s, save ${restored?.save?.seconds} s), ${third.seconds.toFixed(1)} s without the restore`
      )
    },
    20 * MINUTES
  )

  it(
    'cache local: the mount is kept in a file under the runner temp folder and restored from it',
    async () => {
      const dir = checkout()
      const repo = uniqueRepo('mounts-local')
      // one runner temp folder for both runs, as a self-hosted runner keeps it; there is no
      // Actions cache service here, so the files are neither restored nor saved through it
      const runnerTemp = mkdtempSync(path.join(os.tmpdir(), 'rma-mounts-temp-'))
      const env = { RUNNER_TEMP: runnerTemp }
      newRunner()
      const first = await run(dir, repo, { cache: 'local' }, env)
      expectPassed(first)
      expect(mountOf(cellsOf(first))?.save?.outcome).toBe('saved')
      const root = path.join(runnerTemp, 'ros-multiarch-mounts')
      const cellDir = path.join(root, `${repo.replaceAll('/', '_')}-jazzy-amd64`)
      expect(existsSync(cellDir)).toBe(true)
      expect(readdirSync(cellDir)).toHaveLength(1)

      changeOneFile(dir, 'second run')
      newRunner()
      const second = await run(dir, repo, { cache: 'local' }, env)
      expectPassed(second)
      expect(mountOf(cellsOf(second))?.restore.outcome).toBe('restored')
      expect(ccacheHits(second.log)).toBeGreaterThan(0)
      // nothing of the mounts under a user's tag: only the images' tags
      expect((await tagsOf(repo)).some(t => t.startsWith('mountcache-'))).toBe(false)
    },
    20 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})
