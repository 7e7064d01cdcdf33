/**
 * The end of a CLI run, for a terminal: a distro x platform table of the cells (status, build and
 * test times), then what failed, with the failing tests' output and a failed build step's last
 * lines. Plain text, no workflow commands; secrets masked as in the log. Pure.
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

/** Every string in a value read from JSON through `mask` (a secret in it may be JSON-escaped). Pure. */
function maskStrings(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === 'string') return mask(value)
  if (Array.isArray(value)) return value.map(v => maskStrings(v, mask))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, mask)]))
  }
  return value
}

/**
 * What a CLI run prints when it has ended, from its outputs: the report and the published tags,
 * and the results output as JSON (for --json), each line ending in a newline. A test's output or
 * a build's last lines can hold a secret: every text goes through `mask`, as the log does.
 */
export function endOfRun(
  outputs: ReadonlyMap<string, string>,
  mask: (text: string) => string
): { report: string; json: string } {
  const results = outputs.get('results')
  if (results === undefined) return { report: '', json: '[]\n' }
  const cells = maskStrings(JSON.parse(results), mask) as CellResult[]
  const tags = outputs.get('tags') ?? ''
  const published = tags === '' ? '' : `\nPublished:\n${tags.replace(/^/gm, '  ')}\n`
  return {
    report: mask(`${terminalReport(cells)}\n${published}`),
    json: `${mask(JSON.stringify(cells))}\n`
  }
}
