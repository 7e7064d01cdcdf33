import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sha256 } from '../../src/oci/manifest.js'
import { CACHE_NAME_MAX, cacheName } from '../../src/plan/cache.js'
import {
  EMPTY_CONFIG,
  expandsMountVariables,
  MOUNTS_ARTIFACT_TYPE,
  mountCacheKeys,
  mountFile,
  mountSlug,
  mountsManifest,
  mountTag,
  restoreDockerfile,
  saveDockerfile,
  storedMounts,
  uncarriable
} from '../../src/plan/mounts.js'
import type { CacheMount } from '../../src/tooling/cache-mounts.js'

const ccache: CacheMount = {
  id: 'ros2-workspace-ccache-arm64',
  target: '/ccache',
  sharing: 'shared',
  line: 27
}
const fp = { baseDigest: 'ros@sha256:1', inputsHash: 'sha256:2' }

describe('cache mount keys', () => {
  it('names the registry tag beside the build cache tag, within a tag at the longest cache name', () => {
    expect(mountTag('acme_robot-jazzy-arm64')).toBe('mountcache-acme_robot-jazzy-arm64')
    const longest = cacheName('a'.repeat(300), 'jazzy-arm64', '-cuda')
    expect(longest.length).toBe(CACHE_NAME_MAX)
    expect(mountTag(longest).length).toBeLessThanOrEqual(128)
    expect(mountTag(longest)).toMatch(/^[\w][\w.-]{0,127}$/)
  })

  it('keys the Actions cache by cell, mount, inputs and run; restoring the same inputs first', () => {
    const a = mountCacheKeys('acme_robot-jazzy-arm64', ccache.id, fp, '7-1-abc123')
    const prefix = `ros-multiarch-mount-acme_robot-jazzy-arm64-${mountSlug(ccache.id)}-`
    expect(a.save).toMatch(new RegExp(`^${prefix}[0-9a-f]{32}-7-1-abc123$`))
    expect(a.restore).toEqual([a.save.slice(0, -'7-1-abc123'.length), prefix])
    // each run saves under a key of its own (an entry is written once), found by the same prefixes
    const rerun = mountCacheKeys('acme_robot-jazzy-arm64', ccache.id, fp, '7-2-def456')
    expect(rerun.save).not.toBe(a.save)
    expect(rerun.restore).toEqual(a.restore)
    // other inputs: a key of their own, falling back to the newest of the cell's mount
    const changed = mountCacheKeys(
      'acme_robot-jazzy-arm64',
      ccache.id,
      { ...fp, inputsHash: 'sha256:3' },
      'r'
    )
    expect(changed.restore[0]).not.toBe(a.restore[0])
    expect(a.save.startsWith(changed.restore[1])).toBe(true)
    // other mounts and other cells never share a prefix
    expect(mountCacheKeys('acme_robot-jazzy-arm64', '/var/cache/apt', fp, 'r').restore[1]).not.toBe(
      prefix
    )
    expect(
      mountCacheKeys('acme_robot-jazzy-amd64', ccache.id, fp, 'r').save.startsWith(prefix)
    ).toBe(false)
  })

  it('keeps keys within the service rules: no comma, at most 512 characters', () => {
    const name = cacheName('x/'.repeat(200), 'rolling-arm64', '-cuda')
    const k = mountCacheKeys(name, 'id,with,commas,in,it', fp, 'run,with,commas'.repeat(20))
    for (const key of [k.save, ...k.restore]) {
      expect(key).not.toContain(',')
      expect(key.length).toBeLessThanOrEqual(512)
    }
  })

  it('puts each mount in a fixed file per cell (the Actions cache restores to the saved path)', () => {
    expect(mountFile('/t/m', 'n-jazzy-arm64', ccache.id)).toBe(
      `/t/m/n-jazzy-arm64/${mountSlug(ccache.id)}.tar`
    )
    expect(mountFile('/t/m', 'n-jazzy-arm64', '/other')).not.toBe(
      mountFile('/t/m', 'n-jazzy-arm64', ccache.id)
    )
  })
})

