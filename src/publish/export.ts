/**
 * The tested image as files, for the registry client to push blob by blob: `docker save` of the
 * image the engine holds, unpacked, and read either as an OCI image layout (the containerd image
 * store; Docker 25 and later) or as Docker's legacy save format (Docker before 25), down to the
 * one manifest whose config is the tested image's. Layers the engine keeps uncompressed (the
 * classic store saves them so) are gzip-compressed here; the config, and so the image's identity,
 * stays byte for byte the same. Those layers' digests are new ones, so they are uploaded even
 * where the base image's repository has the same layer (docker push remembers the digests it
 * pushed or pulled; this does not).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import {
  isAttestationOf,
  isIndexType,
  MEDIA,
  sha256,
  type Annotated as Descriptor
} from '../oci/manifest.js'
import { SAVE_TIMEOUT_MS, type Docker } from '../tooling/docker.js'
import { sha256File } from '../tooling/download.js'
import { check, type Exec } from '../tooling/exec.js'

/**
 * How the tested image is told among what the engine saved: by its config digest where the
 * engine said it, else by its manifest digest (an image kept with attestations, on an engine
 * before API 1.48).
 */
export type ImageIdentity = { readonly configDigest: string } | { readonly manifestDigest: string }

/** The identity a message names. */
const named = (id: ImageIdentity): string =>
  'configDigest' in id ? `config ${id.configDigest}` : `manifest ${id.manifestDigest}`

/** A blob to upload: its digest, size and the file holding it. */
export interface BlobFile {
  readonly digest: string
  readonly size: number
  readonly file: string
  /** A layer of the image (not its config, nor an attestation's blob) */
  readonly layer?: boolean
  /** The bytes read and compressed into it, when this push compressed it */
  readonly compressedFrom?: number
}

export interface ImageFiles {
  /** The manifest to write under the tag: the engine's own bytes unless layers were compressed */
  readonly manifest: { readonly mediaType: string; readonly body: string }
  /** The config and every layer, and those of its attestation manifests */
  readonly blobs: readonly BlobFile[]
  /** The attestation manifests the engine keeps about the image (containerd image store) */
  readonly attestations: readonly SavedManifest[]
  /** Why attestations the engine has are not pushed, for a warning */
  readonly attestationsLeft?: string
}

/** A manifest as saved: its exact bytes, so its digest. */
export interface SavedManifest {
  readonly mediaType: string
  readonly digest: string
  readonly body: string
}

/** A manifest or index as saved (the fields read here). */
interface ManifestDoc {
  schemaVersion: number
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
  manifests?: Descriptor[]
}

/** Uncompressed layer media types, and what they are called gzip-compressed. */
const COMPRESSED: Readonly<Record<string, string>> = {
  'application/vnd.oci.image.layer.v1.tar': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar':
    'application/vnd.docker.image.rootfs.diff.tar.gzip'
}

/** Gzip a layer into `dir`; its digest and size. */
async function gzipLayer(file: string, dir: string): Promise<BlobFile> {
  const out = path.join(dir, `${path.basename(path.dirname(file))}-${path.basename(file)}.gz`)
  const compressedFrom = (await stat(file)).size
  await pipeline(createReadStream(file), createGzip(), createWriteStream(out))
  await rm(file, { force: true }) // the uncompressed copy is not needed any more
  return {
    digest: `sha256:${await sha256File(out)}`,
    size: (await stat(out)).size,
    file: out,
    layer: true,
    compressedFrom
  }
}

const blobPath = (root: string, digest: string): string =>
  path.join(root, 'blobs', ...digest.split(':'))

/**
 * Follow an OCI layout's index (and nested indexes) to the manifest of the image `id`,
 * with the other entries of the index it is listed in (where its attestations are).
 */
async function ociManifest(
  root: string,
  id: ImageIdentity
): Promise<{ doc: ManifestDoc; raw: string; siblings: Descriptor[] } | null> {
  const top = JSON.parse(await readFile(path.join(root, 'index.json'), 'utf8')) as ManifestDoc
  const queue: { d: Descriptor; siblings: Descriptor[] }[] = (top.manifests ?? []).map(d => ({
    d,
    siblings: top.manifests ?? []
  }))
  while (queue.length > 0) {
    const { d, siblings } = queue.shift() as { d: Descriptor; siblings: Descriptor[] }
    const file = blobPath(root, d.digest)
    if (!existsSync(file)) continue
    const raw = await readFile(file, 'utf8')
    const doc = JSON.parse(raw) as ManifestDoc
    if (isIndexType(d.mediaType) || Array.isArray(doc.manifests)) {
      const listed = doc.manifests ?? []
      queue.push(...listed.map(m => ({ d: m, siblings: listed })))
    } else if (
      'configDigest' in id ? doc.config?.digest === id.configDigest : d.digest === id.manifestDigest
    ) {
      return { doc, raw, siblings }
    }
  }
  return null
}

