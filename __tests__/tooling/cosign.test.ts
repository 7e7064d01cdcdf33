import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import {
  decideCosign,
  installCosign,
  installedCosign,
  KNOWN_LATEST_COSIGN,
  parseCosignVersion
} from '../../src/tooling/cosign.js'
import type { ToolCache } from '../../src/tooling/download.js'
import { PINNED, pinnedVersions } from '../../src/tooling/releases.js'
import { fakeExec } from '../helpers/fake-exec.js'
import { fakeToolCache, type FakeToolCache } from '../helpers/fake-tool-cache.js'

/** `cosign version` of a release (sigstore/release-utils prints a banner first) */
const RELEASE_OUTPUT = `  ______   ______        _______. __    _______ .__   __.
 /      | /  __  \\      /       ||  |  /  _____||  \\ |  |
|  ,----'|  |  |  |    |   (----\`|  | |  |  __  |   \\|  |
cosign: A tool for Container Signing, Verification and Storage in an OCI registry.

GitVersion:    v3.1.3
GitCommit:     0123456789abcdef0123456789abcdef01234567
GitTreeState:  clean
BuildDate:     2026-09-01T10:00:00Z
GoVersion:     go1.25.1
Compiler:      gc
Platform:      linux/amd64
`

describe('parseCosignVersion', () => {
  it.each([
    ['a release: GitVersion with a v', RELEASE_OUTPUT, '3.1.3'],
    [
      "Debian's build: GitVersion without a v",
      'GitVersion:    3.1.1\nGitCommit: unknown\n',
      '3.1.1'
    ],
    ['a Debian revision after the version', 'GitVersion:    3.1.1+ds-2\n', '3.1.1'],
    ['only a version', '3.1.1\n', '3.1.1'],
    ['only a version with a v', 'v2.4.1\n', '2.4.1'],
    ['a version built from source', 'GitVersion:    devel\n', null],
    ['no version', 'cosign: command not found\n', null],
    ['nothing', '', null]
  ])('%s', (_, output, version) => {
    expect(parseCosignVersion(output)).toBe(version)
  })
})

describe('installedCosign', () => {
  it('runs `cosign version` and reads its GitVersion line', async () => {
    const exec = fakeExec(() => ({ stdout: RELEASE_OUTPUT }))
    expect(await installedCosign(exec)).toEqual({ version: '3.1.3' })
    expect(exec.calls.map(c => [c.command, ...c.args])).toEqual([['cosign', 'version']])
  })

  it('reads the version from stderr too', async () => {
    expect(await installedCosign(fakeExec(() => ({ stderr: 'GitVersion:    3.1.1\n' })))).toEqual({
      version: '3.1.1'
    })
  })

  it("is there without a version when it does not say one (Debian's build prints devel)", async () => {
    const exec = fakeExec(() => ({ stdout: 'GitVersion:    devel\nGitCommit:     unknown\n' }))
    expect(await installedCosign(exec)).toEqual({ version: null })
  })

  it('is null when cosign is not installed', async () => {
    const exec = fakeExec(() => ({ code: 127, stderr: 'cosign: command not found' }))
    expect(await installedCosign(exec)).toBeNull()
  })
})

describe('decideCosign', () => {
  it.each([
    ['', '3.1.1', { action: 'keep', version: '3.1.1' }],
    ['>=2.4.0', '2.4.0', { action: 'keep', version: '2.4.0' }],
    [
      '',
      null,
      { action: 'install', version: KNOWN_LATEST_COSIGN, reason: 'cosign is not installed' }
    ],
    [
      '>=2.4.0',
      '2.2.4',
      {
        action: 'install',
        version: KNOWN_LATEST_COSIGN,
        reason: 'cosign 2.2.4 does not satisfy >=2.4.0'
      }
    ],
    [
      '~3.0.0',
      '3.1.1',
      { action: 'install', version: '3.0.6', reason: 'cosign 3.1.1 does not satisfy ~3.0.0' }
    ],
    [
      '2.4.1',
      '3.1.3',
      { action: 'install', version: '2.4.1', reason: 'cosign 3.1.3 does not satisfy 2.4.1' }
    ],
    ['latest', '3.1.3', { action: 'keep', version: '3.1.3' }]
  ])('requires %j, has %s', (required, installed, decision) => {
    expect(decideCosign(required, installed === null ? null : { version: installed })).toEqual(
      decision
    )
  })

  it('keeps any cosign that runs with *, also one that does not say its version', () => {
    expect(decideCosign('*', { version: null })).toEqual({
      action: 'keep',
      version: 'unknown'
    })
    expect(decideCosign('*', { version: '2.0.0' })).toEqual({ action: 'keep', version: '2.0.0' })
    expect(decideCosign('*', null)).toMatchObject({
      action: 'install',
      version: KNOWN_LATEST_COSIGN
    })
  })

  it('installs in place of a cosign that does not say its version, saying how to keep it', () => {
    expect(decideCosign('>=3.0.0', { version: null })).toEqual({
      action: 'install',
      version: KNOWN_LATEST_COSIGN,
      reason: 'the installed cosign does not say its version (cosign-version: "*" would keep it)'
    })
  })
})

