/** The job summary of a real run: a distro x platform table, then the failures in detail. */
import type { Plan } from '../plan/planner.js'
import { escapeHtml } from './escape.js'
import {
  cellOk,
  type CellResult,
  type DistroResult,
  type MountStep,
  type RunResults
} from '../results/results.js'
import { duration, formatSize, shortDigest } from './format.js'
import { timelineSummary } from './timeline.js'

/** GitHub keeps at most 1 MiB of summary per step; stay well below. */
export const SUMMARY_LIMIT = 512 * 1024
const OUTPUT_LIMIT = 4000
/** Failed tests shown per cell: a cell's block then always fits in the summary. */
const TESTS_SHOWN = 10

const ICON: Record<CellResult['status'], string> = {
  passed: '✅ passed',
  unchanged: '♻️ unchanged',
  failed: '❌ failed',
  cancelled: '⏹️ cancelled'
}

function cellHtml(c: CellResult | undefined): string {
  if (c === undefined) return '<td></td>'
  const lines = [
    ICON[c.status],
    c.reused
      ? `${c.status === 'unchanged' ? 'reused from' : 'tested by its build job:'} <code>${escapeHtml(c.reused.from)}</code>`
      : c.buildSeconds === 0 && c.tests.length === 0 && c.failure !== undefined
        ? escapeHtml(c.failure.split(':')[0])
        : `build ${duration(c.buildSeconds)}, tests ${duration(c.testSeconds)}${c.emulated ? ' (emulated)' : ''}`,
    (c.retries ?? 0) > 0
      ? `🔁 run ${c.retries === 1 ? 'again' : `${c.retries} more times`} after a QEMU crash`
      : '',
    formatSize(c.size),
    c.pushed ? `<code>${escapeHtml(shortDigest(c.pushed.digest))}</code>` : '',
    c.pushed?.attestations
      ? `attested: ${escapeHtml([...new Set(c.pushed.attestations)].join(', '))}`
      : ''
  ].filter(l => l !== '')
  return `<td>${lines.join('<br>')}</td>`
}

/** A tag of the run's image as `:humble` (the image is named once, above the table). */
function tagHtml(image: string, ref: string): string {
  const tag = ref.startsWith(`${image}:`) ? ref.slice(image.length) : ref
  return `<code>${escapeHtml(tag)}</code>`
}

/** Several registries: what each holds of the distro, one line each. */
function registriesHtml(d: DistroResult): string[] {
  return (d.registries ?? []).map(r => {
    const mark = r.failed ? '❌' : r.state === 'published' || r.state === 'unchanged' ? '✅' : '⚪'
    return `${mark} <code>${escapeHtml(r.image)}</code>: ${escapeHtml(r.state)}`
  })
}

/**
 * The published column: the first image name's tags and a short digest, narrow enough for the
 * page, and with several registries, what each one holds.
 */
function publishedHtml(image: string, d: DistroResult | undefined): string {
  const own = (d?.tags ?? []).filter(t => d?.registries === undefined || t.startsWith(`${image}:`))
  const tags = own.map(t => tagHtml(image, t))
  if (d?.status === 'published') {
    const lines = d.unchanged ? ['unchanged, already published:', ...tags] : tags
    if (d.digest !== undefined) lines.push(`<code>${escapeHtml(shortDigest(d.digest))}</code>`)
    return [...lines, ...registriesHtml(d)].join('<br>')
  }
  if (d?.status === 'publish failed' && d.registries !== undefined) {
    return [escapeHtml(d.reason ?? d.status), ...registriesHtml(d)].join('<br>')
  }
  if (d?.status === 'staged') return ['staged for the merge job:', ...tags].join('<br>')
  return escapeHtml(d?.status === 'tested' ? 'tested, push off' : (d?.reason ?? d?.status ?? ''))
}

/**
 * Each published index by its full digest, as a reference to pull or pin, under a comment line
 * naming its distro: a block to copy from, which scrolls by itself should a line not fit.
 */
function digestsHtml(images: readonly string[], results: RunResults): string {
  const lines = results.distros
    .filter(d => d.status === 'published' && d.digest !== undefined)
    .map(d =>
      escapeHtml([`# ${d.distro}`, ...images.map(i => `${i}@${d.digest ?? ''}`)].join('\n'))
    )
  if (lines.length === 0) return ''
  return `<p>Each published index by its digest:</p>\n<pre>${lines.join('\n')}</pre>\n`
}

/** `, and <code>ghcr.io/acme/robot</code> (several registries ...)`: the other image names. Pure. */
function alsoIn(mirrors: readonly string[]): string {
  if (mirrors.length === 0) return ''
  return `, and ${mirrors.map(m => `<code>${escapeHtml(m)}</code>`).join(', ')} (several registries: all or nothing)`
}

