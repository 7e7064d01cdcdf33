/**
 * A tested image pushed by the action's registry client: `docker save` of the image, the saved
 * blobs uploaded one by one (each found, mounted from a base's repository, or uploaded, with
 * retries of its own), then its manifest. It reads the whole image and compresses what the engine
 * keeps uncompressed (the classic store), so it is the way when the engine cannot push (see
 * ./push.ts).
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import {
  attestationEntry,
  attestationKinds,
  sha256,
  type AttestationEntry
} from '../oci/manifest.js'
import type { UploadOutcome } from '../registry/client.js'
import type { CellResult } from '../results/results.js'
import { exportImage, type BlobFile, type ImageIdentity } from './export.js'
import type { PublishOptions } from './options.js'
import { inParallel } from './parallel.js'
import type { CellToPublish, TestedPush } from './push.js'

/**
 * Push a tested image through the registry client: saved from the engine (only the image whose
 * config is the tested one is taken, with the attestation manifests about it), each blob put
 * into the repository (already there, mounted from a base's repository, or uploaded), the
 * attestation manifests by digest, then the image's manifest under `tag`; the registry must store
 * exactly those bytes.
 */
export async function clientPush(
  job: CellToPublish,
  tag: string,
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
    const layers = files.blobs.flatMap((b, i) =>
      b.layer === true ? [{ b, got: outcomes[i] }] : []
    )
    const sum = (bytes: (x: { b: BlobFile; got: UploadOutcome }) => number): number =>
      layers.reduce((n, x) => n + bytes(x), 0)
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
    const digest = await o.registries.put(tag, mediaType, body)
    return {
      image: { mediaType, digest, size: Buffer.byteLength(body) },
      body,
      attestations,
      kinds: [...new Set(kinds)],
      tagged: true,
      transfer: {
        by: 'client',
        layers: layers.length,
        // docker save read every layer, and this push read the saved files
        read: sum(({ b }) => b.compressedFrom ?? b.size),
        compressed: sum(({ b }) => b.compressedFrom ?? 0),
        uploaded: sum(({ b, got }) => (got === 'uploaded' ? b.size : 0)),
        mounted: sum(({ b, got }) => (got === 'mounted' ? b.size : 0)),
        skipped: sum(({ b, got }) => (got === 'present' ? b.size : 0))
      }
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
  const outcomes: UploadOutcome[] = new Array(blobs.length)
  await inParallel(
    blobs.map((b, i) => ({ b, i })),
    4,
    async ({ b, i }) => {
      const { file } = b
      outcomes[i] = await o.registries.uploadBlob(
        image,
        b.digest,
        { size: b.size, open: () => lazyStream(file) },
        mountFrom
      )
      await rm(file, { force: true })
    }
  )
  return outcomes
}

/** A file's bytes as a web stream that opens the file only when first read (no descriptor is left open by a try that never reads it). */
export function lazyStream(file: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(
    Readable.from(
      (async function* () {
        yield* createReadStream(file)
      })()
    )
  ) as ReadableStream<Uint8Array>
}
