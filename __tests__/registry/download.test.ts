/**
 * Blobs downloaded to a file, against registries of the test's own on 127.0.0.1: the bytes land
 * in the file only when they are the blob's (never a partial or wrong file, whatever fails), a
 * body past its limit is stopped, a redirect to storage elsewhere gets no credentials, and a
 * failed try is retried from the start. A file uploaded through fileBlob() comes back equal.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { sha256 } from '../../src/oci/manifest.js'
import { RegistryClient } from '../../src/registry/client.js'
import { fileBlob } from '../../src/registry/files.js'
import { Registries } from '../../src/registry/registries.js'
import { sha256File } from '../../src/tooling/download.js'

interface Hit {
  readonly method: string
  readonly url: string
  readonly auth: string | undefined
}

/** A server of the test's own: where it listens, what it was asked, what it wrote of bodies. */
interface Host {
  host: string
  readonly hits: Hit[]
  /** Body bytes written, per answer that streamed one */
  readonly streamed: number[]
}

type Answer = (req: http.IncomingMessage, res: http.ServerResponse, host: Host) => void

const running: http.Server[] = []
let dir = ''

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rma-download-'))
})

afterEach(async () => {
  for (const server of running.splice(0)) {
    server.closeAllConnections()
    await new Promise(done => server.close(done))
  }
  await rm(dir, { recursive: true, force: true })
})

async function listen(answer: Answer): Promise<Host> {
  const host: Host = { host: '', hits: [], streamed: [] }
  const server = http.createServer((req, res) => {
    host.hits.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization
    })
    answer(req, res, host)
  })
  running.push(server)
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  host.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return host
}

const PASSWORD = 'download-secret'
const BASIC = `Basic ${Buffer.from(`u:${PASSWORD}`).toString('base64')}`
const MiB = 1024 * 1024

/** Asks for Basic credentials until a request carries them, then answers with `then`. */
function behindLogin(then: Answer): Answer {
  return (req, res, host) => {
    if (req.headers.authorization === BASIC) return then(req, res, host)
    req.resume()
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end()
  }
}

/**
 * `total` bytes of 'x' sent as fast as the client takes them, counted in `host.streamed`; the
 * server never holds them. With `declare`, the Content-Length says so.
 */
function flood(res: http.ServerResponse, host: Host, total: number, declare: boolean): void {
  res.writeHead(200, declare ? { 'Content-Length': String(total) } : {})
  const piece = Buffer.alloc(256 * 1024, 'x')
  const at = host.streamed.push(0) - 1
  const pump = (): void => {
    while (host.streamed[at] < total && !res.destroyed) {
      host.streamed[at] += piece.length
      if (!res.write(piece)) return void res.once('drain', pump)
    }
    res.end()
  }
  pump()
}

/** The first half of `body`, then the connection destroyed (declared at its full length or not). */
function cut(res: http.ServerResponse, body: Buffer, declare: boolean): void {
  res.writeHead(200, declare ? { 'Content-Length': String(body.length) } : {})
  res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 20))
}

function client(
  registry: string,
  o: { attempts?: number; timeoutMs?: number } = {}
): { c: RegistryClient; logs: string[] } {
  const logs: string[] = []
  const c = new RegistryClient({
    registry,
    credentials: async () => ({ username: 'u', password: PASSWORD, source: 'the action inputs' }),
    retry: {
      policy: { attempts: o.attempts ?? 3, baseDelayMs: 0, maxDelayMs: 0 },
      log: m => logs.push(m),
      sleep: async () => undefined
    },
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs })
  })
  return { c, logs }
}

const BLOB = randomBytes(2 * MiB + 12345)
const DIGEST = sha256(BLOB)
const BLOB_PATH = `/v2/acme/robot/blobs/${DIGEST}`
const what = (host: Host, digest = DIGEST) => `Downloading blob ${host.host}/acme/robot@${digest}`
const target = () => path.join(dir, 'layer.tar')
const left = () => readdir(dir)

