/** What a run did, cell by cell and distro by distro: the `results` output and the summary's source. */
import type { AttestationEntry } from '../oci/manifest.js'
import type { TestResult } from '../smoke/runner.js'
import type { StepTime } from '../tooling/progress.js'

export type Phase = 'build' | 'test' | 'push'

/** One phase of a cell: when it started and how long it took (a retried cell has more). */
export interface PhaseTime {
  readonly phase: Phase
  /** ISO 8601 */
  readonly start: string
  readonly seconds: number
}

/** QEMU crashed in an emulated cell: the phase and QEMU's own line. */
export interface QemuCrash {
  readonly phase: 'build' | 'test'
  readonly signature: string
}

/** unchanged: the published image was made from the same inputs; reused, not rebuilt or retested */
export type CellStatus = 'passed' | 'unchanged' | 'failed' | 'cancelled'

/** A cell whose image may be published. */
export function cellOk(status: CellStatus): boolean {
  return status === 'passed' || status === 'unchanged'
}

/**
 * What pushing an image's layers cost, in bytes: read from the engine to be sent, compressed for
 * it, uploaded, mounted from another repository of the registry, and skipped (the repository
 * had them). The image's config and manifests, a few kB, are not counted.
 */
export interface Transfer {
  /** Who pushed: the engine (`docker push`), or the action's registry client (after `docker save`) */
  readonly by: 'engine' | 'client'
  readonly layers: number
  readonly read: number
  readonly compressed: number
  readonly uploaded: number
  readonly mounted: number
  readonly skipped: number
}

/** A tested image in the registry: the tag it was pushed under and its manifest digest. */
export interface PushedImage {
  readonly tag: string
  readonly digest: string
  /** What its attestation manifests hold: provenance, sbom */
  readonly attestations?: readonly string[]
  /** What pushing it cost (not for an image reused from the registry) */
  readonly transfer?: Transfer
  /** Several registries: the same arch tag in each other one (the same digest) */
  readonly mirrorTags?: readonly string[]
}

/**
 * What happened to one cache mount's contents before a step: where from or to, bytes, seconds
 * (fetched or read out, and into or out of the builder), or why nothing was done.
 */
export interface MountStep<Outcome extends string> {
  readonly outcome: Outcome
  readonly bytes?: number
  readonly seconds?: number
  /** A registry reference, an Actions cache key or a file */
  readonly where?: string
  readonly reason?: string
}

/** restored; kept: the builder held contents already; none: nothing saved yet; failed (a warning) */
export type RestoreOutcome = 'restored' | 'kept' | 'none' | 'failed'
/** unchanged: the same bytes as restored, not sent again; too large: over cache-mounts-max-size */
export type SaveOutcome = 'saved' | 'unchanged' | 'too large' | 'read only' | 'failed'

/** A cache mount of the cell's Dockerfile, carried between runs. */
export interface MountReport {
  readonly id: string
  readonly target: string
  readonly restore: MountStep<RestoreOutcome>
  /** After the cell passed its tests; absent when it did not */
  readonly save?: MountStep<SaveOutcome>
}

/** A published image a cell reuses (skip unchanged, or a merge job's slice). */
export interface Reuse {
  /** The tag it was found under */
  readonly from: string
  /** Its per-platform manifest digest */
  readonly digest: string
  /** What it took to build and test under emulation, when its index entry says */
  readonly emulatedSeconds?: number
  /** The attestation manifests about it in the index it came from: carried into the new one */
  readonly attestations?: readonly AttestationEntry[]
}

