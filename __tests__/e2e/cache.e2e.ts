/**
 * The build cache input, for real, on each engine of the test bed.
 * - containerd image store: the default docker driver can export a build cache. A first run
 *   exports it (registry tags, or a local folder); a second, cold run (builder cache pruned, no
 *   local image left) imports it, and BuildKit reports the RUN step CACHED.
 * - classic image store: the docker driver cannot export one, and the action refuses before any
 *   build, naming what to set.
 * `cache: gha` cannot run here (there is no GitHub Actions cache service): its arguments are unit
 * tested in __tests__/plan/cache.test.ts.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  expectNoLeftovers,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo,
  type E2eRun,
  expectPassed
} from './testbed.js'

const MINUTES = 60_000
const RUN_STEP = 'RUN chmod 0755 /usr/local/bin/ros_app_hello'

/**
 * Per cell, what BuildKit did with the example's RUN step, from the cell's build log group (its
 * plain progress: the step's vertex header, then `#N CACHED` or `#N DONE`).
 */
function runStepOutcomes(log: string): Record<string, string> {
  const outcomes: Record<string, string> = {}
  for (const group of log.split('::group::').slice(1)) {
    const cell = /^(\S+): build \(/.exec(group)?.[1]
    if (cell === undefined) continue
    const body = group.slice(0, group.indexOf('::endgroup::'))
    const vertex = new RegExp(`^#(\\d+) \\[[^\\]]*\\] ${RUN_STEP}`, 'm').exec(body)?.[1]
    // The step prints "hello from <distro> on <machine>" when it runs: BuildKit shows that as
    // "#N 0.129 hello from ...". A cache hit prints nothing of the command; with a registry cache
    // it may show the cached layers' downloads and DONE instead of a CACHED line.
    outcomes[cell] =
      vertex === undefined
        ? 'no RUN step'
        : new RegExp(`^#${vertex} \\d+\\.\\d+ hello from `, 'm').test(body)
          ? 'ran'
          : new RegExp(`^#${vertex} (CACHED|DONE )`, 'm').test(body)
            ? 'CACHED'
            : 'unknown'
  }
  return outcomes
}

/** Nothing of an earlier build left in the engine: no build cache, no image of ours. */
function coldEngine(): void {
  execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' })
  execFileSync('docker', ['image', 'prune', '--all', '--force'], { stdio: 'ignore' })
}

describe(`build cache on the ${testbed().engine} engine`, () => {
  const tb = testbed()
  const inputs = (repo: string, cache: string): Record<string, string> => ({
    distros: 'humble',
    image: `${tb.registry}/${repo}`,
    'base-image': `${tb.registry}/ros:{distro}-ros-base`,
    context: 'examples/ros-app',
    'ros-checks': 'false',
    push: 'true',
    cache
  })

  if (tb.store === 'classic') {
    it.each(['registry', 'local'])(
      'cache %s with the docker driver fails before any build, saying what to set',
      async cache => {
        const repo = uniqueRepo(`cache-${cache}`)
        const r = await runE2e(inputs(repo, cache))
        expect(r.code).toBe(1)
        const errors = r.log.split('\n').filter(l => l.startsWith('::error'))
        expect(errors).toEqual([
          `::error::Input "cache": ${cache} needs a builder that can export a build cache, and builder (current) uses the docker driver on the classic image store, which cannot export a build cache; set driver: docker-container`
        ])
        expect(r.log).not.toMatch(/: build \(/)
        expect(await tagsOf(repo)).toEqual([])
      },
      5 * MINUTES
    )
  } else {
    /** Two runs on one repository: cold without a cache, then cold with the cache of the first. */
    const twoRuns = async (
      repo: string,
      cache: string,
      env: Record<string, string> = {}
    ): Promise<[E2eRun, E2eRun]> => {
      coldEngine()
      const first = await runE2e(inputs(repo, cache), { env })
      expectPassed(first)
      coldEngine()
      // force: the inputs are unchanged, and skip-unchanged would reuse the published images
      const second = await runE2e({ ...inputs(repo, cache), force: 'true' }, { env })
      expectPassed(second)
      return [first, second]
    }

    it(
      'cache registry: the first run exports a cache tag per cell, a cold second run imports it',
      async () => {
        const repo = uniqueRepo('cache-registry')
        const [first, second] = await twoRuns(repo, 'registry')
        expect(runStepOutcomes(first.log)).toEqual({ 'humble-amd64': 'ran', 'humble-arm64': 'ran' })
        const tags = await tagsOf(repo)
        const cacheTags = tags.filter(t => t.startsWith('buildcache-'))
        expect(cacheTags.sort()).toEqual(
          [
            `buildcache-${repo.replaceAll('/', '_')}-humble-amd64`,
            `buildcache-${repo.replaceAll('/', '_')}-humble-arm64`
          ].sort()
        )
        expect(second.log).toMatch(/importing cache manifest from .*buildcache-/)
        expect(runStepOutcomes(second.log)).toEqual({
          'humble-amd64': 'CACHED',
          'humble-arm64': 'CACHED'
        })
      },
      10 * MINUTES
    )

    it(
      'cache local: the first run exports a folder per cell, a cold second run imports it',
      async () => {
        const repo = uniqueRepo('cache-local')
        // one RUNNER_TEMP for both runs, as one runner keeps it; there is no Actions cache
        // service here, so the folders are neither restored nor saved (the run says so)
        const runnerTemp = mkdtempSync(path.join(os.tmpdir(), 'rma-cache-temp-'))
        const [first, second] = await twoRuns(repo, 'local', { RUNNER_TEMP: runnerTemp })
        expect(first.log).toContain('the Actions cache service is not available here')
        expect(runStepOutcomes(first.log)).toEqual({ 'humble-amd64': 'ran', 'humble-arm64': 'ran' })
        const root = path.join(runnerTemp, 'ros-multiarch-buildcache')
        const name = `${repo.replaceAll('/', '_')}`
        expect(readdirSync(root).sort()).toEqual([`${name}-humble-amd64`, `${name}-humble-arm64`])
        for (const dir of readdirSync(root)) {
          expect(existsSync(path.join(root, dir, 'index.json'))).toBe(true)
        }
        expect(runStepOutcomes(second.log)).toEqual({
          'humble-amd64': 'CACHED',
          'humble-arm64': 'CACHED'
        })
      },
      10 * MINUTES
    )
  }

  afterAll(() => expectNoLeftovers())
})
