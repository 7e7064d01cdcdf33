/**
 * Skip unchanged: before building, look for the image each cell would make among the images
 * already published under its distro's tags. A cell whose published image carries the same build
 * fingerprint (base digests and inputs hash) is neither rebuilt nor retested: it was tested before
 * it was pushed, and publishing reuses it by digest.
 */
import { mismatch } from '../plan/fingerprint.js'
import type { Manifest } from '../plan/planner.js'
import { attestationsOf, indexEntries, type PlatformEntry } from '../oci/manifest.js'
import { EMULATED_SECONDS } from '../plan/labels.js'
import type { Registries } from '../registry/registries.js'
import { errorMessage, lastLine } from '../text/text.js'
import type { CellJob, DistroJob } from './run.js'

/** An index entry's emulated build and test seconds, when its annotation has them. Pure. */
export function emulatedSeconds(entry: PlatformEntry): number | undefined {
  const text = entry.annotations?.[EMULATED_SECONDS]
  if (text === undefined || !/^\d{1,9}(\.\d{1,3})?$/.test(text)) return undefined
  return Number(text)
}

/** The published index of a distro: the first of its tags that exists and is an index. */
async function publishedIndex(
  manifest: Manifest,
  registries: Registries,
  log: (m: string) => void
): Promise<{ tag: string; entries: PlatformEntry[]; raw: string } | undefined> {
  for (const tag of manifest.tags) {
    let raw: string
    let entries: PlatformEntry[] | null
    try {
      const found = await registries.manifest(tag)
      if (found === null) {
        log(`${tag}: not published yet`)
        continue
      }
      raw = found.body
      entries = indexEntries(raw)
    } catch (error) {
      log(`${tag}: cannot be read (${lastLine(errorMessage(error))})`)
      continue
    }
    if (entries === null) {
      log(`${tag}: a single image, not an index made by this action`)
      continue
    }
    return { tag, entries, raw }
  }
  return undefined
}

/** What finding the unchanged cells needs besides the distros' records. */
export interface UnchangedContext {
  /** The image name the published entries are read under */
  readonly image: string
  readonly registries: Registries
  readonly log: (m: string) => void
  /** This run makes attestations: an image published without any is built again */
  readonly attested: boolean
}

/**
 * For each cell whose published image was made from the same inputs, its `reuse`; for each cell
 * whose published index entry says what it took under emulation, its `previousEmulated`.
 */
export async function findUnchanged(
  distros: readonly DistroJob[],
  o: UnchangedContext
): Promise<void> {
  await Promise.all(
    distros.map(async ({ manifest, jobs }) => {
      if (jobs.length === 0) return
      const found = await publishedIndex(manifest, o.registries, o.log)
      if (found === undefined) {
        for (const j of jobs) o.log(`${j.cell.id}: building (nothing published under its tags yet)`)
        return
      }
      await Promise.all(jobs.map(job => judgeCell(job, found, o)))
    })
  )
}

/** One cell against the entry of its platform in the published index. */
async function judgeCell(
  job: CellJob,
  found: { tag: string; entries: PlatformEntry[]; raw: string },
  o: UnchangedContext
): Promise<void> {
  const { cell, fingerprint } = job
  const entry = found.entries.find(e => e.platform === cell.platform)
  const took = entry === undefined ? undefined : emulatedSeconds(entry)
  if (took !== undefined) job.previousEmulated = took
  if (entry === undefined || fingerprint === undefined) {
    o.log(`${cell.id}: building (${found.tag} has no ${cell.platform} image)`)
    return
  }
  let why: string | null
  try {
    const config = await o.registries.config(`${o.image}@${entry.digest}`)
    why =
      config.platform === cell.platform
        ? mismatch(config.labels, fingerprint)
        : `it is ${config.platform}`
  } catch (error) {
    why = `its config cannot be read (${lastLine(errorMessage(error))})`
  }
  const attestations = attestationsOf(found.raw, entry.digest)
  if (why === null && o.attested && attestations.length === 0) {
    why = 'it was published without attestations'
  }
  if (why !== null) {
    o.log(`${cell.id}: building (the image in ${found.tag}: ${why})`)
    return
  }
  job.reuse = {
    from: found.tag,
    digest: entry.digest,
    ...(took === undefined ? {} : { emulatedSeconds: took }),
    ...(attestations.length === 0 ? {} : { attestations })
  }
  o.log(`${cell.id}: unchanged since ${found.tag} (${entry.digest}): not rebuilt, not retested`)
}