describe('downloadBlob', () => {
  it('streams the blob into the file and returns its size; a limit of exactly its size is enough', async () => {
    const registry = await listen(behindLogin((_req, res) => res.writeHead(200).end(BLOB)))
    const { c } = client(registry.host)
    expect(await c.downloadBlob('acme/robot', DIGEST, target(), BLOB.length)).toBe(BLOB.length)
    expect((await readFile(target())).equals(BLOB)).toBe(true)
    expect(await left()).toEqual(['layer.tar'])
    expect(registry.hits).toEqual([
      { method: 'GET', url: BLOB_PATH, auth: undefined },
      { method: 'GET', url: BLOB_PATH, auth: BASIC }
    ])
  })

  it('follows a redirect to storage on another origin without the credentials', async () => {
    const storage = await listen((_req, res) => res.writeHead(200).end(BLOB))
    const registry = await listen(
      behindLogin((_req, res) =>
        res.writeHead(307, { Location: `http://${storage.host}/bucket/blob?sig=abc` }).end()
      )
    )
    const { c } = client(registry.host)
    expect(await c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)).toBe(BLOB.length)
    expect((await readFile(target())).equals(BLOB)).toBe(true)
    expect(registry.hits.map(h => h.auth)).toEqual([undefined, BASIC])
    expect(storage.hits).toEqual([{ method: 'GET', url: '/bucket/blob?sig=abc', auth: undefined }])
  })

  it('a 401 from the redirect target is an error, and it never gets credentials', async () => {
    const storage = await listen((_req, res) =>
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="storage"' }).end()
    )
    const registry = await listen(
      behindLogin((_req, res) =>
        res.writeHead(307, { Location: `http://${storage.host}/blob` }).end()
      )
    )
    const { c } = client(registry.host)
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)).rejects.toThrow(
      `${what(registry)}: ${storage.host}, where the request was redirected, asks for credentials (the action sends credentials to ${registry.host} only)`
    )
    expect(storage.hits).toEqual([{ method: 'GET', url: '/blob', auth: undefined }])
    expect(await left()).toEqual([])
  })

  it('refuses a body whose Content-Length is past the limit, before writing anything', async () => {
    const registry = await listen((_req, res, host) => flood(res, host, 200 * MiB, true))
    const { c } = client(registry.host)
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), MiB)).rejects.toThrow(
      `${what(registry)}: the blob is larger than the limit of ${MiB} bytes (its Content-Length says ${200 * MiB})`
    )
    // asked once (asking again changes nothing), and not read to its end
    expect(registry.hits).toHaveLength(1)
    expect(registry.streamed[0]).toBeLessThan(32 * MiB)
    expect(await left()).toEqual([])
  })

  it('stops a body that says no length as soon as it passes the limit, and deletes what it wrote', async () => {
    const registry = await listen((_req, res, host) => flood(res, host, 200 * MiB, false))
    const { c } = client(registry.host)
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), 3 * MiB)).rejects.toThrow(
      new RegExp(`^${what(registry)}: the blob is larger than the limit of ${3 * MiB} bytes$`)
    )
    expect(registry.hits).toHaveLength(1)
    // more than the limit was sent (so a partial file was written), far less than all of it
    expect(registry.streamed[0]).toBeGreaterThan(3 * MiB)
    expect(registry.streamed[0]).toBeLessThan(32 * MiB)
    expect(await left()).toEqual([])
  })

  it('other content than the digest is an error, not retried, and leaves no file', async () => {
    const other = randomBytes(BLOB.length)
    const registry = await listen((_req, res) => res.writeHead(200).end(other))
    const { c } = client(registry.host)
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)).rejects.toThrow(
      `${what(registry)}: the blob has other content (${sha256(other)})`
    )
    expect(registry.hits).toHaveLength(1)
    expect(await left()).toEqual([])
  })

  it('leaves a file that was there alone when the download fails', async () => {
    await writeFile(target(), 'an older copy')
    const registry = await listen((_req, res) => res.writeHead(200).end('something else'))
    await expect(
      client(registry.host).c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)
    ).rejects.toThrow('the blob has other content')
    expect(await left()).toEqual(['layer.tar'])
    expect(await readFile(target(), 'utf8')).toBe('an older copy')
  })

  it('a file that cannot be written is an error naming it, not retried', async () => {
    const registry = await listen((_req, res) => res.writeHead(200).end(BLOB))
    const file = path.join(dir, 'no-such-folder', 'layer.tar')
    await expect(
      client(registry.host).c.downloadBlob('acme/robot', DIGEST, file, 8 * MiB)
    ).rejects.toThrow(
      new RegExp(`^${what(registry)}: creating ${file}\\.part-[0-9a-f]{16} failed: ENOENT`)
    )
    expect(registry.hits).toHaveLength(1)
    expect(await left()).toEqual([])
  })

  it('retries a 503 and a body cut in the middle, each try into a fresh file', async () => {
    const answers: Answer[] = [
      (_req, res) => res.writeHead(503).end('{"errors":[{"code":"UNAVAILABLE"}]}'),
      (_req, res) => cut(res, BLOB, true),
      (_req, res) => res.writeHead(200).end(BLOB)
    ]
    const registry = await listen((req, res, host) => answers[host.hits.length - 1](req, res, host))
    const { c, logs } = client(registry.host)
    expect(await c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)).toBe(BLOB.length)
    expect((await readFile(target())).equals(BLOB)).toBe(true)
    expect(await left()).toEqual(['layer.tar'])
    expect(registry.hits).toHaveLength(3)
    expect(logs).toEqual([
      `${what(registry)}: server error (503) (try 1 of 3); retrying in 0.0 s`,
      `${what(registry)}: connection dropped (try 2 of 3); retrying in 0.0 s`
    ])
  })

  it('a body cut on every try is an error after the tries, and no file', async () => {
    const registry = await listen((_req, res) => cut(res, BLOB, false))
    const { c } = client(registry.host, { attempts: 2 })
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)).rejects.toThrow(
      `${what(registry)}: no answer from ${registry.host} (`
    )
    expect(registry.hits).toHaveLength(2)
    expect(await left()).toEqual([])
  })

  it('a body cut where nothing tells (no length, the connection closed) is other content, not a file', async () => {
    const registry = await listen(req => {
      req.socket.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'),
          BLOB.subarray(0, BLOB.length >> 1)
        ])
      )
    })
    await expect(
      client(registry.host).c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)
    ).rejects.toThrow(`${what(registry)}: the blob has other content`)
    expect(await left()).toEqual([])
  })

  it('times a download by its Content-Length, not by the limit: a stalled body times out', async () => {
    // 10 GB of limit would give the try more than a day; 100 bytes give it the minute (here 300 ms)
    const registry = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' })
      res.write('only some')
    })
    const { c, logs } = client(registry.host, { attempts: 2, timeoutMs: 300 })
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), 10_000_000_000)).rejects.toThrow(
      `${what(registry)}: no answer from ${registry.host} (`
    )
    expect(logs).toEqual([`${what(registry)}: timed out (try 1 of 2); retrying in 0.0 s`])
    expect(registry.hits).toHaveLength(2)
    expect(await left()).toEqual([])
  })

  it('asks nothing for a digest that is not sha256 and 64 lowercase hex digits', async () => {
    const registry = await listen((_req, res) => res.writeHead(200).end(BLOB))
    const { c } = client(registry.host)
    for (const digest of [
      DIGEST.toUpperCase(),
      `sha256:${DIGEST.slice(7).toUpperCase()}`,
      DIGEST.slice(0, -1),
      `sha512:${'a'.repeat(128)}`,
      `sha256:${'a'.repeat(64)}/../../x`,
      ''
    ]) {
      await expect(c.downloadBlob('acme/robot', digest, target(), 8 * MiB)).rejects.toThrow(
        'not a sha256 digest (sha256: and 64 lowercase hex digits)'
      )
    }
    await expect(c.downloadBlob('acme/robot', DIGEST, target(), -1)).rejects.toThrow(
      'the limit -1 is not a number of bytes'
    )
    expect(registry.hits).toEqual([])
    expect(await left()).toEqual([])
    // the same server answers a valid digest: the refusals above were the client's own
    await c.downloadBlob('acme/robot', DIGEST, target(), 8 * MiB)
    expect(registry.hits).toHaveLength(1)
  })
})

