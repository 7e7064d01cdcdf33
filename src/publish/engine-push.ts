/**
 * A tested image pushed by the engine (`docker push`): the engine reads and sends only the layers
 * the registry lacks, mounts those another repository of the registry has (docker remembers
 * where it pulled each layer from: the base's), and compresses only layers it keeps uncompressed
 * (the classic store). The registry client then reads back what the tag got, by the digest the
 * engine reported, and checks it is the tested image. A Docker v2 manifest (the classic store
 * pushes those) is published as the same image told as OCI, so that its index carries the
 * annotations.
 *
 * The engine pushes a name: the tag is put on the tested image for the push and taken off right
 * after, or given back to the image it named before (a developer's own tag, on the CLI), so the
 * engine's names are as they were.
 */
import {
  asOciManifest,
  attestationKinds,
  attestationsOf,
  indexEntries,
  isIndexType,
  MEDIA,
  sha256,
  type AttestationEntry,
  type Descriptor
} from '../oci/manifest.js'
import type { Registries } from '../registry/registries.js'
import type { Transfer } from '../results/results.js'
import { errorMessage, lastLine } from '../text/text.js'
import type { Docker, LayerOutcome } from '../tooling/docker.js'
import type { PublishOptions } from './options.js'
import type { CellToPublish, TestedPush } from './push.js'

/**
 * Push the job's tested image under `tag` by the engine; why not, when the engine could not (the
 * caller then pushes it another way). Throws when the tag got another image than the tested one.
 */
export async function enginePush(
  job: CellToPublish,
  tag: string,
  o: PublishOptions
): Promise<TestedPush | string> {
  const tested = job.result
  if (tested?.localId === undefined) throw new Error(`cell ${job.cell.id} has no tested image`)
  o.pushing?.(tested.id, false)
  try {
    const pushed = await pushTagged(o.docker, tested.localId, tag, o.warn)
    if (typeof pushed === 'string') return pushed
    const got = await readPushed(o.registries, o.image, pushed.digest, job.cell.platform)
    const config = (JSON.parse(got.image.body) as { config?: { digest?: unknown } }).config?.digest
    const expected =
      tested.configDigest ?? (tested.manifestDigest === undefined ? tested.imageId : undefined)
    if (expected !== undefined ? config !== expected : got.image.digest !== tested.manifestDigest) {
      throw new Error(
        `${tag} was pushed with ${got.image.digest}, whose config is ${String(config)}, not the tested image's`
      )
    }
    // on the classic store docker names a layer by its uncompressed digest
    const diffIds = await o.docker.layerIds(tested.localId)
    const transfer = engineTransfer(got.image.body, diffIds, pushed.layers)
    // the classic store pushes Docker v2 manifests, whose index cannot hold annotations: the
    // same image told as OCI is what gets published
    const oci = asOciManifest(got.image.body)
    const image =
      oci === null
        ? got.image
        : {
            mediaType: MEDIA.ociManifest,
            digest: await o.registries.put(`${o.image}@${sha256(oci)}`, MEDIA.ociManifest, oci),
            size: Buffer.byteLength(oci),
            body: oci
          }
    return {
      image,
      body: image.body,
      attestations: got.attestations,
      kinds: got.kinds,
      tagged: !got.index && oci === null,
      transfer
    }
  } finally {
    o.pushing?.(tested.id, true)
  }
}

/** `docker push` of `source` under `tag`, the engine's names put back after; why not, on failure. */
async function pushTagged(
  docker: Docker,
  source: string,
  tag: string,
  warn: (m: string) => void
): Promise<{ digest: string; layers: ReadonlyMap<string, LayerOutcome> } | string> {
  const before = await docker.imageId(tag)
  await docker.tag(source, tag)
  let r: Awaited<ReturnType<Docker['push']>>
  try {
    r = await docker.push(tag)
  } finally {
    try {
      if (before === null) await docker.untag(tag)
      else if (before !== source) await docker.tag(before, tag)
    } catch (error) {
      warn(`${tag} is left on the pushed image in the engine: ${errorMessage(error)}`)
    }
  }
  if (r.retrying) return "the registry failed requests, and the engine's push began its own retries"
  if (r.code !== 0 || r.digest === undefined) {
    return `the engine's push failed (exit ${r.code}: ${lastLine(r.stderr || r.stdout)})`
  }
  return { digest: r.digest, layers: r.layers }
}

/** What the engine pushed, read back by digest: the image, and its attestations when an index. */
async function readPushed(
  registries: Registries,
  image: string,
  digest: string,
  platform: string
): Promise<{
  image: Descriptor & { body: string }
  index: boolean
  attestations: AttestationEntry[]
  kinds: string[]
}> {
  const top = await registries.require(`${image}@${digest}`)
  if (!isIndexType(top.mediaType)) {
    return { image: top, index: false, attestations: [], kinds: [] }
  }
  const entries = (indexEntries(top.body) ?? []).filter(e => e.platform === platform)
  if (entries.length !== 1) {
    throw new Error(`${image}@${digest} holds ${entries.length} ${platform} images, not one`)
  }
  const found = await registries.require(`${image}@${entries[0].digest}`)
  const attestations = attestationsOf(top.body, found.digest)
  const kinds: string[] = []
  for (const a of attestations) {
    kinds.push(...attestationKinds((await registries.require(`${image}@${a.digest}`)).body))
  }
  return { image: found, index: true, attestations, kinds: [...new Set(kinds)] }
}

/**
 * Bytes of each layer of the pushed manifest, by what the engine said it did with it: docker
 * names a layer by its blob's digest (the containerd store), or by its uncompressed digest (the
 * classic store, which then compressed what it uploaded). Pure.
 */
export function engineTransfer(
  manifest: string,
  diffIds: readonly string[],
  said: ReadonlyMap<string, LayerOutcome>
): Transfer {
  const layers = (JSON.parse(manifest) as { layers?: { digest: string; size: number }[] }).layers
  const t = { read: 0, compressed: 0, uploaded: 0, mounted: 0, skipped: 0 }
  const short = (digest: string | undefined): string =>
    (digest ?? '').replace(/^sha256:/, '').slice(0, 12)
  for (const [i, layer] of (layers ?? []).entries()) {
    const byBlob = said.get(short(layer.digest))
    const byDiff = said.get(short(diffIds[i]))
    const outcome = byBlob ?? byDiff
    if (outcome === 'pushed') {
      t.uploaded += layer.size
      // named by its uncompressed digest: the engine compressed it to send it (counted here by
      // what it compressed it to: the uncompressed size is not in the manifest)
      t.read += layer.size
      if (byBlob === undefined) t.compressed += layer.size
    } else if (outcome === 'mounted') t.mounted += layer.size
    else if (outcome === 'exists') t.skipped += layer.size
  }
  return { by: 'engine', layers: layers?.length ?? 0, ...t }
}
