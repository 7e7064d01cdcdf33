/**
 * The registry client against a scripted fetch: the challenge flow (Basic, Bearer tokens per
 * scope, a token fetched again when it expired), per-request retries with Retry-After, and the
 * failures that are final (refused credentials, a token that grants too little, no answer).
 * The end-to-end suite runs it against the real registries of the test bed.
 */
import { describe, expect, it } from '@jest/globals'
import {
  apiBase,
  isInsecure,
  judgeHttp,
  RegistryClient,
  retryAfterMs,
  type Fetch
} from '../../src/registry/client.js'
import { sha256 } from '../../src/oci/manifest.js'

interface Seen {
  method: string
  url: string
  auth: string | null
}

type Answer = Response | Error | ((seen: Seen) => Response | Error)

/** A fetch answering from a queue per URL path (the last answer repeats), recording requests. */
function scripted(routes: Record<string, Answer[]>): { fetch: Fetch; seen: Seen[] } {
  const seen: Seen[] = []
  const fetch: Fetch = async (input, init) => {
    const url = new URL(String(input))
    const headers = new Headers(init?.headers)
    const s = {
      method: init?.method ?? 'GET',
      url: url.pathname + url.search,
      auth: headers.get('authorization')
    }
    seen.push(s)
    const queue = routes[url.pathname]
    if (queue === undefined) return new Response(null, { status: 404 })
    const next = queue.length > 1 ? (queue.shift() as Answer) : queue[0]
    const a = typeof next === 'function' ? next(s) : next
    if (a instanceof Error) throw a
    return a.clone()
  }
  return { fetch, seen }
}

const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { digest: 'sha256:c' }
})
const ok = (body = MANIFEST, headers: Record<string, string> = {}) =>
  new Response(body, { status: 200, headers })
const status = (code: number, headers: Record<string, string> = {}) =>
  new Response(`{"errors":[{"code":"X","message":"status ${code}"}]}`, { status: code, headers })
const basicChallenge = () => status(401, { 'WWW-Authenticate': 'Basic realm="test"' })
const bearerChallenge = (error = '') =>
  status(401, {
    'WWW-Authenticate': `Bearer realm="https://auth.test/token",service="reg.test",scope="repository:acme/robot:pull"${error}`
  })
const dropped = () =>
  Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })

function client(
  fetch: Fetch,
  o: { creds?: boolean; attempts?: number } = {}
): { c: RegistryClient; logs: string[]; waits: number[] } {
  const logs: string[] = []
  const waits: number[] = []
  const c = new RegistryClient({
    registry: 'reg.test',
    credentials: async () =>
      o.creds === false ? null : { username: 'u', password: 'p', source: 'the action inputs' },
    retry: {
      policy: { attempts: o.attempts ?? 4, baseDelayMs: 1000, maxDelayMs: 30_000 },
      log: m => logs.push(m),
      sleep: async ms => {
        waits.push(ms)
      },
      random: () => 1
    },
    fetch
  })
  return { c, logs, waits }
}

const BASIC = `Basic ${Buffer.from('u:p').toString('base64')}`
const PATH = '/v2/acme/robot/manifests/humble'

