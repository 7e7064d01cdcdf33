/**
 * Phase 3, cells: build and test every cell that is not reused, at most max-parallel at once,
 * emulated cells first (they are the slowest). When a distro's last cell finishes, the publisher
 * is told at once. A cancelled run stops its test containers and starts no new cell; fail-fast
 * starts no new cell after a failure.
 */
import type { Config } from '../inputs/config.js'
import { fingerprintLabels, type Fingerprint } from '../plan/fingerprint.js'
import type { Cell, Plan } from '../plan/planner.js'
import { notRun, type CellResult, type QemuCrash } from '../results/results.js'
import { Docker } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import type { StepTime } from '../tooling/progress.js'
import { runCell, slowest, type CellContext } from './cell.js'
import { addImage } from './cleanup.js'
import type { PipelineDeps } from './deps.js'
import { runPool } from './pool.js'
import type { ProgressBoard } from './progress.js'
import type { Prepared } from './prepare.js'
import type { Publisher } from './publishing.js'
import type { Setup } from './setup.js'

/** Cells to build, emulated first, each with its fingerprint labels. Pure. */
export function buildOrder(
  cells: readonly Cell[],
  prepared: Pick<Prepared, 'fingerprints' | 'reuse'>
): Cell[] {
  return cells
    .filter(c => !prepared.reuse.has(c.id))
    .map(c => ({
      ...c,
      labels: [...c.labels, ...fingerprintLabels(prepared.fingerprints.get(c.id) as Fingerprint)]
    }))
    .sort((a, b) => Number(b.emulated) - Number(a.emulated))
}

export async function runCells(
  config: Config,
  plan: Plan,
  prepared: Prepared,
  setup: Setup,
  publisher: Publisher,
  docker: Docker,
  board: ProgressBoard,
  d: PipelineDeps
): Promise<Map<string, CellResult>> {
  const { rt, signal } = d
  const done = new Map<string, CellResult>()
  const finish = (result: CellResult): CellResult => {
    done.set(result.id, result)
    const manifest = plan.manifests.find(m => m.distro === result.distro)
    if (manifest?.cells.every(id => done.has(id))) {
      publisher.distroDone(
        manifest,
        manifest.cells.map(id => done.get(id) as CellResult)
      )
    }
    return result
  }
  for (const cell of plan.cells) {
    const found = prepared.reuse.get(cell.id)
    if (found !== undefined) finish(notRun(cell, { status: 'unchanged', reused: found }))
  }

  const order = buildOrder(plan.cells, prepared)
  const limit = config.maxParallel ?? rt.cpus
  rt.info(
    `Running ${order.length} cells, ${limit} at a time${config.failFast ? ', fail-fast' : ''}` +
      (prepared.reuse.size > 0 ? ` (${prepared.reuse.size} unchanged, reused)` : '')
  )
  // Test containers running now: stopped at once when the run is cancelled.
  const running = new Set<string>()
  const cleanupDocker = new Docker(d.cleanupExec)
  const onCancel = (): void => {
    rt.warning(
      `Cancelling: stopping ${running.size} running container(s); no new cell starts and nothing more is published.`
    )
    for (const name of running) void cleanupDocker.kill(name)
  }
  signal?.addEventListener('abort', onCancel, { once: true })
  const ctx = cellContext(config, prepared, setup, docker, running, board, d)
  const cancelled = (cell: Cell, why: string): CellResult =>
    finish(notRun(cell, { status: 'cancelled', failure: why }))
  board.startTicking()
  try {
    await runPool(
      order,
      limit,
      async (cell, pool) => {
        if (signal?.aborted) {
          pool.stop()
          return cancelled(cell, 'cancelled with the run')
        }
        let result: CellResult
        try {
          // no retry once fail-fast stopped the pool or the run was cancelled
          result = await runRetried(cell, ctx, config.qemuRetries, d, () => !pool.stopped)
        } catch (error) {
          result = notRun(cell, { status: 'failed', failure: errorMessage(error) })
        } finally {
          board.end(cell.id, true)
        }
        if (signal?.aborted) {
          pool.stop()
          result = { ...result, status: 'cancelled', failure: 'cancelled with the run' }
        }
        if (result.status !== 'passed' && config.failFast) pool.stop()
        return finish(result)
      },
      cell =>
        cancelled(
          cell,
          signal?.aborted
            ? 'cancelled with the run'
            : 'cancelled by fail-fast after an earlier failure'
        )
    )
  } finally {
    board.stopTicking()
    signal?.removeEventListener('abort', onCancel)
  }
  return done
}

/**
 * One cell, run again (up to `retries` times) when QEMU itself crashed in it: QEMU's crash line in
 * the output of its failed build or smoke test. Any other failure stands.
 */
export async function runRetried(
  cell: Cell,
  ctx: CellContext,
  retries: number,
  d: Pick<PipelineDeps, 'rt' | 'signal'>,
  mayRetry: () => boolean = () => true
): Promise<CellResult> {
  const crashes: QemuCrash[] = []
  const steps: StepTime[] = []
  let spent = { build: 0, test: 0 }
  for (let attempt = 0; ; attempt++) {
    const result = await runCell(cell, ctx)
    const crash = result.qemuCrashes?.[0]
    if (crash !== undefined) crashes.push(crash)
    // a retry takes the steps before the crash from the cache: they took their time before
    steps.push(...(result.slowestSteps ?? []))
    spent = { build: spent.build + result.buildSeconds, test: spent.test + result.testSeconds }
    const withCrashes =
      crashes.length === 0
        ? result
        : {
            ...result,
            qemuCrashes: crashes,
            retries: attempt,
            slowestSteps: slowest(steps),
            // the times of every attempt: what the cell cost the run
            buildSeconds: Math.round(spent.build * 10) / 10,
            testSeconds: Math.round(spent.test * 10) / 10
          }
    if (result.status !== 'failed' || crash === undefined) return withCrashes
    const crashed = `${cell.id}: QEMU crashed in the ${crash.phase === 'build' ? 'build' : 'smoke tests'} (${crash.signature})`
    if (d.signal?.aborted || !mayRetry()) {
      d.rt.warning(
        `${crashed}; not run again: ${d.signal?.aborted ? 'the run was cancelled' : 'fail-fast stopped the run'}.`
      )
      return withCrashes
    }
    if (attempt >= retries) {
      d.rt.warning(
        crashed +
          (retries === 0
            ? '; qemu-retries is 0: not retried.'
            : `, again after ${retries} retr${retries === 1 ? 'y' : 'ies'}: giving up.`)
      )
      return withCrashes
    }
    d.rt.warning(
      `${crashed}; a crash of the emulator, not of the build: running the cell again (retry ${attempt + 1} of ${retries})`
    )
  }
}

function cellContext(
  config: Config,
  prepared: Prepared,
  setup: Setup,
  docker: Docker,
  running: Set<string>,
  board: ProgressBoard,
  d: PipelineDeps
): CellContext {
  return {
    docker,
    running,
    file: config.file,
    context: config.context,
    network: config.network,
    pull: config.pull,
    smokeNetwork: config.smokeNetwork,
    builder: setup.builder,
    ...(setup.attest === undefined ? {} : { attest: setup.attest }),
    store: setup.engine.store,
    caches: prepared.caches,
    tempDir: d.tempDir,
    runTag: d.runTag,
    loading: tag => {
      if (addImage(d.cleanup, tag)) d.saveCleanup()
    },
    logBlock: (title, body) => d.rt.block(title, body),
    now: d.now ?? Date.now,
    board
  }
}
