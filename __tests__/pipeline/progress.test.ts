/**
 * The progress board with a clock and a timer of the test's own: a line per running cell at once
 * on a new step or test, again after a quiet minute; one warning for a long emulated cell; the
 * timeline of every phase.
 */
import { describe, expect, it } from '@jest/globals'
import {
  phaseTimes,
  projectEmulated,
  ProgressBoard,
  readmeLink
} from '../../src/pipeline/progress.js'
import { BuildProgress } from '../../src/tooling/progress.js'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const at = (s: number): string => new Date(T0 + s * 1000).toISOString()

function board(emulatedWarnMs = 0) {
  let now = T0
  let tick: () => void = () => undefined
  const lines: string[] = []
  const warnings: string[] = []
  const b = new ProgressBoard({
    info: l => lines.push(`${(now - T0) / 1000} ${l}`),
    warning: w => warnings.push(w),
    now: () => now,
    intervalMs: 60_000,
    emulatedWarnMs,
    readme: 'https://example.test/README.md#long-emulated-builds',
    setInterval: fn => {
      tick = fn
      return 1
    },
    clearInterval: () => undefined
  })
  b.startTicking()
  /** Let `seconds` pass, the timer ticking every 5 s */
  const pass = (seconds: number): void => {
    for (let i = 0; i < seconds / 5; i++) {
      now += 5000
      tick()
    }
  }
  return { b, lines, warnings, pass, setNow: (s: number) => (now = T0 + s * 1000) }
}

/** BuildKit's report of a step that started at second s */
function step(p: BuildProgress, digest: string, name: string, s: number): boolean {
  return p.feed(`${JSON.stringify({ vertexes: [{ digest, name, started: at(s) }] })}\n`)
}

describe('ProgressBoard', () => {
  it('prints at once on each new step and test, then once a minute while quiet', () => {
    const { b, lines, pass } = board()
    const cell = { id: 'humble-arm64', emulated: true }
    b.phase(cell, 'build')
    const p = new BuildProgress()
    b.building(cell.id, p, step(p, 'a', '[2/9] RUN colcon build --merge-install', 0))
    pass(150)
    b.building(cell.id, p, step(p, 'b', '[3/9] COPY . /ws', 150))
    pass(10)
    b.phase(cell, 'test')
    b.testing(cell.id, 1, 2, 'ros2 CLI')
    b.end(cell.id, true)
    pass(120)
    expect(lines).toEqual([
      '0 humble-arm64 (QEMU): build started, 0s',
      '0 humble-arm64 (QEMU): build step 2/9 RUN colcon build --merge-install, 0s',
      '55 humble-arm64 (QEMU): build step 2/9 RUN colcon build --merge-install, 55s (this step 55s)',
      '110 humble-arm64 (QEMU): build step 2/9 RUN colcon build --merge-install, 1m50s (this step 1m50s)',
      '150 humble-arm64 (QEMU): build step 3/9 COPY . /ws, 2m30s',
      '160 humble-arm64 (QEMU): smoke test 1/2 "ros2 CLI", 2m40s'
    ])
  })

  it('never leaves a running cell quiet for more than the interval', () => {
    const { b, lines, pass } = board()
    b.phase({ id: 'a', emulated: false }, 'build')
    pass(2)
    b.phase({ id: 'b', emulated: true }, 'build')
    pass(600)
    for (const id of ['a', 'b']) {
      const times = lines
        .filter(l => l.split(' ')[1].startsWith(`${id}`))
        .map(l => Number(l.split(' ')[0]))
      // 600 s: a line at the start, then about one a minute
      expect(times.length).toBeGreaterThanOrEqual(10)
      const gaps = times.slice(1).map((t, i) => t - times[i])
      expect(Math.max(...gaps)).toBeLessThanOrEqual(60)
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(55)
    }
  })

  it('says when a step started, by BuildKit, when the report comes late', () => {
    const { b, lines, setNow } = board()
    b.phase({ id: 'c', emulated: false }, 'build')
    setNow(30)
    const p = new BuildProgress()
    b.building('c', p, step(p, 'a', '[builder 4/4] RUN make', 20))
    expect(lines.at(-1)).toBe('30 c: build step 4/4 (builder) RUN make, 30s (this step 10s)')
  })

  it('warns once for an emulated cell past the threshold, never for a native one', () => {
    const { b, warnings, pass } = board(60 * 60_000)
    b.phase({ id: 'humble-amd64', emulated: false }, 'build')
    b.phase({ id: 'humble-arm64', emulated: true }, 'build')
    pass(3 * 3600)
    expect(warnings).toEqual([
      'humble-arm64 has run for 1h00m00s under QEMU emulation (now: build started). GitHub-hosted jobs stop after 6 hours. ' +
        'The way out: build each platform natively, with mode: build on runners of that platform (GitHub hosts ubuntu-24.04-arm for linux/arm64 and ubuntu-24.04 for linux/amd64) and one mode: merge job after them; ' +
        'see https://example.test/README.md#long-emulated-builds'
    ])
  })

  it('records every phase, a retried build twice, the push after the cell ended', () => {
    const { b, setNow } = board()
    const cell = { id: 'x', emulated: true }
    b.phase(cell, 'build')
    setNow(10)
    b.end(cell.id)
    b.phase(cell, 'build')
    setNow(12)
    b.phase(cell, 'test')
    setNow(20)
    b.end(cell.id, true)
    setNow(25)
    b.phase(cell, 'push')
    setNow(27)
    b.end(cell.id)
    expect(phaseTimes(b.timeline(), 'x')).toEqual([
      { phase: 'build', start: at(0), seconds: 10 },
      { phase: 'build', start: at(10), seconds: 2 },
      { phase: 'test', start: at(12), seconds: 8 },
      { phase: 'push', start: at(25), seconds: 2 }
    ])
    expect(phaseTimes(b.timeline(), 'y')).toEqual([])
  })
})

describe('projectEmulated', () => {
  // what each cell's published image took before (a native cell's time does not count)
  const cells = [
    { id: 'humble-amd64', emulated: false, took: 9000 },
    { id: 'humble-arm64', emulated: true, took: 4 * 3600 },
    { id: 'jazzy-arm64', emulated: true, took: 3 * 3600 },
    { id: 'kilted-arm64', emulated: true }
  ]

  it('is the longest cell, or all shared among max-parallel slots when longer', () => {
    expect(projectEmulated(cells, 4)).toEqual({
      seconds: 4 * 3600,
      known: 'humble-arm64 4h00m00s, jazzy-arm64 3h00m00s'
    })
    expect(projectEmulated(cells, 1)?.seconds).toBe(7 * 3600)
  })

  it('knows nothing without an emulated cell measured before', () => {
    expect(projectEmulated(cells.slice(0, 1), 2)).toBeUndefined()
    expect(
      projectEmulated(
        cells.map(({ id, emulated }) => ({ id, emulated })),
        2
      )
    ).toBeUndefined()
  })
})

describe('readmeLink', () => {
  it('points into the action repository at its ref, or names the section', () => {
    expect(
      readmeLink({ GITHUB_ACTION_REPOSITORY: 'acme/ros-multiarch-action', GITHUB_ACTION_REF: 'v1' })
    ).toBe('https://github.com/acme/ros-multiarch-action/blob/v1/README.md#long-emulated-builds')
    expect(readmeLink({})).toBe('the README, "Long emulated builds"')
  })
})
