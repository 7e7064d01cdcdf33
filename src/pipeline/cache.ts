/** The build cache around the cells: checks before any build, local folders restored and saved. */
import { access, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Config } from '../inputs/config.js'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { cacheArgs, cacheName, localCacheKey, type CacheArgs } from '../plan/cache.js'
import type { Cell } from '../plan/planner.js'
import { errorMessage } from '../runtime.js'
import type { Docker } from '../tooling/docker.js'

/** @actions/cache, behind a seam. */
export interface CacheService {
  available(): boolean
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>
  save(paths: string[], key: string): Promise<void>
}

export interface CellCache {
  readonly args: CacheArgs
  readonly dir?: string
  readonly key?: string
}

export interface CacheContext {
  readonly config: Config
  readonly cells: readonly Cell[]
  readonly imagePath: string
  readonly builder: string
  readonly docker: Docker
  readonly env: Readonly<Record<string, string | undefined>>
  /** local: the folder the cells' caches live in */
  readonly root: string
  readonly dockerfile: string
  readonly contextHash: string
  readonly service: CacheService
  readonly log: (m: string) => void
  readonly warn: (m: string) => void
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false
  )

/** Check the cache can work here, restore local caches; per cell, what its build gets. */
export async function prepareCache(c: CacheContext): Promise<Map<string, CellCache>> {
  const kind = c.config.cache
  const out = new Map<string, CellCache>()
  if (kind === 'none') return out
  if (
    kind === 'gha' &&
    (!c.env.ACTIONS_RUNTIME_TOKEN || !(c.env.ACTIONS_CACHE_URL || c.env.ACTIONS_RESULTS_URL))
  ) {
    throw new InputError(
      Inputs.Cache,
      'gha needs the GitHub Actions cache service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, which GitHub gives JavaScript actions); use registry or local elsewhere'
    )
  }
  const driver = await c.docker.builderDriver(c.builder)
  if (driver === 'docker') {
    throw new InputError(
      Inputs.Cache,
      `${kind} needs a builder that can export a build cache, and builder ${c.builder || '(current)'} uses the docker driver, which cannot; set driver: docker-container`
    )
  }
  const useService = kind === 'local' && c.service.available()
  if (kind === 'local' && !useService) {
    c.warn(
      'cache local: the Actions cache service is not available here, so the cache folders live only as long as this job'
    )
  }
  for (const cell of c.cells) {
    const name = cacheName(c.imagePath, cell.id, c.config.tagSuffix)
    const dir = path.join(c.root, name)
    let key: string | undefined
    if (useService) {
      const k = localCacheKey(name, c.dockerfile, c.contextHash)
      key = k.key
      try {
        const hit = await c.service.restore([dir], k.key, k.restoreKeys)
        c.log(
          `${cell.id}: build cache ${hit === undefined ? 'not found (cold build)' : `restored from ${hit}`}`
        )
      } catch (error) {
        c.warn(
          `${cell.id}: restoring the build cache failed, building without it: ${errorMessage(error)}`
        )
      }
    }
    const args = cacheArgs(
      { kind, repository: c.config.cacheRef, dir, name },
      kind === 'local' && (await exists(dir))
    )
    out.set(cell.id, {
      args,
      ...(kind === 'local' ? { dir } : {}),
      ...(key === undefined ? {} : { key })
    })
  }
  c.log(
    `Build cache: ${kind}, one ${kind === 'gha' ? 'scope' : kind === 'registry' ? `tag of ${c.config.cacheRef}` : 'folder'} per cell`
  )
  return out
}

/** local: move each built cell's new cache over the old one and save it. Problems are warnings. */
export async function saveLocalCaches(
  built: readonly string[],
  caches: ReadonlyMap<string, CellCache>,
  service: CacheService,
  log: (m: string) => void,
  warn: (m: string) => void
): Promise<void> {
  for (const id of built) {
    const cache = caches.get(id)
    if (cache?.dir === undefined || cache.args.newDir === undefined) continue
    try {
      if (!(await exists(cache.args.newDir))) continue
      await rm(cache.dir, { recursive: true, force: true })
      await rename(cache.args.newDir, cache.dir)
      if (cache.key !== undefined && service.available()) {
        await service.save([cache.dir], cache.key)
        log(`${id}: build cache saved as ${cache.key}`)
      }
    } catch (error) {
      warn(`${id}: saving the build cache failed: ${errorMessage(error)}`)
    }
  }
}
