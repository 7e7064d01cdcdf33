import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  buildxUrl,
  decideBuildx,
  installBuildx,
  KNOWN_LATEST_BUILDX,
  type ToolCache
} from '../../src/tooling/buildx.js'
import { PINNED, pinnedVersions } from '../../src/tooling/releases.js'
import { fakeExec } from '../helpers/fake-exec.js'
import { fakeToolCache, type FakeToolCache } from '../helpers/fake-tool-cache.js'

describe('decideBuildx', () => {
  it.each([
    ['>=0.13.0', '0.13.1', { action: 'keep', version: '0.13.1' }],
    [
      '>=0.13.0',
      null,
      { action: 'install', version: KNOWN_LATEST_BUILDX, reason: 'buildx is not installed' }
    ],
    [
      '>=0.20.0',
      '0.13.1',
      {
        action: 'install',
        version: KNOWN_LATEST_BUILDX,
        reason: 'buildx 0.13.1 does not satisfy >=0.20.0'
      }
    ],
    [
      '^0.19.0',
      '0.13.1',
      { action: 'install', version: '0.19.0', reason: 'buildx 0.13.1 does not satisfy ^0.19.0' }
    ],
    ['0.19.3', '0.19.3', { action: 'keep', version: '0.19.3' }],
    [
      'v0.19.3',
      '0.20.0',
      { action: 'install', version: '0.19.3', reason: 'buildx 0.20.0 does not satisfy v0.19.3' }
    ],
    [
      '0.19.3',
      '0.13.1',
      { action: 'install', version: '0.19.3', reason: 'buildx 0.13.1 does not satisfy 0.19.3' }
    ],
    ['latest', KNOWN_LATEST_BUILDX, { action: 'keep', version: KNOWN_LATEST_BUILDX }],
    [
      'latest',
      '0.13.1',
      {
        action: 'install',
        version: KNOWN_LATEST_BUILDX,
        reason: 'buildx 0.13.1 does not satisfy latest'
      }
    ]
  ])('requires %s, has %s', (required, installed, decision) => {
    expect(decideBuildx(required, installed)).toEqual(decision)
  })

  it('installs the newest pinned release a range allows, not its unpinned lowest version', () => {
    expect(decideBuildx('>=0.30.0 <0.31.0', '0.13.1')).toEqual({
      action: 'install',
      version: '0.30.1',
      reason: 'buildx 0.13.1 does not satisfy >=0.30.0 <0.31.0'
    })
  })
})

describe('the pinned buildx releases', () => {
  it('are sha256 hex digests, for every release asset architecture of a Linux runner', () => {
    for (const [version, pins] of Object.entries(PINNED.buildx)) {
      expect(Object.keys(pins).sort()).toEqual(
        ['amd64', 'arm-v7', 'arm64', 'ppc64le', 'riscv64', 's390x'].sort()
      )
      for (const sha of Object.values(pins)) expect(`${version} ${sha}`).toMatch(/ [0-9a-f]{64}$/)
    }
  })

  it('name no digest twice', () => {
    const all = Object.values(PINNED.buildx).flatMap(pins => Object.values(pins))
    expect(new Set(all).size).toBe(all.length)
  })

  it('make 0.37.1 the newest, what latest installs', () => {
    expect(KNOWN_LATEST_BUILDX).toBe('0.37.1')
    expect(PINNED.buildx['0.37.1']?.amd64).toBe(
      '9447199cdb435f25880548343c128a4b6650e8891ee598905d8d29d39a8e359b'
    )
  })
})

describe('buildxUrl', () => {
  it('fills the GitHub release URL by default', () => {
    expect(buildxUrl('', '0.19.3', 'x64')).toBe(
      'https://github.com/docker/buildx/releases/download/v0.19.3/buildx-v0.19.3.linux-amd64'
    )
  })
  it('fills a mirror template', () => {
    expect(buildxUrl('https://mirror.example/buildx/{version}/{arch}', '0.19.3', 'arm64')).toBe(
      'https://mirror.example/buildx/0.19.3/arm64'
    )
  })
  it('names an architecture without releases', () => {
    expect(() => buildxUrl('', '0.19.3', 'mips')).toThrow(
      "No buildx release exists for this runner's architecture (mips)."
    )
  })
})

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

const fakeCache = (served: string, hitContent?: string): FakeToolCache =>
  fakeToolCache('docker-buildx', served, hitContent)

/** installBuildx with a fake cache and a docker whose `buildx version` reports `reports` */
function install(
  cache: ToolCache,
  version: string,
  more: { sha256?: string; urlTemplate?: string; reports?: string } = {}
) {
  const exec = fakeExec(() => ({
    stdout: `github.com/docker/buildx v${more.reports ?? version} 0123abc\n`
  }))
  const logs: string[] = []
  const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'rma-docker-config-'))
  const run = installBuildx({
    version,
    urlTemplate: more.urlTemplate ?? '',
    ...(more.sha256 === undefined ? {} : { sha256: more.sha256 }),
    nodeArch: 'x64',
    dockerConfig,
    exec,
    cache,
    log: m => logs.push(m)
  })
  const plugin = path.join(dockerConfig, 'cli-plugins', 'docker-buildx')
  return { run, exec, logs, plugin }
}

