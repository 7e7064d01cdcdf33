/**
 * Publishing a distro: only when every one of its cells passed. Each tested image is pushed under
 * its arch tag, then one index made of exactly those digests is published under every tag and read
 * back from the registry to check it holds exactly the planned platforms.
 */
import type { Cell, Manifest } from '../plan/planner.js'
import { cellOk, type CellResult, type DistroResult } from '../results/results.js'
import { indexPlatforms, type Docker } from '../tooling/docker.js'
import { errorMessage } from '../tooling/exec.js'

export interface PublishOptions {
  readonly docker: Docker
  readonly image: string
  readonly platforms: readonly string[]
  readonly log: (message: string) => void
  readonly warn: (message: string) => void
}

const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

/** Why a published index has no annotations, for a warning. Pure. */
export function annotationsLost(tag: string, raw: string): string {
  const doc = JSON.parse(raw) as { mediaType?: string }
  const labels = 'The metadata is on every image as labels.'
  if (doc.mediaType === DOCKER_LIST) {
    return (
      `${tag} is a Docker manifest list, which cannot hold annotations: its images are Docker v2 manifests, ` +
      `as an engine with the classic image store pushes them. ${labels} Images built on an engine with the containerd image store are OCI, and their index gets the annotations.`
    )
  }
  return `${tag} was published without its annotations (the registry dropped them). ${labels}`
}

/** True when an index carries annotations (OCI indexes can; Docker manifest lists cannot). */
export function hasAnnotations(raw: string): boolean {
  const doc = JSON.parse(raw) as { annotations?: Record<string, string> }
  return doc.annotations !== undefined && Object.keys(doc.annotations).length > 0
}

/** A tested image in the registry: the tag it was pushed under and its manifest digest. */
export interface PushedImage {
  readonly tag: string
  readonly digest: string
}

export interface Published {
  readonly distro: DistroResult
  /** Per cell id: the arch tag and manifest digest pushed */
  readonly pushed: ReadonlyMap<string, PushedImage>
}

export async function publishDistro(
  manifest: Manifest,
  cells: readonly Cell[],
  results: readonly CellResult[],
  o: PublishOptions
): Promise<Published> {
  const pushed = new Map<string, PushedImage>()
  let tagsMoved = false
  try {
    // An unchanged cell's image is already in the repository: it keeps the arch tag it was
    // pushed under (buildx cannot re-tag a single image without wrapping it in an index).
    const reused = new Map<string, string>()
    for (const cell of cells) {
      const result = results.find(r => r.id === cell.id)
      if (result !== undefined && cellOk(result.status) && result.reused !== undefined) {
        reused.set(cell.id, result.reused.digest)
        continue
      }
      if (result?.status !== 'passed' || result.imageId === undefined) {
        throw new Error(`cell ${cell.id} did not pass`)
      }
      const digest = await pushTested(result, cell.pushTag, o)
      o.log(`Pushed ${cell.pushTag} (${cell.platform}) ${digest}`)
      pushed.set(cell.id, { tag: cell.pushTag, digest })
    }
    const digests = cells.map(c => reused.get(c.id) ?? pushed.get(c.id)?.digest ?? '')
    if (reused.size === cells.length) {
      const same = await alreadyPublished(manifest, digests, o)
      if (same !== undefined) {
        o.log(
          `Unchanged: ${manifest.tags.join(', ')} already hold this index (${same}); nothing pushed`
        )
        return {
          distro: {
            distro: manifest.distro,
            status: 'published',
            tags: manifest.tags,
            digest: same,
            unchanged: true
          },
          pushed
        }
      }
    }
    tagsMoved = true
    await o.docker.createIndex(
      manifest.tags,
      digests.map(d => `${o.image}@${d}`),
      manifest.labels
    )
    const raw = await o.docker.inspectRaw(manifest.tags[0])
    const entries = indexDigests(raw)
    if (!sameSet(entries, digests)) {
      throw new Error(
        `${manifest.tags[0]} does not hold the images just pushed (another run published over it?)`
      )
    }
    const platforms = indexPlatforms(raw) ?? []
    const expected = [...o.platforms].sort()
    if (JSON.stringify([...platforms].sort()) !== JSON.stringify(expected)) {
      throw new Error(
        `the published index holds ${platforms.join(', ') || 'nothing'}, expected exactly ${expected.join(', ')}`
      )
    }
    if (manifest.labels.length > 0 && !hasAnnotations(raw)) {
      o.warn(annotationsLost(manifest.tags[0], raw))
    }
    const digest = await o.docker.remoteDigest(manifest.tags[0])
    o.log(`Published ${manifest.tags.join(', ')} -> ${digest}`)
    return {
      distro: { distro: manifest.distro, status: 'published', tags: manifest.tags, digest },
      pushed
    }
  } catch (error) {
    return {
      distro: {
        distro: manifest.distro,
        status: 'publish failed',
        // once the index was being created, its tags may have moved (to the tested images)
        tags: tagsMoved ? manifest.tags : [],
        reason: errorMessage(error)
      },
      pushed
    }
  }
}

/**
 * Push a tested image under a tag; what the registry then holds must be that very image (the
 * pushed manifest's config digest is the tested image's). Returns the manifest digest.
 */
async function pushTested(
  tested: Pick<CellResult, 'id' | 'imageId' | 'localId'>,
  tag: string,
  o: PublishOptions
): Promise<string> {
  const { imageId } = tested
  if (imageId === undefined) throw new Error(`cell ${tested.id} has no tested image`)
  await o.docker.tag(tested.localId ?? imageId, tag)
  const digest = await o.docker.push(tag)
  const config = configDigest(await o.docker.inspectRaw(`${o.image}@${digest}`))
  if (config !== imageId) {
    throw new Error(
      `${tag} was pushed as ${digest} with config ${config ?? 'unknown'}, not the tested image ${imageId}`
    )
  }
  return digest
}

/**
 * mode build: stage a tested cell under its staging tag for the merge job (the tag is pushed only
 * after the cell's tests passed). A reused image is staged as a one-entry index pointing at it.
 */
export async function stageCell(
  cell: Cell,
  result: CellResult,
  o: PublishOptions
): Promise<PushedImage> {
  if (result.reused !== undefined) {
    await o.docker.createIndex([cell.stageTag], [`${o.image}@${result.reused.digest}`])
    o.log(`Staged ${cell.stageTag} (${cell.platform}): the unchanged image ${result.reused.digest}`)
    return { tag: cell.stageTag, digest: result.reused.digest }
  }
  const digest = await pushTested(result, cell.stageTag, o)
  o.log(`Staged ${cell.stageTag} (${cell.platform}) ${digest}`)
  return { tag: cell.stageTag, digest }
}

/** The index digest when every tag already holds one index of exactly these images. */
async function alreadyPublished(
  manifest: Manifest,
  digests: readonly string[],
  o: PublishOptions
): Promise<string | undefined> {
  const held = await Promise.all(
    manifest.tags.map(t => o.docker.remoteDigest(t).catch(() => undefined))
  )
  const first = held[0]
  if (first === undefined || held.some(h => h !== first)) return undefined
  const entries = indexDigests(await o.docker.inspectRaw(manifest.tags[0]))
  return sameSet(entries, digests) ? first : undefined
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())
}

/** The config digest of a single-image manifest. */
export function configDigest(raw: string): string | undefined {
  return (JSON.parse(raw) as { config?: { digest?: string } }).config?.digest
}

/** The digests an index lists. */
export function indexDigests(raw: string): string[] {
  return ((JSON.parse(raw) as { manifests?: { digest: string }[] }).manifests ?? []).map(
    m => m.digest
  )
}
