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
  type Descriptor,
  type NewIndex
} from '../oci/manifest.js'
import { retarget } from '../oci/reference.js'
import type { FetchedManifest } from '../registry/client.js'
import {
  cellOk,
  type CellResult,
  type DistroResult,
  type PushedImage,
  type RegistryOutcome
} from '../results/results.js'
import { errorMessage, formatBytes } from '../text/text.js'
import { copyByDigest } from './copy.js'
import { moveTags, pointTag } from './move-tags.js'
import { Progress } from './progress.js'
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
 * every tag, and read back. Several image names (registries): every image, attestation and the
 * index are written by digest to every one first, each signed there; only then do tags move,
 * in every one, and are read back. What went wrong is the result's reason, never thrown.
 */
export async function publishDistro(
  distro: DistroToPublish,
  o: PublishOptions
): Promise<DistroResult> {
  const { manifest } = distro
  const names = [o.image, ...(o.mirrors ?? [])]
  const progress = new Progress(names)
  const several = names.length > 1
  const tagsOf = (name: string): string[] => manifest.tags.map(t => retarget(t, o.image, name))
  try {
    const { index, digests, unchanged } = await indexToPublish(distro, o, progress)
    const changed = names.filter(n => !unchanged.has(n))
    const published = {
      distro: manifest.distro,
      status: 'published' as const,
      tags: names.flatMap(tagsOf),
      digest: index.digest
    }
    // by digest first: the index is in every repository, and signed, before any tag moves to it
    for (const name of changed) {
      await progress.in(name, async () => {
        if (name === o.image) {
          await o.registries.put(`${name}@${index.digest}`, index.mediaType, index.body)
        } else await copyIndex(o.image, name, index.digest, o)
      })
      progress.set(name, 'index by digest')
    }
    let signed: { signature?: { verify: string } } = {}
    for (const name of names) {
      const s = await progress.in(name, () => signIndex(name, index.digest, unchanged.has(name), o))
      if (name === o.image) signed = s
    }
    const result = { ...published, ...signed, ...outcomes(progress, several) }
    if (changed.length === 0) {
      o.log(
        `Unchanged: ${published.tags.join(', ')} already hold this index (${index.digest}); nothing pushed`
      )
      return { ...result, unchanged: true }
    }
    // then the tags, in every registry, and each read back
    await moveTags(distro, changed, index, { o, progress })
    for (const name of changed) {
      await progress.in(name, () => checkPublished(tagsOf(name), index.digest, digests, o))
      progress.set(name, 'published')
    }
    if (manifest.labels.length > 0 && !index.annotated) {
      o.warn(annotationsLost(manifest.tags[0], index.body))
    }
    o.log(`Published ${published.tags.join(', ')} -> ${index.digest}`)
    return { ...result, ...outcomes(progress, several) }
  } catch (error) {
    return {
      distro: manifest.distro,
      status: 'publish failed',
      // once the index was being written, its tags may have moved (to the tested images)
      tags: progress.moved().flatMap(tagsOf),
      reason: progress.reason(error),
      ...outcomes(progress, several)
    }
  }
}

/**
 * The index to publish, once every image is in the first repository: the one made of the tested
 * (or reused) images, or, when every image was reused and the first registry's tags hold that
 * index already, the bytes they hold. `unchanged`: the image names whose tags all hold it (read
 * whole: the digest of the bytes, never a header's).
 */
async function indexToPublish(
  distro: DistroToPublish,
  o: PublishOptions,
  progress: Progress
): Promise<{ index: NewIndex; digests: string[]; unchanged: Set<string> }> {
  const { manifest } = distro
  const several = progress.names.length > 1
  const pushed = await progress.in(o.image, () => pushImages(distro, o, several))
  progress.set(o.image, 'images by digest')
  const { images, attestations, reused } = pushed
  const built = buildIndex(images, manifest.labels, attestations)
  const digests = [...images, ...attestations].map(i => i.digest)
  const unchanged = new Set<string>()
  if (reused < distro.jobs.length) return { index: built, digests, unchanged }
  const same = await progress.in(o.image, () => alreadyPublished(manifest.tags, built.body, o))
  if (same === undefined) return { index: built, digests, unchanged }
  for (const name of progress.names) {
    const tags = manifest.tags.map(t => retarget(t, o.image, name))
    const held = name === o.image || (await progress.in(name, () => holdsAll(tags, same.digest, o)))
    if (held) {
      unchanged.add(name)
      progress.set(name, 'unchanged')
    }
  }
  const index = { mediaType: same.mediaType, body: same.body, digest: same.digest }
  return { index: { ...index, annotated: built.annotated }, digests, unchanged }
}

