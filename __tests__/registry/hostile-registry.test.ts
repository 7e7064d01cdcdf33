/**
 * The registry client against hostile HTTP servers of the test's own on 127.0.0.1: a registry
 * that redirects elsewhere, a redirect target that asks for credentials, answers far larger than
 * they may be, text meant to become workflow commands, malformed answers. What must hold: no
 * credentials leave for a host the registry only named, no answer is read past its limit, and
 * no registry text starts a log line.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkBases } from '../../src/pipeline/preflight.js'
import { sha256 } from '../../src/oci/manifest.js'
import { apiBase, RegistryClient, type Fetch } from '../../src/registry/client.js'
import { isLoopback, mayNotGo, redirectTarget } from '../../src/registry/http.js'
import { printable } from '../../src/text/text.js'
import { Registries } from '../../src/registry/registries.js'
import type { Docker } from '../../src/tooling/docker.js'
import type { Cell } from '../../src/plan/planner.js'

interface Seen {
  method: string
  url: string
  auth: string | undefined
}

interface Server {
  /** 127.0.0.1:port */
  host: string
  seen: Seen[]
  /** Bytes of answer bodies written, per request */
  written: number[]
}

const servers: http.Server[] = []
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(s => {
      s.closeAllConnections()
      return new Promise(resolve => s.close(resolve))
    })
  )
})

/** A server on 127.0.0.1 answering with `handle`, recording every request. */
async function serve(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, self: Server) => void
): Promise<Server> {
  const self: Server = { host: '', seen: [], written: [] }
  const server = http.createServer((req, res) => {
    self.seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization
    })
    req.resume()
    handle(req, res, self)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  self.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return self
}

/**
 * An answer of `size` bytes of `fill`, written as the client reads it (nothing is held in
 * memory); how much was written before the client stopped reading is recorded.
 */
function endless(
  res: http.ServerResponse,
  self: Server,
  size: number,
  head = '',
  headers: Record<string, string> = {}
): void {
  res.writeHead(200, headers)
  const chunk = Buffer.alloc(64 * 1024, 'a')
  let sent = 0
  const slot = self.written.push(0) - 1
  const more = (): void => {
    while (sent < size) {
      const piece = sent === 0 ? Buffer.concat([Buffer.from(head), chunk]) : chunk
      sent += piece.length
      self.written[slot] = sent
      if (!res.write(piece)) {
        res.once('drain', more)
        return
      }
    }
    res.end()
  }
  res.on('close', () => res.removeAllListeners('drain'))
  more()
}

const BASIC = `Basic ${Buffer.from('u:secret-password').toString('base64')}`
const MB = 1024 * 1024

function client(registry: string, o: { attempts?: number; fetch?: Fetch } = {}): RegistryClient {
  return new RegistryClient({
    registry,
    credentials: async () => ({
      username: 'u',
      password: 'secret-password',
      source: 'the action inputs'
    }),
    retry: {
      policy: { attempts: o.attempts ?? 3, baseDelayMs: 0, maxDelayMs: 0 },
      log: () => undefined,
      sleep: async () => undefined
    },
    ...(o.fetch === undefined ? {} : { fetch: o.fetch })
  })
}

/** A registry behind Basic auth: `answer` once the request carries the credentials. */
function basicAuth(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.headers.authorization !== BASIC) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"' }).end()
      return
    }
    answer(req, res)
  }
}

