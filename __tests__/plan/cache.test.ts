import { describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { prepareCache, type CacheService } from '../../src/pipeline/cache.js'
import type { CellJob } from '../../src/pipeline/run.js'
import { settingsOf } from '../../src/plan/settings.js'
import { cacheArgs, cacheName, localCacheKey } from '../../src/plan/cache.js'
import { Docker, type ImageStore } from '../../src/tooling/docker.js'
import { fakeExec } from '../helpers/fake-exec.js'
import { planOf } from '../helpers/inputs.js'

describe('cacheArgs', () => {
  const t = { repository: 'acme/robot', dir: '/tmp/c/x', name: 'acme_robot-humble-arm64' }
  it('gives each kind its buildx arguments, in the cell scope', () => {
    expect(cacheArgs({ ...t, kind: 'none' }, false, true)).toEqual({ from: [], to: [] })
    expect(cacheArgs({ ...t, kind: 'gha' }, false, true)).toEqual({
      from: ['type=gha,scope=acme_robot-humble-arm64'],
      to: ['type=gha,scope=acme_robot-humble-arm64,mode=max,ignore-error=true']
    })
    expect(cacheArgs({ ...t, kind: 'registry' }, false, true)).toEqual({
      from: ['type=registry,ref=acme/robot:buildcache-acme_robot-humble-arm64'],
      to: [
        'type=registry,ref=acme/robot:buildcache-acme_robot-humble-arm64,mode=max,ignore-error=true'
      ]
    })
    // without push, the registry cache is read, never written
    expect(cacheArgs({ ...t, kind: 'registry' }, false, false).to).toEqual([])
    expect(cacheArgs({ ...t, kind: 'local' }, false, true)).toEqual({
      from: [],
      to: ['type=local,dest=/tmp/c/x-new,mode=max,ignore-error=true'],
      newDir: '/tmp/c/x-new'
    })
    expect(cacheArgs({ ...t, kind: 'local' }, true, true).from).toEqual(['type=local,src=/tmp/c/x'])
  })

  it('keeps cells, images and variants apart, within a tag', () => {
    const names = [
      cacheName('acme/robot', 'humble-amd64', ''),
      cacheName('acme/robot', 'humble-arm64', ''),
      cacheName('acme/other', 'humble-arm64', ''),
      cacheName('acme/robot', 'humble-arm64', '-cuda')
    ]
    expect(new Set(names).size).toBe(4)
    expect(cacheName('a'.repeat(200), 'humble-arm64', '').length).toBeLessThanOrEqual(117)
  })

  it('keeps cells and suffixes apart when the image path is too long for a tag', () => {
    const long = `ghcr.io/acme/${'robot-'.repeat(20)}x`.replace('ghcr.io/', '')
    const names = [
      cacheName(long, 'humble-amd64', ''),
      cacheName(long, 'humble-arm64', ''),
      cacheName(long, 'humble-arm64', '-cuda'),
      cacheName(`${long}y`, 'humble-arm64', '')
    ]
    expect(new Set(names).size).toBe(4)
    for (const name of names) expect(name.length).toBeLessThanOrEqual(117)
    expect(names[1]).toMatch(/-humble-arm64$/)
    expect(names[2]).toMatch(/-humble-arm64-cuda$/)
  })

  it('keys a local cache by cell and its build fingerprint, restoring any of the cell', () => {
    const fp = { baseDigest: 'b@sha256:1', inputsHash: 'sha256:1' }
    const a = localCacheKey('n', fp)
    expect(a.key).toMatch(/^ros-multiarch-buildcache-n-[0-9a-f]{32}$/)
    expect(a.restoreKeys).toEqual(['ros-multiarch-buildcache-n-'])
    expect(localCacheKey('n', { ...fp, baseDigest: 'b@sha256:2' }).key).not.toBe(a.key)
    expect(localCacheKey('n', { ...fp, inputsHash: 'sha256:2' }).key).not.toBe(a.key)
  })
})

describe('prepareCache', () => {
  const service = (available: boolean): CacheService & { restored: string[] } => {
    const restored: string[] = []
    return {
      restored,
      available: () => available,
      restore: async (_paths, key) => {
        restored.push(key)
        return undefined
      },
      save: async () => true
    }
  }
  const setup = (
    cache: string,
    driver: string,
    env: Record<string, string> = {},
    available = false,
    engine: { buildx: string; store: ImageStore } = { buildx: '0.30.0', store: 'classic' },
    mounts = false
  ) => {
    const { config, plan } = planOf({ image: 'acme/robot', distros: 'humble', cache })
    const jobs: CellJob[] = plan.cells.map(cell => ({
      cell,
      bases: [],
      fingerprint: { baseDigest: `b@${cell.id}`, inputsHash: 'sha256:1' }
    }))
    // what docker answers: the builder's driver, the buildx version
    const exec = fakeExec(call => {
      if (call.args[1] === 'inspect') return { stdout: `Name: x\nDriver: ${driver}\n` }
      if (call.args[1] === 'version')
        return { stdout: `github.com/docker/buildx v${engine.buildx} abc\n` }
      return undefined
    })
    const warnings: string[] = []
    const svc = service(available)
    return {
      exec,
      warnings,
      svc,
      // each cell's cache, by cell id
      run: async () => {
        await prepareCache({
          settings: settingsOf(config).cache,
          jobs,
          push: true,
          builder: '',
          store: engine.store,
          docker: new Docker(exec),
          env,
          root: mkdtempSync(path.join(os.tmpdir(), 'rma-cache-')),
          service: svc,
          mounts,
          log: () => undefined,
          warn: w => warnings.push(w)
        })
        return new Map(jobs.flatMap(j => (j.cache === undefined ? [] : [[j.cell.id, j.cache]])))
      }
    }
  }

  it('does nothing for none', async () => {
    const s = setup('none', 'docker')
    expect((await s.run()).size).toBe(0)
    expect(s.exec.calls).toEqual([])
  })

  it('refuses gha outside GitHub Actions, before any command', async () => {
    const s = setup('gha', 'docker-container')
    await expect(s.run()).rejects.toThrow(
      'Input "cache": gha needs the GitHub Actions cache service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, which GitHub gives JavaScript actions); use registry or local elsewhere'
    )
    expect(s.exec.calls).toEqual([])
  })

  it('refuses a builder with the docker driver', async () => {
    const s = setup('registry', 'docker')
    await expect(s.run()).rejects.toThrow(
      'Input "cache": registry needs a builder that can export a build cache, and builder (current) uses the docker driver on the classic image store, which cannot export a build cache; set driver: docker-container'
    )
  })

  it('with cache mounts to carry, lets the docker driver on the classic store keep them alone', async () => {
    const s = setup('registry', 'docker', {}, false, { buildx: '0.30.0', store: 'classic' }, true)
    const caches = await s.run()
    expect([...caches.values()].map(c => c.args)).toEqual([
      { from: [], to: [] },
      { from: [], to: [] }
    ])
    expect(s.warnings).toEqual([
      'cache registry: builder (current) uses the docker driver on the classic image store, which cannot export a build cache: the layer cache is not kept (set driver: docker-container for it); the cache mounts are carried'
    ])
  })

  it('accepts the docker driver on the containerd image store', async () => {
    const s = setup('registry', 'docker', {}, false, {
      buildx: '0.30.0',
      store: 'containerd'
    })
    expect((await s.run()).size).toBe(2)
  })

  it('refuses gha with a buildx too old for the cache service v2', async () => {
    const s = setup(
      'gha',
      'docker-container',
      { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'https://results.example/' },
      false,
      { buildx: '0.13.1', store: 'classic' }
    )
    await expect(s.run()).rejects.toThrow(
      'Input "cache": gha needs buildx 0.21.0 or newer (GitHub\'s cache service v2), and this runner has 0.13.1; set buildx-version: ">=0.21.0"'
    )
  })

  it('gives gha a scope per cell with the runtime token present', async () => {
    const s = setup('gha', 'docker-container', {
      ACTIONS_RUNTIME_TOKEN: 't',
      ACTIONS_RESULTS_URL: 'https://results.example/'
    })
    const caches = await s.run()
    expect([...caches.values()].map(c => c.args.to[0])).toEqual([
      'type=gha,scope=acme_robot-humble-amd64,mode=max,ignore-error=true',
      'type=gha,scope=acme_robot-humble-arm64,mode=max,ignore-error=true'
    ])
  })

  it('restores local caches through the Actions cache when it is there, and warns when not', async () => {
    const on = setup('local', 'docker-container', {}, true)
    await on.run()
    expect(on.svc.restored).toHaveLength(2)
    expect(on.warnings).toEqual([])
    const off = setup('local', 'docker-container', {}, false)
    const caches = await off.run()
    expect(off.svc.restored).toEqual([])
    expect(off.warnings[0]).toContain('the Actions cache service is not available here')
    expect([...caches.values()][0].args.to[0]).toMatch(
      /^type=local,dest=.*acme_robot-humble-amd64-new,mode=max,ignore-error=true$/
    )
  })
})