/** Several registries: each one's outcome for the result. */
function outcomes(progress: Progress, several: boolean): { registries?: RegistryOutcome[] } {
  return several ? { registries: progress.outcomes() } : {}
}

/** Every tag holds the manifest with this digest (read whole: the digest of its bytes). */
async function holdsAll(
  tags: readonly string[],
  digest: string,
  o: PublishOptions
): Promise<boolean> {
  for (const tag of tags) if ((await o.registries.manifest(tag))?.digest !== digest) return false
  return true
}

/** Copy the index, its images and attestations by digest from the first name to another. */
async function copyIndex(
  from: string,
  to: string,
  digest: string,
  o: PublishOptions
): Promise<void> {
  const s = await copyByDigest(from, to, digest, o)
  o.log(
    `Copied ${to}@${digest} by digest: ${s.manifests} manifests, ${s.uploaded} blobs uploaded (${formatBytes(s.uploadedBytes)}), ${s.mounted} mounted, ${s.present} already there`
  )
}

/**
 * Each cell's image in the first repository: its index entry, and its attestations. One image
 * name: under its arch tag. Several: under its hold tag, and a reused one is not touched (the
 * arch tags move once every registry holds every image).
 */
async function pushImages(
  distro: DistroToPublish,
  o: PublishOptions,
  several: boolean
): Promise<{ images: IndexImage[]; attestations: AttestationEntry[]; reused: number }> {
  const images: IndexImage[] = []
  const attestations: AttestationEntry[] = []
  let reused = 0
  for (const job of distro.jobs) {
    const { cell, result } = job
    const tag = several ? cell.holdTag : cell.pushTag
    let image: Descriptor
    if (result !== undefined && cellOk(result.status) && result.reused !== undefined) {
      // already in the repository, tested before it was pushed: its arch tag points at it
      image = several
        ? await descriptorOf(result.reused.digest, o)
        : await pointTag(tag, result.reused.digest, o)
      attestations.push(...(result.reused.attestations ?? []))
      job.pushed = { tag, digest: image.digest }
      reused++
    } else if (result?.status === 'passed' && result.imageId !== undefined) {
      const done = await pushImage(job, tag, o)
      image = done.image
      // the arch tag holds the image itself, as it does for a reused image
      if (!done.tagged) await o.registries.put(tag, image.mediaType, done.body)
      attestations.push(...done.attestations)
      job.pushed = pushedImage(tag, done)
      o.log(`Pushed ${tag} (${cell.platform}) ${image.digest} ${transferNote(done.transfer)}`)
    } else {
      throw new Error(`cell ${cell.id} did not pass`)
    }
    images.push({ ...image, platform: cell.platform, ...timing(result) })
  }
  return { images, attestations, reused }
}

/** Sign the index in the repository when signing is on: what the distro's result says of it. */
async function signIndex(
  image: string,
  digest: string,
  reuse: boolean,
  o: PublishOptions
): Promise<{ signature?: { verify: string } }> {
  if (o.sign === undefined) return {}
  const ref = `${image}@${digest}`
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
  tags: readonly string[],
  digest: string,
  images: readonly string[],
  o: PublishOptions
): Promise<void> {
  for (const tag of tags) {
    const held = await o.registries.head(tag)
    if (held?.digest !== digest) {
      throw new Error(
        `${tag} holds ${held?.digest ?? 'nothing'}, not the index just written (another run published over it?)`
      )
    }
  }
  const raw = (await o.registries.require(tags[0])).body
  let listed: string[]
  try {
    listed = indexDigests(raw)
  } catch (error) {
    throw new Error(`${tags[0]}: ${errorMessage(error)}`, { cause: error })
  }
  if (!sameSet(listed, images)) {
    throw new Error(`${tags[0]} does not hold the images just pushed`)
  }
  const platforms = indexPlatforms(raw) ?? []
  if (!sameSet(platforms, o.platforms)) {
    throw new Error(
      `the published index holds ${platforms.join(', ') || 'nothing'}, expected exactly ${[...o.platforms].sort().join(', ')}`
    )
  }
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
 * The index every tag already holds when it is the one this run would write: each tag's index
 * read whole (GET) and its digest computed from those bytes, since that digest gets signed and
 * reported, never a header.
 */
async function alreadyPublished(
  tags: readonly string[],
  ours: string,
  o: PublishOptions
): Promise<FetchedManifest | undefined> {
  const held = await Promise.all(tags.map(t => o.registries.manifest(t)))
  const first = held[0]
  if (first === null || held.some(h => h?.digest !== first.digest)) return undefined
  return sameIndex(first.body, ours) ? first : undefined
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
