/**
 * Publishing a distro: only when every one of its cells passed. Each tested image is pushed under
 * its arch tag (by the engine, or by the registry client: see ./push.ts), an image reused from
 * the registry gets its arch tag pointed at that very manifest, then one index made of exactly
 * those digests is written by the registry client, by digest first and then under every tag, and
 * read back to check it holds exactly the planned platforms.
 */
import { EMULATED_SECONDS } from '../plan/labels.js'
import type { Manifest } from '../plan/planner.js'
import {
  buildIndex,
  indexDigests,
  indexPlatforms,
  MEDIA,
  type AttestationEntry,
  type Descriptor
} from '../oci/manifest.js'
import { cellOk, type CellResult, type DistroResult, type PushedImage } from '../results/results.js'
import { errorMessage } from '../text/text.js'
import type { PublishOptions } from './options.js'
import { pushImage, transferNote, type CellToPublish, type TestedPush } from './push.js'

export type { PublishOptions, Signer, SignOutcome } from './options.js'
export type { CellToPublish } from './push.js'

/** Why a published index has no annotations, for a warning. Pure. */
export function annotationsLost(tag: string, raw: string): string {
  const doc = JSON.parse(raw) as { mediaType?: string }
  const labels = 'The metadata is on every image as labels.'
  if (doc.mediaType === MEDIA.dockerList) {
    return (
      `${tag} is a Docker manifest list, which cannot hold annotations: its images are Docker v2 manifests, ` +
      `as an engine with the classic image store before Docker 25 saves them. ${labels} Images built on an engine with the containerd image store are OCI, and their index gets the annotations.`
    )
  }
  return `${tag} was published without its annotations (the registry dropped them). ${labels}`
}

/**
 * An index entry's annotation with the emulated build and test time of its image (measured now,
 * or carried over from the index a reused image came from), for the next run's projection.
 */
function timing(result: CellResult | undefined): { annotations?: Record<string, string> } {
  const seconds =
    result?.reused !== undefined
      ? result.reused.emulatedSeconds
      : result?.emulated === true
        ? result.buildSeconds + result.testSeconds
        : undefined
  return seconds === undefined
    ? {}
    : { annotations: { [EMULATED_SECONDS]: String(Math.round(seconds)) } }
}

/** A distro to publish: its index's manifest and its cells, in platform order. */
export interface DistroToPublish {
  readonly manifest: Manifest
  readonly jobs: readonly CellToPublish[]
}

/** An image of the index: a tested one pushed, or a reused one its arch tag now points at. */
type IndexImage = Descriptor & { platform: string; annotations?: Record<string, string> }

/**
 * Publish a distro whose cells all passed: each tested image pushed under its arch tag (a reused
 * one's arch tag pointed at it), then one index of exactly those, by digest, signed, then under
 * every tag, and read back. What went wrong is the result's reason, never thrown.
 */
export async function publishDistro(
  distro: DistroToPublish,
  o: PublishOptions
): Promise<DistroResult> {
  const { manifest } = distro
  let tagsMoved = false
  try {
    const { images, attestations, reused } = await pushImages(distro, o)
    const index = buildIndex(images, manifest.labels, attestations)
    const digests = [...images, ...attestations].map(i => i.digest)
    const published = { distro: manifest.distro, status: 'published' as const, tags: manifest.tags }
    if (reused === distro.jobs.length) {
      const same = await alreadyPublished(manifest, index.body, o)
      if (same !== undefined) {
        o.log(
          `Unchanged: ${manifest.tags.join(', ')} already hold this index (${same}); nothing pushed`
        )
        const signed = await signIndex(same, true, o)
        return { ...published, digest: same, unchanged: true, ...signed }
      }
    }
    // by digest first: the index is in the repository, and signed, before any tag moves to it
    await o.registries.put(`${o.image}@${index.digest}`, index.mediaType, index.body)
    const signed = await signIndex(index.digest, false, o)
    tagsMoved = true
    for (const tag of manifest.tags) await o.registries.put(tag, index.mediaType, index.body)
    await checkPublished(manifest, index.digest, digests, o)
    if (manifest.labels.length > 0 && !index.annotated) {
      o.warn(annotationsLost(manifest.tags[0], index.body))
    }
    o.log(`Published ${manifest.tags.join(', ')} -> ${index.digest}`)
    return { ...published, digest: index.digest, ...signed }
  } catch (error) {
    return {
      distro: manifest.distro,
      status: 'publish failed',
      // once the index was being written, its tags may have moved (to the tested images)
      tags: tagsMoved ? manifest.tags : [],
      reason: errorMessage(error)
    }
  }
}

