/**
 * Where a run's time went: a Mermaid gantt of every cell's phases on one time axis (GitHub renders
 * Mermaid in job summaries), the slowest build steps of the slowest cell, and the QEMU crashes
 * that were retried. Pure: from the results.
 */
import type { CellResult, PhaseTime, RunResults } from '../results/results.js'
import { ellipsis } from '../text/text.js'
import { escapeHtml } from './escape.js'
import { duration } from './format.js'

/** Steps shown for the slowest cell */
const STEPS_SHOWN = 5

/** Text safe as a Mermaid gantt section or task name (a colon or `#` would end or break it). */
function mermaidName(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim()
}

const ms = (p: PhaseTime): { start: number; end: number } => {
  const start = Date.parse(p.start)
  return { start, end: start + Math.max(p.seconds, 0.1) * 1000 }
}

/**
 * Tick intervals of the axis, in seconds and as Mermaid names them. Each divides the minute, hour
 * or day, so the ticks fall on whole multiples of it counted from the axis's zero.
 */
const TICKS: readonly (readonly [number, string])[] = [
  [5, '5second'],
  [10, '10second'],
  [15, '15second'],
  [30, '30second'],
  [60, '1minute'],
  [120, '2minute'],
  [300, '5minute'],
  [600, '10minute'],
  [900, '15minute'],
  [1800, '30minute'],
  [3600, '1hour'],
  [7200, '2hour'],
  [10800, '3hour'],
  [21600, '6hour']
]
/** At most this many intervals on the axis: its labels then never crowd at GitHub's width. */
const MAX_TICKS = 8
const DAY_MS = 86_400_000

/**
 * A time on the axis: milliseconds since the first phase began, written as a time of day. Mermaid
 * reads it as that time today in the reader's time zone and draws the axis in that zone too, so
 * the axis starts at 0 wherever it is read. (Epoch milliseconds would put a zone's offset into
 * every tick, and the axis would show the clock, not how long the run had gone on.)
 */
function clock(ms: number): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  const t = Math.round(ms)
  return `${pad(Math.floor(t / 3600_000))}:${pad(Math.floor(t / 60_000) % 60)}:${pad(Math.floor(t / 1000) % 60)}.${pad(t % 1000, 3)}`
}

/**
 * When the first phase began (epoch ms) and how long from then until the last one ended; undefined
 * when no cell has phases, or when they spread over a day or more (an axis of times of day would
 * wrap around; no hosted runner runs a job that long).
 */
function phaseRange(results: RunResults): { zero: number; span: number } | undefined {
  const all = results.cells.flatMap(c => (c.phases ?? []).map(ms))
  if (all.length === 0) return undefined
  const zero = Math.min(...all.map(p => p.start))
  const span = Math.max(...all.map(p => p.end)) - zero
  return span < DAY_MS ? { zero, span } : undefined
}

/**
 * Room left of the bars for the longest section name, in px: Mermaid's 75 fits about 10 characters
 * of its 11 px font, and a longer name ran into the bars.
 */
function leftPadding(names: readonly string[]): number {
  return Math.max(75, 20 + 6 * Math.max(...names.map(n => n.length)))
}

/** A gantt task name: what it is and how long it took, free of Mermaid syntax. */
function taskName(phase: string, seconds: number, crashed: boolean): string {
  return mermaidName(`${phase} ${duration(seconds)}${crashed ? ', QEMU crash' : ''}`)
}

/**
 * The gantt block, or '' when no cell has phases. Its axis counts from the first phase's start
 * (0s, a tick) and a milestone marks where the last phase ended, both in the summary's format.
 * Task styles: the default for every phase and `crit` for one QEMU crashed in, the two whose
 * labels Mermaid colours for the theme (`active` and `done` force dark text, unreadable in dark
 * mode beside a short bar); each label says its phase and time instead.
 */
