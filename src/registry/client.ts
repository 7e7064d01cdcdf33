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
 * Operations: manifests GET / HEAD / PUT by tag or digest, blobs GET, HEAD and upload (with a
 * cross-repository mount where a base's repository has the blob), and a push access check (an
 * upload session opened and cancelled).
 */
import { MANIFEST_ACCEPT, sha256, type Descriptor } from '../oci/manifest.js'
import { DOCKER_HUB } from '../oci/reference.js'
import { errorMessage } from '../tooling/exec.js'
import { retrying, type RetryContext, type Verdict } from '../tooling/retry.js'
import { parseChallenge, repositoryScope, type Challenge } from './challenge.js'
import type { Credentials } from './credentials.js'

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
}

/** Requests sent and retries made, for the log. */
export interface RegistryStats {
  requests: number
  retries: number
}

/** A request the registry answered with an error, or that never got an answer. */
export class RegistryError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when there was no answer */
    readonly status: number
  ) {
    super(message)
    this.name = 'RegistryError'
  }
}

export interface FetchedManifest extends Descriptor {
  readonly body: string
}

/** A blob's bytes for an upload: opened afresh for each try. */
export interface BlobSource {
  readonly size: number
  open(): ReadableStream<Uint8Array>
}

interface SendInit {
  readonly method: string
  readonly headers: Record<string, string>
  readonly body?: string | BlobSource
  readonly once?: boolean
}

/** What an upload did with a blob. */
export type UploadOutcome = 'present' | 'mounted' | 'uploaded'

interface HttpResult {
  readonly status: number
  readonly headers: Headers
  readonly body: Buffer
}

export type Attempt = HttpResult | { readonly error: unknown }

/**
 * HTTPS, but plain HTTP for registries on the loopback (as docker allows for 127.0.0.0/8) and
 * those the engine is configured to reach insecurely. Pure.
 */
export function apiBase(registry: string, insecure = false): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io'
  const host = registry.replace(/:\d+$/, '')
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]'
  return `${loopback || insecure ? 'http' : 'https'}://${registry}`
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

