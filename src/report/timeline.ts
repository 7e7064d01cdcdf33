/**
 * Where a run's time went: a Mermaid gantt of every cell's phases on one time axis (GitHub renders
 * Mermaid in job summaries), the slowest build steps of the slowest cell, and the QEMU crashes
 * that were retried. Pure: from the results.
 */
import {
  formatDuration as formatSeconds,
  type CellResult,
  type PhaseTime,
  type RunResults
} from '../results/results.js'
import { ellipsis } from '../text/text.js'
import { escapeHtml } from './escape.js'

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

/** The gantt block, or '' when no cell has phases. */
export function mermaidTimeline(results: RunResults): string {
  const cells = results.cells.filter(c => (c.phases ?? []).length > 0)
  if (cells.length === 0) return ''
  const all = cells.flatMap(c => (c.phases ?? []).map(ms))
  const span = Math.max(...all.map(p => p.end)) - Math.min(...all.map(p => p.start))
  const lines = [
    '```mermaid',
    'gantt',
    '  dateFormat x',
    // read after the run: no line for today
    '  todayMarker off',
    `  axisFormat ${span >= 3600_000 ? '%H:%M' : '%H:%M:%S'}`
  ]
  let n = 0
  for (const c of cells) {
    lines.push(`  section ${mermaidName(`${c.id}${c.emulated ? ' (QEMU)' : ''}`)}`)
    let attempt = -1
    for (const p of c.phases ?? []) {
      const { start, end } = ms(p)
      // each build begins an attempt; a retried attempt ended in a QEMU crash, in this phase
      if (p.phase === 'build') attempt++
      const crash = c.qemuCrashes?.[attempt]
      const crashed = crash !== undefined && crash.phase === p.phase
      const tag = crashed
        ? 'crit, '
        : p.phase === 'test'
          ? 'active, '
          : p.phase === 'push'
            ? 'done, '
            : ''
      const name = crashed ? `${p.phase} (QEMU crash)` : p.phase
      lines.push(`    ${name} :${tag}t${n++}, ${start}, ${Math.round(end)}`)
    }
  }
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
        `<tr><td>${escapeHtml(s.step)}</td><td><code>${escapeHtml(ellipsis(s.instruction, 120))}</code></td><td>${formatSeconds(s.seconds)}</td></tr>`
    )
  return (
    `<h3>Slowest build steps of ${escapeHtml(slowest.id)}${slowest.emulated ? ' (emulated)' : ''}, the slowest build (${formatSeconds(built(slowest))})</h3>\n` +
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
  const parts = [
    gantt === '' ? '' : `<h3>Timeline</h3>\n\n${gantt}\n\n`,
    slowestStepsTable(results),
    qemuCrashList(results)
  ]
  return parts.join('')
}
