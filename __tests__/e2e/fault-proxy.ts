/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the test registry. In `flaky` mode it
 * fails a share of requests with 500, 503, 429 (Retry-After: 1) or a dropped connection, from a
 * seeded generator so a run can be replayed; in `refuse` mode it answers 503 to everything.
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
  faults: Record<string, number>
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

export async function startFaultProxy(
  target: { host: string; port: number },
  options: { mode: 'flaky' | 'refuse'; failRate?: number; seed?: number }
): Promise<FaultProxy> {
  const random = seeded(options.seed ?? 1)
  const stats: ProxyStats = { requests: 0, faults: {} }
  const fault = (res: ServerResponse, req: IncomingMessage, kind: Fault): void => {
    stats.faults[String(kind)] = (stats.faults[String(kind)] ?? 0) + 1
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