/** Each cell's image in the repository under its arch tag: its index entry, and its attestations. */
async function pushImages(
  distro: DistroToPublish,
  o: PublishOptions
): Promise<{ images: IndexImage[]; attestations: AttestationEntry[]; reused: number }> {
  const images: IndexImage[] = []
  const attestations: AttestationEntry[] = []
  let reused = 0
  for (const job of distro.jobs) {
    const { cell, result } = job
    let image: Descriptor
    if (result !== undefined && cellOk(result.status) && result.reused !== undefined) {
      // already in the repository, tested before it was pushed: its arch tag points at it
      image = await pointTag(cell.pushTag, result.reused.digest, o)
      attestations.push(...(result.reused.attestations ?? []))
      job.pushed = { tag: cell.pushTag, digest: image.digest }
      reused++
    } else if (result?.status === 'passed' && result.imageId !== undefined) {
      const done = await pushImage(job, cell.pushTag, o)
      image = done.image
      // the arch tag holds the image itself, as it does for a reused image
      if (!done.tagged) await o.registries.put(cell.pushTag, image.mediaType, done.body)
      attestations.push(...done.attestations)
      job.pushed = pushedImage(cell.pushTag, done)
      o.log(
        `Pushed ${cell.pushTag} (${cell.platform}) ${image.digest} ${transferNote(done.transfer)}`
      )
    } else {
      throw new Error(`cell ${cell.id} did not pass`)
    }
    images.push({ ...image, platform: cell.platform, ...timing(result) })
  }
  return { images, attestations, reused }
}

/** Sign the index in the repository when signing is on: what the distro's result says of it. */
async function signIndex(
  digest: string,
  reuse: boolean,
  o: PublishOptions
): Promise<{ signature?: { verify: string } }> {
  if (o.sign === undefined) return {}
  const ref = `${o.image}@${digest}`
  const outcome = await o.sign.sign(ref, reuse)
  o.log(`${outcome.already ? 'Already signed' : 'Signed'} and verified: ${ref}`)
  return { signature: { verify: outcome.verify } }
}

function pushedImage(tag: string, done: TestedPush): PushedImage {
  return {
    tag,
    digest: done.image.digest,
    ...(done.kinds.length === 0 ? {} : { attestations: done.kinds }),
    transfer: done.transfer
  }
}

/** Every tag holds the index just written, and it lists exactly the planned images and platforms. */
async function checkPublished(
  manifest: Manifest,
  digest: string,
  images: readonly string[],
  o: PublishOptions
): Promise<void> {
  for (const tag of manifest.tags) {
    const held = await o.registries.head(tag)
    if (held?.digest !== digest) {
      throw new Error(
        `${tag} holds ${held?.digest ?? 'nothing'}, not the index just written (another run published over it?)`
      )
    }
  }
  const raw = (await o.registries.require(manifest.tags[0])).body
  let listed: string[]
  try {
    listed = indexDigests(raw)
  } catch (error) {
    throw new Error(`${manifest.tags[0]}: ${errorMessage(error)}`, { cause: error })
  }
  if (!sameSet(listed, images)) {
    throw new Error(`${manifest.tags[0]} does not hold the images just pushed`)
  }
  const platforms = indexPlatforms(raw) ?? []
  if (!sameSet(platforms, o.platforms)) {
    throw new Error(
      `the published index holds ${platforms.join(', ') || 'nothing'}, expected exactly ${[...o.platforms].sort().join(', ')}`
    )
  }
}

/**
 * Point a tag at an image already in the repository: the very manifest (its bytes, so its digest),
 * not an index wrapping it. A tag that already holds it is left alone.
 */
async function pointTag(tag: string, digest: string, o: PublishOptions): Promise<Descriptor> {
  const held = await o.registries.head(tag)
  const image = await o.registries.require(`${o.image}@${digest}`)
  if (held?.digest !== digest) {
    await o.registries.put(tag, image.mediaType, image.body)
    o.log(`Tagged ${tag}: the tested image ${digest}`)
  }
  return { mediaType: image.mediaType, digest: image.digest, size: image.size }
}