describe('the pinned cosign releases', () => {
  it('pin amd64 and arm64 of every version as sha256 hex digests', () => {
    for (const [version, pins] of Object.entries(PINNED.cosign)) {
      expect(`${version} ${pins.amd64}`).toMatch(/ [0-9a-f]{64}$/)
      expect(`${version} ${pins.arm64}`).toMatch(/ [0-9a-f]{64}$/)
      for (const sha of Object.values(pins)) expect(`${version} ${sha}`).toMatch(/ [0-9a-f]{64}$/)
    }
  })

  it('make 3.1.3 the newest, which satisfies the default range', () => {
    expect(KNOWN_LATEST_COSIGN).toBe('3.1.3')
    expect(pinnedVersions('cosign', 'arm64')).toEqual(['3.1.3', '3.0.6', '3.0.5'])
  })
})

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

const fakeCache = (served: string, hitContent?: string): FakeToolCache =>
  fakeToolCache('cosign', served, hitContent)

function install(
  cache: ToolCache,
  version: string,
  more: { sha256?: string; nodeArch?: string; reports?: string } = {}
) {
  const exec = fakeExec(() => ({ stdout: `GitVersion:    v${more.reports ?? version}\n` }))
  const logs: string[] = []
  const run = installCosign({
    version,
    nodeArch: more.nodeArch ?? 'x64',
    ...(more.sha256 === undefined ? {} : { sha256: more.sha256 }),
    cache,
    exec,
    log: m => logs.push(m)
  })
  return { run, exec, logs }
}

describe('installCosign', () => {
  it('refuses a tampered download of a pinned release: deleted, never run', async () => {
    const cache = fakeCache('a TAMPERED cosign')
    const i = install(cache, '3.1.3', { nodeArch: 'arm64' })
    const url = 'https://github.com/sigstore/cosign/releases/download/v3.1.3/cosign-linux-arm64'
    await expect(i.run).rejects.toThrow(
      `Checksum mismatch: cosign 3.1.3 downloaded from ${url} has sha256 ` +
        `${sha256('a TAMPERED cosign')}, expected ` +
        'c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a; the download was ' +
        'deleted and nothing was installed.'
    )
    expect(cache.downloads).toEqual([url])
    expect(readdirSync(path.join(cache.root, 'downloads'))).toEqual([])
    expect(cache.cached).toEqual([])
    expect(i.exec.calls).toEqual([])
  })

  it('refuses a tool-cache hit whose file changed, without downloading or running it', async () => {
    const cache = fakeCache('never downloaded', 'cosign changed in the runner cache')
    const i = install(cache, '3.1.3')
    await expect(i.run).rejects.toThrow(
      `Checksum mismatch: cosign 3.1.3 in the tool cache (${path.join(cache.hit, 'cosign')}) ` +
        `has sha256 ${sha256('cosign changed in the runner cache')}, expected ` +
        '4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71'
    )
    expect(cache.downloads).toEqual([])
    expect(i.exec.calls).toEqual([])
  })

  it('refuses a version with no pin and no cosign-sha256 before downloading anything', async () => {
    const cache = fakeCache('cosign 2.4.1')
    await expect(install(cache, '2.4.1').run).rejects.toThrow(
      'No pinned sha256 for cosign 2.4.1 (linux-amd64): this action pins cosign 3.1.3, 3.0.6, ' +
        "3.0.5 for linux-amd64; require one of those, or give the file's sha256 in cosign-sha256."
    )
    expect(cache.downloads).toEqual([])
  })

  it('installs with the sha256 given, executable, and checks the version it reports', async () => {
    const cache = fakeCache('cosign 2.4.1')
    const i = install(cache, '2.4.1', { sha256: sha256('cosign 2.4.1') })
    const bin = await i.run
    expect(path.isAbsolute(bin)).toBe(true)
    expect(bin).toBe(path.join(cache.root, 'cache', 'cosign', '2.4.1', 'x64', 'cosign'))
    expect(statSync(bin).mode & 0o777).toBe(0o755)
    expect(cache.downloads).toEqual([
      'https://github.com/sigstore/cosign/releases/download/v2.4.1/cosign-linux-amd64'
    ])
    expect(cache.cached).toEqual([['cosign', 'cosign', '2.4.1', 'x64']])
    expect(i.exec.calls.map(c => [c.command, ...c.args])).toEqual([[bin, 'version']])
    expect(i.logs).toEqual([
      `Downloading cosign 2.4.1 from ${cache.downloads[0]}`,
      `cosign 2.4.1: sha256 ${sha256('cosign 2.4.1')} verified (cosign-sha256)`
    ])
  })

  it('uses a verified tool-cache hit, made executable', async () => {
    const cache = fakeCache('never downloaded', 'cosign from the cache')
    const i = install(cache, '2.4.1', { sha256: sha256('cosign from the cache') })
    const bin = await i.run
    expect(bin).toBe(path.join(cache.hit, 'cosign'))
    expect(existsSync(bin) && statSync(bin).mode & 0o777).toBe(0o755)
    expect(cache.downloads).toEqual([])
  })

  it('says when the installed cosign reports another version', async () => {
    const cache = fakeCache('cosign')
    const i = install(cache, '2.4.1', { sha256: sha256('cosign'), reports: '2.4.0' })
    await expect(i.run).rejects.toThrow(
      `The installed cosign reports 2.4.0 where 2.4.1 was installed (${path.join(
        cache.root,
        'cache',
        'cosign',
        '2.4.1',
        'x64',
        'cosign'
      )}).`
    )
  })
})