describe('redirects', () => {
  it('a redirect target gets no credentials, and its 401 does not become the registry’s challenge', async () => {
    // the other host asks for credentials at a token service of its own
    const other = await serve((req, res) => {
      res
        .writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="x"`
        })
        .end()
    })
    const registry = await serve(
      basicAuth((req, res) => {
        if (req.url?.includes('/manifests/')) {
          res.writeHead(307, { Location: `http://${other.host}/steal` }).end()
        } else res.writeHead(200).end()
      })
    )
    const c = client(registry.host)
    await expect(c.getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Reading ${registry.host}/acme/robot:humble: ${other.host}, where the request was redirected, asks for credentials (the action sends credentials to ${registry.host} only)`
    )
    expect(other.seen.map(s => s.auth)).toEqual([undefined])
    // the registry's own challenge stands: the next request sends Basic to the registry
    expect(await c.hasBlob('acme/robot', 'sha256:abc')).toBe(true)
    expect(other.seen).toHaveLength(1)
    expect(registry.seen.at(-1)).toMatchObject({ method: 'HEAD', auth: BASIC })
  })

  it('a blob read redirected to a storage host is followed there, without the credentials', async () => {
    const blob = '{"architecture":"arm64","os":"linux"}'
    const storage = await serve((_req, res) => res.writeHead(200).end(blob))
    const registry = await serve(
      basicAuth((_req, res) =>
        res.writeHead(307, { Location: `http://${storage.host}/blob?sig=1` }).end()
      )
    )
    const bytes = await client(registry.host).getBlob('acme/robot', sha256(blob))
    expect(bytes.toString()).toBe(blob)
    expect(registry.seen.map(s => s.auth)).toEqual([undefined, BASIC])
    expect(storage.seen).toEqual([{ method: 'GET', url: '/blob?sig=1', auth: undefined }])
  })

  it('an upload location on another host never gets credentials, not even where its redirect leads back to the registry', async () => {
    let registryHost = ''
    const storage = await serve((req, res) => {
      // the upload host sends the client back to the registry, which asks for credentials
      if (req.headers.authorization === undefined) {
        res.writeHead(307, { Location: `http://${registryHost}/v2/` }).end()
      } else res.writeHead(201).end()
    })
    const registry = await serve(
      basicAuth((req, res) => {
        if (req.method === 'HEAD') return res.writeHead(404).end()
        if (req.method === 'POST') {
          return res.writeHead(202, { Location: `http://${storage.host}/upload/1` }).end()
        }
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"' }).end()
      })
    )
    registryHost = registry.host
    const blob = Buffer.from('layer')
    const failure = await client(registry.host, { attempts: 1 })
      .uploadBlob('acme/robot', sha256(blob), {
        size: blob.length,
        open: () => new Blob([blob]).stream()
      })
      .catch((error: Error) => error.message)
    expect(failure).toBe(
      `Uploading ${registry.host}/acme/robot@${sha256(blob)}: ${registry.host}, where the request was redirected, asks for credentials (the action sends credentials to ${registry.host} only)`
    )
    expect(storage.seen.map(s => s.auth)).toEqual([undefined])
  })

  it('a redirect loop is one error after 10 redirects, not retried', async () => {
    const registry = await serve((req, res) => res.writeHead(302, { Location: req.url }).end())
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Reading ${registry.host}/acme/robot:humble: more than 10 redirects (a loop?)`
    )
    expect(registry.seen).toHaveLength(11)
  })

  it('follows no redirect to another scheme, from HTTPS to HTTP, or with credentials in it', () => {
    const from = new URL('https://registry.example/v2/a/blobs/sha256:1')
    expect(redirectTarget(from, 302, 'file:///etc/passwd', 'GET')).toBe('a redirect to a file: URL')
    expect(redirectTarget(from, 302, 'http://cdn.example/x', 'GET')).toBe(
      'a redirect to plain HTTP (cdn.example), from HTTPS'
    )
    // a remote registry may not point the client at the runner's own services
    expect(redirectTarget(from, 307, 'http://127.0.0.1:2375/containers/create', 'GET')).toBe(
      'a redirect to a loopback address (127.0.0.1:2375)'
    )
    const local = new URL('https://127.0.0.1:5000/v2/a/blobs/uploads/')
    expect(mayNotGo(local, new URL('http://localhost:5000/upload'))).toBeNull()
    expect(mayNotGo(from, new URL('https://storage.example/upload?x=1'))).toBeNull()
    expect(redirectTarget(from, 302, 'https://u:p@cdn.example/x', 'GET')).toBe(
      'a redirect to a URL with credentials in it (cdn.example)'
    )
    expect(redirectTarget(from, 302, 'https://cdn.example/x', 'PUT')).toBe(
      'a 302 redirect of a PUT'
    )
    expect(redirectTarget(from, 307, null, 'GET')).toBe('a 307 redirect without a Location')
    expect(String(redirectTarget(from, 307, '/v2/b', 'PUT'))).toBe('https://registry.example/v2/b')
  })
})

describe('where Basic credentials may go', () => {
  /** A scripted registry whose Bearer challenge names `realm`; records the URLs fetched. */
  function bearer(realm: string): { fetch: Fetch; urls: string[] } {
    const urls: string[] = []
    const fetch: Fetch = async input => {
      urls.push(String(input))
      return new Response(null, {
        status: 401,
        headers: { 'WWW-Authenticate': `Bearer realm="${realm}",service="s"` }
      })
    }
    return { fetch, urls }
  }

  it('a name that begins with 127. is no loopback: HTTPS, and no credentials to its plain-HTTP realm', async () => {
    expect(apiBase('127.attacker.example:5000')).toBe('https://127.attacker.example:5000')
    expect(isLoopback('127.attacker.example')).toBe(false)
    expect(isLoopback('127.0.0.1:5000')).toBe(true)
    expect(isLoopback('127.1')).toBe(true)
    expect(isLoopback('[::1]:5000')).toBe(true)
    expect(isLoopback('localhost:5000')).toBe(true)
    const { fetch, urls } = bearer('http://127.attacker.example/token')
    await expect(client('registry.example', { fetch }).getManifest('a/b', 'x')).rejects.toThrow(
      "Reading registry.example/a/b:x: the registry's challenge names a token service on plain HTTP (127.attacker.example): the credentials for registry.example go over HTTPS only, or to a loopback address or a registry the engine reaches insecurely"
    )
    expect(urls).toEqual(['https://registry.example/v2/a/b/manifests/x'])
  })

  it('a challenge without a realm, or with one that is no http(s) URL, is an error naming the request', async () => {
    for (const [realm, words] of [
      ['', 'names no token service (realm)'],
      ['not a url', 'names a token service (realm) that is not a URL'],
      ['data:application/json,{"token":"t"}', 'names a token service that is not HTTP(S)'],
      ['https://u:p@auth.example/token', 'names a token service URL with credentials in it']
    ]) {
      const { fetch, urls } = bearer(realm)
      await expect(client('registry.example', { fetch }).getManifest('a/b', 'x')).rejects.toThrow(
        `Reading registry.example/a/b:x: the registry's challenge ${words}`
      )
      expect(urls).toHaveLength(1)
    }
  })
})

