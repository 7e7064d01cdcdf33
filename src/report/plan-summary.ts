/** The job summary of a dry run: the plan as a table. */
import type { Plan } from '../plan/planner.js'
import { escapeHtml } from './escape.js'

export function planSummary(plan: Plan, warnings: readonly string[]): string {
  const rows = plan.cells
    .map(
      c =>
        `<tr><td>${escapeHtml(c.distro)}</td><td>${escapeHtml(c.platform)}</td>` +
        `<td>${c.emulated ? 'emulated' : 'native'}</td><td><code>${escapeHtml(c.baseImage)}</code></td>` +
        `<td>${c.tests.length}</td></tr>`
    )
    .join('\n')
  const tags = plan.manifests
    .map(
      m =>
        `<li>${escapeHtml(m.distro)}: ${m.tags.map(t => `<code>${escapeHtml(t)}</code>`).join(', ')}</li>`
    )
    .join('\n')
  const notes = warnings.length
    ? `<p>Warnings:</p><ul>${warnings.map(w => `<li>${escapeHtml(w)}</li>`).join('')}</ul>\n`
    : ''
  return (
    `<h2>ros-multiarch: plan (dry run)</h2>\n` +
    `<p>${plan.cells.length} cells for ${[plan.image, ...plan.mirrors].map(i => `<code>${escapeHtml(i)}</code>`).join(' and ')}; push ${plan.push ? 'on' : 'off'}; nothing was built.</p>\n` +
    `<table><tr><th>distro</th><th>platform</th><th>run</th><th>base image</th><th>tests</th></tr>\n${rows}\n</table>\n` +
    `<p>Tags each distro would publish:</p><ul>\n${tags}\n</ul>\n${notes}`
  )
}
