/**
 * A small client of the OCI distribution API, of our own: no well-kept npm package can write to a
 * registry (@snyk/docker-registry-v2-client only reads; @sigstore/oci keeps its registry class
 * private and needs Node 22.22; docker's own toolkit shells out to imagetools or regctl), and the
 * CLI can only be retried as a whole command: `imagetools create` of one index is 14 requests.
 * Here every request is retried on its own on transient failures (429 with its Retry-After, 500,
 * 502, 503, 504, a dropped connection, a time-out), and the auth is the `WWW-Authenticate`
 * challenge flow of Docker Hub, GHCR, ECR, Harbor and registry:2: Basic, or Bearer tokens per
 * repository scope from the registry's token service.
 *
 * Operations: manifests GET / HEAD / PUT by tag or digest, blobs GET, HEAD, upload (with a
 * cross-repository mount where a base's repository has the blob) and download to a file (streamed,
 * for blobs of any size: see ./files.ts), and a push access check (an upload session opened and
 * cancelled).
 *
 * Trust (see ./http.ts for what is taken of an answer): credentials go in the `Authorization`
 * header to the registry's own origin only. Redirects are followed here, not by fetch: a request
 * redirected to another origin carries no credentials, and its 401 is an error, never the
 * registry's challenge. Basic credentials go to a token service over HTTPS, or over plain HTTP
 * only to a loopback address or a host the engine reaches insecurely. A manifest's digest is
 * always computed from the bytes read; a `Docker-Content-Digest` that disagrees is an error.
 */
import { isDigest, MANIFEST_ACCEPT, sha256, type Descriptor } from '../oci/manifest.js'
import { DOCKER_HUB } from '../oci/reference.js'
import { errorMessage } from '../text/text.js'
import { retrying, type RetryContext, type Verdict } from '../tooling/retry.js'
import { parseChallenge, repositoryScope, type Challenge } from './challenge.js'
import type { Credentials } from './credentials.js'
import { BlobFile } from './files.js'
import {
  declaredLength,
  isLoopback,
  jsonObject,
  LIMITS,
  MAX_REDIRECTS,
  mayNotGo,
  mediaTypeOf,
  readBody,
  redirectTarget,
  REDIRECTS,
  RegistryError
} from './http.js'
import { printable } from '../text/text.js'

export { RegistryError } from './http.js'

export type Fetch = typeof fetch

export interface ClientOptions {
  /** host[:port] as image references name it (docker.io for Docker Hub) */
  readonly registry: string
  /** Looked up once, when the registry first asks for credentials */
  readonly credentials: () => Promise<Credentials | null>
  readonly retry: RetryContext
  readonly fetch?: Fetch
  /** Per request, ms (default 60 s) */
  readonly timeoutMs?: number
  /** Plain HTTP: the engine reaches this registry insecurely */
  readonly insecure?: boolean
  /** Whether the engine reaches another host (a token service) insecurely: Basic over plain HTTP */
  readonly insecureHost?: (hostPort: string) => boolean
}

/** Requests sent and retries made, for the log. */
export interface RegistryStats {
  requests: number
  retries: number
}

export interface FetchedManifest extends Descriptor {
  readonly body: string
}

/** A blob's bytes for an upload: opened afresh for each try. */
export interface BlobSource {
  readonly size: number
  open(): ReadableStream<Uint8Array>
}

/**
 * Where the body of a 2xx answer goes instead of memory (a blob downloaded to a file). It takes
 * the answer of each try that gets one, afresh; what it throws fails that try: a RegistryError
 * for good, anything else (the connection dropped while it read) is retried.
 */
export interface BodySink {
  /** Most bytes the body may have; a download's time limit grows with it (or the Content-Length) */
  readonly maxBytes: number
  take(res: Response, what: string): Promise<void>
}

interface SendInit {
  readonly method: string
  readonly headers: Record<string, string>
  readonly body?: string | BlobSource
  readonly once?: boolean
  /** Most bytes a 2xx answer may have (an error beyond); none: the answer is cut at 64 KiB */
  readonly maxBytes?: number
  /** Takes a 2xx answer's body instead (an answer of another status is read as ever) */
  readonly sink?: BodySink
}

