/**
 * Phase 5, finish: keep the build caches of the cells that built (cache: local), and put the
 * run's results together, cell by cell and distro by distro, in plan order.
 */
import type { Config } from '../inputs/config.js'
import type { Plan } from '../plan/planner.js'
import type { CellResult, DistroResult, RunResults } from '../results/results.js'
import { saveLocalCaches } from './cache.js'
import { cancellableCache, type PipelineDeps } from './deps.js'
import type { Prepared } from './prepare.js'
import { phaseTimes, type PhaseSpan } from './progress.js'
import type { PublishOutcome } from './publishing.js'

export async function saveCaches(
  config: Config,
  prepared: Prepared,
  cells: ReadonlyMap<string, CellResult>,
  d: PipelineDeps
): Promise<void> {
  if (config.cache !== 'local' || d.signal?.aborted) return
  const built = new Set([...cells.values()].filter(r => r.imageId !== undefined).map(r => r.id))
  await saveLocalCaches(
    built,
    prepared.caches,
    cancellableCache(d),
    m => d.rt.info(m),
    m => d.rt.warning(m)
  )
}

/** The results of a run, in plan order, each cell with the image it pushed. */
export function results(
  plan: Plan,
  cells: ReadonlyMap<string, CellResult>,
  published: PublishOutcome,
  seconds: number,
  timeline: readonly PhaseSpan[] = []
): RunResults {
  return {
    cells: plan.cells.map(c => {
      const result = cells.get(c.id) as CellResult
      const pushed = published.pushed.get(c.id)
      const phases = phaseTimes(timeline, c.id)
      return {
        ...result,
        ...(pushed === undefined ? {} : { pushed }),
        ...(phases.length === 0 ? {} : { phases })
      }
    }),
    distros: plan.manifests.map(m => published.distros.get(m.distro) as DistroResult),
    seconds: Math.round(seconds * 10) / 10
  }
}
