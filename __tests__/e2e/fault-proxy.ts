/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the test registry. In `flaky` mode it
 * fails a share of requests with 500, 503, 429 (Retry-After: 1) or a dropped connection, from a
 * seeded generator so a run can be replayed; in `refuse` mode it answers 503 to everything. In
 * either mode, `refuses` picks requests (by method and path) that are always refused, whatever
 * the random draw: a registry that takes some writes and never others.
 */
import {
  request,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'

export type Fault = 500 | 503 | 429 | 'drop'
const FAULTS: readonly Fault[] = [500, 503, 429, 'drop']

export interface ProxyStats {
  requests: number
  /** Random faults (flaky mode) and refuse-mode answers, by kind */
  faults: Record<string, number>
  /** Requests `refuses` picked, refused as `refusal` says (not counted in `faults`) */
  refused: number
  /** The first of them, `METHOD path`, for a test's message (at most 20) */
  refusedRequests: string[]
}

export interface FaultProxy {
  /** host:port to use as the registry */
  readonly address: string
  readonly stats: ProxyStats
  close(): Promise<void>
}

/** mulberry32: a small seeded generator. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface FaultProxyOptions {
  mode: 'flaky' | 'refuse'
  /** flaky: the share of requests failed at random */
  failRate?: number
  /** flaky: the generator's seed, to replay a run */
  seed?: number
  /**
   * Requests always refused, before (and without) a random draw: e.g. every manifest PUT,
   * `(method, path) => method === 'PUT' && path.includes('/manifests/')`. `path` is the request's
   * path with its query string.
   */
  refuses?: (method: string, path: string) => boolean
  /** How `refuses` refuses: 500 Internal Server Error (default) or a dropped connection */
  refusal?: 500 | 'drop'
}

export async function startFaultProxy(
  target: { host: string; port: number },
  options: FaultProxyOptions
): Promise<FaultProxy> {
  const random = seeded(options.seed ?? 1)
  const stats: ProxyStats = { requests: 0, faults: {}, refused: 0, refusedRequests: [] }
  const fault = (
    res: ServerResponse,
    req: IncomingMessage,
    kind: Fault,
    counted: 'fault' | 'refusal' = 'fault'
  ): void => {
    if (counted === 'fault') stats.faults[String(kind)] = (stats.faults[String(kind)] ?? 0) + 1
    req.resume()
    if (kind === 'drop') {
      req.socket.destroy()
      return
    }
    const text =
      kind === 429
        ? 'Too Many Requests'
        : kind === 500
          ? 'Internal Server Error'
          : 'Service Unavailable'
    res.writeHead(kind, {
      'Content-Type': 'text/plain',
      ...(kind === 429 ? { 'Retry-After': '1' } : {})
    })
    res.end(`${kind} ${text}\n`)
  }
  const server: Server = createServer((req, res) => {
    stats.requests++
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    if (options.refuses?.(method, url)) {
      stats.refused++
      if (stats.refusedRequests.length < 20) stats.refusedRequests.push(`${method} ${url}`)
      return fault(res, req, options.refusal ?? 500, 'refusal')
    }
    if (options.mode === 'refuse') return fault(res, req, 503)
    if (random() < (options.failRate ?? 0))
      return fault(res, req, FAULTS[Math.floor(random() * FAULTS.length)])
    const upstream = request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        // no keep-alive: a pooled upstream socket would outlive the proxy
        agent: false
      },
      up => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      }
    )
    upstream.on('error', () => req.socket.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
