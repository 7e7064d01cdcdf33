/** The plan as people read it in the log. */
import { parseReference } from '../oci/reference.js'
import { phasesOf } from './settings.js'
import type { Plan } from './planner.js'

/** Left-aligned text columns, two spaces apart. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [line(head), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** The registry of an image name (checked already): `acme/robot` is on docker.io. Pure. */
function registryOf(name: string): string {
  const ref = parseReference(name)
  return typeof ref === 'string' ? name : ref.registry
}

export function renderPlan(plan: Plan): string {
  const distros = plan.manifests.length
  const header =
    `Plan: ${plan.cells.length} cells (${distros} distro${distros === 1 ? '' : 's'} x ` +
    `${plan.platforms.length} platform${plan.platforms.length === 1 ? '' : 's'}) for ${plan.image}, ` +
    `push ${plan.push ? `on, to ${[plan.image, ...plan.mirrors].map(registryOf).join(' and ')}` : 'off'}`
  const cells = table(
    ['cell', 'ROS', 'platform', 'expects', 'run', 'base image', 'tests'],
    plan.cells.map(c => [
      c.id,
      c.rosVersion === null ? '?' : String(c.rosVersion),
      c.platform,
      c.machines[0],
      c.emulated ? 'emulated' : 'native',
      c.baseImage,
      String(c.tests.length)
    ])
  )
  const manifests = table(
    ['distro', 'tags', 'from cells'],
    plan.manifests.map(m => [
      m.distro,
      m.tags.join(', ') || '(none in this run)',
      m.cells.join(', ')
    ])
  )
  const example = plan.cells[0]?.stageTag ?? ''
  const phases = phasesOf(plan.mode)
  const mode = !phases.build
    ? '\n\nmode merge: nothing is built; the tags above are published from the slices the build jobs staged.'
    : phases.outcome === 'stage'
      ? `\n\nmode build: each tested cell is pushed under a staging tag only (e.g. ${example}); the merge job publishes the tags above.`
      : ''
  return `${header}\n\n${cells}\n\n${manifests}${mode}`
}
