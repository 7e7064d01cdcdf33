/**
 * Before any build: every base image the Dockerfile builds FROM must hold every platform it is
 * needed for. An amd64-only base (osrf/ros:*-desktop) built for arm64 would otherwise yield an
 * "arm64" image full of amd64 binaries.
 */
import type { Cell } from '../plan/planner.js'
import { resolveBaseImages } from '../tooling/dockerfile.js'
import { formatPlatform, type PlatformEntry } from '../oci/manifest.js'
import type { Registries } from '../registry/registries.js'
import type { Docker } from '../tooling/docker.js'
import type { BaseDigest } from '../plan/fingerprint.js'
import { errorMessage } from '../text/text.js'

export interface BaseNeed {
  readonly image: string
  /** platform -> cell ids needing it */
  readonly platforms: Map<string, string[]>
}

/** Which base images are needed for which platforms, over all cells. Pure. */
export function baseNeeds(
  dockerfile: string,
  cells: readonly Cell[],
  buildPlatform: string
): BaseNeed[] {
  const needs = new Map<string, BaseNeed>()
  for (const cell of cells) {
    const uses = resolveBaseImages(dockerfile, {
      buildArgs: cell.buildArgs,
      targetPlatform: cell.platform,
      buildPlatform
    })
    for (const use of uses) {
      const need = needs.get(use.image) ?? {
        image: use.image,
        platforms: new Map<string, string[]>()
      }
      needs.set(use.image, need)
      const ids = need.platforms.get(use.platform) ?? []
      ids.push(cell.id)
      need.platforms.set(use.platform, ids)
    }
  }
  return [...needs.values()]
}

/** The platforms an image has, with digests: from its registry, or the local engine when it is only local. */
async function entriesOf(
  docker: Docker,
  registries: Registries,
  image: string
): Promise<PlatformEntry[]> {
  try {
    return await registries.platforms(image)
  } catch (remoteError) {
    try {
      const local = await docker.inspectImage(image)
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

/** Per cell id, the digests of the bases it builds from (in Dockerfile order). */
export type BaseDigests = Map<string, BaseDigest[]>

export async function checkBases(
  needs: readonly BaseNeed[],
  docker: Docker,
  registries: Registries,
  log: (message: string) => void
): Promise<BaseDigests> {
  const problems: string[] = []
  const digests: BaseDigests = new Map()
  // read at once, reported in Dockerfile order
  const found = await Promise.all(needs.map(n => entriesOf(docker, registries, n.image)))
  for (const [i, need] of needs.entries()) {
    const entries = found[i]
    const has = entries.map(e => e.platform)
    const missing = [...need.platforms.keys()].filter(p => !has.includes(p))
    log(
      `${need.image}: has ${has.join(', ')}${missing.length ? `; MISSING ${missing.join(', ')}` : ''}`
    )
    if (missing.length > 0) {
      const cells = missing.flatMap(p => need.platforms.get(p) ?? [])
      problems.push(
        `base image ${need.image} has ${has.join(', ')} only; missing ${missing.join(', ')} (needed by ${cells.join(', ')})`
      )
      continue
    }
    for (const [platform, ids] of need.platforms) {
      const digest = entries.find(e => e.platform === platform)?.digest ?? ''
      for (const id of ids) {
        digests.set(id, [...(digests.get(id) ?? []), { image: need.image, digest }])
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `Preflight: ${problems.join('; ')}. Nothing was built: drop those platforms or use a multi-arch base such as ros:<distro>-ros-base.`
    )
  }
  return digests
}