describe('RegistryClient auth', () => {
  it('answers a Basic challenge with the credentials, then sends them at once', async () => {
    const { fetch, seen } = scripted({ [PATH]: [basicChallenge(), ok()] })
    const { c } = client(fetch)
    expect((await c.getManifest('acme/robot', 'humble'))?.digest).toBe(sha256(MANIFEST))
    await c.getManifest('acme/robot', 'humble')
    expect(seen.map(s => s.auth)).toEqual([null, BASIC, BASIC])
    expect(c.stats).toEqual({ requests: 3, retries: 0 })
  })

  it('gets a Bearer token per repository scope from the realm, with the credentials', async () => {
    const { fetch, seen } = scripted({
      [PATH]: [bearerChallenge(), s => (s.auth === 'Bearer t1' ? ok() : status(401))],
      '/v2/acme/robot/manifests/humble-amd64': [
        s => (s.auth === 'Bearer t2' ? new Response(null, { status: 201 }) : status(401))
      ],
      '/token': [ok('{"token":"t1"}'), ok('{"access_token":"t2"}')]
    })
    const { c } = client(fetch)
    await c.getManifest('acme/robot', 'humble')
    await c.getManifest('acme/robot', 'humble')
    await c.putManifest(
      'acme/robot',
      'humble-amd64',
      'application/vnd.oci.image.manifest.v1+json',
      MANIFEST
    )
    const tokens = seen.filter(s => s.url.startsWith('/token'))
    expect(tokens.map(t => [t.url, t.auth])).toEqual([
      ['/token?service=reg.test&scope=repository%3Aacme%2Frobot%3Apull', BASIC],
      ['/token?service=reg.test&scope=repository%3Aacme%2Frobot%3Apull%2Cpush', BASIC]
    ])
    // the pull token was fetched once and used twice
    expect(seen.filter(s => s.auth === 'Bearer t1')).toHaveLength(2)
  })

  it('fetches a new token when the registry no longer takes the old one (expired)', async () => {
    let valid = 't1'
    const { fetch, seen } = scripted({
      [PATH]: [s => (s.auth === `Bearer ${valid}` ? ok() : bearerChallenge())],
      '/token': [ok('{"token":"t1"}'), ok('{"token":"t2"}')]
    })
    const { c } = client(fetch)
    await c.getManifest('acme/robot', 'humble')
    valid = 't2' // t1 expired
    await expect(c.getManifest('acme/robot', 'humble')).resolves.not.toBeNull()
    expect(seen.filter(s => s.url.startsWith('/token'))).toHaveLength(2)
    expect(seen.at(-1)?.auth).toBe('Bearer t2')
  })

  it('fails at once, without retrying, when the registry refuses the credentials', async () => {
    const { fetch, seen } = scripted({ [PATH]: [basicChallenge()] })
    const { c, logs } = client(fetch)
    await expect(c.getManifest('acme/robot', 'humble')).rejects.toThrow(
      'Reading reg.test/acme/robot:humble: the registry refused the credentials for reg.test (401 Unauthorized)'
    )
    expect(seen).toHaveLength(2)
    expect(logs).toEqual([])
  })

  it('says so when the token grants pull only and the request pushes', async () => {
    const { fetch, seen } = scripted({
      '/v2/acme/robot/manifests/humble': [
        bearerChallenge(),
        bearerChallenge(',error="insufficient_scope"')
      ],
      '/token': [ok('{"token":"pull-only"}')]
    })
    const { c } = client(fetch)
    await expect(
      c.putManifest('acme/robot', 'humble', 'application/vnd.oci.image.index.v1+json', '{}')
    ).rejects.toThrow(
      "Writing reg.test/acme/robot:humble: the credentials for reg.test are not allowed to push to acme/robot (the registry's token grants less: insufficient_scope)"
    )
    expect(seen).toHaveLength(3)
  })

  it('names the token service when it refuses the credentials', async () => {
    const { fetch } = scripted({ [PATH]: [bearerChallenge()], '/token': [status(401)] })
    await expect(client(fetch).c.getManifest('acme/robot', 'humble')).rejects.toThrow(
      'the token service refused the credentials from the action inputs (HTTP 401)'
    )
  })

  it('asks for credentials when the registry wants them and there are none', async () => {
    const { fetch } = scripted({ [PATH]: [basicChallenge()] })
    await expect(
      client(fetch, { creds: false }).c.getManifest('acme/robot', 'humble')
    ).rejects.toThrow('the registry asks for credentials and none are given')
  })

  it('reads anonymously with a token when there are no credentials (public images)', async () => {
    const { fetch, seen } = scripted({
      [PATH]: [bearerChallenge(), ok()],
      '/token': [ok('{"token":"anon"}')]
    })
    await client(fetch, { creds: false }).c.getManifest('acme/robot', 'humble')
    expect(seen.map(s => s.auth)).toEqual([null, null, 'Bearer anon'])
  })
})

