import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  downloadVerified,
  normalizeSha256,
  sha256File,
  verifyCached,
  type ToolCache
} from '../../src/tooling/download.js'

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/** A tool cache whose download writes `served` into a temp dir; records what was asked. */
function fakeCache(served: string | Error): ToolCache & { root: string; downloads: string[] } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rma-dl-'))
  const downloads: string[] = []
  return {
    root,
    downloads,
    find: () => '',
    async download(url) {
      downloads.push(url)
      if (served instanceof Error) throw served
      const file = path.join(root, `download-${downloads.length}`)
      writeFileSync(file, served)
      return file
    },
    async cacheFile() {
      throw new Error('not used here')
    }
  }
}

const URL = 'https://example.test/releases/v1.0.0/tool-linux-amd64'

describe('normalizeSha256', () => {
  const hex = 'ab'.repeat(32)
  it.each([
    [hex, hex],
    [hex.toUpperCase(), hex],
    [`sha256:${hex}`, hex],
    [`  SHA256:${hex}\n`, hex],
    ['', null],
    ['ab'.repeat(31), null],
    [`${hex}00`, null],
    ['g'.repeat(64), null],
    [`sha512:${hex}`, null]
  ])('%j → %j', (text, expected) => {
    expect(normalizeSha256(text)).toBe(expected)
  })
})

describe('sha256File', () => {
  it('hashes a file by streaming it (FIPS 180-2 test vector "abc")', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-hash-'))
    writeFileSync(path.join(dir, 'abc'), 'abc')
    expect(await sha256File(path.join(dir, 'abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
  })

  it('hashes a file larger than one stream chunk', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-hash-'))
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7)
    writeFileSync(path.join(dir, 'big'), big)
    expect(await sha256File(path.join(dir, 'big'))).toBe(sha256(big))
  })
})

describe('downloadVerified', () => {
  it('returns the downloaded file when its sha256 is the expected one', async () => {
    const cache = fakeCache('the release binary')
    const file = await downloadVerified(cache, 'tool 1.0.0', URL, sha256('the release binary'))
    expect(cache.downloads).toEqual([URL])
    expect(existsSync(file)).toBe(true)
  })

  it('refuses a tampered download in one line, and deletes it', async () => {
    const cache = fakeCache('the release binary, TAMPERED')
    const expected = sha256('the release binary')
    const error = await downloadVerified(cache, 'tool 1.0.0', URL, expected).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error?.message).toBe(
      `Checksum mismatch: tool 1.0.0 downloaded from ${URL} has sha256 ` +
        `${sha256('the release binary, TAMPERED')}, expected ${expected}; the download was ` +
        'deleted and nothing was installed.'
    )
    expect(error?.message).not.toContain('\n')
    expect(readdirSync(cache.root)).toEqual([])
  })

  it('says what could not be downloaded from where', async () => {
    const cache = fakeCache(new Error('Unexpected HTTP response: 404'))
    await expect(downloadVerified(cache, 'tool 1.0.0', URL, 'a'.repeat(64))).rejects.toThrow(
      `Downloading tool 1.0.0 from ${URL} failed: Unexpected HTTP response: 404`
    )
  })
})

describe('verifyCached', () => {
  function cached(content: string): { dir: string; file: string } {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rma-tc-')), 'tool', '1.0.0', 'x64')
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'tool'), content)
    return { dir, file: path.join(dir, 'tool') }
  }

  it('accepts a cached file with the expected sha256', async () => {
    const { dir, file } = cached('the release binary')
    await expect(
      verifyCached('tool 1.0.0', file, dir, sha256('the release binary'))
    ).resolves.toBeUndefined()
  })

  it('refuses a cached file changed after it was cached, and says how to recover', async () => {
    const { dir, file } = cached('changed on the self-hosted runner')
    const expected = sha256('the release binary')
    await expect(verifyCached('tool 1.0.0', file, dir, expected)).rejects.toThrow(
      `Checksum mismatch: tool 1.0.0 in the tool cache (${file}) has sha256 ` +
        `${sha256('changed on the self-hosted runner')}, expected ${expected}; it changed after ` +
        'it was cached, or was cached from another source. Nothing was installed; delete ' +
        `${dir} to download it again.`
    )
    // left where it is, for whoever looks into it
    expect(existsSync(file)).toBe(true)
  })

  it('refuses a cache entry without the file', async () => {
    const { dir } = cached('x')
    await expect(
      verifyCached('tool 1.0.0', path.join(dir, 'missing'), dir, 'a'.repeat(64))
    ).rejects.toThrow(
      /^Reading tool 1\.0\.0 in the tool cache \(.*missing\) failed: .*ENOENT.*; nothing/
    )
  })
})
