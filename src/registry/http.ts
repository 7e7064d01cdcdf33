/**
 * What the registry client trusts of an HTTP answer, and what it does not. A registry, a host it
 * redirects to, a token service it names, or anyone in the middle of a plain-HTTP registry may be
 * hostile, so:
 * - an answer is read up to a size limit of what it should be (manifests and indexes 4 MiB, as
 *   containerd and most registries take them; image configs 8 MiB; token answers 64 KiB); an
 *   answer the client only needs for an error message is cut after 64 KiB; a blob downloaded to
 *   a file, up to the limit its caller gives, and never into memory (./files.ts);
 * - JSON is parsed into an object, or it is an error that names the request and quotes nothing;
 * - text that came from a registry goes into a log line only through printable() (src/text):
 *   control characters escaped, so it can never start a line (a `::command::` of the runner);
 * - loopback is decided from the address, not from how a name begins.
 * Pure, but for reading a response's body.
 */
import { printable } from '../text/text.js'

/** Most bytes of an answer the client keeps, by what it asked for. */
export const LIMITS = {
  manifest: 4 * 1024 * 1024,
  config: 8 * 1024 * 1024,
  token: 64 * 1024,
  /** An answer read only for its error text, or not read at all: cut, never an error */
  other: 64 * 1024
} as const

/** Redirects a request follows before it is an error (as Go's and docker's HTTP clients). */
export const MAX_REDIRECTS = 10

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

/**
 * Whether `host[:port]` is a loopback address: 127.0.0.0/8, ::1 or `localhost`, read as the URL
 * parser (and so fetch) reads the host: `127.1` and `2130706433` are 127.0.0.1, while
 * `127.attacker.example` is a name like any other. Pure.
 */
export function isLoopback(hostPort: string): boolean {
  let host: string
  try {
    host = new URL(`http://${hostPort}/`).hostname
  } catch {
    return false
  }
  if (host === 'localhost' || host === '[::1]') return true
  return /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** A media type (`type/subtype`, RFC 6838 names), parameters cut off; '' when it is none. Pure. */
export function mediaTypeOf(value: unknown): string {
  if (typeof value !== 'string') return ''
  const bare = value.split(';')[0].trim()
  const name = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}'
  return new RegExp(`^${name}/${name}$`).test(bare) ? bare : ''
}

/** A JSON object, or a RegistryError naming `what` (never quoting the text: it may be a token). */
export function jsonObject(
  what: string,
  body: Buffer | string,
  status = 200
): Record<string, unknown> {
  let doc: unknown
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch {
    throw new RegistryError(`${what}: the answer is not JSON`, status)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new RegistryError(`${what}: the answer is not a JSON object`, status)
  }
  return doc as Record<string, unknown>
}

/**
 * A response's body, at most `limit` bytes: more is an error (`strict`, an answer the client
 * uses), or cut there (an answer read only for its error text). The rest is never read.
 */
export async function readBody(
  res: Response,
  limit: number,
  what: string,
  strict: boolean
): Promise<Buffer> {
  const tooLarge = (): RegistryError =>
    new RegistryError(
      `${what}: the answer is larger than the ${sizeText(limit)} such an answer may have`,
      res.status
    )
  const declared = Number(res.headers.get('content-length') ?? '')
  if (strict && Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => undefined)
    throw tooLarge()
  }
  if (res.body === null) return Buffer.alloc(0)
  const reader = res.body.getReader()
  const chunks: Buffer[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.length
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      if (strict) throw tooLarge()
      chunks.push(Buffer.from(value.subarray(0, value.length - (size - limit))))
      break
    }
    chunks.push(Buffer.from(value))
  }
  return Buffer.concat(chunks)
}

/** The length an answer declares (its Content-Length), when that is a plain number. Pure. */
export function declaredLength(headers: Headers): number | undefined {
  const value = headers.get('content-length')?.trim()
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`
}

/** The status codes of a redirect. */
export const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * Why a registry (at `from`) may not send the client on to `to` (a redirect, an upload
 * location), or null when it may: only an http(s) URL without credentials in it, never from
 * HTTPS to plain HTTP, and to a loopback address only from one (a remote registry must not point
 * the client at services on the runner). Pure.
 */
export function mayNotGo(from: URL, to: URL): string | null {
  if (to.protocol !== 'https:' && to.protocol !== 'http:') {
    return `a ${printable(to.protocol, 20)} URL`
  }
  if (to.username !== '' || to.password !== '') return `a URL with credentials in it (${to.host})`
  const local = isLoopback(from.host)
  if (!local && isLoopback(to.host)) return `a loopback address (${to.host})`
  if (from.protocol === 'https:' && to.protocol === 'http:' && !local) {
    return `plain HTTP (${to.host}), from HTTPS`
  }
  return null
}

/**
 * Where a redirect leads, or why it is not followed: no Location, one mayNotGo refuses, and a
 * redirect of a request that sends a body other than 307 and 308 (which keep the method and
 * body). Pure.
 */
export function redirectTarget(
  from: URL,
  status: number,
  location: string | null,
  method: string
): URL | string {
  if (location === null) return `a ${status} redirect without a Location`
  let next: URL
  try {
    next = new URL(location, from)
  } catch {
    return `a ${status} redirect to something that is not a URL`
  }
  const refused = mayNotGo(from, next)
  if (refused !== null) return `a redirect to ${refused}`
  if (method !== 'GET' && method !== 'HEAD' && status !== 307 && status !== 308) {
    return `a ${status} redirect of a ${method}`
  }
  return next
}