describe('RegistryClient retries', () => {
  it('retries each request on its own on 5xx and dropped connections', async () => {
    const { fetch } = scripted({ [PATH]: [status(503), dropped(), status(500), ok()] })
    const { c, logs } = client(fetch)
    expect(await c.getManifest('acme/robot', 'humble')).not.toBeNull()
    expect(c.stats).toEqual({ requests: 4, retries: 3 })
    expect(logs).toEqual([
      'Reading reg.test/acme/robot:humble: server error (503) (try 1 of 4); retrying in 1.0 s',
      'Reading reg.test/acme/robot:humble: connection dropped (try 2 of 4); retrying in 2.0 s',
      'Reading reg.test/acme/robot:humble: server error (500) (try 3 of 4); retrying in 4.0 s'
    ])
  })

  it('waits as long as a 429 asks (Retry-After), up to the longest wait', async () => {
    const { fetch } = scripted({ [PATH]: [status(429, { 'Retry-After': '7' }), ok()] })
    const { c, waits } = client(fetch)
    await c.getManifest('acme/robot', 'humble')
    expect(waits).toEqual([7000])
  })

  it('gives up after the tries, naming the registry and the cause', async () => {
    const { fetch } = scripted({ [PATH]: [dropped()] })
    const { c } = client(fetch, { attempts: 3 })
    await expect(c.getManifest('acme/robot', 'humble')).rejects.toThrow(
      'Reading reg.test/acme/robot:humble: no answer from reg.test ('
    )
    expect(c.stats).toEqual({ requests: 3, retries: 2 })
  })

  it('does not retry what asking again cannot change (400, 501)', async () => {
    for (const code of [400, 501]) {
      const { fetch } = scripted({ [PATH]: [status(code)] })
      const { c } = client(fetch)
      await expect(c.getManifest('acme/robot', 'humble')).rejects.toThrow(
        `Reading reg.test/acme/robot:humble: HTTP ${code}: X: status ${code}`
      )
      expect(c.stats.requests).toBe(1)
    }
  })
})

describe('RegistryClient operations', () => {
  it('returns null for a manifest that is not there, and checks a manifest asked for by digest', async () => {
    const { fetch } = scripted({ '/v2/acme/robot/manifests/nope': [status(404)] })
    expect(await client(fetch).c.getManifest('acme/robot', 'nope')).toBeNull()
    const wrong = `sha256:${'0'.repeat(64)}`
    const other = scripted({ [`/v2/acme/robot/manifests/${wrong}`]: [ok()] })
    await expect(client(other.fetch).c.getManifest('acme/robot', wrong)).rejects.toThrow(
      `answered with ${sha256(MANIFEST)}`
    )
  })

  it('reads a descriptor with HEAD', async () => {
    const { fetch } = scripted({
      [PATH]: [
        new Response(null, {
          status: 200,
          headers: {
            'Docker-Content-Digest': 'sha256:d',
            'Content-Type': 'application/vnd.oci.image.index.v1+json',
            'Content-Length': '123'
          }
        })
      ]
    })
    expect(await client(fetch).c.headManifest('acme/robot', 'humble')).toEqual({
      digest: 'sha256:d',
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: 123
    })
  })

  it('checks a blob against its digest, and answers whether one exists', async () => {
    const blob = '{"os":"linux"}'
    const { fetch } = scripted({
      [`/v2/acme/robot/blobs/${sha256(blob)}`]: [ok(blob)],
      '/v2/acme/robot/blobs/sha256:gone': [status(404)]
    })
    const { c } = client(fetch)
    expect((await c.getBlob('acme/robot', sha256(blob))).toString()).toBe(blob)
    expect(await c.hasBlob('acme/robot', sha256(blob))).toBe(true)
    expect(await c.hasBlob('acme/robot', 'sha256:gone')).toBe(false)
  })
})

