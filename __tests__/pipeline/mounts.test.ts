/**
 * Cache mounts carried between runs, through the whole run against the fake engine and registry
 * (the end-to-end tests run the real ones, with ccache): what is restored before the builds and
 * saved after the tests, per cell, for each kind of cache; the size limit; and that no failure of
 * theirs fails the run. The fake engine keeps each mount as bytes and adds a line per build.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { CacheService } from '../../src/pipeline/cache.js'
import type { PipelineDeps } from '../../src/pipeline/deps.js'
import { runPipeline } from '../../src/pipeline/pipeline.js'
import { cacheName } from '../../src/plan/cache.js'
import { mountCacheKeys, mountFile, mountTag } from '../../src/plan/mounts.js'
import type { RunResults } from '../../src/results/results.js'
import { pipelineFixture, type PipelineFixture } from '../helpers/pipeline.js'

const INPUTS = { distros: 'humble', context: '__tests__/fixtures/cache-mounts', cache: 'registry' }
const NAME = (cell: string): string => cacheName('registry.test/acme/robot'.slice(14), cell, '')
const TAG = (cell: string): string => `registry.test/acme/robot:${mountTag(NAME(cell))}`
const OBJECT = (platform: string): string => `an object built for ${platform}\n`

/** Per cell: its mounts' restore and save outcomes */
const outcomes = (r: RunResults): string[] =>
  r.cells.flatMap(c =>
    (c.mounts ?? []).map(m => `${c.id} ${m.id}: ${m.restore.outcome} / ${m.save?.outcome ?? '-'}`)
  )

/** The helper builds' Dockerfile kinds (restore or save), in order, from a point of the calls */
const helpers = (f: PipelineFixture, from = 0): string[] =>
  f.docker.calls
    .slice(from)
    .filter(c => c.args[c.args.indexOf('--output') + 1]?.startsWith('type=local,dest='))
    .map(c => (c.args.join(' ').includes('restore-') ? 'restore' : 'save'))

/** A run again on a new runner: the builder holds no cache mounts (the registry is kept). */
const again = (f: PipelineFixture, deps: PipelineDeps = f.deps): Promise<RunResults> => {
  f.docker.mounts.clear()
  // force: the inputs are the same, and the published images would be reused
  return runPipeline({ ...f.input, settings: { ...f.input.settings, force: true } }, deps)
}

/** An Actions cache in memory: keys to the bytes of the one file saved under each. */
function memoryCache(): CacheService & { entries: Map<string, Buffer>; restores: string[] } {
  const entries = new Map<string, Buffer>()
  const restores: string[] = []
  return {
    entries,
    restores,
    available: () => true,
    restore: async (paths, key, restoreKeys) => {
      restores.push(key)
      const hit = entries.has(key)
        ? key
        : [...entries.keys()].reverse().find(k => restoreKeys.some(p => k.startsWith(p)))
      if (hit === undefined) return undefined
      mkdirSync(path.dirname(paths[0]), { recursive: true })
      writeFileSync(paths[0], entries.get(hit) as Buffer)
      return hit
    },
    save: async (paths, key) => {
      if (entries.has(key)) return false
      entries.set(key, readFileSync(paths[0]))
      return true
    }
  }
}

