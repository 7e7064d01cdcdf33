/**
 * mode merge: find what the build slices of this workflow run staged, one staging tag per cell,
 * and check each is there, is a single image of the platform it claims, and was made by this
 * action for that distro (a slice pushes its staging tag only after the cell's tests passed).
 */
import type { Cell } from '../plan/planner.js'
import type { PublishOptions } from '../publish/publish.js'
import { INPUTS_HASH_LABEL } from '../plan/fingerprint.js'
import { LABEL_NAMESPACE } from '../plan/labels.js'
import { notRun, type CellResult } from '../results/results.js'
import { attestationsOf, indexEntries, type AttestationEntry } from '../oci/manifest.js'
import { printable } from '../text/text.js'
import type { Registries } from '../registry/registries.js'
import { errorMessage, lastLine } from '../text/text.js'
import { Publisher } from './publishing.js'
import type { CellJob, Run } from './run.js'

/**
 * The per-platform digest a staging tag holds (this version stages the image itself; earlier ones
 * staged a reused image as a one-entry index), or null when there is none.
 */
async function stagedDigest(
  cell: Cell,
  registries: Registries
): Promise<{ digest: string; attestations: AttestationEntry[] } | null> {
  const staged = await registries.manifest(cell.stageTag)
  if (staged === null) return null
  const entries = indexEntries(staged.body)
  if (entries === null) return { digest: staged.digest, attestations: [] }
  if (entries.length !== 1) {
    throw new Error(`it is an index of ${entries.length} images, not one slice`)
  }
  const { digest } = entries[0]
  // an image staged with its attestations: they go into the published index with it
  return { digest, attestations: attestationsOf(staged.body, digest) }
}

/** Why a staged image is not the slice it should be, or null. Pure. */
export function sliceProblem(
  cell: Pick<Cell, 'distro' | 'platform'>,
  platform: string,
  labels: Readonly<Record<string, string>>
): string | null {
  if (platform !== cell.platform) return `it is ${platform}, not ${cell.platform}`
  const distro = labels[`${LABEL_NAMESPACE}.ros.distro`]
  if (distro !== cell.distro)
    return `it was built for distro ${distro === undefined ? '(none)' : printable(distro, 40)}, not ${cell.distro}`
  if (labels[INPUTS_HASH_LABEL] === undefined) return 'it was not built by this action'
  return null
}

/** A cell's `result` from the slice its build job staged: passed (reused by digest), or why not. */
export async function collectSlice(
  job: CellJob,
  o: { readonly image: string; readonly registries: Registries }
): Promise<CellResult> {
  const { cell } = job
  let staged: { digest: string; attestations: AttestationEntry[] } | null
  let why = 'is not in the registry'
  try {
    staged = await stagedDigest(cell, o.registries)
  } catch (error) {
    staged = null
    why = `cannot be read (${lastLine(errorMessage(error))})`
  }
  if (staged === null) {
    return notRun(cell, {
      status: 'failed',
      failure: `slice missing: ${cell.stageTag} ${why}; did the build job for ${cell.distro} ${cell.platform} pass in this workflow run?`
    })
  }
  const { digest, attestations } = staged
  let problem: string | null
  try {
    const config = await o.registries.config(`${o.image}@${digest}`)
    problem = sliceProblem(cell, config.platform, config.labels)
  } catch (error) {
    problem = `its config cannot be read (${lastLine(errorMessage(error))})`
  }
  if (problem !== null) {
    return notRun(cell, {
      status: 'failed',
      failure: `slice ${cell.stageTag} is wrong: ${problem}`
    })
  }
  return notRun(cell, {
    status: 'passed',
    reused: { from: cell.stageTag, digest, ...(attestations.length === 0 ? {} : { attestations }) }
  })
}

/**
 * mode merge, in place of the cells and publish phases: collect the staged slices (each cell's
 * `result`), then publish each distro whose slices are all there and right.
 */
export async function mergeSlices(run: Run, o: PublishOptions): Promise<void> {
  const { rt } = run.deps
  await rt.group('Merge: the slices staged by the build jobs of this workflow run', async () => {
    const found = await Promise.all(
      run.jobs.map(j => collectSlice(j, { image: run.plan.image, registries: run.registries }))
    )
    for (const [i, r] of found.entries()) {
      run.jobs[i].result = r
      rt.info(
        r.status === 'passed'
          ? `${r.id}: ${r.reused?.from} ${r.reused?.digest}`
          : `${r.id}: ${r.failure}`
      )
    }
  })
  // no signal: a cancelled merge reports each distro as its stopped commands leave it
  const publisher = new Publisher(run, o, { unfit: r => `${r.id} missing or wrong` })
  for (const distro of run.distros) publisher.distroDone(distro)
  await publisher.finished()
}
