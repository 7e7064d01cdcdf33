/**
 * The end of a CLI run, for a terminal: a distro x platform table of the cells (status, build and
 * test times), then what failed, with the failing tests' output and a failed build step's last
 * lines. Plain text, no workflow commands. Pure.
 */
import type { CellResult } from '../results/results.js'

const STATUS: Record<CellResult['status'], string> = {
  passed: 'passed',
  unchanged: 'unchanged',
  failed: 'FAILED',
  cancelled: 'cancelled'
}
/** Output lines of a failed test shown here (the log has more with --verbose) */
const OUTPUT_LINES = 30

function cellText(c: CellResult | undefined): string {
  if (c === undefined) return ''
  if (c.reused !== undefined) return `${STATUS[c.status]} (reused)`
  const emulated = c.emulated ? ', QEMU' : ''
  return `${STATUS[c.status]} (build ${c.buildSeconds} s, tests ${c.testSeconds} s${emulated})`
}

/** Columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [line(rows[0]), widths.map(w => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)]
}

export function terminalReport(cells: readonly CellResult[]): string {
  const distros = [...new Set(cells.map(c => c.distro))]
  const platforms = [...new Set(cells.map(c => c.platform))]
  const rows = [
    ['distro', ...platforms],
    ...distros.map(d => [
      d,
      ...platforms.map(p => cellText(cells.find(c => c.distro === d && c.platform === p)))
    ])
  ]
  const out = ['', ...table(rows)]
  for (const c of cells.filter(x => x.status === 'failed')) {
    out.push('', `${c.id} FAILED: ${c.failure ?? 'failed'}`)
    for (const t of c.tests.filter(x => x.status !== 'passed')) {
      out.push(`  test "${t.name}" ${t.status}: ${t.reason ?? ''}`)
      const lines = t.output.split('\n').filter(l => l !== '')
      out.push(...lines.slice(-OUTPUT_LINES).map(l => `    | ${l}`))
    }
    if (c.failedStep !== undefined) {
      out.push(`  ${c.failedStep.step}, its last lines:`)
      out.push(...c.failedStep.tail.map(l => `    | ${l}`))
    }
  }
  return out.join('\n')
}