export function resultsSummary(plan: Plan, results: RunResults): string {
  const head = `<tr><th>distro</th>${plan.platforms.map(p => `<th>${escapeHtml(p)}</th>`).join('')}<th>published</th></tr>`
  const rows = plan.manifests.map(m => {
    const cells = plan.platforms.map(p =>
      cellHtml(results.cells.find(c => c.distro === m.distro && c.platform === p))
    )
    const d = results.distros.find(x => x.distro === m.distro)
    return `<tr><td>${escapeHtml(m.distro)}</td>${cells.join('')}<td>${publishedHtml(plan.image, d)}</td></tr>`
  })
  const failures = results.cells
    .filter(c => c.status === 'failed')
    .map(c => {
      const bad = c.tests.filter(t => t.status !== 'passed')
      const failedTests = bad
        .slice(0, TESTS_SHOWN)
        .map(
          t =>
            `<p><b>${escapeHtml(t.name)}</b> (${escapeHtml(t.source)}) ${escapeHtml(t.status)}: ${escapeHtml(t.reason ?? '')}</p>\n` +
            `<pre>${escapeHtml(t.output.slice(-OUTPUT_LIMIT)) || '(no output)'}</pre>`
        )
      if (bad.length > TESTS_SHOWN) {
        failedTests.push(`<p>${bad.length - TESTS_SHOWN} more failed tests: see the log.</p>`)
      }
      const log = c.buildLog ? `<pre>${escapeHtml(c.buildLog.slice(-OUTPUT_LIMIT))}</pre>` : ''
      return (
        `<details><summary>❌ ${escapeHtml(c.id)}: ${escapeHtml(c.failure ?? 'failed')}</summary>\n\n` +
        `${failedTests.join('\n')}${log}\n</details>`
      )
    })
  const passed = results.cells.filter(c => cellOk(c.status)).length
  const unchanged = results.cells.filter(c => c.status === 'unchanged').length
  const kept = unchanged > 0 ? ` (${unchanged} unchanged: reused, not rebuilt)` : ''
  const top =
    `<h2>ros-multiarch: ${passed} of ${results.cells.length} cells passed${kept} in ${duration(results.seconds)}</h2>\n` +
    `<p>Image <code>${escapeHtml(plan.image)}</code>${alsoIn(plan.mirrors)}</p>\n` +
    `<table>${head}\n${rows.join('\n')}\n</table>\n` +
    digestsHtml([plan.image, ...plan.mirrors], results) +
    signaturesHtml(results) +
    mountsHtml(results) +
    timelineSummary(results)
  if (failures.length === 0) return top
  return withinLimit(`${top}<h3>Failures</h3>\n`, failures)
}

/** What one step did with a cache mount, in a table cell. */
function mountStepHtml(step: MountStep<string> | undefined): string {
  if (step === undefined) return ''
  const label = MOUNT_OUTCOME[step.outcome]
  const size = step.bytes === undefined ? '' : ` ${formatSize(step.bytes)}`
  const took = step.seconds === undefined ? '' : duration(step.seconds)
  // "restored 41.2 MB in 3.1s"; an outcome that moved nothing: "none saved yet (0.4s)"
  const time = took === '' ? '' : label === undefined ? ` in ${took}` : ` (${took})`
  const why = step.reason === undefined ? '' : `: ${escapeHtml(step.reason)}`
  const icon = step.outcome === 'failed' || step.outcome === 'too large' ? '⚠️ ' : ''
  return `${icon}${escapeHtml(label ?? step.outcome)}${size}${time}${why}`
}

/** How the table words the outcomes that moved nothing. */
const MOUNT_OUTCOME: Readonly<Record<string, string>> = {
  none: 'none saved yet',
  kept: 'kept: the builder held it',
  unchanged: 'unchanged, not sent again:'
}

/**
 * The cache mounts carried between runs: per mount, what was restored and saved, and for which
 * cells. A mount the cells share is restored and saved once: one row names all of its cells.
 */
function mountsHtml(results: RunResults): string {
  const rows = new Map<string, { cells: string[]; html: string }>()
  for (const c of results.cells) {
    for (const m of c.mounts ?? []) {
      const html =
        `<td><code>${escapeHtml(m.id)}</code> at <code>${escapeHtml(m.target)}</code></td>` +
        `<td>${mountStepHtml(m.restore)}</td><td>${mountStepHtml(m.save)}</td>`
      const row = rows.get(html) ?? { cells: [], html }
      row.cells.push(escapeHtml(c.id))
      rows.set(html, row)
    }
  }
  if (rows.size === 0) return ''
  const lines = [...rows.values()].map(r => `<tr><td>${r.cells.join('<br>')}</td>${r.html}</tr>`)
  return (
    `<h3>Cache mounts</h3>\n<p>The Dockerfile's cache mounts, carried from run to run: put into the builder before the builds, saved after the tests passed.</p>\n` +
    `<table><tr><th>cells</th><th>mount</th><th>before the build</th><th>after the tests</th></tr>\n${lines.join('\n')}\n</table>\n`
  )
}

/** How to verify each signed index, with the command a user copies. */
function signaturesHtml(results: RunResults): string {
  const signed = results.distros.filter(d => d.signature !== undefined)
  if (signed.length === 0) return ''
  const commands = signed.map(d => escapeHtml(d.signature?.verify ?? '')).join('\n')
  return (
    `<h3>Signatures</h3>\n<p>Each published index is signed with cosign, and its signature was verified right after. To verify it yourself:</p>\n` +
    `<pre>${commands}</pre>\n` +
    (commands.includes('--key=cosign.pub')
      ? `<p><code>cosign.pub</code> is the public key of <code>cosign-key</code>: the log prints it, and <code>cosign public-key --key cosign.key</code> makes it.</p>\n`
      : '')
  )
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

/**
 * The head and as many whole failure blocks as fit in SUMMARY_LIMIT bytes (GitHub counts bytes),
 * then a line on what was left out: never a block, tag or entity cut in two.
 */
function withinLimit(head: string, blocks: readonly string[]): string {
  const note = (n: number): string =>
    `<p>${n} more failure${n === 1 ? '' : 's'} not shown here (the job summary has a size limit); the log has every one.</p>\n`
  let html = head
  let used = bytes(head)
  for (const [i, block] of blocks.entries()) {
    const size = bytes(block) + 1
    const left = blocks.length - i - 1
    // room for this block, and for the note should a later one not fit
    const reserve = left > 0 ? bytes(note(left)) : 0
    if (used + size + reserve > SUMMARY_LIMIT) return html + note(blocks.length - i)
    html += `${block}\n`
    used += size
  }
  return html
}
