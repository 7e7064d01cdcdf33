/** The build cache around the cells: checks before any build, local folders restored and saved. */
import { access, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { cacheArgs, cacheName, localCacheKey, type CacheArgs } from '../plan/cache.js'
import type { CacheSettings } from '../plan/settings.js'
import { errorMessage } from '../text/text.js'
import type { Docker, ImageStore } from '../tooling/docker.js'
import type { CellJob } from './run.js'

/** @actions/cache, behind a seam. */
export interface CacheService {
  available(): boolean
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>
  /** False when the service declined (the key exists already, or the upload failed) */
  save(paths: string[], key: string): Promise<boolean>
}

export interface CellCache {
  readonly args: CacheArgs
  readonly dir?: string
  readonly key?: string
}

export interface CacheContext {
  readonly settings: CacheSettings
  /** The cells to build: each gets its `cache` */
  readonly jobs: readonly CellJob[]
  readonly push: boolean
  readonly builder: string
  /** The engine's image store (the docker driver exports a cache on containerd's only) */
  readonly store: ImageStore
  readonly docker: Docker
  readonly env: Readonly<Record<string, string | undefined>>
  /** local: the folder the cells' caches live in */
  readonly root: string
  readonly service: CacheService
  /** The Dockerfile has cache mounts the run carries through this cache */
  readonly mounts: boolean
  readonly log: (m: string) => void
  readonly warn: (m: string) => void
}

/** True when the runner gave this process the Actions cache service (token and service URL). */
export function actionsCacheRuntime(env: Readonly<Record<string, string | undefined>>): boolean {
  return (
    Boolean(env.ACTIONS_RUNTIME_TOKEN) && Boolean(env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL)
  )
}

/** buildx that speaks GitHub's cache service v2 (v1 was shut down in 2025). */
export const GHA_MIN_BUILDX = '0.21.0'

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false
  )

/**
 * Can this builder export a cache? Not the docker driver, unless the engine uses containerd's
 * image store. Then the layer cache is off, and only cache mounts are carried: with none to carry,
 * the input would do nothing, and that is an error naming what to set.
 */
async function checkBuilder(c: CacheContext): Promise<boolean> {
  const kind = c.settings.kind
  if (kind === 'gha') {
    const version = (await c.docker.buildxVersion()) ?? '0.0.0'
    if (semver.lt(version, GHA_MIN_BUILDX)) {
      throw new InputError(
        Inputs.Cache,
        `gha needs buildx ${GHA_MIN_BUILDX} or newer (GitHub's cache service v2), and this runner has ${version}; set buildx-version: ">=${GHA_MIN_BUILDX}"`
      )
    }
  }
  const driver = await c.docker.builderDriver(c.builder)
  if (driver !== 'docker' || c.store === 'containerd') return true
  const cannot = `builder ${c.builder || '(current)'} uses the docker driver on the classic image store, which cannot export a build cache`
  if (!c.mounts) {
    throw new InputError(
      Inputs.Cache,
      `${kind} needs a builder that can export a build cache, and ${cannot}; set driver: docker-container`
    )
  }
  c.warn(
    `cache ${kind}: ${cannot}: the layer cache is not kept (set driver: docker-container for it); the cache mounts are carried`
  )
  return false
}

/** Check the cache can work here, restore local caches; each cell's `cache`: what its build gets. */
export async function prepareCache(c: CacheContext): Promise<void> {
  const kind = c.settings.kind
  if (kind === 'none') return
  if (kind === 'gha' && !actionsCacheRuntime(c.env)) {
    throw new InputError(
      Inputs.Cache,
      'gha needs the GitHub Actions cache service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, which GitHub gives JavaScript actions); use registry or local elsewhere'
    )
  }
  if (!(await checkBuilder(c))) {
    for (const job of c.jobs) job.cache = { args: { from: [], to: [] } }
    return
  }
  const useService = kind === 'local' && c.service.available()
  if (kind === 'local' && !useService) {
    c.warn(
      `cache local: the Actions cache service is not available here; the cache folders in ${c.root} are neither restored nor saved`
    )
  }
  for (const job of c.jobs) {
    const { cell, fingerprint: fp } = job
    const name = cacheName(c.settings.imagePath, cell.id, c.settings.tagSuffix)
    const dir = path.join(c.root, name)
    let key: string | undefined
    if (useService && fp !== undefined) {
      const k = localCacheKey(name, fp)
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
      { kind, repository: c.settings.ref, dir, name },
      kind === 'local' && (await exists(dir)),
      c.push
    )
    job.cache = {
      args,
      ...(kind === 'local' ? { dir } : {}),
      ...(key === undefined ? {} : { key })
    }
  }
  const where =
    kind === 'gha' ? 'scope' : kind === 'registry' ? `tag of ${c.settings.ref}` : 'folder'
  c.log(
    `Build cache: ${kind}, one ${where} per cell` +
      (kind === 'registry' && !c.push ? ' (read only: push is off)' : '')
  )
}

/** Where saving the local caches reports. */
export interface SaveContext {
  readonly service: CacheService
  readonly log: (m: string) => void
  readonly warn: (m: string) => void
}

/**
 * local: move each built cell's new cache over the old one and save it; drop the new cache of a
 * cell that did not build. Problems are warnings.
 */
export async function saveLocalCaches(jobs: readonly CellJob[], c: SaveContext): Promise<void> {
  const { service, log, warn } = c
  for (const { cell, cache, result } of jobs) {
    const id = cell.id
    const newDir = cache?.args.newDir
    if (cache?.dir === undefined || newDir === undefined) continue
    try {
      if (!(await exists(newDir))) continue
      if (result?.imageId === undefined) {
        await rm(newDir, { recursive: true, force: true })
        continue
      }
      await rm(cache.dir, { recursive: true, force: true })
      await rename(newDir, cache.dir)
      if (cache.key === undefined) continue
      if (await service.save([cache.dir], cache.key))
        log(`${id}: build cache saved as ${cache.key}`)
      else log(`${id}: build cache not saved (${cache.key} exists already, or the upload failed)`)
    } catch (error) {
      warn(`${id}: saving the build cache failed: ${errorMessage(error)}`)
    }
  }
}