describe('answers past their limits', () => {
  it('stops reading a 200 MB manifest at 4 MiB', async () => {
    const registry = await serve((_req, res, self) => endless(res, self, 200 * MB, '{"a":"'))
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Reading ${registry.host}/acme/robot:humble: the answer is larger than the 4 MiB such an answer may have`
    )
    expect(registry.seen).toHaveLength(1)
    expect(registry.written[0]).toBeLessThan(32 * MB)
  })

  it('refuses a manifest whose declared length is past the limit without reading it', async () => {
    const registry = await serve((_req, res, self) =>
      endless(res, self, 200 * MB, '', { 'Content-Length': String(200 * MB) })
    )
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      'the answer is larger than the 4 MiB such an answer may have'
    )
    expect(registry.written[0]).toBeLessThan(32 * MB)
  })

  it('stops reading a 200 MB token answer at 64 KiB, and sends no such token', async () => {
    const registry = await serve((req, res, self) => {
      if (req.url?.startsWith('/token')) return endless(res, self, 200 * MB, '{"token":"')
      res
        .writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`
        })
        .end()
    })
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Getting a token for repository:acme/robot:pull from ${registry.host}: the answer is larger than the 64 KiB such an answer may have`
    )
    expect(registry.seen.map(s => s.url.split('?')[0])).toEqual([
      '/v2/acme/robot/manifests/humble',
      '/token'
    ])
    expect(registry.written[0]).toBeLessThan(32 * MB)
  })

  it('stops reading a config blob at 8 MiB', async () => {
    const registry = await serve((_req, res, self) => endless(res, self, 200 * MB, '{"os":"'))
    await expect(client(registry.host).getBlob('acme/robot', 'sha256:abc')).rejects.toThrow(
      `Reading blob ${registry.host}/acme/robot@sha256:abc: the answer is larger than the 8 MiB such an answer may have`
    )
    expect(registry.written[0]).toBeLessThan(32 * MB)
  })

  it('cuts an error answer at 64 KiB and still reports its status', async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(400)
      res.end(`{"errors":[{"code":"BAD","message":"${'x'.repeat(10 * MB)}"}]}`)
    })
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Reading ${registry.host}/acme/robot:humble: HTTP 400: {"errors":[{"code":"BAD","message":"xxx`
    )
  })
})