describe('uncarriable', () => {
  it.each([
    ['ros2-workspace-ccache-arm64', true, null],
    ['/var/cache/apt', true, null],
    ['a:b@c+d=e.f_g', true, null],
    ['has space', true, 'characters'],
    ['a,b', true, 'characters'],
    // as written by an old frontend: passed on; where substituted, the helper would substitute again
    ['ccache-${TARGETARCH}', false, null],
    ['ccache-${TARGETARCH}', true, 'characters other than A-Z a-z 0-9 _ . / : @ + = -'],
    ['cost$5', true, 'characters'],
    ['tab\there', false, 'characters'],
    ['"quoted"', false, 'characters'],
    ['back\\slash', false, 'characters'],
    ['', true, 'characters']
  ])('%j (substituted: %s): %s', (id, expanded, why) => {
    const r = uncarriable({ ...ccache, id }, expanded as boolean)
    if (why === null) expect(r).toBeNull()
    else expect(r).toContain(why)
  })
})

describe('expandsMountVariables', () => {
  it.each([
    ['20.10.24+dfsg1', 'docker', '', false],
    ['20.10.24', 'docker', '# syntax=docker/dockerfile:1\n', true],
    ['20.10.24', 'docker', '# escape=`\n# syntax=docker/dockerfile:1.7\n', true],
    ['20.10.24', 'docker', 'FROM x\n# syntax=docker/dockerfile:1\n', false],
    ['20.10.24', 'docker-container', '', true],
    ['23.0.6', 'docker', '', true],
    ['28.5.2+dfsg4', 'docker', '', true],
    ['garbage', 'docker', '', true]
  ])('Docker %s, driver %s, %j: %s', (version, driver, head, expected) => {
    expect(expandsMountVariables(`${head}FROM ros\n`, driver, version)).toBe(expected)
  })
})