describe('pure parts', () => {
  it('speaks HTTPS to registries, HTTP on the loopback, and Docker Hub at registry-1', () => {
    expect(apiBase('docker.io')).toBe('https://registry-1.docker.io')
    expect(apiBase('ghcr.io')).toBe('https://ghcr.io')
    expect(apiBase('127.0.0.1:5000')).toBe('http://127.0.0.1:5000')
    expect(apiBase('localhost:5000')).toBe('http://localhost:5000')
    expect(apiBase('registry.lan:5000', true)).toBe('http://registry.lan:5000')
  })

  it("knows the engine's insecure registries by name or by an IPv4 CIDR", () => {
    const insecure = { hosts: ['registry.lan:5000'], cidrs: ['10.1.0.0/16'] }
    expect(isInsecure('registry.lan:5000', insecure)).toBe(true)
    expect(isInsecure('10.1.200.7:5000', insecure)).toBe(true)
    expect(isInsecure('10.2.0.1:5000', insecure)).toBe(false)
    expect(isInsecure('ghcr.io', insecure)).toBe(false)
  })

  it('reads Retry-After as seconds or a date', () => {
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs('Mon, 30 Nov 2026 10:00:05 GMT', Date.parse('2026-11-30T10:00:00Z'))).toBe(
      5000
    )
    expect(retryAfterMs(null)).toBeUndefined()
    expect(retryAfterMs('soon')).toBeUndefined()
  })

  it('tells a time-out from a dropped connection', () => {
    const timeout = Object.assign(new Error('t'), { name: 'TimeoutError' })
    expect(judgeHttp({ error: timeout })?.reason).toBe('timed out')
    expect(judgeHttp({ error: dropped() })?.reason).toBe('connection dropped')
    const answer = (code: number) => ({
      status: code,
      headers: new Headers(),
      body: Buffer.alloc(0)
    })
    expect(judgeHttp(answer(502))?.transient).toBe(true)
    expect(judgeHttp(answer(404))).toBeNull()
  })
})

