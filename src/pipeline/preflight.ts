/**
 * Before any build: every base image the Dockerfile builds FROM must hold every platform it is
 * needed for. An amd64-only base (osrf/ros:*-desktop) built for arm64 would otherwise yield an
 * "arm64" image full of amd64 binaries.
 */
import { resolveBaseImages } from '../tooling/dockerfile.js'
import { formatPlatform, type PlatformEntry } from '../oci/manifest.js'
import type { Registries } from '../registry/registries.js'
import type { Docker } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import type { CellJob } from './run.js'

export interface BaseNeed {
  readonly image: string
  /** platform -> the cells needing it */
  readonly platforms: Map<string, CellJob[]>
}

/** Which base images are needed for which platforms, over all cells. Pure. */
export function baseNeeds(
  dockerfile: string,
  jobs: readonly CellJob[],
  buildPlatform: string
): BaseNeed[] {
  const needs = new Map<string, BaseNeed>()
  for (const job of jobs) {
    const uses = resolveBaseImages(dockerfile, {
      buildArgs: job.cell.buildArgs,
      targetPlatform: job.cell.platform,
      buildPlatform
    })
    for (const use of uses) {
      const need = needs.get(use.image) ?? {
        image: use.image,
        platforms: new Map<string, CellJob[]>()
      }
      needs.set(use.image, need)
      need.platforms.set(use.platform, [...(need.platforms.get(use.platform) ?? []), job])
    }
  }
  return [...needs.values()]
}

/** Where the bases are read: their registries, or the local engine for a base that is only local. */
export interface BaseSources {
  readonly docker: Docker
  readonly registries: Registries
  readonly log: (message: string) => void
}

/** The platforms an image has, with digests: from its registry, or the local engine when it is only local. */
async function entriesOf(o: BaseSources, image: string): Promise<PlatformEntry[]> {
  try {
    return await o.registries.platforms(image)
  } catch (remoteError) {
    try {
      const local = await o.docker.inspectImage(image)
      return [
        {
          platform: formatPlatform(local.os, local.architecture, local.variant),
          digest: `local:${local.id}`
        }
      ]
    } catch {
      throw new Error(`Base image ${image} cannot be inspected: ${errorMessage(remoteError)}`)
    }
  }
}

/**
 * Every base holds every platform it is needed for, or nothing is built; each cell's `bases` are
 * its bases with the digests of its platform (in Dockerfile order).
 */
export async function checkBases(needs: readonly BaseNeed[], o: BaseSources): Promise<void> {
  const problems: string[] = []
  // read at once, reported in Dockerfile order
  const found = await Promise.all(needs.map(n => entriesOf(o, n.image)))
  for (const [i, need] of needs.entries()) {
    const entries = found[i]
    const has = entries.map(e => e.platform)
    const missing = [...need.platforms.keys()].filter(p => !has.includes(p))
    o.log(
      `${need.image}: has ${has.join(', ')}${missing.length ? `; MISSING ${missing.join(', ')}` : ''}`
    )
    if (missing.length > 0) {
      const cells = missing.flatMap(p => (need.platforms.get(p) ?? []).map(j => j.cell.id))
      problems.push(
        `base image ${need.image} has ${has.join(', ')} only; missing ${missing.join(', ')} (needed by ${cells.join(', ')})`
      )
      continue
    }
    for (const [platform, jobs] of need.platforms) {
      const digest = entries.find(e => e.platform === platform)?.digest ?? ''
      for (const job of jobs) job.bases = [...job.bases, { image: need.image, digest }]
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `Preflight: ${problems.join('; ')}. Nothing was built: drop those platforms or use a multi-arch base such as ros:<distro>-ros-base.`
    )
  }
}
