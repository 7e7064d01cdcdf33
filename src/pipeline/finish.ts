/**
 * Phase 5, finish: keep the build caches of the cells that built (cache: local) and the cache
 * mounts of the cells that passed, and put the
 * run's results together from the cell and distro records, in plan order.
 */
import { notRun, type DistroResult, type RunResults } from '../results/results.js'
import { saveLocalCaches } from './cache.js'
import { cancellableCache } from './deps.js'
import { mountReports, type Mounts } from './mounts.js'
import { phaseTimes } from './progress.js'
import type { Run } from './run.js'

export async function saveCaches(run: Run, mounts: Mounts | null): Promise<void> {
  if (run.deps.signal?.aborted) return
  if (run.settings.cache.kind === 'local') {
    await saveLocalCaches(run.jobs, {
      service: cancellableCache(run.deps),
      log: run.log,
      warn: run.warn
    })
  }
  if (mounts !== null) {
    await run.deps.rt.group('Cache mounts: save for the next run', () => mounts.save())
  }
}

/** The results of a run, in plan order, each cell with the image it pushed and its phases. */
export function results(run: Pick<Run, 'jobs' | 'distros' | 'board'>, seconds: number): RunResults {
  const timeline = run.board.timeline()
  return {
    cells: run.jobs.map(({ cell, result, pushed, mounts }) => {
      const phases = phaseTimes(timeline, cell.id)
      const carried = mountReports(mounts)
      return {
        // every cell ends with a result; one that did not (a run stopped by an error) says so
        ...(result ?? notRun(cell, { status: 'cancelled', failure: 'it did not run' })),
        ...(pushed === undefined ? {} : { pushed }),
        ...(phases.length === 0 ? {} : { phases }),
        ...(carried === undefined ? {} : { mounts: carried })
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