/**
 * A registry that keeps blobs: an upload session by POST, the bytes in one PUT whose digest it
 * checks, HEAD and GET of what it holds.
 */
async function blobStore(): Promise<{ host: Host; blobs: Map<string, Buffer> }> {
  const blobs = new Map<string, Buffer>()
  const host = await listen(
    behindLogin((req, res) => {
      const url = new URL(req.url ?? '/', 'http://registry')
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const held = blobs.get(url.pathname.split('/blobs/')[1] ?? '')
        if (req.method === 'POST') {
          return res.writeHead(202, { Location: '/v2/acme/robot/blobs/uploads/one' }).end()
        }
        if (req.method === 'PUT') {
          const body = Buffer.concat(chunks)
          const digest = url.searchParams.get('digest') ?? ''
          if (sha256(body) !== digest) return res.writeHead(400).end('DIGEST_INVALID')
          blobs.set(digest, body)
          return res.writeHead(201).end()
        }
        if (held === undefined) return res.writeHead(404).end()
        res.writeHead(200, { 'Content-Length': String(held.length) })
        res.end(req.method === 'HEAD' ? undefined : held)
      })
    })
  )
  return { host, blobs }
}

describe('files and the registry', () => {
  it('a file uploaded through fileBlob comes back equal through Registries.downloadBlob', async () => {
    const source = path.join(dir, 'cache-mount.tar')
    const bytes = randomBytes(3 * MiB + 7)
    await writeFile(source, bytes)
    const digest = `sha256:${await sha256File(source)}`
    const { host, blobs } = await blobStore()
    const registries = new Registries({
      logins: [{ registry: host.host, username: 'u', password: PASSWORD }],
      sources: {
        dockerConfig: '/nonexistent',
        readText: async () => undefined,
        exec: { run: async () => ({ code: 1, stdout: '', stderr: 'no helper' }) }
      },
      retry: { policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, log: () => undefined }
    })
    const image = `${host.host}/acme/robot`
    expect(await registries.uploadBlob(image, digest, await fileBlob(source))).toBe('uploaded')
    expect(blobs.get(digest)?.equals(bytes)).toBe(true)
    const back = path.join(dir, 'back.tar')
    expect(await registries.downloadBlob(image, digest, back, bytes.length)).toBe(bytes.length)
    expect((await readFile(back)).equals(bytes)).toBe(true)
    expect(host.hits.filter(h => h.auth === BASIC).map(h => h.method)).toEqual([
      'HEAD',
      'POST',
      'PUT',
      'GET'
    ])
  })

  it('fileBlob opens the file afresh for each try, and only when it is read', async () => {
    const file = path.join(dir, 'blob')
    await writeFile(file, 'layer bytes')
    const blob = await fileBlob(file)
    expect(blob.size).toBe(11)
    const read = (s: ReadableStream<Uint8Array>) => new Response(s).text()
    expect(await read(blob.open())).toBe('layer bytes')
    expect(await read(blob.open())).toBe('layer bytes')
    const unread = blob.open()
    await rm(file)
    // opened now, when first read: the file is gone
    await expect(read(unread)).rejects.toThrow('ENOENT')
  })

  it('a file that grew after fileBlob measured it is an error of its stream, not a larger blob', async () => {
    const file = path.join(dir, 'blob')
    await writeFile(file, 'layer bytes')
    const blob = await fileBlob(file)
    await writeFile(file, 'layer bytes, and more')
    await expect(new Response(blob.open()).text()).rejects.toThrow(
      `${file} changed its length while it was read (11 bytes before)`
    )
    await writeFile(file, 'layer')
    await expect(new Response(blob.open()).text()).rejects.toThrow('changed its length')
  })
})