describe('cache mounts carried between runs', () => {
  it('registry: a run saves each cell mount; a fresh builder gets it back before any build', async () => {
    const f = pipelineFixture(INPUTS, { store: 'containerd' })
    const first = await runPipeline(f.input, f.deps)
    expect(first.cells.map(c => c.status)).toEqual(['passed', 'passed'])
    expect(outcomes(first)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / saved'
    ])
    expect(first.cells[1].mounts?.[0]).toMatchObject({
      target: '/ccache',
      save: { bytes: OBJECT('linux/arm64').length, where: TAG('humble-arm64') }
    })
    const artifact = JSON.parse(f.docker.registry.get(TAG('humble-arm64')) ?? '{}')
    expect(artifact.artifactType).toBe('application/vnd.ros-multiarch.cache-mounts.v1')
    expect(
      artifact.layers.map(
        (l: { annotations: Record<string, string> }) =>
          l.annotations['io.github.ros-multiarch.cache-mount.id']
      )
    ).toEqual(['cc-arm64'])
    expect([...f.docker.registry.keys()].filter(k => k.includes(':mountcache-')).sort()).toEqual([
      TAG('humble-amd64'),
      TAG('humble-arm64')
    ])

    const from = f.docker.calls.length
    const second = await again(f)
    expect(outcomes(second)).toEqual([
      'humble-amd64 cc-amd64: restored / saved',
      'humble-arm64 cc-arm64: restored / saved'
    ])
    expect(second.cells[1].mounts?.[0].restore).toMatchObject({
      bytes: OBJECT('linux/arm64').length,
      where: TAG('humble-arm64')
    })
    // the build found the first run's object in the mount, and added its own
    expect(f.docker.mounts.get('cc-arm64')?.toString()).toBe(OBJECT('linux/arm64').repeat(2))
    // both restores before the first cell build, both saves after the last
    const calls = f.docker.calls.slice(from).map(c => c.args)
    const builds = calls.flatMap((a, i) => (a.includes('--iidfile') ? [i] : []))
    const restores = calls.flatMap((a, i) => (a.join(' ').includes('restore-') ? [i] : []))
    const saves = calls.flatMap((a, i) => (a.join(' ').includes('/save-') ? [i] : []))
    // for each mount: a look into the builder's mount, then the restore
    expect(restores).toHaveLength(4)
    expect(saves).toHaveLength(2)
    expect(Math.max(...restores)).toBeLessThan(Math.min(...builds))
    expect(Math.min(...saves)).toBeGreaterThan(Math.max(...builds))
    // the helpers run natively: the amd64 base, for the arm64 mount too
    const platforms = calls
      .filter(a => a.join(' ').includes('restore-'))
      .map(a => a[a.indexOf('--platform') + 1])
    expect(platforms).toEqual(['linux/amd64', 'linux/amd64', 'linux/amd64', 'linux/amd64'])
  })

  it('a builder that persists keeps its mounts: nothing is fetched', async () => {
    const f = pipelineFixture(INPUTS, { store: 'containerd' })
    await runPipeline(f.input, f.deps)
    const before = f.docker.requests.length
    // the same builder again (a self-hosted runner): its mounts hold the first run's objects
    const r = await runPipeline(
      { ...f.input, settings: { ...f.input.settings, force: true } },
      f.deps
    )
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: kept / saved',
      'humble-arm64 cc-arm64: kept / saved'
    ])
    // nothing downloaded (the save reads the artifact to keep the cell's other mounts in it)
    expect(
      f.docker.requests.slice(before).filter(q => q.startsWith('GET') && q.includes('/blobs/'))
    ).toEqual([])
    expect(f.docker.mounts.get('cc-arm64')?.toString()).toBe(OBJECT('linux/arm64').repeat(2))
  })

  it('registry with push off: restores, and writes nothing', async () => {
    const f = pipelineFixture(INPUTS, { store: 'containerd' })
    await runPipeline(f.input, f.deps)
    const before = new Map(f.docker.registry)
    const readOnly = pipelineFixture({ ...INPUTS, push: 'false' }, { docker: f.docker })
    const r = await again(readOnly)
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: restored / read only',
      'humble-arm64 cc-arm64: restored / read only'
    ])
    expect(f.docker.registry.get(TAG('humble-arm64'))).toBe(before.get(TAG('humble-arm64')))
  })

  it('gha: one Actions cache entry per cell and mount, keyed by its fingerprint, the newest restored', async () => {
    const f = pipelineFixture({ ...INPUTS, cache: 'gha' }, { store: 'containerd' })
    const service = memoryCache()
    const deps: PipelineDeps = {
      ...f.deps,
      cacheService: service,
      rt: {
        ...f.deps.rt,
        env: {
          ...f.deps.rt.env,
          ACTIONS_RUNTIME_TOKEN: 't',
          ACTIONS_RESULTS_URL: 'https://r.test/'
        }
      }
    }
    const first = await runPipeline(f.input, deps)
    expect(outcomes(first)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / saved'
    ])
    const cell = mountCacheKeys(NAME('humble-arm64'), 'cc-arm64', undefined, 'r').restore[1]
    const keys = [...service.entries.keys()]
    expect(keys).toHaveLength(2)
    const arm = keys.find(k => k.startsWith(cell)) ?? ''
    expect(arm).toMatch(
      /^ros-multiarch-mount-acme_robot-humble-arm64-[0-9a-f]{16}-[0-9a-f]{32}-7-1-abc123$/
    )
    // asked for: the newest entry of the same inputs first (then, the key prefixes, of the mount)
    expect(service.restores.filter(k => k.startsWith(cell))).toEqual([
      expect.stringMatching(new RegExp(`^${cell}[0-9a-f]{32}-$`))
    ])
    expect(service.entries.get(arm)?.toString()).toBe(OBJECT('linux/arm64'))
    expect(first.cells[1].mounts?.[0].save?.where).toBe(arm)

    // the next run (a key of its own) finds the newest entry of the same inputs, saves its own
    const next = { ...deps, runTag: '7-2-def456' }
    const second = await again(f, next)
    expect(outcomes(second)).toEqual([
      'humble-amd64 cc-amd64: restored / saved',
      'humble-arm64 cc-arm64: restored / saved'
    ])
    expect(second.cells[1].mounts?.[0].restore.where).toBe(arm)
    expect(second.cells[1].mounts?.[0].save?.where).toBe(arm.replace('7-1-abc123', '7-2-def456'))
    expect(service.entries.size).toBe(4)
    expect(service.entries.get(arm.replace('7-1-abc123', '7-2-def456'))?.toString()).toBe(
      OBJECT('linux/arm64').repeat(2)
    )
  })

  it('local without the Actions cache: a fixed file per cell and mount under the runner temp', async () => {
    const f = pipelineFixture({ ...INPUTS, cache: 'local' }, { store: 'containerd' })
    const first = await runPipeline(f.input, f.deps)
    expect(outcomes(first)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / saved'
    ])
    const file = mountFile(
      path.join(f.deps.rt.env.RUNNER_TEMP ?? '', 'ros-multiarch-mounts'),
      NAME('humble-arm64'),
      'cc-arm64'
    )
    expect(readFileSync(file, 'utf8')).toBe(OBJECT('linux/arm64'))
    const second = await again(f)
    expect(outcomes(second)).toEqual([
      'humble-amd64 cc-amd64: restored / saved',
      'humble-arm64 cc-arm64: restored / saved'
    ])
    expect(readFileSync(file, 'utf8')).toBe(OBJECT('linux/arm64').repeat(2))
  })

  it('keeps a mount over cache-mounts-max-size out of the cache, and says so', async () => {
    const f = pipelineFixture({ ...INPUTS, 'cache-mounts-max-size': '10' }, { store: 'containerd' })
    const r = await runPipeline(f.input, f.deps)
    expect(r.cells.map(c => c.status)).toEqual(['passed', 'passed'])
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: none / too large',
      'humble-arm64 cc-arm64: none / too large'
    ])
    expect(r.cells[1].mounts?.[0].save?.reason).toBe(
      'about 1 kB is over cache-mounts-max-size (0 kB); keep the cache below it (for ccache: CCACHE_MAXSIZE), or raise the limit'
    )
    expect([...f.docker.registry.keys()].some(k => k.includes(':mountcache-'))).toBe(false)
    expect(f.rt.recorded.warnings.filter(w => w.includes('not saved'))).toHaveLength(2)
  })

  it('a registry that fails the restore warns and builds without it; the run passes', async () => {
    const f = pipelineFixture(INPUTS, {
      store: 'containerd',
      http: (method, url) =>
        url.pathname.includes('/manifests/mountcache-') && method === 'GET'
          ? new Response('{"errors":[{"code":"DENIED"}]}', { status: 403 })
          : undefined
    })
    const r = await runPipeline(f.input, f.deps)
    expect(r.cells.map(c => c.status)).toEqual(['passed', 'passed'])
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: failed / saved',
      'humble-arm64 cc-arm64: failed / saved'
    ])
    expect(f.rt.recorded.warnings.filter(w => w.startsWith('Cache mount cc-'))).toHaveLength(2)
  })

  it('a failed helper build warns; a failed cell saves nothing', async () => {
    let failRestore = false
    const f = pipelineFixture(INPUTS, {
      store: 'containerd',
      override: c =>
        c.args.includes('--iidfile') && c.args.includes('linux/arm64')
          ? { code: 1, stderr: 'ERROR: failed to solve: process did not complete' }
          : failRestore && existsSync(path.join(c.args.at(-1) ?? '', '0.tar'))
            ? { code: 1, stderr: 'ERROR: no shell in the helper image' }
            : undefined
    })
    const r = await runPipeline(f.input, f.deps)
    expect(r.cells.map(c => c.status)).toEqual(['passed', 'failed'])
    // only the cell that passed saves its mount
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / -'
    ])
    expect(helpers(f)).toEqual(['restore', 'restore', 'save'])
    failRestore = true
    const second = await again(f)
    expect(outcomes(second)[0]).toBe('humble-amd64 cc-amd64: failed / saved')
    expect(second.cells[0].mounts?.[0].restore.reason).toContain('no shell in the helper image')
    expect(second.cells[0].status).toBe('passed')
  })

  it('cache-mounts: false, or cache: none, carries nothing', async () => {
    const cases: Record<string, string>[] = [{ 'cache-mounts': 'false' }, { cache: 'none' }]
    for (const inputs of cases) {
      const f = pipelineFixture({ ...INPUTS, ...inputs }, { store: 'containerd' })
      const r = await runPipeline(f.input, f.deps)
      expect(r.cells.every(c => c.mounts === undefined)).toBe(true)
      expect(helpers(f)).toEqual([])
    }
  })

  it('the classic store with the docker driver keeps the mounts though it cannot export layers', async () => {
    const f = pipelineFixture(INPUTS, { store: 'classic' })
    const r = await runPipeline(f.input, f.deps)
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / saved'
    ])
    const builds = f.docker.commands().filter(c => c.includes('--iidfile'))
    expect(builds.every(b => !b.includes('--cache-to') && !b.includes('--cache-from'))).toBe(true)
    expect(f.rt.recorded.warnings).toContain(
      'cache registry: builder (current) uses the docker driver on the classic image store, which cannot export a build cache: the layer cache is not kept (set driver: docker-container for it); the cache mounts are carried'
    )
  })

  it('leaves no work files behind in the temp folder', async () => {
    const f = pipelineFixture(INPUTS, { store: 'containerd' })
    await runPipeline(f.input, f.deps)
    await again(f)
    expect(existsSync(path.join(f.deps.tempDir, 'cache-mounts'))).toBe(false)
  })

  it('two mounts in a cell: one unchanged is not sent again, and the artifact still holds it', async () => {
    const f = pipelineFixture(
      {
        ...INPUTS,
        distros: 'humble',
        platforms: 'linux/arm64',
        file: `${INPUTS.context}/two.Dockerfile`
      },
      { store: 'containerd' }
    )
    f.docker.mounts.set('/var/cache/apt', Buffer.from('a .deb\n'))
    const first = await runPipeline(f.input, f.deps)
    expect(outcomes(first)).toEqual([
      'humble-arm64 cc-arm64: none / saved',
      'humble-arm64 /var/cache/apt: kept / saved'
    ])
    const second = await again(f)
    expect(outcomes(second)).toEqual([
      'humble-arm64 cc-arm64: restored / saved',
      'humble-arm64 /var/cache/apt: restored / unchanged'
    ])
    const layers = JSON.parse(f.docker.registry.get(TAG('humble-arm64')) ?? '{}').layers.map(
      (l: { annotations: Record<string, string> }) =>
        l.annotations['io.github.ros-multiarch.cache-mount.id']
    )
    expect(layers.sort()).toEqual(['/var/cache/apt', 'cc-arm64'])
    const third = await again(f)
    expect(outcomes(third)[1]).toBe('humble-arm64 /var/cache/apt: restored / unchanged')
    expect(f.docker.mounts.get('/var/cache/apt')?.toString()).toBe('a .deb\n')
  })

  it('a mount the cells share is restored once and saved once, under the first cell that passed', async () => {
    const f = pipelineFixture(
      { ...INPUTS, file: `${INPUTS.context}/shared.Dockerfile` },
      { store: 'containerd' }
    )
    const first = await runPipeline(f.input, f.deps)
    expect(outcomes(first)).toEqual([
      'humble-amd64 shared-cache: none / saved',
      'humble-arm64 shared-cache: none / saved'
    ])
    expect(first.cells[1].mounts?.[0].save?.where).toBe(TAG('humble-amd64'))
    expect(f.docker.registry.has(TAG('humble-arm64'))).toBe(false)
    expect(helpers(f)).toEqual(['restore', 'save'])
    const from = f.docker.calls.length
    const second = await again(f)
    expect(outcomes(second)).toEqual([
      'humble-amd64 shared-cache: restored / saved',
      'humble-arm64 shared-cache: restored / saved'
    ])
    expect(helpers(f, from)).toEqual(['restore', 'restore', 'save'])
  })

  it('a manifest under the tag that is not its artifact is nothing to restore', async () => {
    const f = pipelineFixture(INPUTS, { store: 'containerd' })
    f.docker.registry.set(
      TAG('humble-arm64'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        layers: [{ digest: 'sha256:x', size: 1e12 }]
      })
    )
    const r = await runPipeline(f.input, f.deps)
    expect(outcomes(r)).toEqual([
      'humble-amd64 cc-amd64: none / saved',
      'humble-arm64 cc-arm64: none / saved'
    ])
    expect(f.docker.requests.filter(q => q.includes('/blobs/sha256:x'))).toEqual([])
  })
})