const PINNED_AMD64 = '9447199cdb435f25880548343c128a4b6650e8891ee598905d8d29d39a8e359b'
const RELEASE_URL =
  'https://github.com/docker/buildx/releases/download/v0.37.1/buildx-v0.37.1.linux-amd64'

describe('installBuildx', () => {
  it('refuses a download that is not the pinned release: deleted, not cached', async () => {
    const cache = fakeCache('a TAMPERED buildx')
    const i = install(cache, '0.37.1')
    await expect(i.run).rejects.toThrow(
      `Checksum mismatch: buildx 0.37.1 downloaded from ${RELEASE_URL} has sha256 ` +
        `${sha256('a TAMPERED buildx')}, expected ${PINNED_AMD64}; the download was deleted and ` +
        'nothing was installed.'
    )
    expect(cache.downloads).toEqual([RELEASE_URL])
    expect(readdirSync(path.join(cache.root, 'downloads'))).toEqual([])
    expect(cache.cached).toEqual([])
    expect(existsSync(i.plugin)).toBe(false)
    expect(i.exec.calls).toEqual([])
  })

  it('checks a mirror download against the pinned release too', async () => {
    const cache = fakeCache('a mirror build')
    const i = install(cache, '0.37.1', { urlTemplate: 'http://mirror.test/{version}/{arch}' })
    await expect(i.run).rejects.toThrow(
      `buildx 0.37.1 downloaded from http://mirror.test/0.37.1/amd64 has sha256`
    )
    expect(cache.cached).toEqual([])
  })

  it('refuses a tool-cache hit whose file changed, without downloading', async () => {
    const cache = fakeCache('never downloaded', 'buildx changed in the runner cache')
    const i = install(cache, '0.37.1')
    const file = path.join(cache.hit, 'docker-buildx')
    await expect(i.run).rejects.toThrow(
      `Checksum mismatch: buildx 0.37.1 in the tool cache (${file}) has sha256 ` +
        `${sha256('buildx changed in the runner cache')}, expected ${PINNED_AMD64}`
    )
    expect(cache.downloads).toEqual([])
    expect(existsSync(i.plugin)).toBe(false)
    expect(i.exec.calls).toEqual([])
  })

  it('refuses a version with no pin and no buildx-sha256 before downloading anything', async () => {
    const cache = fakeCache('buildx 0.19.0')
    const i = install(cache, '0.19.0')
    const pinned = pinnedVersions('buildx', 'amd64')
    expect(pinned).toContain('0.37.1')
    await expect(i.run).rejects.toThrow(
      `No pinned sha256 for buildx 0.19.0 (linux-amd64): this action pins buildx ` +
        `${pinned.join(', ')} for linux-amd64; require one of those, or give the file's sha256 ` +
        'in buildx-sha256.'
    )
    expect(cache.downloads).toEqual([])
    expect(existsSync(i.plugin)).toBe(false)
  })

  it('installs a version with no pin when buildx-sha256 gives its checksum', async () => {
    const cache = fakeCache('buildx 0.19.0 from a mirror')
    const i = install(cache, '0.19.0', {
      sha256: `SHA256:${sha256('buildx 0.19.0 from a mirror').toUpperCase()}`,
      urlTemplate: 'https://mirror.test/buildx/{version}/{arch}'
    })
    await expect(i.run).resolves.toBe(i.plugin)
    expect(cache.downloads).toEqual(['https://mirror.test/buildx/0.19.0/amd64'])
    expect(cache.cached).toEqual([['docker-buildx', 'docker-buildx', '0.19.0', 'x64']])
    expect(statSync(i.plugin).mode & 0o777).toBe(0o755)
    expect(i.exec.calls.map(c => [c.command, ...c.args])).toEqual([['docker', 'buildx', 'version']])
    expect(i.logs).toEqual([
      'Downloading buildx 0.19.0 from https://mirror.test/buildx/0.19.0/amd64',
      `buildx 0.19.0: sha256 ${sha256('buildx 0.19.0 from a mirror')} verified (buildx-sha256)`
    ])
  })

  it('uses buildx-sha256 over the pin, also for a tool-cache hit', async () => {
    const cache = fakeCache('never downloaded', 'our own 0.37.1 build')
    const i = install(cache, '0.37.1', { sha256: sha256('our own 0.37.1 build') })
    await expect(i.run).resolves.toBe(i.plugin)
    expect(cache.downloads).toEqual([])
    expect(i.logs).toEqual([
      'Using buildx 0.37.1 from the tool cache (sha256 verified, buildx-sha256)'
    ])
  })

  it('refuses a buildx-sha256 that is not a sha256', async () => {
    const cache = fakeCache('x')
    await expect(install(cache, '0.37.1', { sha256: 'latest' }).run).rejects.toThrow(
      'buildx-sha256 "latest" is not a sha256 (64 hexadecimal digits).'
    )
    expect(cache.downloads).toEqual([])
  })

  it('says when the installed plugin reports another version', async () => {
    const cache = fakeCache('buildx')
    const i = install(cache, '0.19.0', { sha256: sha256('buildx'), reports: '0.18.0' })
    await expect(i.run).rejects.toThrow(
      `The installed buildx reports 0.18.0 where 0.19.0 was installed (${i.plugin}).`
    )
  })
})