/** The attestation manifests listed beside an image, with their blobs; null when one is incomplete. */
async function savedAttestations(
  root: string,
  siblings: readonly Descriptor[],
  image: string
): Promise<{ manifests: SavedManifest[]; blobs: BlobFile[] } | null> {
  const manifests: SavedManifest[] = []
  const blobs: BlobFile[] = []
  const about = siblings.filter(m => isAttestationOf(m, image))
  for (const m of about) {
    const file = blobPath(root, m.digest)
    if (!existsSync(file)) return null
    const body = await readFile(file, 'utf8')
    const doc = JSON.parse(body) as ManifestDoc
    for (const b of [doc.config, ...(doc.layers ?? [])]) {
      const blob = blobPath(root, b.digest)
      if (!existsSync(blob)) return null
      blobs.push({ digest: b.digest, size: b.size, file: blob })
    }
    manifests.push({ mediaType: m.mediaType, digest: m.digest, body })
  }
  return { manifests, blobs }
}

/** An OCI layout: the manifest as the engine has it, its layers compressed where they are not. */
async function fromLayout(root: string, id: ImageIdentity, work: string): Promise<ImageFiles> {
  const found = await ociManifest(root, id)
  if (found === null) throw new Error(`the saved image has no manifest with ${named(id)}`)
  const { doc } = found
  const blobs: BlobFile[] = [
    { digest: doc.config.digest, size: doc.config.size, file: blobPath(root, doc.config.digest) }
  ]
  let changed = false
  const layers: Descriptor[] = []
  for (const layer of doc.layers) {
    const file = blobPath(root, layer.digest)
    const compressed = COMPRESSED[layer.mediaType]
    if (compressed === undefined) {
      blobs.push({ digest: layer.digest, size: layer.size, file, layer: true })
      layers.push(layer)
      continue
    }
    const gz = await gzipLayer(file, work)
    blobs.push(gz)
    layers.push({ ...layer, mediaType: compressed, digest: gz.digest, size: gz.size })
    changed = true
  }
  const mediaType = doc.mediaType ?? MEDIA.ociManifest
  const body = changed ? JSON.stringify({ ...doc, mediaType, layers }) : found.raw
  const saved = await savedAttestations(root, found.siblings, sha256(found.raw))
  if (saved === null || saved.manifests.length === 0) {
    return {
      manifest: { mediaType, body },
      blobs,
      attestations: [],
      ...(saved === null ? { attestationsLeft: 'the engine saved them incomplete' } : {})
    }
  }
  if (changed) {
    // they name the image by the engine's manifest digest, which compressing its layers changed
    return {
      manifest: { mediaType, body },
      blobs,
      attestations: [],
      attestationsLeft:
        'the engine keeps the image uncompressed, and its compressed manifest is not the one they name'
    }
  }
  return {
    manifest: { mediaType, body },
    // each blob once: an upload deletes its file
    blobs: [...blobs, ...saved.blobs].filter(
      (b, i, all) => all.findIndex(o => o.digest === b.digest) === i
    ),
    attestations: saved.manifests
  }
}

/** Docker's legacy save format (manifest.json, uncompressed layer tars): a Docker v2 manifest. */
async function fromLegacy(root: string, id: ImageIdentity, work: string): Promise<ImageFiles> {
  // the legacy format (the classic store before Docker 25) names images by their config
  if (!('configDigest' in id)) throw new Error(`the saved image has no ${named(id)}`)
  const imageId = id.configDigest
  const entries = JSON.parse(await readFile(path.join(root, 'manifest.json'), 'utf8')) as {
    Config: string
    Layers: string[]
  }[]
  for (const entry of entries) {
    const configFile = path.join(root, entry.Config)
    const raw = await readFile(configFile)
    if (sha256(raw) !== imageId) continue
    const blobs: BlobFile[] = [{ digest: imageId, size: raw.length, file: configFile }]
    const layers = []
    for (const layer of entry.Layers) {
      const gz = await gzipLayer(path.join(root, layer), work)
      blobs.push(gz)
      layers.push({ mediaType: COMPRESSED[MEDIA_OCI_LAYER], digest: gz.digest, size: gz.size })
    }
    // told as OCI, as Docker 25 and later save an image: its index then carries annotations
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: imageId,
        size: raw.length
      },
      layers
    })
    return { manifest: { mediaType: MEDIA.ociManifest, body }, blobs, attestations: [] }
  }
  throw new Error(`the saved image has no ${named(id)}`)
}
const MEDIA_OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar'

/**
 * Save `ref` from the engine into `dir` and read it. The caller removes `dir` (the files are
 * uploaded from there).
 */
export async function exportImage(
  docker: Docker,
  exec: Exec,
  ref: string,
  id: ImageIdentity,
  dir: string
): Promise<ImageFiles> {
  const tar = path.join(dir, 'image.tar')
  const root = path.join(dir, 'image')
  await mkdir(root, { recursive: true })
  await docker.save(ref, tar)
  await check(exec, `Unpacking the saved image ${ref}`, 'tar', ['-xf', tar, '-C', root], {
    timeoutMs: SAVE_TIMEOUT_MS
  })
  await rm(tar, { force: true })
  return readSaved(root, id, dir)
}

/** An unpacked `docker save` in `root`; compressed layers are written to `work`. */
export function readSaved(root: string, id: ImageIdentity, work: string): Promise<ImageFiles> {
  return existsSync(path.join(root, 'index.json'))
    ? fromLayout(root, id, work)
    : fromLegacy(root, id, work)
}