/** What an upload did with a blob. */
export type UploadOutcome = 'present' | 'mounted' | 'uploaded'

interface HttpResult {
  readonly status: number
  readonly headers: Headers
  readonly body: Buffer
  /** Where a redirected request got its answer */
  readonly redirectedTo?: URL
}

export type Attempt = HttpResult | { readonly error: unknown }

/**
 * HTTPS, but plain HTTP for registries on the loopback (as docker allows for 127.0.0.0/8) and
 * those the engine is configured to reach insecurely. Pure.
 */
export function apiBase(registry: string, insecure = false): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io'
  return `${isLoopback(registry) || insecure ? 'http' : 'https'}://${registry}`
}

/** Is a registry among the engine's insecure ones (by name, or an IPv4 address in a CIDR)? Pure. */
export function isInsecure(
  registry: string,
  insecure: { readonly hosts: readonly string[]; readonly cidrs: readonly string[] }
): boolean {
  if (insecure.hosts.includes(registry)) return true
  const ip = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?::\d+)?$/.exec(registry)
  if (ip === null) return false
  const value = (parts: string[]): number => parts.reduce((n, p) => (n << 8) + Number(p), 0) >>> 0
  const address = value(ip.slice(1, 5))
  return insecure.cidrs.some(cidr => {
    const [net, bits] = cidr.split('/')
    const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0
    return (address & mask) >>> 0 === (value(net.split('.')) & mask) >>> 0
  })
}

/** A `Retry-After` header (seconds or an HTTP date) in ms. Pure. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const SERVER_ERRORS = new Set([500, 502, 503, 504])

/** The digests a download is checked against: the only ones the client can compute. */
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/

/** Is this answer (or its absence) worth another try? Pure. */
export function judgeHttp(a: Attempt): Verdict | null {
  if ('error' in a) {
    // an answer the client refuses (too large, a bad redirect): asking again changes nothing
    if (a.error instanceof RegistryError) return { transient: false, reason: a.error.message }
    const e = a.error as { name?: string; cause?: { code?: string } }
    const timedOut = e.name === 'TimeoutError' || e.cause?.code === 'UND_ERR_CONNECT_TIMEOUT'
    return { transient: true, reason: timedOut ? 'timed out' : 'connection dropped' }
  }
  if (a.status === 429) {
    const waitMs = retryAfterMs(a.headers.get('retry-after'))
    return {
      transient: true,
      reason: 'rate limited (429)',
      ...(waitMs === undefined ? {} : { waitMs })
    }
  }
  if (SERVER_ERRORS.has(a.status)) return { transient: true, reason: `server error (${a.status})` }
  return null
}

/** Is a failed upload (a RegistryError, or no answer) worth a new session? Pure. */
export function judgeUpload(a: Attempt): Verdict | null {
  if (!('error' in a)) return null
  const e = a.error
  if (!(e instanceof RegistryError)) return { transient: false, reason: errorMessage(e) }
  if (e.status === 0) return { transient: true, reason: 'no answer' }
  if (e.status === 429) return { transient: true, reason: 'rate limited (429)' }
  if (SERVER_ERRORS.has(e.status)) return { transient: true, reason: `server error (${e.status})` }
  return { transient: false, reason: e.message }
}

/** The registry's own words for an error answer (`{"errors":[{"code","message"}]}`). Pure. */
export function registryErrorText(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as {
      errors?: { code?: unknown; message?: unknown }[]
    }
    const first = Array.isArray(doc.errors) ? (doc.errors[0] as unknown) : undefined
    if (typeof first === 'object' && first !== null) {
      const { code, message } = first as { code?: unknown; message?: unknown }
      const words = [code, message].filter(w => typeof w === 'string' && w !== '') as string[]
      if (words.length > 0) return printable(words.join(': '))
    }
  } catch {
    // not JSON
  }
  return printable(body.toString('utf8').trim().split('\n')[0])
}

