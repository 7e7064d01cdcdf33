/**
 * Skip unchanged: before building, look for the image each cell would make among the images
 * already published under its distro's tags. A cell whose published image carries the same build
 * fingerprint (base digests and inputs hash) is neither rebuilt nor retested: it was tested before
 * it was pushed, and publishing reuses it by digest.
 */
import { mismatch, type Fingerprint } from '../plan/fingerprint.js'
import type { Cell, Manifest } from '../plan/planner.js'
import {
  attestationsOf,
  indexEntries,
  type AttestationEntry,
  type PlatformEntry
} from '../oci/manifest.js'
import { EMULATED_SECONDS } from '../plan/labels.js'
import type { Registries } from '../registry/registries.js'
import { errorMessage, lastLine } from '../text/text.js'

export interface Reuse {
  /** The tag the published image was found under */
  readonly from: string
  /** Its per-platform manifest digest */
  readonly digest: string
  /** Seconds it took to build and test under emulation (the index entry's annotation) */
  readonly emulatedSeconds?: number
  /** The attestation manifests the index lists about it */
  readonly attestations?: readonly AttestationEntry[]
}

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

export async function findUnchanged(
  image: string,
  manifests: readonly Manifest[],
  cells: readonly Cell[],
  fingerprints: ReadonlyMap<string, Fingerprint>,
  registries: Registries,
  log: (m: string) => void,
  /** Filled with what the published image of each cell took under emulation, where known */
  previous: Map<string, number> = new Map(),
  /** This run makes attestations: an image published without any is built again */
  attested = false
): Promise<Map<string, Reuse>> {
  const reuse = new Map<string, Reuse>()
  await Promise.all(
    manifests.map(async manifest => {
      const mine = cells.filter(c => c.distro === manifest.distro)
      if (mine.length === 0) return
      const found = await publishedIndex(manifest, registries, log)
      if (found === undefined) {
        for (const c of mine) log(`${c.id}: building (nothing published under its tags yet)`)
        return
      }
      await Promise.all(
        mine.map(async cell => {
          const entry = found.entries.find(e => e.platform === cell.platform)
          const took = entry === undefined ? undefined : emulatedSeconds(entry)
          if (took !== undefined) previous.set(cell.id, took)
          const fp = fingerprints.get(cell.id)
          if (entry === undefined || fp === undefined) {
            log(`${cell.id}: building (${found.tag} has no ${cell.platform} image)`)
            return
          }
          const ref = `${image}@${entry.digest}`
          let why: string | null
          try {
            const config = await registries.config(ref)
            why =
              config.platform === cell.platform
                ? mismatch(config.labels, fp)
                : `it is ${config.platform}`
          } catch (error) {
            why = `its config cannot be read (${lastLine(errorMessage(error))})`
          }
          const attestations = attestationsOf(found.raw, entry.digest)
          if (why === null && attested && attestations.length === 0) {
            why = 'it was published without attestations'
          }
          if (why === null) {
            reuse.set(cell.id, {
              from: found.tag,
              digest: entry.digest,
              ...(took === undefined ? {} : { emulatedSeconds: took }),
              ...(attestations.length === 0 ? {} : { attestations })
            })
            log(
              `${cell.id}: unchanged since ${found.tag} (${entry.digest}): not rebuilt, not retested`
            )
          } else {
            log(`${cell.id}: building (the image in ${found.tag}: ${why})`)
          }
        })
      )
    })
  )
  return reuse
}
