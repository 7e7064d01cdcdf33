/**
 * Moving tags to what was published by digest: a tag pointed at an image (arch and staging tags),
 * and the tag phase of a distro: in every registry that does not hold the index under its tags
 * yet, the cells' arch tags (several registries) and the index tags. With several registries,
 * what each tag held is read first, and when a tag write fails, every tag moved so far is put
 * back, in every registry: a tag that held nothing stays on the new index (a registry need not
 * delete a tag; the images under it passed their tests).
 */
import type { Descriptor, NewIndex } from '../oci/manifest.js'
import { retarget } from '../oci/reference.js'
import type { FetchedManifest } from '../registry/client.js'
import type { PublishOptions } from './options.js'
import type { Progress, PutBack } from './progress.js'
import type { CellToPublish } from './push.js'
import type { Manifest } from '../plan/planner.js'

/** The image name of a tag reference (`acme/robot:humble` is `acme/robot`). Pure. */
function imageOf(tag: string): string {
  return tag.slice(0, tag.lastIndexOf(':'))
}

/**
 * Point a tag at an image already in the repository: the very manifest (its bytes, so its digest),
 * not an index wrapping it. A tag that already holds it is left alone; `wrote` is told otherwise.
 */
export async function pointTag(
  tag: string,
  digest: string,
  o: PublishOptions,
  wrote: () => void = () => undefined
): Promise<Descriptor> {
  const held = await o.registries.head(tag)
  const image = await o.registries.require(`${imageOf(tag)}@${digest}`)
  if (held?.digest !== digest) {
    await o.registries.put(tag, image.mediaType, image.body)
    wrote()
    o.log(`Tagged ${tag}: the tested image ${digest}`)
  }
  return { mediaType: image.mediaType, digest: image.digest, size: image.size }
}

interface Distro {
  readonly manifest: Manifest
  readonly jobs: readonly CellToPublish[]
}

/**
 * The tag phase: each of `names` gets the index under every tag (and, with several registries,
 * each cell's arch tag); a registry is `tags moved` once one of its tag writes succeeded. Throws
 * what failed, after putting back what moved (several registries).
 */
export async function moveTags(
  distro: Distro,
  names: readonly string[],
  index: NewIndex,
  c: { readonly o: PublishOptions; readonly progress: Progress }
): Promise<void> {
  const { o, progress } = c
  const several = progress.names.length > 1
  const tagsOf = (name: string): string[] =>
    distro.manifest.tags.map(t => retarget(t, o.image, name))
  const before = new Map<string, FetchedManifest | null>()
  if (several) {
    for (const name of names) {
      const archTags = distro.jobs.map(j => retarget(j.cell.pushTag, o.image, name))
      for (const tag of [...archTags, ...tagsOf(name)]) {
        before.set(tag, await progress.in(name, () => o.registries.manifest(tag)))
      }
    }
  }
  const written: string[] = []
  const wrote = (name: string, tag: string): void => {
    written.push(tag)
    progress.set(name, 'tags moved')
  }
  try {
    for (const name of names) {
      await progress.in(name, async () => {
        if (several) await tagImages(distro, name, o, tag => wrote(name, tag))
        for (const tag of tagsOf(name)) {
          await o.registries.put(tag, index.mediaType, index.body)
          wrote(name, tag)
        }
      })
    }
  } catch (error) {
    if (several && written.length > 0) progress.putBack = await putBack(written, before, c)
    throw error
  }
}

/** Each cell's arch tag in one image name, pointed at its image; the cell's result names it. */
async function tagImages(
  distro: Distro,
  name: string,
  o: PublishOptions,
  wrote: (tag: string) => void
): Promise<void> {
  for (const job of distro.jobs) {
    const pushed = job.pushed
    if (pushed === undefined) throw new Error(`cell ${job.cell.id} was not pushed`)
    const tag = retarget(job.cell.pushTag, o.image, name)
    await pointTag(tag, pushed.digest, o, () => wrote(tag))
    job.pushed =
      name === o.image
        ? { ...pushed, tag }
        : { ...pushed, mirrorTags: [...(pushed.mirrorTags ?? []), tag] }
  }
}

/**
 * Put back each tag written, as it was read before (its bytes, so its digest). A registry whose
 * every moved tag is back holds only what was written by digest again.
 */
async function putBack(
  written: readonly string[],
  before: ReadonlyMap<string, FetchedManifest | null>,
  c: { readonly o: PublishOptions; readonly progress: Progress }
): Promise<PutBack> {
  const { o, progress } = c
  const done: PutBack = { restored: 0, kept: [], failed: [] }
  for (const tag of written) {
    const old = before.get(tag)
    if (old === null || old === undefined) {
      done.kept.push(tag)
      continue
    }
    try {
      await o.registries.put(tag, old.mediaType, old.body)
      done.restored++
      o.log(`Put back ${tag}: ${old.digest}, as before this run`)
    } catch {
      done.failed.push(tag)
    }
  }
  for (const name of progress.names) {
    const mine = written.filter(t => imageOf(t) === name)
    if (mine.length > 0 && mine.every(t => before.get(t) && !done.failed.includes(t))) {
      progress.set(name, 'index by digest')
    }
  }
  return done
}