export class RegistryClient {
  readonly stats: RegistryStats = { requests: 0, retries: 0 }
  private readonly base: string
  private readonly fetch: Fetch
  private challenge: Challenge | undefined
  private readonly tokens = new Map<string, string>()
  private creds: Promise<Credentials | null> | undefined
  /** Repositories a mount from failed once: not tried again */
  private readonly unmountable = new Set<string>()

  constructor(private readonly o: ClientOptions) {
    this.base = apiBase(o.registry, o.insecure === true)
    this.fetch = o.fetch ?? globalThis.fetch
  }

  /** True once the registry asked for credentials and was given some. */
  async sentCredentials(): Promise<boolean> {
    return this.challenge !== undefined && (await (this.creds ?? Promise.resolve(null))) !== null
  }

  /**
   * A manifest or index by tag or digest; null when the registry has none. Its digest is the
   * digest of the bytes read: one asked for by digest must match it, and so must the registry's
   * `Docker-Content-Digest` when it sends one.
   */
  async getManifest(repo: string, ref: string): Promise<FetchedManifest | null> {
    const what = `Reading ${this.o.registry}/${repo}${sep(ref)}${ref}`
    const r = await this.request('GET', repo, `manifests/${ref}`, {
      what,
      accept: MANIFEST_ACCEPT,
      absent: true,
      maxBytes: LIMITS.manifest
    })
    if (r === null) return null
    const digest = sha256(r.body)
    if (ref.startsWith('sha256:') && digest !== ref) {
      throw new RegistryError(`${this.o.registry}/${repo}@${ref} answered with ${digest}`, 200)
    }
    const said = r.headers.get('docker-content-digest')
    if (said !== null && said !== digest) {
      throw new RegistryError(
        `${what}: the registry says it is ${printable(said, 80)}, but the bytes it sent are ${digest}`,
        200
      )
    }
    const doc = jsonObject(`${what}: not a manifest`, r.body)
    const mediaType = mediaTypeOf(doc.mediaType) || mediaTypeOf(r.headers.get('content-type'))
    return { mediaType, digest, size: r.body.length, body: r.body.toString('utf8') }
  }

  /**
   * A manifest's descriptor without its body; null when the registry has none. Only for
   * comparisons: what gets signed or reported is read with getManifest.
   */
  async headManifest(repo: string, ref: string): Promise<Descriptor | null> {
    const r = await this.request('HEAD', repo, `manifests/${ref}`, {
      what: `Looking up ${this.o.registry}/${repo}${sep(ref)}${ref}`,
      accept: MANIFEST_ACCEPT,
      absent: true
    })
    if (r === null) return null
    const digest = r.headers.get('docker-content-digest')
    if (!isDigest(digest)) {
      // a registry that leaves the header out (or sends something else): read the manifest itself
      return this.getManifest(repo, ref)
    }
    return {
      mediaType: mediaTypeOf(r.headers.get('content-type')),
      digest,
      size: Number(r.headers.get('content-length') ?? 0)
    }
  }

  /** Store a manifest under a tag or its digest; returns the digest the registry stored. */
  async putManifest(repo: string, ref: string, mediaType: string, body: string): Promise<string> {
    const r = await this.request('PUT', repo, `manifests/${ref}`, {
      what: `Writing ${this.o.registry}/${repo}${sep(ref)}${ref}`,
      push: true,
      contentType: mediaType,
      body
    })
    const digest = sha256(body)
    const stored = r?.headers.get('docker-content-digest')
    if (stored && stored !== digest) {
      throw new RegistryError(
        `${this.o.registry}/${repo}:${ref} was stored as ${printable(stored, 80)}, not ${digest}`,
        201
      )
    }
    return digest
  }

