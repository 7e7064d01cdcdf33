/**
 * Publishing a distro: only when every one of its cells passed. Each tested image is pushed under
 * its arch tag by the registry client (saved from the engine, each blob uploaded and retried on
 * its own, then the manifest written), an image reused from the registry
 * gets its arch tag pointed at that very manifest, then one index made of exactly those digests is
 * written by the registry client, by digest first and then under every tag, and read back to check
 * it holds exactly the planned platforms.
 */
import { EMULATED_SECONDS } from '../plan/labels.js'
import type { Cell, Manifest } from '../plan/planner.js'
import {
  attestationEntry,
  attestationKinds,
  buildIndex,
  indexDigests,
  indexPlatforms,
  MEDIA,
  sha256,
  type AttestationEntry,
  type Descriptor
} from '../oci/manifest.js'
import type { Registries } from '../registry/registries.js'
import { cellOk, type CellResult, type DistroResult, type PushedImage } from '../results/results.js'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import type { UploadOutcome } from '../registry/client.js'
import type { Docker } from '../tooling/docker.js'
import { type Exec } from '../tooling/exec.js'
import { errorMessage } from '../text/text.js'
import { exportImage, type BlobFile, type ImageIdentity } from './export.js'

export interface PublishOptions {
  readonly docker: Docker
  /** For unpacking saved images (tar) */
  readonly exec: Exec
  readonly registries: Registries
  /** Where saved images are unpacked while they are pushed */
  readonly tempDir: string
  readonly image: string
  readonly platforms: readonly string[]
  readonly log: (message: string) => void
  readonly warn: (message: string) => void
  /** Told when a cell's image starts and ends being pushed (the run's timeline) */
  readonly pushing?: (cellId: string, done: boolean) => void
  /**
   * Signs an index in the repository (image@digest) and verifies the signature, before any tag
   * moves to it; none: not signed
   */
  readonly sign?: Signer
}

/** Signs `image@digest` and checks the signature; throws when either fails. */
export interface Signer {
  /** Signed (or, with `reuse`, found signed already) and verified: how a user verifies it */
  sign(ref: string, reuse: boolean): Promise<SignOutcome>
}

export interface SignOutcome {
  /** The command a user runs to verify the published index */
  readonly verify: string
  /** The index was already signed (an unchanged index): nothing new was signed */
  readonly already: boolean
}

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

