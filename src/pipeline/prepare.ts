/**
 * Phase 2, prepare: everything decided before the first build. Preflight (every base image holds
 * every platform it is needed for), each cell's build fingerprint, which cells are unchanged since
 * their last publish (reused, not built), and each cell's build cache.
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Attestations, Config } from '../inputs/config.js'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { fingerprint, type Fingerprint } from '../plan/fingerprint.js'
import type { Cell, Plan } from '../plan/planner.js'
import { formatDuration } from '../results/results.js'
import { hashContext } from '../tooling/context.js'
import type { Registries } from '../registry/registries.js'
import type { Docker } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import { prepareCache, type CellCache } from './cache.js'
import { cancellableCache, stopIfCancelled, type PipelineDeps } from './deps.js'
import { baseNeeds, checkBases, type BaseDigests } from './preflight.js'
import { PROJECTED_WARNING_SECONDS, projectEmulated, readmeLink, wayOut } from './progress.js'
import { attestText, type Setup } from './setup.js'
import { findUnchanged, type Reuse } from './unchanged.js'

export interface Prepared {
  /** Per cell id: what its image is made from */
  readonly fingerprints: ReadonlyMap<string, Fingerprint>
  /** Per cell id: the published image it reuses (those cells are not built) */
  readonly reuse: ReadonlyMap<string, Reuse>
  /** Per cell id: its build cache arguments */
  readonly caches: ReadonlyMap<string, CellCache>
  /** Per cell id: the base images it builds from (their repositories are tried for blob mounts) */
  readonly bases: ReadonlyMap<string, readonly string[]>
}

export async function prepare(
  config: Config,
  plan: Plan,
  setup: Setup,
  docker: Docker,
  registries: Registries,
  d: PipelineDeps
): Promise<Prepared> {
  const { dockerfile, bases } = await preflight(config, plan, docker, registries, d)
  stopIfCancelled(d.signal, 'preflight')
  const fingerprints = await fingerprintCells(config, plan, dockerfile, bases, setup.attest, d)
  const reuse = await unchanged(
    config,
    plan,
    fingerprints,
    registries,
    setup.attest !== undefined,
    d
  )
  stopIfCancelled(d.signal, 'the search for unchanged images')
  const caches = await prepareCache({
    config,
    cells: plan.cells.filter(c => !reuse.has(c.id)),
    push: plan.push,
    imagePath: config.image.path,
    builder: setup.builder,
    store: setup.engine.store,
    docker,
    env: d.rt.env,
    // a fixed folder: @actions/cache restores to the very path it saved
    root: path.join(d.rt.env.RUNNER_TEMP || os.tmpdir(), 'ros-multiarch-buildcache'),
    fingerprints,
    service: cancellableCache(d),
    log: m => d.rt.info(m),
    warn: m => d.rt.warning(m)
  })
  stopIfCancelled(d.signal, 'the build cache restore')
  const baseImages = new Map([...bases].map(([id, list]) => [id, list.map(b => b.image)]))
  return { fingerprints, reuse, caches, bases: baseImages }
}

/** The Dockerfile's bases, checked in their registries, and their digests per cell. */
async function preflight(
  config: Config,
  plan: Plan,
  docker: Docker,
  registries: Registries,
  d: PipelineDeps
): Promise<{ dockerfile: string; bases: BaseDigests }> {
  return d.rt.group('Preflight: base images hold every platform', async () => {
    let dockerfile: string
    try {
      dockerfile = await readFile(config.file, 'utf8')
    } catch {
      throw new InputError(
        Inputs.File,
        `cannot read ${config.file}; give the Dockerfile's path (default <context>/Dockerfile)`
      )
    }
    let needs
    try {
      needs = baseNeeds(dockerfile, plan.cells, d.hostPlatform)
    } catch (error) {
      throw new InputError(Inputs.File, `${config.file}: ${errorMessage(error)}`)
    }
    return { dockerfile, bases: await checkBases(needs, docker, registries, m => d.rt.info(m)) }
  })
}

async function fingerprintCells(
  config: Config,
  plan: Plan,
  dockerfile: string,
  bases: BaseDigests,
  attest: Attestations | undefined,
  d: PipelineDeps
): Promise<Map<string, Fingerprint>> {
  const contextHash = await hashContext(config.context, d.signal)
  const inputs = {
    dockerfile,
    contextHash,
    userLabels: config.labels,
    network: config.network,
    smokeNetwork: config.smokeNetwork,
    ...(attest === undefined ? {} : { attestations: attestText(attest) })
  }
  return new Map(
    plan.cells.map(cell => [cell.id, fingerprint(cell, bases.get(cell.id) ?? [], inputs)])
  )
}

/** Cells whose published image was made from the same inputs: only when pushing, pulling, not forced. */
async function unchanged(
  config: Config,
  plan: Plan,
  fingerprints: ReadonlyMap<string, Fingerprint>,
  registries: Registries,
  attested: boolean,
  d: PipelineDeps
): Promise<Map<string, Reuse>> {
  if (!plan.push) return new Map()
  if (config.force) {
    d.rt.info(
      'force: every cell is rebuilt and retested, even when its published image is unchanged'
    )
    return new Map()
  }
  if (!config.pull) {
    d.rt.info(
      'pull is off: every cell is rebuilt (a local copy of a base may differ from the registry digest a reuse is judged by)'
    )
    return new Map()
  }
  const previous = new Map<string, number>()
  const reuse = await d.rt.group('Skip unchanged: compare with the published images', () =>
    findUnchanged(
      plan.image,
      plan.manifests,
      plan.cells,
      fingerprints,
      registries,
      m => d.rt.info(m),
      previous,
      attested
    )
  )
  projectionWarning(
    config,
    plan.cells.filter(c => !reuse.has(c.id)),
    previous,
    d
  )
  return reuse
}

/** From the published images' emulated times: this run's, and a warning when beyond 5 hours. */
function projectionWarning(
  config: Config,
  building: readonly Cell[],
  previous: ReadonlyMap<string, number>,
  d: PipelineDeps
): void {
  const limit = config.maxParallel ?? d.rt.cpus
  const p = projectEmulated(building, previous, limit)
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