describe('registry text in the log', () => {
  const EVIL = 'amd64\n::warning::pwned\n::save-state name=isPost::true'

  /** A registry holding one index whose second entry's architecture is `architecture`. */
  async function baseIndex(architecture: string): Promise<Server> {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('a'),
          size: 1,
          platform: { os: 'linux', architecture: 'arm64' }
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('b'),
          size: 1,
          platform: { os: 'linux', architecture }
        }
      ]
    })
    return serve((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }).end(index)
    )
  }

  function registries(): Registries {
    return new Registries({
      sources: { dockerConfig: '/nonexistent', readText: async () => undefined, exec: noExec },
      retry: { policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, log: () => undefined }
    })
  }
  const noExec = {
    run: async () => ({ code: 1, stdout: '', stderr: 'no' })
  }
  /** An engine that has no local copy of any image. */
  const noEngine = {
    inspectImage: async () => {
      throw new Error('No such image')
    }
  } as unknown as Docker

  it('a base image whose index names a platform with commands in it stops preflight, and no line starts with ::', async () => {
    const registry = await baseIndex(EVIL)
    const base = `${registry.host}/ros:humble`
    const logs: string[] = []
    const job = { cell: { id: 'humble-amd64' } as Cell, bases: [] }
    const failure = await checkBases(
      [{ image: base, platforms: new Map([['linux/amd64', [job]]]) }],
      {
        docker: noEngine,
        registries: registries(),
        log: m => logs.push(m)
      }
    ).catch((error: Error) => error.message)
    expect(failure).toBe(
      `Base image ${base} cannot be inspected: ${base}: entry 2 of the index names a platform that is not one (os, architecture and variant are letters, digits, '_', '.' and '-')`
    )
    const lines = [...logs, String(failure)].join('\n').split('\n')
    expect(lines.filter(l => l.startsWith('::'))).toEqual([])
  })

  it('an error text from a registry is printed on one line, escaped', async () => {
    const registry = await serve((_req, res) =>
      res.writeHead(400).end(JSON.stringify({ errors: [{ code: 'DENIED', message: EVIL }] }))
    )
    const failure = await client(registry.host)
      .getManifest('acme/robot', 'humble')
      .catch((error: Error) => error.message)
    expect(failure).toBe(
      `Reading ${registry.host}/acme/robot:humble: HTTP 400: DENIED: amd64\\n::warning::pwned\\n::save-state name=isPost::true`
    )
    expect(printable('a\u0007b\u2028c')).toBe('a\\u0007b\\u2028c')
  })
})

describe('malformed answers', () => {
  it('a token answer that is not JSON names the request and quotes none of it', async () => {
    const registry = await serve((req, res) => {
      if (req.url?.startsWith('/token')) return res.writeHead(200).end('secret-token-abc{')
      res
        .writeHead(401, {
          'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="s"`
        })
        .end()
    })
    const failure = await client(registry.host)
      .getManifest('acme/robot', 'humble')
      .catch((error: Error) => error.message)
    expect(failure).toBe(
      `Getting a token for repository:acme/robot:pull from ${registry.host}: the answer is not JSON`
    )
  })

  it('a manifest that is JSON null, or not JSON, is an error naming the request', async () => {
    for (const body of ['null', '[1]', 'garbage']) {
      const registry = await serve((_req, res) => res.writeHead(200).end(body))
      await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
        new RegExp(
          `^Reading ${registry.host}/acme/robot:humble: not a manifest: the answer is not (JSON|a JSON object)$`
        )
      )
    }
  })

  it('a Docker-Content-Digest that disagrees with the bytes is an error', async () => {
    const body = '{"schemaVersion":2,"manifests":[]}'
    const registry = await serve((_req, res) =>
      res.writeHead(200, { 'Docker-Content-Digest': sha256('another index') }).end(body)
    )
    await expect(client(registry.host).getManifest('acme/robot', 'humble')).rejects.toThrow(
      `Reading ${registry.host}/acme/robot:humble: the registry says it is ${sha256('another index')}, but the bytes it sent are ${sha256(body)}`
    )
  })
})