export function mermaidTimeline(results: RunResults): string {
  const cells = results.cells.filter(c => (c.phases ?? []).length > 0)
  const range = phaseRange(results)
  if (range === undefined) return ''
  const { zero, span } = range
  const tick = TICKS.find(([s]) => span / (s * 1000) <= MAX_TICKS) ?? TICKS[TICKS.length - 1]
  const sections = cells.map(c => mermaidName(`${c.id}${c.emulated ? ' (QEMU)' : ''}`))
  const lines = [
    '```mermaid',
    '---',
    'config:',
    '  gantt:',
    `    leftPadding: ${leftPadding(sections)}`,
    '---',
    'gantt',
    '  dateFormat HH:mm:ss.SSS',
    // read after the run: no line for today
    '  todayMarker off',
    `  axisFormat ${span >= 3600_000 ? '%-Hh%Mm%Ss' : '%-Mm%Ss'}`,
    `  tickInterval ${tick[1]}`
  ]
  let n = 0
  for (const [i, c] of cells.entries()) {
    lines.push(`  section ${sections[i]}`)
    let attempt = -1
    for (const p of c.phases ?? []) {
      const { start, end } = ms(p)
      // each build begins an attempt; a retried attempt ended in a QEMU crash, in this phase
      if (p.phase === 'build') attempt++
      const crash = c.qemuCrashes?.[attempt]
      const crashed = crash !== undefined && crash.phase === p.phase
      const tag = crashed ? 'crit, ' : ''
      lines.push(
        `    ${taskName(p.phase, p.seconds, crashed)} :${tag}t${n++}, ${clock(start - zero)}, ${clock(end - zero)}`
      )
    }
  }
  lines.push(
    '  section end',
    `    ${duration(span / 1000)} :milestone, t${n}, ${clock(span)}, ${clock(span)}`
  )
  lines.push('```')
  return lines.join('\n')
}

const built = (c: CellResult): number =>
  (c.phases ?? []).filter(p => p.phase === 'build').reduce((s, p) => s + p.seconds, 0)

/** The slowest build steps of the cell whose builds took longest, as an HTML table. */
export function slowestStepsTable(results: RunResults): string {
  const withSteps = results.cells.filter(c => (c.slowestSteps ?? []).length > 0)
  if (withSteps.length === 0) return ''
  const slowest = withSteps.reduce((a, b) => (built(b) > built(a) ? b : a))
  const rows = (slowest.slowestSteps ?? [])
    .slice(0, STEPS_SHOWN)
    .map(
      s =>
        `<tr><td>${escapeHtml(s.step)}</td><td><code>${escapeHtml(ellipsis(s.instruction, 120))}</code></td><td>${duration(s.seconds)}</td></tr>`
    )
  return (
    `<h3>Slowest build steps of ${escapeHtml(slowest.id)}${slowest.emulated ? ' (emulated)' : ''}, the slowest build (${duration(built(slowest))})</h3>\n` +
    `<table><tr><th>step</th><th>instruction</th><th>time</th></tr>\n${rows.join('\n')}\n</table>\n`
  )
}

/** The QEMU crashes of the run, each with what came of it. */
export function qemuCrashList(results: RunResults): string {
  const items = results.cells.flatMap(c =>
    (c.qemuCrashes ?? []).map((crash, i) => {
      const outcome =
        i < (c.retries ?? 0)
          ? `run again (retry ${i + 1})`
          : c.status === 'cancelled'
            ? 'not run again: the run was cancelled'
            : 'not run again (qemu-retries used up, or fail-fast stopped the run)'
      return `<li>${escapeHtml(c.id)}, ${crash.phase === 'build' ? 'build' : 'smoke tests'}: <code>${escapeHtml(crash.signature)}</code>; ${outcome}</li>`
    })
  )
  if (items.length === 0) return ''
  return `<h3>QEMU crashes</h3>\n<ul>\n${items.join('\n')}\n</ul>\n`
}

/** The timeline section of the summary: gantt, slowest steps, QEMU crashes. */
export function timelineSummary(results: RunResults): string {
  const gantt = mermaidTimeline(results)
  const range = phaseRange(results)
  const scale =
    range === undefined
      ? ''
      : `<p>The axis counts from the start of the first build; the last phase ended at ${duration(range.span / 1000)}. ` +
        `The other ${duration(Math.max(0, results.seconds - range.span / 1000))} of the run's ${duration(results.seconds)} went to its set-up before and its last steps after.</p>\n\n`
  const parts = [
    gantt === '' ? '' : `<h3>Timeline</h3>\n${scale}${gantt}\n\n`,
    slowestStepsTable(results),
    qemuCrashList(results)
  ]
  return parts.join('')
}