/** Is this answer (or its absence) worth another try? Pure. */
export function judgeHttp(a: Attempt): Verdict | null {
  if ('error' in a) {
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
      errors?: { code?: string; message?: string }[]
    }
    const first = doc.errors?.[0]
    if (first !== undefined) return [first.code, first.message].filter(Boolean).join(': ')
  } catch {
    // not JSON
  }
  return body.toString('utf8').trim().split('\n')[0].slice(0, 200)
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

  /** A manifest or index by tag or digest; null when the registry has none. */
  async getManifest(repo: string, ref: string): Promise<FetchedManifest | null> {
    const r = await this.request('GET', repo, `manifests/${ref}`, {
      what: `Reading ${this.o.registry}/${repo}${sep(ref)}${ref}`,
      accept: MANIFEST_ACCEPT,
      absent: true
    })
    if (r === null) return null
    const digest = sha256(r.body)
    if (ref.startsWith('sha256:') && digest !== ref) {
      throw new RegistryError(`${this.o.registry}/${repo}@${ref} answered with ${digest}`, 200)
    }
    const mediaType =
      (JSON.parse(r.body.toString('utf8')) as { mediaType?: string }).mediaType ??
      r.headers.get('content-type') ??
      ''
    return { mediaType, digest, size: r.body.length, body: r.body.toString('utf8') }
  }

  /** A manifest's descriptor without its body; null when the registry has none. */
  async headManifest(repo: string, ref: string): Promise<Descriptor | null> {
    const r = await this.request('HEAD', repo, `manifests/${ref}`, {
      what: `Looking up ${this.o.registry}/${repo}${sep(ref)}${ref}`,
      accept: MANIFEST_ACCEPT,
      absent: true
    })
    if (r === null) return null
    const digest = r.headers.get('docker-content-digest')
    if (digest === null) {
      // a registry that leaves the header out: read the manifest itself
      return this.getManifest(repo, ref)
    }
    return {
      mediaType: r.headers.get('content-type') ?? '',
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
        `${this.o.registry}/${repo}:${ref} was stored as ${stored}, not ${digest}`,
        201
      )
    }
    return digest
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = (await this.request('GET', repo, `blobs/${digest}`, {
      what: `Reading blob ${this.o.registry}/${repo}@${digest}`
    })) as HttpResult
    if (sha256(r.body) !== digest) {
      throw new RegistryError(`blob ${this.o.registry}/${repo}@${digest} has other content`, 200)
    }
    return r.body
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
        const location = session.headers.get('location')
        if (location === null) {
          throw new RegistryError(`Starting an upload of ${name}: no Location in the answer`, 202)
        }
        const url = new URL(location, `${this.base}/`)
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
    const location = session.headers.get('location')
    if (location === null) return
    const url = new URL(location, `${this.base}/`).toString()
    await this.request('DELETE', repo, url, {
      what: `Cancelling an upload session on ${this.o.registry}/${repo}`,
      push: true,
      absent: true
    }).catch(() => undefined)
  }

  /**
   * One request to /v2/<repo>/<path>, authorised as the registry asks. With `absent`, a 404 is
   * null; any other answer but 2xx is a RegistryError.
   */
  private async request(
    method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE',
    repo: string,
    path: string,
    r: {
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
    }
  ): Promise<HttpResult | null> {
    // a path under /v2/<repo>/, or an upload session's location (absolute, or from the root)
    const url = /^https?:\/\//.test(path)
      ? path
      : path.startsWith('/')
        ? `${this.base}${path}`
        : `${this.base}/v2/${repo}/${path}`
    const scope = [
      repositoryScope(repo, r.push === true),
      ...(r.alsoPull === undefined ? [] : [repositoryScope(r.alsoPull, false)])
    ].join(' ')
    const headers = (auth: string | undefined): Record<string, string> => ({
      ...(r.accept === undefined ? {} : { Accept: r.accept }),
      ...(r.contentType === undefined ? {} : { 'Content-Type': r.contentType }),
      ...(typeof r.body === 'object' ? { 'Content-Length': String(r.body.size) } : {}),
      ...(auth === undefined ? {} : { Authorization: auth })
    })
    const init = (auth: string | undefined): SendInit => ({
      method,
      headers: headers(auth),
      ...(r.body === undefined ? {} : { body: r.body }),
      ...(r.once === true ? { once: true } : {})
    })
    // credentials go to the registry only: an upload location on another host gets none
    const ours = new URL(url).origin === new URL(this.base).origin
    let auth = ours ? await this.authorization(scope) : undefined
    let res = await this.send(r.what, url, init(auth))
    if (res.status === 401 && !ours) {
      throw new RegistryError(`${r.what}: ${new URL(url).host} asks for credentials`, 401)
    }
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'))
      if (challenge === null) {
        throw new RegistryError(`${r.what}: 401 Unauthorized without a challenge`, 401)
      }
      // a token that expired (Docker Hub's last 5 minutes) is fetched again; refused
      // credentials and a token that grants too little are final
      if (
        auth !== undefined &&
        (challenge.scheme === 'basic' || challenge.error === 'insufficient_scope')
      ) {
        this.refused(r.what, repo, challenge, r.push === true)
      }
      this.challenge = challenge
      this.tokens.delete(scope)
      auth = await this.authorization(scope)
      if (auth === undefined) {
        throw new RegistryError(
          `${r.what}: the registry asks for credentials and none are given (set username and password, or log in to ${this.o.registry} in an earlier step)`,
          401
        )
      }
      res = await this.send(r.what, url, init(auth))
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
  private async authorization(scope: string): Promise<string | undefined> {
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
    const url = new URL(c.realm)
    if (c.service !== undefined) url.searchParams.set('service', c.service)
    for (const s of scope.split(' ')) url.searchParams.append('scope', s)
    const what = `Getting a token for ${scope} from ${url.host}`
    const res = await this.send(what, url.toString(), {
      method: 'GET',
      headers: basic === undefined ? {} : { Authorization: basic }
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
    const doc = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string }
    const token = doc.token ?? doc.access_token
    if (!token) throw new RegistryError(`${what}: the answer holds no token`, res.status)
    this.tokens.set(scope, token)
    return `Bearer ${token}`
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

  /** Send one request, retried on its own while it fails transiently. */
  private async send(what: string, url: string, init: SendInit): Promise<HttpResult> {
    const { signal } = this.o.retry
    const { body, once, ...rest } = init
    // a blob gets a minute plus ten seconds per megabyte (as slow as 100 kB/s)
    const timeoutMs =
      (this.o.timeoutMs ?? 60_000) + (typeof body === 'object' ? Math.ceil(body.size / 100) : 0)
    const a = await retrying(
      what,
      async (): Promise<Attempt> => {
        this.stats.requests++
        const timeout = AbortSignal.timeout(timeoutMs)
        try {
          const res = await this.fetch(url, {
            ...rest,
            ...(body === undefined
              ? {}
              : typeof body === 'string'
                ? { body }
                : // a stream, opened afresh for each try; fetch streams it as it is read
                  ({ body: body.open(), duplex: 'half' } as RequestInit)),
            signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout])
          })
          return {
            status: res.status,
            headers: res.headers,
            body: Buffer.from(await res.arrayBuffer())
          }
        } catch (error) {
          return { error }
        }
      },
      judgeHttp,
      this.counted(
        once === true
          ? { ...this.o.retry, policy: { ...this.o.retry.policy, attempts: 1 } }
          : this.o.retry
      )
    )
    if ('error' in a) {
      const cause = (a.error as { cause?: unknown }).cause
      const detail = errorMessage(cause ?? a.error)
      throw new RegistryError(`${what}: no answer from ${this.o.registry} (${detail})`, 0)
    }
    return a
  }
}

function sep(ref: string): string {
  return ref.startsWith('sha256:') ? '@' : ':'
}
