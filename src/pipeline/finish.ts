/**
 * Phase 5, finish: keep the build caches of the cells that built (cache: local), and put the
 * run's results together from the cell and distro records, in plan order.
 */
import { notRun, type DistroResult, type RunResults } from '../results/results.js'
import { saveLocalCaches } from './cache.js'
import { cancellableCache } from './deps.js'
import { phaseTimes } from './progress.js'
import type { Run } from './run.js'

export async function saveCaches(run: Run): Promise<void> {
  if (run.settings.cache.kind !== 'local' || run.deps.signal?.aborted) return
  await saveLocalCaches(run.jobs, {
    service: cancellableCache(run.deps),
    log: run.log,
    warn: run.warn
  })
}

/** The results of a run, in plan order, each cell with the image it pushed and its phases. */
export function results(run: Pick<Run, 'jobs' | 'distros' | 'board'>, seconds: number): RunResults {
  const timeline = run.board.timeline()
  return {
    cells: run.jobs.map(({ cell, result, pushed }) => {
      const phases = phaseTimes(timeline, cell.id)
      return {
        // every cell ends with a result; one that did not (a run stopped by an error) says so
        ...(result ?? notRun(cell, { status: 'cancelled', failure: 'it did not run' })),
        ...(pushed === undefined ? {} : { pushed }),
        ...(phases.length === 0 ? {} : { phases })
      }
    }),
    distros: run.distros.map(
      (d): DistroResult =>
        d.result ?? {
          distro: d.manifest.distro,
          status: 'failed',
          tags: [],
          reason: 'not published: the run ended before it'
        }
    ),
    seconds: Math.round(seconds * 10) / 10
  }
}
