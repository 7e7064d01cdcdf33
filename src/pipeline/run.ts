/**
 * The data of one run, as the phases share it:
 * - one Run context (the plan, the settings, the secrets, the outside world, the registry client,
 *   the progress board), handed to each phase in place of long argument lists;
 * - one record per cell (CellJob) that each phase adds to: preflight its bases, prepare its
 *   fingerprint, reuse and cache, the cells phase its result, publishing what it pushed;
 * - one record per distro (DistroJob): its manifest and its cells' records, in platform order.
 * Nothing is looked up by cell id in side maps.
 */
import type { BaseDigest, Fingerprint } from '../plan/fingerprint.js'
import type { Cell, Manifest, Plan } from '../plan/planner.js'
import { phasesOf, type Phases, type RunSettings, type Secrets } from '../plan/settings.js'
import type { Registries } from '../registry/registries.js'
import type { CellResult, DistroResult, PushedImage, Reuse } from '../results/results.js'
import type { Docker } from '../tooling/docker.js'
import type { CellCache } from './cache.js'
import type { CellMount } from './mounts.js'
import { registryClients, registryDocker, type PipelineDeps } from './deps.js'
import { ProgressBoard, readmeLink } from './progress.js'

/** What the main step hands the pipeline: the plan, and what it needs of the inputs. */
export interface RunInput {
  readonly plan: Plan
  readonly settings: RunSettings
  readonly secrets: Secrets
}

/** One cell of the plan, and what each phase found out about it. */
export interface CellJob {
  readonly cell: Cell
  /** preflight: the base images it builds from, with their digests (Dockerfile order) */
  bases: readonly BaseDigest[]
  /** prepare: what its image is made from */
  fingerprint?: Fingerprint
  /** prepare: the published image it reuses (it is then not built) */
  reuse?: Reuse
  /** prepare: what its published image took to build and test under emulation, when known */
  previousEmulated?: number
  /** prepare: its build cache */
  cache?: CellCache
  /** prepare: its cache mounts carried between runs (restored; saved in finish) */
  mounts?: CellMount[]
  /** cells (or merge): how it ended */
  result?: CellResult
  /** publish: the tag and digest its image went to */
  pushed?: PushedImage
}

/** One distro of the plan: its index's manifest and its cells, in platform order. */
export interface DistroJob {
  readonly manifest: Manifest
  readonly jobs: readonly CellJob[]
  /** publish: how it ended */
  result?: DistroResult
}

export interface Run extends RunInput {
  readonly deps: PipelineDeps
  /** Which phases this job runs (by its mode) */
  readonly phases: Phases
  /** docker for registry work: transient failures retried as the retry inputs say */
  readonly docker: Docker
  readonly registries: Registries
  /** Live progress lines and the timeline */
  readonly board: ProgressBoard
  /** Every cell, in plan order */
  readonly jobs: readonly CellJob[]
  readonly distros: readonly DistroJob[]
  /** Milliseconds, for the run's times */
  readonly now: () => number
  readonly log: (message: string) => void
  readonly warn: (message: string) => void
}

/** The context of a run, and a record for each of its cells and distros. */
export function openRun(input: RunInput, deps: PipelineDeps): Run {
  const jobs: CellJob[] = input.plan.cells.map(cell => ({ cell, bases: [] }))
  const jobOf = new Map(jobs.map(j => [j.cell.id, j]))
  const distros = input.plan.manifests.map(manifest => ({
    manifest,
    jobs: manifest.cells.map(id => jobOf.get(id)).filter(j => j !== undefined)
  }))
  const now = deps.now ?? Date.now
  return {
    ...input,
    deps,
    phases: phasesOf(input.plan.mode),
    docker: registryDocker(input.settings, deps),
    registries: registryClients(input, deps),
    board: progressBoard(input.settings, deps, now),
    jobs,
    distros,
    now,
    log: m => deps.rt.info(m),
    warn: m => deps.rt.warning(m)
  }
}

function progressBoard(settings: RunSettings, d: PipelineDeps, now: () => number): ProgressBoard {
  return new ProgressBoard({
    info: m => d.rt.info(m),
    // a terminal redraws each running cell's line, every second
    ...(d.rt.status === undefined
      ? {}
      : { status: (id: string, line: string | null) => d.rt.status?.(id, line) }),
    warning: m => d.rt.warning(m),
    now,
    intervalMs: d.rt.status === undefined ? 60_000 : 1_000,
    emulatedWarnMs: settings.pool.emulationWarning * 60_000,
    readme: readmeLink(d.rt.env)
  })
}

/** The cells whose result says they passed or were reused, with it. */
export function finished(job: CellJob): job is CellJob & { result: CellResult } {
  return job.result !== undefined
}
