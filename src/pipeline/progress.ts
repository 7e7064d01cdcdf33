/**
 * Live progress of the cells while they build and test, and the run's timeline.
 *
 * One line per running cell: at once when its build starts a new Dockerfile step or its next smoke
 * test, and again when it has printed nothing for a minute, so an emulated build of hours shows it
 * is alive. Each line is one log line naming its cell, so parallel cells never interleave within a
 * line. An emulated cell running longer than the warning threshold gets one warning with the way
 * out. Every phase of every cell (build, test, push; a retried cell has more than one of each) is
 * recorded with its start and end for the summary's timeline and the `results` output.
 */
import { formatDuration, type Phase, type PhaseTime } from '../results/results.js'
import { ellipsis } from '../text/text.js'
import type { BuildProgress } from '../tooling/progress.js'

/** A phase of a cell, from start to end (ms) */
export interface PhaseSpan {
  readonly cell: string
  readonly phase: Phase
  readonly start: number
  readonly end: number
}

/** A cell's phases as the `results` output gives them. Pure. */
export function phaseTimes(spans: readonly PhaseSpan[], cell: string): PhaseTime[] {
  return spans
    .filter(s => s.cell === cell)
    .map(s => ({
      phase: s.phase,
      start: new Date(s.start).toISOString(),
      seconds: Math.round(s.end - s.start) / 1000
    }))
}

export interface BoardOptions {
  readonly info: (line: string) => void
  /** A running cell's line, redrawn in place (a terminal), and null once it finished */
  readonly status?: (id: string, line: string | null) => void
  readonly warning: (message: string) => void
  readonly now: () => number
  /** A running cell prints a line at least this often (ms) */
  readonly intervalMs: number
  /** Warn once when an emulated cell has run this long (ms); 0 never warns */
  readonly emulatedWarnMs: number
  /** Where the README explains the way out of long emulated builds */
  readonly readme: string
  /** Timers (tests hand in their own) */
  readonly setInterval?: (fn: () => void, ms: number) => unknown
  readonly clearInterval?: (handle: unknown) => void
}

interface Running {
  readonly id: string
  readonly emulated: boolean
  /** When the cell started (its first attempt) */
  readonly started: number
  phase: Phase
  /** What the phase does now, e.g. `step 5/9 RUN colcon build` */
  doing: string
  doingSince: number
  printed: number
  warned: boolean
}

/** What a running cell does, e.g. `build step 5/9 RUN colcon build`, `smoke test 1/2 "x"`. */
const doingText = (r: Running): string =>
  `${r.phase === 'build' ? 'build' : 'smoke test'} ${r.doing}`

/** Milliseconds as people read them, to the second. */
const duration = (ms: number): string => formatDuration(Math.floor(ms / 1000))

/** The README's section on long emulated builds, in the action's own repository when known. */
export function readmeLink(env: Readonly<Record<string, string | undefined>>): string {
  const repo = env.GITHUB_ACTION_REPOSITORY
  const anchor = 'README.md#long-emulated-builds'
  if (!repo) return `the README, "Long emulated builds"`
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  return `${server}/${repo}/blob/${env.GITHUB_ACTION_REF || 'main'}/${anchor}`
}

/** What to do about emulated builds too long for a GitHub-hosted job. */
export function wayOut(readme: string): string {
  return (
    'GitHub-hosted jobs stop after 6 hours. The way out: build each platform natively, with ' +
    'mode: build on runners of that platform (GitHub hosts ubuntu-24.04-arm for linux/arm64 and ' +
    `ubuntu-24.04 for linux/amd64) and one mode: merge job after them; see ${readme}`
  )
}

/** How often the board looks at its cells; a cell's lines are at most interval apart. */
const TICK_MS = 5000

export class ProgressBoard {
  private readonly running = new Map<string, Running>()
  private readonly spans: PhaseSpan[] = []
  private readonly open = new Map<string, PhaseSpan & { cell: string }>()
  private timer: unknown

  constructor(private readonly o: BoardOptions) {}

  /** Starts the once-a-minute lines and the long-emulation check. */
  startTicking(): void {
    if (this.timer !== undefined) return
    const every = this.o.setInterval ?? ((fn, ms) => setInterval(fn, ms).unref())
    this.timer = every(() => this.tick(), Math.min(TICK_MS, this.o.intervalMs))
  }

  stopTicking(): void {
    if (this.timer === undefined) return
    ;(this.o.clearInterval ?? (h => clearInterval(h as NodeJS.Timeout)))(this.timer)
    this.timer = undefined
  }