  /** A blob's bytes, at most `maxBytes` (an image config), checked against its digest. */
  async getBlob(repo: string, digest: string, maxBytes: number = LIMITS.config): Promise<Buffer> {
    const r = (await this.request('GET', repo, `blobs/${digest}`, {
      what: `Reading blob ${this.o.registry}/${repo}@${digest}`,
      maxBytes
    })) as HttpResult
    if (sha256(r.body) !== digest) {
      throw new RegistryError(`blob ${this.o.registry}/${repo}@${digest} has other content`, 200)
    }
    return r.body
  }

  /**
   * A blob streamed into `file` (never held in memory), at most `maxBytes` bytes, through a file
   * beside it renamed to `file` only when its sha256 is `digest`: a failed try leaves no file
   * behind, and a retried one starts afresh. Returns the bytes written.
   */
  async downloadBlob(
    repo: string,
    digest: string,
    file: string,
    maxBytes: number
  ): Promise<number> {
    const what = `Downloading blob ${this.o.registry}/${repo}@${printable(digest, 80)}`
    if (!SHA256_DIGEST.test(digest)) {
      throw new Error(`${what}: not a sha256 digest (sha256: and 64 lowercase hex digits)`)
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new Error(`${what}: the limit ${maxBytes} is not a number of bytes`)
    }
    const sink = new BlobFile(file, digest, maxBytes)
    await this.request('GET', repo, `blobs/${digest}`, { what, sink })
    return sink.written
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.request('HEAD', repo, `blobs/${digest}`, {
      what: `Looking up blob ${this.o.registry}/${repo}@${digest}`,
      absent: true
    })
    return r !== null
  }

  /**
   * Whether these credentials may push to a repository, before anything is built: an upload
   * session is opened (what a push starts with) and cancelled at once.
   */
  async checkPush(repo: string): Promise<void> {
    const r = (await this.request('POST', repo, 'blobs/uploads/', {
      what: `Checking push access to ${this.o.registry}/${repo}`,
      push: true
    })) as HttpResult
    await this.cancelUpload(repo, r)
  }

