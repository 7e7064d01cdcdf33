/**
 * Phase 3, cells: build and test every cell that is not reused, at most max-parallel at once,
 * emulated cells first (they are the slowest). When a distro's last cell finishes, the publisher
 * is told at once. A cancelled run stops its test containers and starts no new cell; fail-fast
 * starts no new cell after a failure.
 */
import { notRun, type CellResult, type QemuCrash } from '../results/results.js'
import { Docker } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import type { StepTime } from '../tooling/progress.js'
import { runCell, slowest, type CellContext } from './cell.js'
import { addImage } from './cleanup.js'
import { runPool, type Pool } from './pool.js'
import type { Publisher } from './publishing.js'
import type { CellJob, Run } from './run.js'
import type { Setup } from './setup.js'

/** Cells to build (not reused), emulated first (they are the slowest). Pure. */
export function buildOrder(jobs: readonly CellJob[]): CellJob[] {
  return jobs
    .filter(j => j.reuse === undefined)
    .sort((a, b) => Number(b.cell.emulated) - Number(a.cell.emulated))
}

/**
 * Every cell's `result`: reused ones at once, the others built and tested in the pool. The
 * publisher hears of each distro as soon as its last cell ended.
 */
export async function runCells(run: Run, setup: Setup, publisher: Publisher): Promise<void> {
  const { rt, signal } = run.deps
  const distroOf = new Map(run.distros.flatMap(d => d.jobs.map(j => [j, d] as const)))
  const finish = (job: CellJob, result: CellResult): void => {
    job.result = result
    const distro = distroOf.get(job)
    if (distro?.jobs.every(j => j.result !== undefined)) publisher.distroDone(distro)
  }
  for (const job of run.jobs) {
    if (job.reuse !== undefined) {
      finish(job, notRun(job.cell, { status: 'unchanged', reused: job.reuse }))
    }
  }
  const order = buildOrder(run.jobs)
  const { failFast, maxParallel } = run.settings.pool
  const limit = maxParallel ?? rt.cpus
  const reused = run.jobs.length - order.length
  rt.info(
    `Running ${order.length} cells, ${limit} at a time${failFast ? ', fail-fast' : ''}` +
      (reused > 0 ? ` (${reused} unchanged, reused)` : '')
  )
  // Test containers running now: stopped at once when the run is cancelled.
  const running = new Set<string>()
  const cleanupDocker = new Docker(run.deps.cleanupExec)
  const onCancel = (): void => {
    rt.warning(
      `Cancelling: stopping ${running.size} running container(s); no new cell starts and nothing more is published.`
    )
    for (const name of running) void cleanupDocker.kill(name)
  }
  signal?.addEventListener('abort', onCancel, { once: true })
  const ctx = cellContext(run, setup, running)
  const cancelled = (job: CellJob, why: string): void =>
    finish(job, notRun(job.cell, { status: 'cancelled', failure: why }))
  run.board.startTicking()
  try {
    await runPool(
      order,
      limit,
      async (job, pool) => {
        if (signal?.aborted) {
          pool.stop()
          return cancelled(job, 'cancelled with the run')
        }
        finish(job, await runJob(job, ctx, pool))
      },
      job =>
        cancelled(
          job,
          signal?.aborted
            ? 'cancelled with the run'
            : 'cancelled by fail-fast after an earlier failure'
        )
    )
  } finally {
    run.board.stopTicking()
    signal?.removeEventListener('abort', onCancel)
  }
}

/** One cell in the pool: run (and run again after QEMU crashes); fail-fast and cancellation stop the pool. */
async function runJob(job: CellJob, ctx: CellContext, pool: Pool): Promise<CellResult> {
  let result: CellResult
  try {
    // no retry once fail-fast stopped the pool or the run was cancelled
    result = await runRetried(job, ctx, () => !pool.stopped)
  } catch (error) {
    result = notRun(job.cell, { status: 'failed', failure: errorMessage(error) })
  } finally {
    ctx.board.end(job.cell.id, true)
  }
  if (ctx.signal?.aborted) {
    pool.stop()
    result = { ...result, status: 'cancelled', failure: 'cancelled with the run' }
  }
  if (result.status !== 'passed' && ctx.failFast) pool.stop()
  return result
}

/**
 * One cell, run again (up to `retries` times) when QEMU itself crashed in it: QEMU's crash line in
 * the output of its failed build or smoke test. Any other failure stands.
 */
export async function runRetried(
  job: CellJob,
  ctx: CellContext,
  mayRetry: () => boolean = () => true
): Promise<CellResult> {
  const { cell } = job
  const retries = ctx.qemuRetries
  const crashes: QemuCrash[] = []
  const steps: StepTime[] = []
  let spent = { build: 0, test: 0 }
  for (let attempt = 0; ; attempt++) {
    const result = await runCell(job, ctx)
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
    if (ctx.signal?.aborted || !mayRetry()) {
      ctx.warn(
        `${crashed}; not run again: ${ctx.signal?.aborted ? 'the run was cancelled' : 'fail-fast stopped the run'}.`
      )
      return withCrashes
    }
    if (attempt >= retries) {
      ctx.warn(
        crashed +
          (retries === 0
            ? '; qemu-retries is 0: not retried.'
            : `, again after ${retries} retr${retries === 1 ? 'y' : 'ies'}: giving up.`)
      )
      return withCrashes
    }
    ctx.warn(
      `${crashed}; a crash of the emulator, not of the build: running the cell again (retry ${attempt + 1} of ${retries})`
    )
  }
}

function cellContext(run: Run, setup: Setup, running: Set<string>): CellContext {
  const d = run.deps
  return {
    docker: run.docker,
    running,
    build: run.settings.build,
    testNetwork: run.settings.testNetwork,
    builder: setup.builder,
    ...(setup.attest === undefined ? {} : { attest: setup.attest }),
    store: setup.engine.store,
    tempDir: d.tempDir,
    runTag: d.runTag,
    loading: tag => {
      if (addImage(d.cleanup, tag)) d.saveCleanup()
    },
    logBlock: (title, body) => d.rt.block(title, body),
    warn: run.warn,
    now: run.now,
    board: run.board,
    qemuRetries: run.settings.pool.qemuRetries,
    failFast: run.settings.pool.failFast,
    ...(d.signal === undefined ? {} : { signal: d.signal })
  }
}