  /** A cell begins a phase (a retried cell begins its build again). */
  phase(cell: { id: string; emulated: boolean }, phase: Phase, doing = 'started'): void {
    const now = this.o.now()
    this.close(cell.id, now)
    const span = { cell: cell.id, phase, start: now, end: now }
    this.open.set(cell.id, span)
    if (phase === 'push') return
    let r = this.running.get(cell.id)
    if (r === undefined) {
      r = {
        id: cell.id,
        emulated: cell.emulated,
        started: now,
        phase,
        doing,
        doingSince: now,
        printed: 0,
        warned: false
      }
      this.running.set(cell.id, r)
    }
    r.phase = phase
    r.doing = doing
    r.doingSince = now
    // a build says it started (its first steps are BuildKit's own); a test phase's first test does
    if (phase === 'build') this.print(r)
  }

  /** A build's progress came in: a line at once when it started another step. */
  building(id: string, progress: BuildProgress, stepChanged: boolean): void {
    const r = this.running.get(id)
    const now = progress.current()
    if (r === undefined || !stepChanged || now === undefined) return
    const s = now.step
    const doing =
      s === undefined
        ? ellipsis(now.name, 80)
        : `step ${s.index}/${s.total}${s.stage === undefined ? '' : ` (${s.stage})`} ${ellipsis(s.instruction, 80)}`
    this.doing(r, doing, now.started)
  }

  /** A cell's next smoke test started. */
  testing(id: string, index: number, total: number, name: string): void {
    const r = this.running.get(id)
    if (r !== undefined) this.doing(r, `${index}/${total} "${ellipsis(name, 60)}"`)
  }

  /** A cell's phase ended; with `finished`, the cell no longer runs (its push may come later). */
  end(id: string, finished = false): void {
    this.close(id, this.o.now())
    if (finished) {
      this.running.delete(id)
      this.o.status?.(id, null)
    }
  }

  /** Every phase recorded so far, in the order they started. */
  timeline(): PhaseSpan[] {
    return [...this.spans, ...[...this.open.values()].map(s => ({ ...s, end: this.o.now() }))]
      .sort((a, b) => a.start - b.start)
      .map(({ phase, start, end, cell }) => ({ cell, phase, start, end }))
  }

  private close(id: string, now: number): void {
    const span = this.open.get(id)
    if (span === undefined) return
    this.open.delete(id)
    this.spans.push({ ...span, end: now })
  }

  private doing(r: Running, doing: string, since?: number): void {
    r.doing = doing
    r.doingSince = since === undefined ? this.o.now() : Math.min(since, this.o.now())
    this.print(r)
  }

  private print(r: Running): void {
    const now = this.o.now()
    r.printed = now
    const steady =
      now - r.doingSince >= TICK_MS
        ? ` (this ${r.phase === 'build' ? 'step' : 'test'} ${duration(now - r.doingSince)})`
        : ''
    const line = `${r.id}${r.emulated ? ' (QEMU)' : ''}: ${doingText(r)}, ${duration(now - r.started)}${steady}`
    if (this.o.status === undefined) this.o.info(line)
    else this.o.status(r.id, line)
  }

  /** Lines for cells quiet for a minute; the warning for long emulated cells. */
  tick(): void {
    const now = this.o.now()
    for (const r of this.running.values()) {
      if (now - r.printed >= this.o.intervalMs - TICK_MS) this.print(r)
      if (r.emulated && !r.warned && this.o.emulatedWarnMs > 0) {
        if (now - r.started >= this.o.emulatedWarnMs) {
          r.warned = true
          this.o.warning(
            `${r.id} has run for ${duration(now - r.started)} under QEMU emulation (now: ${doingText(r)}). ` +
              wayOut(this.o.readme)
          )
        }
      }
    }
  }
}

/** Projected emulated time above which a run is warned: GitHub-hosted jobs stop at 6 hours. */
export const PROJECTED_WARNING_SECONDS = 5 * 3600

/**
 * What the emulated cells about to be built took when their published images were built, and
 * what that makes this run's emulated time: the longest cell, or all of them shared among
 * max-parallel slots if that is longer. Pure. Undefined when no cell's time is known.
 */
export function projectEmulated(
  cells: readonly { id: string; emulated: boolean; took?: number }[],
  maxParallel: number
): { seconds: number; known: string } | undefined {
  const known = cells.flatMap(({ id, emulated, took }) =>
    emulated && took !== undefined ? [{ id, took }] : []
  )
  if (known.length === 0) return undefined
  const longest = Math.max(...known.map(k => k.took))
  const shared = known.reduce((sum, k) => sum + k.took, 0) / Math.min(maxParallel, known.length)
  return {
    seconds: Math.max(longest, shared),
    known: known.map(k => `${k.id} ${formatDuration(k.took)}`).join(', ')
  }
}