/** A cell to publish: its plan entry, how it ended, its bases; `pushed` is set when it is pushed. */
export interface CellToPublish {
  readonly cell: Cell
  readonly result?: CellResult
  /** The base images it was built from: their repositories are tried for blob mounts */
  readonly bases: readonly { readonly image: string }[]
  pushed?: PushedImage
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
      const done = await pushTested(job, cell.pushTag, o)
      image = done.image
      attestations.push(...done.attestations)
      job.pushed = pushedImage(cell.pushTag, done)
      o.log(`Pushed ${cell.pushTag} (${cell.platform}) ${image.digest}${done.note}`)
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
    ...(done.kinds.length === 0 ? {} : { attestations: done.kinds })
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

/** A tested image pushed: its manifest, its attestations' index entries and what they hold. */
interface TestedPush {
  readonly image: Descriptor
  /** The image manifest's bytes */
  readonly body: string
  readonly attestations: readonly AttestationEntry[]
  /** provenance, sbom: what the attestation manifests hold */
  readonly kinds: readonly string[]
  /** What was uploaded */
  readonly note: string
}

/**
 * Push a tested image: saved from the engine (only the image whose config is the tested one is
 * taken, with the attestation manifests about it), each blob put into the repository (already
 * there, mounted from a base's repository, or uploaded), the attestation manifests by digest, then
 * the image's manifest under `tag` (or by digest when `tag` is null); the registry must store
 * exactly those bytes.
 */
async function pushTested(
  job: CellToPublish,
  tag: string | null,
  o: PublishOptions
): Promise<TestedPush> {
  const tested = job.result
  const id = tested === undefined ? undefined : identity(tested)
  if (tested?.localId === undefined || id === undefined) {
    throw new Error(`cell ${job.cell.id} has no tested image`)
  }
  const dir = await mkdtemp(path.join(o.tempDir, 'push-'))
  o.pushing?.(tested.id, false)
  try {
    const files = await exportImage(o.docker, o.exec, tested.localId, id, dir)
    if (files.attestationsLeft !== undefined) {
      o.warn(`${tested.id}: its attestations are not pushed: ${files.attestationsLeft}`)
    }
    const mounts = job.bases.map(b => b.image)
    const outcomes = await uploadAll(files.blobs, o.image, mounts, o)
    const { mediaType, body } = files.manifest
    const imageDigest = sha256(body)
    const attestations: AttestationEntry[] = []
    const kinds: string[] = []
    for (const a of files.attestations) {
      const digest = await o.registries.put(`${o.image}@${a.digest}`, a.mediaType, a.body)
      attestations.push(
        attestationEntry(
          { mediaType: a.mediaType, digest, size: Buffer.byteLength(a.body) },
          imageDigest
        )
      )
      kinds.push(...attestationKinds(a.body))
    }
    const digest = await o.registries.put(tag ?? `${o.image}@${imageDigest}`, mediaType, body)
    const count = (k: UploadOutcome): number => outcomes.filter(x => x === k).length
    const attested = kinds.length === 0 ? '' : `; attested: ${[...new Set(kinds)].join(', ')}`
    const note = `: ${files.blobs.length} blobs, ${count('uploaded')} uploaded, ${count('mounted')} mounted, ${count('present')} already there${attested}`
    return {
      image: { mediaType, digest, size: Buffer.byteLength(body) },
      body,
      attestations,
      kinds: [...new Set(kinds)],
      note
    }
  } finally {
    o.pushing?.(tested.id, true)
    await rm(dir, { recursive: true, force: true })
  }
}

/** How a tested image is told in what the engine saves: its config digest, else its manifest's. */
function identity(r: CellResult): ImageIdentity | undefined {
  if (r.configDigest !== undefined) return { configDigest: r.configDigest }
  if (r.manifestDigest !== undefined) return { manifestDigest: r.manifestDigest }
  return undefined
}

/**
 * Upload blobs, at most 4 at once (docker push does 5), each with its own retries; after a
 * failure no further blob starts, and the error is thrown once the running ones ended. A blob's
 * file is deleted once it is in the repository (a saved image takes disk space).
 */
async function uploadAll(
  blobs: readonly BlobFile[],
  image: string,
  mountFrom: readonly string[],
  o: PublishOptions
): Promise<UploadOutcome[]> {
  const outcomes: UploadOutcome[] = []
  const queue = [...blobs]
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    for (let b = queue.shift(); b !== undefined && failure === undefined; b = queue.shift()) {
      const { file } = b
      try {
        outcomes.push(
          await o.registries.uploadBlob(
            image,
            b.digest,
            { size: b.size, open: () => lazyStream(file) },
            mountFrom
          )
        )
        await rm(file, { force: true })
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(4, blobs.length) }, worker))
  if (failure !== undefined) throw failure.error
  return outcomes
}

/** A file's bytes as a web stream that opens the file only when first read (no descriptor is left open by a try that never reads it). */
function lazyStream(file: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(
    Readable.from(
      (async function* () {
        yield* createReadStream(file)
      })()
    )
  ) as ReadableStream<Uint8Array>
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
  let kinds: readonly string[] = []
  if (result.reused !== undefined) {
    attestations = result.reused.attestations ?? []
    image =
      attestations.length === 0
        ? await pointTag(cell.stageTag, result.reused.digest, o)
        : await descriptorOf(result.reused.digest, o)
    o.log(`Staging ${cell.stageTag} (${cell.platform}): the unchanged image ${image.digest}`)
  } else {
    const done = await pushTested(job, null, o)
    ;({ image, attestations, kinds } = done)
    if (attestations.length === 0) await o.registries.put(cell.stageTag, image.mediaType, done.body)
    o.log(`Staging ${cell.stageTag} (${cell.platform}) ${image.digest}${done.note}`)
  }
  if (attestations.length > 0) {
    const index = buildIndex([{ ...image, platform: cell.platform }], [], attestations)
    await o.registries.put(cell.stageTag, index.mediaType, index.body)
  }
  o.log(`Staged ${cell.stageTag}`)
  job.pushed = {
    tag: cell.stageTag,
    digest: image.digest,
    ...(kinds.length === 0 ? {} : { attestations: kinds })
  }
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