/**
 * mode build: stage a tested cell under its staging tag for the merge job (the tag is pushed only
 * after the cell's tests passed): the image's manifest itself, or, when it has attestations, an
 * index of it and them (the merge job carries them into the published index). A reused image is
 * staged the same way, by its digest.
 */
export async function stageCell(job: CellToPublish, o: PublishOptions): Promise<PushedImage> {
  const { cell, result } = job
  if (result === undefined) throw new Error(`cell ${cell.id} did not pass`)
  let image: Descriptor
  let attestations: readonly AttestationEntry[]
  // the staging tag holds the image itself already (the merge job reads it, or an index of it
  // and its attestations)
  let tagged = true
  let body = ''
  let pushed: PushedImage | undefined
  if (result.reused !== undefined) {
    attestations = result.reused.attestations ?? []
    image =
      attestations.length === 0
        ? await pointTag(cell.stageTag, result.reused.digest, o)
        : await descriptorOf(result.reused.digest, o)
    o.log(`Staging ${cell.stageTag} (${cell.platform}): the unchanged image ${image.digest}`)
  } else {
    const done = await pushImage(job, cell.stageTag, o)
    ;({ image, attestations, tagged, body } = done)
    pushed = pushedImage(cell.stageTag, done)
    o.log(
      `Staging ${cell.stageTag} (${cell.platform}) ${image.digest} ${transferNote(done.transfer)}`
    )
  }
  if (attestations.length > 0) {
    const index = buildIndex([{ ...image, platform: cell.platform }], [], attestations)
    await o.registries.put(cell.stageTag, index.mediaType, index.body)
  } else if (!tagged) {
    await o.registries.put(cell.stageTag, image.mediaType, body)
  }
  o.log(`Staged ${cell.stageTag}`)
  job.pushed = pushed ?? { tag: cell.stageTag, digest: image.digest }
  return job.pushed
}

/** A manifest in the repository, by digest. */
async function descriptorOf(digest: string, o: PublishOptions): Promise<Descriptor> {
  const m = await o.registries.require(`${o.image}@${digest}`)
  return { mediaType: m.mediaType, digest: m.digest, size: m.size }
}

/**
 * The index digest when every tag already holds the index this run would write: each tag's index
 * read whole (GET) and its digest computed from those bytes, since that digest gets signed and
 * reported, never a header.
 */
async function alreadyPublished(
  manifest: Manifest,
  ours: string,
  o: PublishOptions
): Promise<string | undefined> {
  const held = await Promise.all(manifest.tags.map(t => o.registries.manifest(t)))
  const first = held[0]
  if (first === null || held.some(h => h?.digest !== first.digest)) return undefined
  return sameIndex(first.body, ours) ? first.digest : undefined
}

/** Annotations that differ between two runs from the same inputs: when, from which commit, as what version. */
const PER_RUN = new Set([
  'org.opencontainers.image.created',
  'org.opencontainers.image.revision',
  'org.opencontainers.image.version'
])

/**
 * Whether a published index is the one this run would write (`ours`): the same fields, the same
 * entries in every field and order (each image's digest, size, media type, platform and
 * annotations, the attestation manifests), and the same annotations but for the run's time,
 * commit and version. Anything else a registry shows, such as a platform swapped between two
 * images or an annotation of its own, is not the action's to sign. Pure.
 */
export function sameIndex(held: string, ours: string): boolean {
  let h: Record<string, unknown>
  try {
    h = JSON.parse(held) as Record<string, unknown>
  } catch {
    return false
  }
  const o = JSON.parse(ours) as Record<string, unknown>
  const keys = (x: object): string => JSON.stringify(Object.keys(x).sort())
  if (typeof h !== 'object' || h === null || keys(h) !== keys(o)) return false
  for (const key of Object.keys(o)) {
    if (key === 'annotations') continue
    if (JSON.stringify(h[key]) !== JSON.stringify(o[key])) return false
  }
  if (o.annotations === undefined) return true
  const ha = h.annotations as Record<string, unknown>
  const oa = o.annotations as Record<string, string>
  if (typeof ha !== 'object' || ha === null || keys(ha) !== keys(oa)) return false
  return Object.entries(oa).every(
    ([k, v]) => typeof ha[k] === 'string' && (ha[k] === v || PER_RUN.has(k))
  )
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
}
