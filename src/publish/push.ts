/**
 * Pushing a tested image under a tag, the cheapest way that works: the engine pushes it itself
 * (`docker push`), reading and sending only the layers the registry lacks and mounting those
 * another repository of the registry has (docker keeps where each layer came from); when it
 * cannot (it failed, or the registry failed requests and the engine began its own slow retries),
 * the action's registry client pushes it from a `docker save`, with retries per request. Either
 * way the tag then holds the tested image (its config digest checked), and the result says what
 * the push cost.
 */
import type { AttestationEntry, Descriptor } from '../oci/manifest.js'
import type { Cell } from '../plan/planner.js'
import type { CellResult, PushedImage, Transfer } from '../results/results.js'
import { formatBytes } from '../text/text.js'
import { clientPush } from './client-push.js'
import { enginePush } from './engine-push.js'
import type { PublishOptions } from './options.js'

/** A cell to publish: its plan entry, how it ended, its bases; `pushed` is set when it is pushed. */
export interface CellToPublish {
  readonly cell: Cell
  readonly result?: CellResult
  /** The base images it was built from: their repositories are tried for blob mounts */
  readonly bases: readonly { readonly image: string }[]
  pushed?: PushedImage
}

/** A tested image pushed under a tag: the image, its attestations, what the tag holds, the cost. */
export interface TestedPush {
  readonly image: Descriptor
  /** The image manifest's bytes */
  readonly body: string
  readonly attestations: readonly AttestationEntry[]
  /** provenance, sbom: what the attestation manifests hold */
  readonly kinds: readonly string[]
  /**
   * The tag holds `image` itself. False when the engine left something else under it: an index of
   * the image and its attestation manifests (the containerd store keeps them together and pushes
   * them so), or the Docker v2 manifest `image` tells as OCI
   */
  readonly tagged: boolean
  readonly transfer: Transfer
}

/** Push a tested image under `tag`: by the engine, else by the registry client. */
export async function pushImage(
  job: CellToPublish,
  tag: string,
  o: PublishOptions
): Promise<TestedPush> {
  if (o.enginePush !== false) {
    const pushed = await enginePush(job, tag, o)
    if (typeof pushed !== 'string') return pushed
    o.log(`${tag}: ${pushed}; the registry client pushes it instead`)
  }
  return clientPush(job, tag, o)
}

/** `by the engine: 6 layers: 2 uploaded (1.2 kB), 4 mounted (173.4 MB), 0 skipped; read 1.2 kB`. Pure. */
export function transferNote(t: Transfer): string {
  const compressed = t.compressed === 0 ? '' : `, compressed ${formatBytes(t.compressed)}`
  const counts = [
    `${formatBytes(t.uploaded)} uploaded`,
    `${formatBytes(t.mounted)} mounted`,
    `${formatBytes(t.skipped)} already there`
  ].join(', ')
  return `by the ${t.by === 'engine' ? 'engine' : 'registry client'}: ${t.layers} layers, ${counts}; read ${formatBytes(t.read)}${compressed}`
}
