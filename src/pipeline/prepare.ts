/**
 * Phase 2, prepare: everything decided before the first build. Preflight (every base image holds
 * every platform it is needed for), each cell's build fingerprint, which cells are unchanged since
 * their last publish (reused, not built), and each cell's build cache.
 */
import type { Attestations } from '../plan/settings.js'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { fingerprint } from '../plan/fingerprint.js'
import { formatDuration } from '../results/results.js'
import { hashContext } from '../tooling/context.js'
import { errorMessage } from '../text/text.js'
import { prepareCache } from './cache.js'
import { Mounts } from './mounts.js'
import { cancellableCache, stopIfCancelled } from './deps.js'
import { baseNeeds, checkBases } from './preflight.js'
import { PROJECTED_WARNING_SECONDS, projectEmulated, readmeLink, wayOut } from './progress.js'
import type { Run } from './run.js'
import { attestText, type Setup } from './setup.js'
import { findUnchanged } from './unchanged.js'

/** Prepare the cells; the cache mounts the run carries, restored into the builder (null: none). */
export async function prepare(run: Run, setup: Setup): Promise<Mounts | null> {
  const { signal } = run.deps
  const dockerfile = await preflight(run)
  stopIfCancelled(signal, 'preflight')
  await fingerprintCells(run, dockerfile, setup.attest)
  await unchanged(run, setup.attest !== undefined)
  stopIfCancelled(signal, 'the search for unchanged images')
  const mounts = await Mounts.find(run, setup, dockerfile)
  await prepareCache({
    settings: run.settings.cache,
    jobs: run.jobs.filter(j => j.reuse === undefined),
    push: run.plan.push,
    builder: setup.builder,
    store: setup.engine.store,
    docker: run.docker,
    env: run.deps.rt.env,
    // a fixed folder: @actions/cache restores to the very path it saved
    root: path.join(run.deps.rt.env.RUNNER_TEMP || os.tmpdir(), 'ros-multiarch-buildcache'),
    service: cancellableCache(run.deps),
    mounts: mounts !== null,
    log: run.log,
    warn: run.warn
  })
  stopIfCancelled(signal, 'the build cache restore')
  if (mounts !== null) {
    await run.deps.rt.group('Cache mounts: restore into the builder', () => mounts.restore())
    stopIfCancelled(signal, 'the cache mounts restore')
  }
  return mounts
}

/** The Dockerfile, and its bases checked in their registries: each cell's `bases`. */
async function preflight(run: Run): Promise<string> {
  const { file } = run.settings.build
  return run.deps.rt.group('Preflight: base images hold every platform', async () => {
    let dockerfile: string
    try {
      dockerfile = await readFile(file, 'utf8')
    } catch {
      throw new InputError(
        Inputs.File,
        `cannot read ${file}; give the Dockerfile's path (default <context>/Dockerfile)`
      )
    }
    let needs
    try {
      needs = baseNeeds(dockerfile, run.jobs, run.deps.hostPlatform)
    } catch (error) {
      throw new InputError(Inputs.File, `${file}: ${errorMessage(error)}`)
    }
    await checkBases(needs, run)
    return dockerfile
  })
}

/** Each cell's `fingerprint`: what its image is made from. */
async function fingerprintCells(
  run: Run,
  dockerfile: string,
  attest: Attestations | undefined
): Promise<void> {
  const { build, testNetwork } = run.settings
  const contextHash = await hashContext(build.context, run.deps.signal)
  const inputs = {
    dockerfile,
    contextHash,
    userLabels: build.userLabels,
    network: build.network,
    smokeNetwork: testNetwork,
    ...(attest === undefined ? {} : { attestations: attestText(attest) })
  }
  for (const job of run.jobs) job.fingerprint = fingerprint(job.cell, job.bases, inputs)
}

/** Cells whose published image was made from the same inputs: only when pushing, pulling, not forced. */
async function unchanged(run: Run, attested: boolean): Promise<void> {
  const { rt } = run.deps
  if (!run.plan.push) return
  if (run.settings.force) {
    rt.info('force: every cell is rebuilt and retested, even when its published image is unchanged')
    return
  }
  if (!run.settings.build.pull) {
    rt.info(
      'pull is off: every cell is rebuilt (a local copy of a base may differ from the registry digest a reuse is judged by)'
    )
    return
  }
  await rt.group('Skip unchanged: compare with the published images', () =>
    findUnchanged(run.distros, {
      image: run.plan.image,
      registries: run.registries,
      log: run.log,
      attested
    })
  )
  projectionWarning(run)
}

/** From the published images' emulated times: this run's, and a warning when beyond 5 hours. */
function projectionWarning(run: Run): void {
  const d = run.deps
  const limit = run.settings.pool.maxParallel ?? d.rt.cpus
  const building = run.jobs
    .filter(j => j.reuse === undefined)
    .map(j => ({ id: j.cell.id, emulated: j.cell.emulated, took: j.previousEmulated }))
  const p = projectEmulated(building, limit)
  if (p === undefined) return
  const text = `about ${formatDuration(p.seconds)} (their last builds under emulation: ${p.known}; max-parallel ${limit})`
  if (p.seconds <= PROJECTED_WARNING_SECONDS) {
    d.rt.info(`Projected emulated time of this run: ${text}`)
    return
  }
  d.rt.warning(
    `Projected emulated time of this run: ${text}, beyond 5 hours. ${wayOut(readmeLink(d.rt.env))}`
  )
}
