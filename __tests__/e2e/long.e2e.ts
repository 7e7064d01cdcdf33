/**
 * Long emulated builds, in small: live progress lines under a slow build step (their cadence, as
 * the lines arrived), the warning for a long emulated cell, the timeline in the summary, and a
 * real QEMU crash retried. The fixture's last RUN step asks a service on the loopback whether to
 * crash: it says "crash" to aarch64 on its first try only, and the step's child kills itself with
 * SIGSEGV, so QEMU prints its own crash line, as on the real crashes users report.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { formatDuration } from '../../src/results/results.js'
import {
  keptDir,
  cellNamed,
  cellsOf,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000
/** Long enough for two of the once-a-minute lines */
const SLOW_SECONDS = 130
const SIGNATURE = 'qemu: uncaught target signal 11 (Segmentation fault) - core dumped'

describe('long emulated builds', () => {
  const tb = testbed()
  const tries: Record<string, number> = {}
  let server: Server
  let url = ''

  beforeAll(async () => {
    server = createServer((req, res) => {
      const machine = (req.url ?? '').split('/').pop() ?? ''
      tries[machine] = (tries[machine] ?? 0) + 1
      res.end(machine === 'aarch64' && tries[machine] === 1 ? 'crash' : 'ok')
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/try`
  })
  afterAll(() => {
    server.close()
    expectNoLeftovers()
  })

  it(
    'progress lines at least once a minute, a warning, the timeline, and a QEMU crash retried',
    async () => {
      const repo = uniqueRepo('long')
      const inputs = {
        context: '__tests__/fixtures/long-build',
        distros: 'humble',
        image: `${tb.registry}/${repo}`,
        'base-image': `${tb.registry}/ros:{distro}-ros-base`,
        'build-args': `SLOW_SECONDS=${SLOW_SECONDS}\nTRY_URL=${url}`,
        'ros-checks': 'false',
        'smoke-tests': 'test -s /build-info',
        'emulation-warning': '1',
        'max-parallel': '2',
        push: 'true'
      }
      const r = await runE2e(inputs)
      // what a user sees, kept for a look after the run
      const keep = path.join(keptDir(), `rma-long-e2e-${tb.engine}`)
      mkdirSync(keep, { recursive: true })
      writeFileSync(path.join(keep, 'log.txt'), r.log)
      writeFileSync(path.join(keep, 'summary.md'), r.summary)
      writeFileSync(path.join(keep, 'results.json'), r.outputs.results ?? '')
      expectPassed(r)
      // the real crash, once, then the retry that passed; the native cell asked once
      expect(tries).toEqual({ aarch64: 2, x86_64: 1 })
      const cells = cellsOf(r)
      const arm = cellNamed(cells, 'humble-arm64')
      const amd = cellNamed(cells, 'humble-amd64')
      expect(arm).toMatchObject({
        status: 'passed',
        retries: 1,
        qemuCrashes: [{ phase: 'build', signature: SIGNATURE }]
      })
      expect(amd.retries).toBeUndefined()
      expect(r.log).toContain(
        `humble-arm64: QEMU crashed in the build (${SIGNATURE}); a crash of the emulator, not of the build: running the cell again (retry 1 of 1)`
      )

      // phases: arm64 built twice (the crash, the retry), then tested and pushed
      expect(arm.phases?.map(p => p.phase)).toEqual(['build', 'build', 'test', 'push'])
      expect(amd.phases?.map(p => p.phase)).toEqual(['build', 'test', 'push'])
      // the slowest step is the slow one, of both cells (arm64: its first build was cached)
      expect(amd.slowestSteps?.[0]).toMatchObject({ step: '2/3', cached: false })
      expect(amd.slowestSteps?.[0].seconds).toBeGreaterThanOrEqual(SLOW_SECONDS)
      expect(amd.slowestSteps?.[0].instruction).toMatch(/^RUN echo "a slow step/)

      for (const cell of ['humble-amd64', 'humble-arm64 (QEMU)']) {
        const mine = r.lines.filter(l => l.text.startsWith(`${cell}: `))
        const slow = mine.filter(l => / build step 2\/3 RUN echo "a slow step/.test(l.text))
        // at once when the step starts (within 5 s of BuildKit's start: no "this step" yet)...
        expect(slow[0]?.text).not.toContain('(this step')
        // ...then at least once a minute while it runs, and no more than that
        expect(slow.length).toBeGreaterThanOrEqual(2)
        for (let i = 1; i < mine.length; i++) {
          const gap = mine[i].at - mine[i - 1].at
          expect({ cell, line: mine[i].text, gap: gap <= 61_000 }).toEqual({
            cell,
            line: mine[i].text,
            gap: true
          })
        }
        expect(slow.at(-1)?.text).toMatch(/\(this step 1m\d\ds\)$/)
        // the next step and the smoke test get their lines too
        expect(mine.some(l => / build step 3\/3 RUN answer=/.test(l.text))).toBe(true)
        expect(mine.some(l => / smoke test 1\/\d+ "/.test(l.text))).toBe(true)
      }
      // one warning, for the emulated cell only, after a minute
      const warnings = r.log.split('\n').filter(l => /^::warning::.* under QEMU emulation/.test(l))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(
        /^::warning::humble-arm64 has run for 1m0\ds under QEMU emulation/
      )
      expect(warnings[0]).toContain('mode: build on runners of that platform')

      // the timeline: one section per cell, the crashed build marked
      const gantt = /```mermaid\n[\s\S]*?\ngantt\n([\s\S]*?)```/.exec(r.summary)?.[1] ?? ''
      expect(gantt).toContain('section humble-amd64\n')
      expect(gantt).toContain('section humble-arm64 (QEMU)\n')
      const clock = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}'
      expect(gantt).toMatch(
        new RegExp(`^ {4}build [^:]*, QEMU crash :crit, t\\d+, ${clock}, ${clock}$`, 'm')
      )
      expect(gantt.match(/^ {4}push [^:]* :t\d+, /gm)).toHaveLength(2)
      expect(r.summary).toContain('<h3>Slowest build steps of humble-')
      expect(r.summary).toContain(
        `humble-arm64, build: <code>${SIGNATURE}</code>; run again (retry 1)`
      )
      expect(r.summary).toContain('🔁 run again after a QEMU crash')

      // the index records what the emulated cell took (an OCI index, on every engine), and the
      // next run projects its emulated time from it
      const index = await manifestOf(repo, 'humble-main')
      const entry = (index?.manifests ?? []).find(m => m.platform.architecture === 'arm64') as {
        annotations?: Record<string, string>
      }
      const took = entry?.annotations?.['io.ros-multiarch.emulated.seconds']
      const again = await runE2e({ ...inputs, 'build-args': `SLOW_SECONDS=1\nTRY_URL=${url}` })
      expectPassed(again)
      const projected = again.log.split('\n').filter(l => l.startsWith('Projected emulated time'))
      expect(Number(took)).toBeGreaterThanOrEqual(SLOW_SECONDS)
      expect(projected).toEqual([
        `Projected emulated time of this run: about ${formatDuration(Number(took))} (their last builds under emulation: humble-arm64 ${formatDuration(Number(took))}; max-parallel 2)`
      ])
    },
    15 * MINUTES
  )
})