  /**
   * Put a blob into a repository: nothing when it is there already, a cross-repository mount when
   * one of `mountFrom` (repositories of the same registry) has it, else an upload (a session
   * opened with POST, the bytes in one PUT). A failed upload is started again in a new session
   * (a spoiled session cannot be resumed safely), as often as the retry policy allows.
   */
  async uploadBlob(
    repo: string,
    digest: string,
    source: BlobSource,
    mountFrom: readonly string[] = []
  ): Promise<UploadOutcome> {
    const name = `${this.o.registry}/${repo}@${digest}`
    if (await this.mayHaveBlob(repo, digest)) return 'present'
    for (const from of mountFrom) {
      if (this.unmountable.has(from)) continue
      // a mount only saves an upload: any failure of it (a source these credentials may not
      // read, a registry without mounts) falls through to the upload
      try {
        const r = (await this.request(
          'POST',
          repo,
          `blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
          { what: `Mounting ${name} from ${from}`, push: true, alsoPull: from }
        )) as HttpResult
        if (r.status === 201) return 'mounted'
        await this.cancelUpload(repo, r)
      } catch (error) {
        if (this.o.retry.signal?.aborted) throw error
        this.unmountable.add(from)
      }
    }
    let tries = 0
    const attempt = async (): Promise<Attempt> => {
      try {
        // a try that timed out may have landed after all
        if (tries++ > 0 && (await this.hasBlob(repo, digest))) {
          return { status: 201, headers: new Headers(), body: Buffer.alloc(0) }
        }
        // opening a session is retried on its own (a session a failed answer may have opened
        // is never used, and the registry expires it); a failed upload into it is not: the
        // whole upload is, below, in a new session
        const session = (await this.request('POST', repo, 'blobs/uploads/', {
          what: `Starting an upload of ${name}`,
          push: true
        })) as HttpResult
        const url = this.uploadLocation(session, `Starting an upload of ${name}`)
        if (url === null) {
          throw new RegistryError(`Starting an upload of ${name}: no Location in the answer`, 202)
        }
        url.searchParams.set('digest', digest)
        return (await this.request('PUT', repo, url.toString(), {
          what: `Uploading ${name}`,
          push: true,
          contentType: 'application/octet-stream',
          body: source,
          once: true
        })) as HttpResult
      } catch (error) {
        return { error }
      }
    }
    const a = await retrying(`Uploading ${name}`, attempt, judgeUpload, this.counted(this.o.retry))
    if ('error' in a) throw a.error
    return 'uploaded'
  }

  /**
   * Whether the repository has a blob, false when the lookup still fails after all its tries with
   * an error asking again could change: the lookup only saves an upload, which has tries of its own.
   */
  private async mayHaveBlob(repo: string, digest: string): Promise<boolean> {
    try {
      return await this.hasBlob(repo, digest)
    } catch (error) {
      const transient =
        error instanceof RegistryError &&
        (error.status === 0 || error.status === 429 || SERVER_ERRORS.has(error.status))
      if (!transient || this.o.retry.signal?.aborted) throw error
      return false
    }
  }

  /** Cancel an upload session a request opened (a mount the registry answered with 202). */
  private async cancelUpload(repo: string, session: HttpResult): Promise<void> {
    const what = `Cancelling an upload session on ${this.o.registry}/${repo}`
    let url: URL | null
    try {
      url = this.uploadLocation(session, what)
    } catch {
      return // a location the client may not go to: the registry expires the session
    }
    if (url === null) return
    await this.request('DELETE', repo, url.toString(), { what, push: true, absent: true }).catch(
      () => undefined
    )
  }

  /**
   * One request to /v2/<repo>/<path>, authorised as the registry asks. With `absent`, a 404 is
   * null; any other answer but 2xx is a RegistryError.
   */
  private async request(
    method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE',
    repo: string,
    path: string,
    r: RequestSpec
  ): Promise<HttpResult | null> {
    const url = this.urlOf(repo, path)
    const scope = [
      repositoryScope(repo, r.push === true),
      ...(r.alsoPull === undefined ? [] : [repositoryScope(r.alsoPull, false)])
    ].join(' ')
    // credentials go to the registry only: an upload location on another host gets none
    const ours = new URL(url).origin === new URL(this.base).origin
    const init = (auth: string | undefined): SendInit => ({
      method,
      headers: requestHeaders(r, auth),
      ...(r.body === undefined ? {} : { body: r.body }),
      ...(r.once === true ? { once: true } : {}),
      ...(r.maxBytes === undefined ? {} : { maxBytes: r.maxBytes }),
      ...(r.sink === undefined ? {} : { sink: r.sink })
    })
    let auth = ours ? await this.authorization(scope, r.what) : undefined
    let res = this.notElsewhere(await this.send(r.what, url, init(auth)), url, ours, r.what)
    if (res.status === 401) {
      auth = await this.answerChallenge(res, auth, repo, scope, r)
      res = this.notElsewhere(await this.send(r.what, url, init(auth)), url, ours, r.what)
      if (res.status === 401) {
        this.refused(
          r.what,
          repo,
          parseChallenge(res.headers.get('www-authenticate')),
          r.push === true
        )
      }
    }
    if (res.status === 403) {
      throw new RegistryError(
        `${r.what}: the registry denies it (HTTP 403: ${registryErrorText(res.body)})`,
        403
      )
    }
    if (res.status === 404 && r.absent === true) return null
    if (res.status < 200 || res.status >= 300) {
      const text = method === 'HEAD' ? '' : `: ${registryErrorText(res.body)}`
      throw new RegistryError(`${r.what}: HTTP ${res.status}${text}`, res.status)
    }
    return res
  }

  /**
   * An answer, unless it is a 401 from another host than the registry (an upload location, or
   * where the registry redirected the request): only the registry's own answers set its
   * challenge, so that one is an error.
   */
  private notElsewhere(res: HttpResult, url: string, ours: boolean, what: string): HttpResult {
    if (res.status !== 401) return res
    const from = res.redirectedTo ?? new URL(url)
    // a request sent elsewhere (an upload location) never answers a challenge, wherever its
    // redirects end: its credentials would go where it was sent
    if (ours && from.origin === new URL(this.base).origin) return res
    throw new RegistryError(
      `${what}: ${from.host}${res.redirectedTo === undefined ? '' : `, where the request was redirected,`} asks for credentials (the action sends credentials to ${this.o.registry} only)`,
      401
    )
  }

  /** An upload session's location, resolved, where the registry may send the client. */
  private uploadLocation(session: HttpResult, what: string): URL | null {
    const location = session.headers.get('location')
    if (location === null) return null
    let url: URL
    try {
      url = new URL(location, `${this.base}/`)
    } catch {
      throw new RegistryError(`${what}: the upload location is not a URL`, session.status)
    }
    const refused = mayNotGo(new URL(this.base), url)
    if (refused !== null) {
      throw new RegistryError(
        `${what}: the upload location is ${refused}; not used`,
        session.status
      )
    }
    return url
  }

  /** A path under /v2/<repo>/, or an upload session's location (absolute, or from the root). */
  private urlOf(repo: string, path: string): string {
    if (/^https?:\/\//.test(path)) return path
    return path.startsWith('/') ? `${this.base}${path}` : `${this.base}/v2/${repo}/${path}`
  }

  /**
   * The registry's 401 to a request: its challenge becomes the registry's, and the Authorization
   * to send again. Refused credentials and a token that grants too little are final; a token
   * that expired (Docker Hub's last 5 minutes) is fetched again.
   */
  private async answerChallenge(
    res: HttpResult,
    sent: string | undefined,
    repo: string,
    scope: string,
    r: RequestSpec
  ): Promise<string> {
    const challenge = parseChallenge(res.headers.get('www-authenticate'))
    if (challenge === null) {
      throw new RegistryError(`${r.what}: 401 Unauthorized without a challenge`, 401)
    }
    if (
      sent !== undefined &&
      (challenge.scheme === 'basic' || challenge.error === 'insufficient_scope')
    ) {
      this.refused(r.what, repo, challenge, r.push === true)
    }
    this.challenge = challenge
    this.tokens.delete(scope)
    const auth = await this.authorization(scope, r.what)
    if (auth === undefined) {
      throw new RegistryError(
        `${r.what}: the registry asks for credentials and none are given (set username and password, or log in to ${this.o.registry} in an earlier step)`,
        401
      )
    }
    return auth
  }

  /** A 401 to a request that carried credentials or a token: never retried. */
  private refused(what: string, repo: string, c: Challenge | null, push: boolean): never {
    if (c?.error === 'insufficient_scope') {
      throw new RegistryError(
        `${what}: the credentials for ${this.o.registry} are not allowed to ${push ? 'push to' : 'pull'} ${repo} (the registry's token grants less: insufficient_scope)`,
        401
      )
    }
    throw new RegistryError(
      `${what}: the registry refused the credentials for ${this.o.registry} (401 Unauthorized)`,
      401
    )
  }

  /** The Authorization header for a scope, once the registry's challenge is known. */
  private async authorization(scope: string, why: string): Promise<string | undefined> {
    const c = this.challenge
    if (c === undefined) return undefined
    const creds = await (this.creds ??= this.o.credentials())
    const basic =
      creds === null
        ? undefined
        : `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
    if (c.scheme === 'basic') return basic
    const cached = this.tokens.get(scope)
    if (cached !== undefined) return `Bearer ${cached}`
    const url = this.realm(c, why, basic !== undefined)
    if (c.service !== undefined) url.searchParams.set('service', c.service)
    for (const s of scope.split(' ')) url.searchParams.append('scope', s)
    const what = `Getting a token for ${scope} from ${url.host}`
    const res = await this.send(what, url.toString(), {
      method: 'GET',
      headers: basic === undefined ? {} : { Authorization: basic },
      maxBytes: LIMITS.token
    })
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        `${what}: the token service refused the credentials${creds === null ? '' : ` from ${creds.source}`} (HTTP ${res.status})`,
        res.status
      )
    }
    if (res.status !== 200) {
      throw new RegistryError(`${what}: HTTP ${res.status}: ${registryErrorText(res.body)}`, 0)
    }
    const doc = jsonObject(what, res.body)
    const token = [doc.token, doc.access_token].find(t => typeof t === 'string' && t !== '')
    if (typeof token !== 'string') {
      throw new RegistryError(`${what}: the answer holds no token`, res.status)
    }
    // a token goes back in a header: visible ASCII only (RFC 6750's b64token, and JWTs)
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new RegistryError(`${what}: the token has characters a header cannot carry`, 200)
    }
    this.tokens.set(scope, token)
    return `Bearer ${token}`
  }

  /**
   * The token service a Bearer challenge names, checked: an http(s) URL without credentials in
   * it, and plain HTTP only to a loopback address or a host the engine reaches insecurely when
   * Basic credentials are to go there.
   */
  private realm(c: Challenge, why: string, withCredentials: boolean): URL {
    const what = `${why}: the registry's challenge`
    if (c.realm === '') throw new RegistryError(`${what} names no token service (realm)`, 401)
    let url: URL
    try {
      url = new URL(c.realm)
    } catch {
      throw new RegistryError(`${what} names a token service (realm) that is not a URL`, 401)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(`${what} names a token service that is not HTTP(S)`, 401)
    }
    if (url.username !== '' || url.password !== '') {
      throw new RegistryError(`${what} names a token service URL with credentials in it`, 401)
    }
    const plainOk = isLoopback(url.host) || this.o.insecureHost?.(url.host) === true
    if (withCredentials && url.protocol === 'http:' && !plainOk) {
      throw new RegistryError(
        `${what} names a token service on plain HTTP (${url.host}): the credentials for ${this.o.registry} go over HTTPS only, or to a loopback address or a registry the engine reaches insecurely`,
        401
      )
    }
    return url
  }

  /** A retry context whose retries this client counts in its stats. */
  private counted(ctx: RetryContext): RetryContext {
    return {
      ...ctx,
      onRetry: () => {
        this.stats.retries++
        ctx.onRetry?.()
      }
    }
  }

  /**
   * A try's time limit: a minute (the client's timeoutMs), and a blob gets ten seconds more per
   * megabyte (as slow as 100 kB/s).
   */
  private timeoutMs(blobBytes = 0): number {
    return (this.o.timeoutMs ?? 60_000) + Math.ceil(blobBytes / 100)
  }

  /** Send one request, retried on its own while it fails transiently. */
  private async send(what: string, url: string, init: SendInit): Promise<HttpResult> {
    // a blob sent is timed by its size from the start; one received once its answer begins
    const timeoutMs = this.timeoutMs(typeof init.body === 'object' ? init.body.size : 0)
    const a = await retrying(
      what,
      async (): Promise<Attempt> => {
        const limit = new TryLimit(timeoutMs, this.o.retry.signal)
        try {
          return await this.exchange(what, url, init, limit)
        } catch (error) {
          return { error }
        } finally {
          limit.clear()
        }
      },
      judgeHttp,
      this.counted(
        init.once === true
          ? { ...this.o.retry, policy: { ...this.o.retry.policy, attempts: 1 } }
          : this.o.retry
      )
    )
    if ('error' in a) {
      if (a.error instanceof RegistryError) throw a.error
      const cause = (a.error as { cause?: unknown }).cause
      const detail = errorMessage(cause ?? a.error)
      throw new RegistryError(`${what}: no answer from ${this.o.registry} (${detail})`, 0)
    }
    return a
  }

  /**
   * One try of a request: sent, and its redirects followed here (fetch would take the
   * Authorization header along). A hop to another origin than the request's own carries no
   * credentials. The answer is read up to its limit, or a 2xx one given to the sink.
   */
  private async exchange(
    what: string,
    url: string,
    init: SendInit,
    limit: TryLimit
  ): Promise<HttpResult> {
    const first = new URL(url)
    let current = first
    for (let hop = 0; ; hop++) {
      this.stats.requests++
      const { Authorization, ...anonymous } = init.headers
      const headers =
        current.origin === first.origin || Authorization === undefined ? init.headers : anonymous
      const res = await this.fetch(current, {
        method: init.method,
        headers,
        ...(init.body === undefined
          ? {}
          : typeof init.body === 'string'
            ? { body: init.body }
            : // a stream, opened afresh for each try; fetch streams it as it is read
              ({ body: init.body.open(), duplex: 'half' } as RequestInit)),
        redirect: 'manual',
        signal: limit.signal
      })
      if (!REDIRECTS.has(res.status)) {
        const ok = res.status >= 200 && res.status < 300
        const answer = { status: res.status, headers: res.headers }
        const where = hop === 0 ? {} : { redirectedTo: current }
        if (ok && init.sink !== undefined) {
          const { maxBytes } = init.sink
          limit.endAfter(
            this.timeoutMs(Math.min(declaredLength(res.headers) ?? maxBytes, maxBytes))
          )
          await init.sink.take(res, what)
          return { ...answer, body: Buffer.alloc(0), ...where }
        }
        const strict = ok && init.maxBytes !== undefined
        const body = await readBody(res, strict ? (init.maxBytes ?? 0) : LIMITS.other, what, strict)
        return { ...answer, body, ...where }
      }
      await res.body?.cancel().catch(() => undefined)
      if (hop >= MAX_REDIRECTS) {
        throw new RegistryError(
          `${what}: more than ${MAX_REDIRECTS} redirects (a loop?)`,
          res.status
        )
      }
      const next = redirectTarget(current, res.status, res.headers.get('location'), init.method)
      if (typeof next === 'string') {
        throw new RegistryError(
          `${what}: ${current.host} answered with ${next}; not followed`,
          res.status
        )
      }
      current = next
    }
  }
}

/** What one request to the registry is, for request(). */
interface RequestSpec {
  what: string
  accept?: string
  contentType?: string
  body?: string | BlobSource
  push?: boolean
  absent?: boolean
  /** Another repository the token must let this request read (a mount's source) */
  alsoPull?: string
  /** Send once: the caller retries (an upload, whose session a failed try may spoil) */
  once?: boolean
  /** Most bytes of a 2xx answer the caller reads (a manifest, a config) */
  maxBytes?: number
  /** Where a 2xx answer's body goes instead (a blob downloaded to a file) */
  sink?: BodySink
}

/** The longest delay a timer takes (a longer one would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * One try's time limit: its signal aborts as AbortSignal.timeout's does (a TimeoutError, so the
 * try is judged timed out), or when the run is cancelled. A download moves its end once the
 * answer says how large the blob is.
 */
class TryLimit {
  readonly signal: AbortSignal
  private readonly timeout = new AbortController()
  private readonly start = Date.now()
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(ms: number, cancel: AbortSignal | undefined) {
    this.signal =
      cancel === undefined ? this.timeout.signal : AbortSignal.any([cancel, this.timeout.signal])
    this.endAfter(ms)
  }

  /** The try ends `ms` after it began. */
  endAfter(ms: number): void {
    clearTimeout(this.timer)
    const left = Math.min(MAX_TIMER_MS, Math.max(0, this.start + ms - Date.now()))
    this.timer = setTimeout(() => {
      this.timeout.abort(new DOMException('The operation timed out', 'TimeoutError'))
    }, left)
    // as AbortSignal.timeout's: the request under way keeps the process alive, not the timer
    this.timer.unref()
  }

  clear(): void {
    clearTimeout(this.timer)
  }
}

/** The headers of a request. Pure. */
function requestHeaders(r: RequestSpec, auth: string | undefined): Record<string, string> {
  return {
    ...(r.accept === undefined ? {} : { Accept: r.accept }),
    ...(r.contentType === undefined ? {} : { 'Content-Type': r.contentType }),
    ...(typeof r.body === 'object' ? { 'Content-Length': String(r.body.size) } : {}),
    ...(auth === undefined ? {} : { Authorization: auth })
  }
}

function sep(ref: string): string {
  return ref.startsWith('sha256:') ? '@' : ':'
}