export interface CellResult {
  readonly id: string
  readonly distro: string
  readonly platform: string
  readonly emulated: boolean
  readonly status: CellStatus
  /** One line: what went wrong first */
  readonly failure?: string
  readonly buildSeconds: number
  readonly testSeconds: number
  /**
   * The tested image's config digest (what identifies it in any registry); built with
   * attestations, its manifest digest (the engine then keeps an index of it and them)
   */
  readonly imageId?: string
  /** The tested image's config digest, when the engine says it */
  readonly configDigest?: string
  /**
   * The tested image's manifest digest as the engine keeps it (the containerd image store); on
   * the classic store the manifest is made when the image is pushed: see `pushed`
   */
  readonly manifestDigest?: string
  /**
   * The tested image's ID in the engine: equal to imageId on the classic image store, its
   * manifest digest on the containerd image store (with attestations, the index's digest)
   */
  readonly localId?: string
  readonly size?: number
  readonly tests: readonly TestResult[]
  /** End of the build output when the build failed */
  readonly buildLog?: string
  /** The failing build step's name and last lines of output */
  readonly failedStep?: { readonly step: string; readonly tail: readonly string[] }
  /** Its phases in this run (push included), in order */
  readonly phases?: readonly PhaseTime[]
  /** The slowest build steps (at most 5), slowest first */
  readonly slowestSteps?: readonly StepTime[]
  /** QEMU crashes of this cell: each but a last unretried one was retried */
  readonly qemuCrashes?: readonly QemuCrash[]
  /** How many times the cell was run again after a QEMU crash */
  readonly retries?: number
  /** Where the tested image went: the arch tag and the per-platform manifest digest */
  readonly pushed?: PushedImage
  /** For an unchanged cell: the published image reused, and the tag it was found under */
  readonly reused?: Reuse
  /** Its cache mounts carried between runs (cache-mounts) */
  readonly mounts?: readonly MountReport[]
}

/** staged: mode build pushed this slice's cells under staging tags for the merge job */
export type DistroStatus = 'published' | 'staged' | 'tested' | 'failed' | 'publish failed'

export interface DistroResult {
  readonly distro: string
  readonly status: DistroStatus
  /** Tags published (empty unless published) */
  readonly tags: readonly string[]
  /** Digest of the published index */
  readonly digest?: string
  readonly reason?: string
  /** Published, and every tag already held this very index: nothing was pushed */
  readonly unchanged?: boolean
  /** The published index is signed (the signature verified): how a user verifies it */
  readonly signature?: { readonly verify: string }
  /** Several registries (image names): what each one holds of the distro, and which one failed */
  readonly registries?: readonly RegistryOutcome[]
}

/**
 * What one registry holds of a distro: published (its tags hold the index), unchanged (they held
 * it already), tags moved (some of them), or only what was written by digest: the index, the
 * images, nothing.
 */
export interface RegistryOutcome {
  readonly image: string
  readonly state:
    'nothing' | 'images by digest' | 'index by digest' | 'tags moved' | 'published' | 'unchanged'
  /** The registry the distro's publishing failed in */
  readonly failed?: true
}

export interface RunResults {
  readonly cells: readonly CellResult[]
  readonly distros: readonly DistroResult[]
  readonly seconds: number
}

/** The result of a cell that was not built or tested in this run (reused, merged, cancelled, ...). */
export function notRun(
  cell: Pick<CellResult, 'id' | 'distro' | 'platform' | 'emulated'>,
  outcome: Pick<CellResult, 'status' | 'failure' | 'reused'>
): CellResult {
  return {
    id: cell.id,
    distro: cell.distro,
    platform: cell.platform,
    emulated: cell.emulated,
    buildSeconds: 0,
    testSeconds: 0,
    tests: [],
    ...outcome
  }
}

export function failedCells(results: RunResults): CellResult[] {
  return results.cells.filter(c => !cellOk(c.status))
}

/** 83.4 -> `1m23s`, 4000 -> `1h06m40s`, 2.5 -> `2.5s`: a time as people read it. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(Math.max(0, seconds) * 10) / 10}s`
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return h > 0 ? `${h}h${pad(m)}m${pad(s % 60)}s` : `${m}m${pad(s % 60)}s`
}
