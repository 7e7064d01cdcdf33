/**
 * Copying a manifest by digest from one image name to another (several registries): an index's
 * entries first, an image's blobs, 4 at once (mounted when both names are in one registry,
 * skipped when the target has them, else downloaded to a file and uploaded from it), then the
 * manifest's very bytes, by digest, so it has the same digest in both. No tag is written here.
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { indexDigests, isIndexType, manifestBlobs } from '../oci/manifest.js'
import type { BlobSource } from '../registry/client.js'
import { errorMessage } from '../text/text.js'
import { lazyStream } from './client-push.js'
import { inParallel } from './parallel.js'
import type { PublishOptions } from './options.js'

/** What a copy moved: manifests written, blobs uploaded (and their bytes), mounted, already there. */
export interface CopyStats {
  manifests: number
  uploaded: number
  uploadedBytes: number
  mounted: number
  present: number
}

export function newCopyStats(): CopyStats {
  return { manifests: 0, uploaded: 0, uploadedBytes: 0, mounted: 0, present: 0 }
}

type CopyOptions = Pick<PublishOptions, 'registries' | 'tempDir'>

/**
 * Copy `from@digest` to `to@digest`, with everything it refers to. A manifest the target already
 * holds is left as it is (the registry checked its references when it took it).
 */
export async function copyByDigest(
  from: string,
  to: string,
  digest: string,
  o: CopyOptions,
  stats: CopyStats = newCopyStats()
): Promise<CopyStats> {
  if ((await o.registries.head(`${to}@${digest}`)) !== null) return stats
  const m = await o.registries.require(`${from}@${digest}`)
  let children: string[] = []
  let blobs: { digest: string; size: number }[] = []
  try {
    if (isIndexType(m.mediaType)) children = indexDigests(m.body)
    else blobs = manifestBlobs(m.body)
  } catch (error) {
    throw new Error(`${from}@${digest} cannot be copied: ${errorMessage(error)}`, { cause: error })
  }
  for (const child of children) await copyByDigest(from, to, child, o, stats)
  await inParallel(blobs, BLOBS_AT_ONCE, blob => copyBlob(from, to, blob, o, stats))
  await o.registries.put(`${to}@${digest}`, m.mediaType, m.body)
  stats.manifests++
  return stats
}

/** Blobs copied at once (docker push sends 5 layers at once; the client's own push 4) */
const BLOBS_AT_ONCE = 4

/** One blob into the target: mounted from the source's repository, already there, or uploaded. */
async function copyBlob(
  from: string,
  to: string,
  blob: { digest: string; size: number },
  o: CopyOptions,
  stats: CopyStats
): Promise<void> {
  const dir = await mkdtemp(path.join(o.tempDir, 'copy-'))
  const file = path.join(dir, 'blob')
  let fetched: Promise<number> | undefined
  // downloaded once, when first needed; a failed download is tried afresh by the next upload try
  const download = (): Promise<number> =>
    (fetched ??= o.registries.downloadBlob(from, blob.digest, file, blob.size).catch(error => {
      fetched = undefined
      throw error
    }))
  const source: BlobSource = {
    size: blob.size,
    open: () =>
      Readable.toWeb(
        Readable.from(
          (async function* () {
            await download()
            yield* createReadStream(file)
          })()
        )
      ) as ReadableStream<Uint8Array>
  }
  try {
    const same = o.registries.sameRegistry(from, to)
    if (!same) {
      if (await o.registries.hasBlob(to, blob.digest)) {
        stats.present++
        return
      }
      // before the upload starts: a download is never waited for inside an open upload request
      await download()
    }
    const outcome = await o.registries.uploadBlob(
      to,
      blob.digest,
      same ? source : { size: blob.size, open: () => lazyStream(file) },
      [from]
    )
    if (outcome === 'mounted') stats.mounted++
    else if (outcome === 'present') stats.present++
    else {
      stats.uploaded++
      stats.uploadedBytes += blob.size
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