describe('RegistryClient uploads', () => {
  const source = (text: string) => ({
    size: text.length,
    open: () => new Response(text).body as ReadableStream<Uint8Array>
  })
  const BLOB = 'blob bytes'
  const D = sha256(BLOB)
  const HEAD = `/v2/acme/robot/blobs/${D}`
  const created = (headers: Record<string, string> = {}) =>
    new Response(null, { status: 201, headers })
  const session = (n: number) =>
    new Response(null, {
      status: 202,
      headers: { Location: `/v2/acme/robot/blobs/uploads/s${n}?_state=x` }
    })

  it('leaves a blob the repository has, mounts one a base repository has', async () => {
    const present = scripted({ [HEAD]: [ok('')] })
    expect(await client(present.fetch).c.uploadBlob('acme/robot', D, source(BLOB))).toBe('present')
    const mount = scripted({ [HEAD]: [status(404)], '/v2/acme/robot/blobs/uploads/': [created()] })
    expect(await client(mount.fetch).c.uploadBlob('acme/robot', D, source(BLOB), ['ros'])).toBe(
      'mounted'
    )
    expect(mount.seen[1].url).toBe(
      `/v2/acme/robot/blobs/uploads/?mount=${encodeURIComponent(D)}&from=ros`
    )
  })

  it('uploads when a mount fails (a source these credentials may not read), and tries that source no more', async () => {
    const { fetch, seen } = scripted({
      [HEAD]: [status(404)],
      '/v2/acme/robot/blobs/uploads/': [s => (s.url.includes('mount=') ? status(403) : session(1))],
      '/v2/acme/robot/blobs/uploads/s1': [created()]
    })
    const { c } = client(fetch)
    expect(await c.uploadBlob('acme/robot', D, source(BLOB), ['private/base'])).toBe('uploaded')
    expect(await c.uploadBlob('acme/robot', D, source(BLOB), ['private/base'])).toBe('uploaded')
    expect(seen.filter(s => s.url.includes('mount='))).toHaveLength(1)
  })

  it('sends no credentials to an upload location on another host', async () => {
    const { fetch, seen } = scripted({
      [HEAD]: [status(404)],
      '/v2/acme/robot/blobs/uploads/': [
        basicChallenge(),
        new Response(null, { status: 202, headers: { Location: 'https://uploads.other.test/s1' } })
      ],
      '/s1': [created()]
    })
    await client(fetch).c.uploadBlob('acme/robot', D, source(BLOB))
    expect(seen.map(s => [s.method, s.url, s.auth])).toEqual([
      ['HEAD', HEAD, null],
      ['POST', '/v2/acme/robot/blobs/uploads/', null],
      ['POST', '/v2/acme/robot/blobs/uploads/', BASIC],
      ['PUT', `/s1?digest=${encodeURIComponent(D)}`, null]
    ])
  })

  it('uploads in a new session when a PUT fails, and cancels a mount the registry turned into a session', async () => {
    const bodies: string[] = []
    const { fetch, seen } = scripted({
      [HEAD]: [status(404)],
      '/v2/acme/robot/blobs/uploads/': [session(0), session(1), session(2)],
      '/v2/acme/robot/blobs/uploads/s0': [new Response(null, { status: 204 })],
      '/v2/acme/robot/blobs/uploads/s1': [status(503)],
      '/v2/acme/robot/blobs/uploads/s2': [created()]
    })
    const recording: Fetch = async (input, init) => {
      if (init?.method === 'PUT') bodies.push(await new Response(init.body).text())
      return fetch(input, init)
    }
    const { c, logs } = client(recording)
    expect(await c.uploadBlob('acme/robot', D, source(BLOB), ['ros'])).toBe('uploaded')
    expect(seen.map(s => `${s.method} ${s.url}`)).toEqual([
      `HEAD ${HEAD}`,
      `POST /v2/acme/robot/blobs/uploads/?mount=${encodeURIComponent(D)}&from=ros`,
      'DELETE /v2/acme/robot/blobs/uploads/s0?_state=x',
      'POST /v2/acme/robot/blobs/uploads/',
      `PUT /v2/acme/robot/blobs/uploads/s1?_state=x&digest=${encodeURIComponent(D)}`,
      // the failed try may have landed after all: looked up before a new session
      `HEAD ${HEAD}`,
      'POST /v2/acme/robot/blobs/uploads/',
      `PUT /v2/acme/robot/blobs/uploads/s2?_state=x&digest=${encodeURIComponent(D)}`
    ])
    // the stream is opened afresh for the second try
    expect(bodies).toEqual([BLOB, BLOB])
    expect(logs).toEqual([
      `Uploading reg.test/acme/robot@${D}: server error (503) (try 1 of 4); retrying in 1.0 s`
    ])
  })

  it('uploads when the lookup of a blob fails after all its tries: the lookup only saves an upload', async () => {
    const { fetch, seen } = scripted({
      [HEAD]: [status(500), status(500), status(404)],
      '/v2/acme/robot/blobs/uploads/': [session(1)],
      '/v2/acme/robot/blobs/uploads/s1': [created()]
    })
    const { c } = client(fetch, { attempts: 2 })
    expect(await c.uploadBlob('acme/robot', D, source(BLOB))).toBe('uploaded')
    expect(seen.map(x => x.method)).toEqual(['HEAD', 'HEAD', 'POST', 'PUT'])
  })

  it('retries opening an upload session on its own: failed opens do not use up the tries of the upload', async () => {
    // 2 tries in all: the opens that fail are retried in place, then a PUT fails, and the
    // second try of the whole upload succeeds
    const { fetch, seen } = scripted({
      [HEAD]: [status(404)],
      '/v2/acme/robot/blobs/uploads/': [status(500), status(502), session(1), session(2)],
      '/v2/acme/robot/blobs/uploads/s1': [status(500)],
      '/v2/acme/robot/blobs/uploads/s2': [created()]
    })
    const { c } = client(fetch, { attempts: 3 })
    expect(await c.uploadBlob('acme/robot', D, source(BLOB))).toBe('uploaded')
    expect(seen.filter(x => x.method === 'POST')).toHaveLength(4)
    expect(seen.filter(x => x.method === 'PUT')).toHaveLength(2)
  })
})