describe('helper Dockerfiles', () => {
  const h = {
    image: '127.0.0.1:5000/ros:jazzy-ros-base@sha256:' + 'a'.repeat(64),
    mounts: [{ ...ccache, sharing: 'locked' as const, uid: 1000, gid: 1000, mode: '0775' }]
  }

  it('restores into the same mount id and options, leaving a mount that holds files', () => {
    const d = restoreDockerfile(h, new Set([0]))
    expect(d).toContain(`FROM ${h.image} AS restore`)
    expect(d).toContain('USER 0')
    expect(d).toContain(
      '--mount=type=cache,id=ros2-workspace-ccache-arm64,target=/rma/0,sharing=locked,uid=1000,gid=1000,mode=0775 --mount=type=bind,target=/rma-in'
    )
    expect(d).toContain(
      'if [ -n "$(ls -A /rma/0)" ]; then echo kept; else tar -xf /rma-in/0.tar -C /rma/0 && echo restored; fi > /rma-out/0'
    )
    expect(d).toMatch(/FROM scratch\nCOPY --from=restore \/rma-out\/ \/\n$/)
    // without contents: a look into the mount
    expect(restoreDockerfile(h, new Set())).toContain(
      'if [ -n "$(ls -A /rma/0)" ]; then echo full; else echo empty; fi > /rma-out/0'
    )
    expect(restoreDockerfile(h, new Set())).not.toContain('tar -x')
  })

  it('saves each mount as a tar sorted by name where tar can', () => {
    const d = saveDockerfile({ ...h, mounts: [ccache, { ...ccache, id: '/var/cache/apt' }] }, 1000)
    expect(d).toContain(
      'RUN --mount=type=cache,id=ros2-workspace-ccache-arm64,target=/rma/0,sharing=shared --mount=type=cache,id=/var/cache/apt,target=/rma/1,sharing=shared'
    )
    expect(d).toContain('tar --sort=name -cf - -C /rma/0 .')
    expect(d).toContain('tar -cf - -C /rma/1 .')
    expect(d).toMatch(/COPY --from=save \/rma-out\/ \/\n$/)
  })

  /** The save step's shell, run here with real sh and tar over a folder standing in for the mount */
  const runSave = (files: Record<string, number>, maxBytes: number): string[] => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rma-save-'))
    mkdirSync(path.join(root, 'rma/0'), { recursive: true })
    for (const [name, size] of Object.entries(files)) {
      writeFileSync(path.join(root, 'rma/0', name), Buffer.alloc(size, 7))
    }
    const run = /set -e; .*$/m.exec(saveDockerfile(h, maxBytes))?.[0] ?? ''
    execFileSync('sh', ['-c', run.replaceAll('/rma', `${root}/rma`)])
    const out = path.join(root, 'rma-out')
    return readdirSync(out)
      .sort()
      .map(f =>
        f.endsWith('.tar')
          ? `${f}: ${execFileSync('tar', ['-tf', path.join(out, f)], { encoding: 'utf8' })
              .split('\n')
              .filter(Boolean)
              .sort()
              .join(' ')}`
          : `${f}: ${readFileSync(path.join(out, f), 'utf8').trim()}`
      )
  }

  it('writes the whole tar of contents within the limit', () => {
    expect(runSave({ a: 100, b: 2000 }, 20_000)).toEqual(['0.tar: ./ ./a ./b'])
  })

  it('never writes contents over the limit: the tar is dropped and du says the size', () => {
    const out = runSave({ a: 100, big: 300_000 }, 20_000)
    expect(out).toHaveLength(1)
    const kb = Number(/^0\.over: (\d+)$/.exec(out[0])?.[1])
    expect(kb * 1024).toBeGreaterThanOrEqual(300_000)
  })

  it('keeps contents of exactly the limit', () => {
    const tarOf = runSave({ a: 10 }, 1_000_000)
    const size = 10_240 // GNU tar pads a small archive to 10 kB
    expect(tarOf).toEqual(['0.tar: ./ ./a'])
    expect(runSave({ a: 10 }, size)).toEqual(['0.tar: ./ ./a'])
    expect(runSave({ a: 10 }, size - 1)[0]).toMatch(/^0\.over: /)
  })
})

describe('the registry artifact', () => {
  const stored = {
    id: ccache.id,
    target: '/ccache',
    digest: `sha256:${'b'.repeat(64)}`,
    size: 1234
  }

  it('is an OCI artifact with the empty config and one tar layer per mount, read back the same', () => {
    const raw = mountsManifest('jazzy-arm64', [stored], '2026-12-07T00:00:00.000Z')
    const m = JSON.parse(raw)
    expect(m.artifactType).toBe(MOUNTS_ARTIFACT_TYPE)
    expect(m.config).toEqual(EMPTY_CONFIG)
    expect(sha256('{}')).toBe(EMPTY_CONFIG.digest)
    expect(m.layers).toHaveLength(1)
    expect(m.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar')
    expect(storedMounts(raw)).toEqual(new Map([[ccache.id, stored]]))
  })

  it('takes nothing from a manifest that is not its artifact, and only layers that check out', () => {
    expect(storedMounts('not json')).toBeNull()
    expect(storedMounts('null')).toBeNull()
    expect(storedMounts(JSON.stringify({ layers: [] }))).toBeNull()
    const raw = JSON.parse(mountsManifest('c', [stored], 'now'))
    const bad = [
      { ...raw.layers[0], digest: 'sha256:short' },
      { ...raw.layers[0], size: -1 },
      { ...raw.layers[0], size: 1.5 },
      { ...raw.layers[0], mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { ...raw.layers[0], annotations: {} },
      'a string'
    ]
    expect(storedMounts(JSON.stringify({ ...raw, layers: bad }))).toEqual(new Map())
    // the first layer of an id wins
    const twice = { ...raw, layers: [raw.layers[0], { ...raw.layers[0], size: 9 }] }
    expect(storedMounts(JSON.stringify(twice))?.get(ccache.id)?.size).toBe(1234)
  })
})
