/**
 * The action against a flaky and a dead registry: the fault proxy sits in front of the test bed's
 * registry, and the image, its base and the login all go through it.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import { startFaultProxy } from './fault-proxy.js'
import {
  keptDir,
  cellsOf,
  expectNoLeftovers,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000
const RUNS = Number(process.env.E2E_FAULT_RUNS ?? 10)
/**
 * Share of requests the proxy fails, with the action's default retry inputs (6 tries, waits up to
 * 30 s). The registry client retries each request on its own (the image pushes included); what
 * goes through the docker CLI (login, the builds' base pulls) is retried as a whole command.
 */
const FAIL_RATE = Number(process.env.E2E_FAULT_RATE ?? 0.2)
/** The proxy of run n is seeded with FIRST_SEED + n - 1, so a failing run can be replayed. */
const FIRST_SEED = Number(process.env.E2E_FAULT_SEED ?? 1)

describe('registry faults', () => {
  const tb = testbed()
  const containerd = tb.store === 'containerd'
  const [host, port] = tb.registry.split(':')
  const target = { host, port: Number(port) }
  const inputs = (registry: string, repo: string) => ({
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    distros: 'humble, jazzy',
    image: `${registry}/${repo}`,
    'base-image': `${registry}/ros:{distro}-ros-base`,
    push: 'true'
  })

  /**
   * Watch the index tags straight in the registry (not through the proxy) while a run publishes:
   * every index ever seen must hold both platforms. Returns a stop function giving what was seen.
   */
  function watchPartial(repo: string): () => Promise<string[]> {
    const partial: string[] = []
    let stopped = false
    const loop = (async () => {
      while (!stopped) {
        for (const tag of [
          'humble-main',
          'humble-sha-e2e0123',
          'jazzy-main',
          'jazzy-sha-e2e0123'
        ]) {
          const index = await manifestOf(repo, tag).catch(() => null)
          if (index === null) continue
          const platforms = (index.manifests ?? []).map(m => m.platform.architecture).sort()
          if (platforms.join(',') !== 'amd64,arm64') partial.push(`${tag}: ${platforms.join(',')}`)
        }
        await new Promise(resolve => setTimeout(resolve, 250))
      }
    })()
    return async () => {
      stopped = true
      await loop
      return partial
    }
  }

  it(
    `with ${FAIL_RATE * 100}% of registry requests failing, the 2 x 2 example publishes complete, correct indexes in ${RUNS} of ${RUNS} runs`,
    async () => {
      const outcomes: string[] = []
      let retries = 0
      let requests = 0
      let faults = 0
      let clientRequests = 0
      let clientRetries = 0
      const partial: string[] = []
      for (let run = 1; run <= RUNS; run++) {
        const proxy = await startFaultProxy(target, {
          mode: 'flaky',
          failRate: FAIL_RATE,
          seed: FIRST_SEED + run - 1
        })
        const repo = uniqueRepo(`flaky-${run}`)
        const stop = watchPartial(repo)
        const r = await runE2e(inputs(proxy.address, repo))
        partial.push(...(await stop()))
        await proxy.close()
        const client = /Registry client: (\d+) requests?, (\d+) retr/.exec(r.log)
        clientRequests += Number(client?.[1] ?? 0)
        clientRetries += Number(client?.[2] ?? 0)
        requests += proxy.stats.requests
        faults += Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0)
        retries += (r.log.match(/; retrying in /g) ?? []).length
        let ok = r.code === 0
        if (ok) {
          // read back straight from the registry, not through the proxy
          const cells = cellsOf(r)
          for (const distro of ['humble', 'jazzy']) {
            const index = await manifestOf(repo, `${distro}-main`)
            const platforms = (index?.manifests ?? [])
              .map(m => `${m.platform.os}/${m.platform.architecture}`)
              .sort()
            ok &&= JSON.stringify(platforms) === JSON.stringify(['linux/amd64', 'linux/arm64'])
            for (const entry of index?.manifests ?? []) {
              const cell = cells.find(c => c.id === `${distro}-${entry.platform.architecture}`)
              const manifest = await manifestOf(repo, entry.digest)
              // the tested image: by its config digest, or (built with the default provenance on
              // the containerd engine) by its manifest digest
              const tested = containerd ? entry.digest : manifest?.config?.digest
              ok &&= tested === cell?.imageId
            }
            // and one attestation manifest about each image where the engine keeps them
            const images = (index?.manifests ?? []).map(m => m.digest)
            const about = (index?.attestations ?? []).map(
              a => a.annotations?.['vnd.docker.reference.digest']
            )
            ok &&= JSON.stringify(about) === JSON.stringify(containerd ? images : [])
          }
        }
        const kept = path.join(keptDir(), `rma-fault-run-${tb.engine}-${run}.log`)
        if (!ok) writeFileSync(kept, r.log)
        outcomes.push(
          ok
            ? 'ok'
            : `run ${run} failed (exit ${r.code}; log: ${kept}): ${r.log
                .split('\n')
                .filter(l => l.startsWith('::error'))
                .join(' | ')}`
        )
      }
      console.log(
        `fault runs at ${FAIL_RATE * 100}%: ${outcomes.filter(o => o === 'ok').length}/${RUNS} complete; ${requests} registry requests, ${faults} failed by the proxy, ${retries} retries logged (the registry client: ${clientRequests} requests, ${clientRetries} retries); partial indexes seen: ${partial.length}`
      )
      expect(outcomes).toEqual(Array(RUNS).fill('ok'))
      expect(partial).toEqual([])
    },
    30 * MINUTES
  )

  it(
    'with the registry refusing everything, the run fails in bounded time, naming the registry and the cause, publishing nothing',
    async () => {
      const proxy = await startFaultProxy(target, { mode: 'refuse' })
      const repo = uniqueRepo('refused')
      const started = Date.now()
      const r = await runE2e({
        ...inputs(proxy.address, repo),
        'retry-attempts': '4',
        'retry-max-delay': '1'
      })
      const seconds = (Date.now() - started) / 1000
      await proxy.close()
      console.log(`registry refusing everything: failed after ${seconds.toFixed(1)} s`)
      expect(r.code).toBe(1)
      expect(seconds).toBeLessThan(120)
      const error = r.log.split('\n').find(l => l.startsWith('::error::')) ?? ''
      expect(error).toContain(`Logging in to ${proxy.address} failed`)
      expect(error).toMatch(/503 Service Unavailable/)
      expect((r.log.match(/; retrying in /g) ?? []).length).toBe(3)
      expect(await tagsOf(repo)).toEqual([])
    },
    10 * MINUTES
  )

  it(
    'with the registry down (nothing listening), the run fails in bounded time, naming the registry',
    async () => {
      // a port that was free a moment ago: connections are refused
      const server = createServer()
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      await new Promise(resolve => server.close(resolve))
      const address = `127.0.0.1:${port}`
      const started = Date.now()
      const r = await runE2e(inputs(address, uniqueRepo('down')))
      const seconds = (Date.now() - started) / 1000
      console.log(`registry down: failed after ${seconds.toFixed(1)} s`)
      expect(r.code).toBe(1)
      expect(seconds).toBeLessThan(120)
      const error = r.log.split('\n').find(l => l.startsWith('::error::')) ?? ''
      expect(error).toContain(`Logging in to ${address} failed`)
      expect(error).toMatch(/connection refused/)
    },
    10 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
