/**
 * Build cache per cell: buildx --cache-from/--cache-to arguments and @actions/cache keys. Each
 * cell has its own scope (gha), tag (registry) or folder (local), so the cells of a matrix never
 * overwrite each other's cache. Pure.
 */
import { createHash } from 'node:crypto'
import type { CacheKind } from '../inputs/config.js'

export interface CacheTarget {
  readonly kind: CacheKind
  /** registry: the repository cache tags go to (no tag) */
  readonly repository: string
  /** local: the folder of this cell's cache */
  readonly dir: string
  /** gha: the scope; registry: the tag; local: part of the cache key */
  readonly name: string
}

/** A cache name's length limit: `buildcache-<name>` is a tag, which holds 128 characters. */
export const CACHE_NAME_MAX = 117

/**
 * The per-cell name: image path, cell and tag suffix, so two images built in one repository stay
 * apart. A path too long for the limit is shortened and a hash of it added; the cell and suffix
 * are always kept whole, so the cells of one image never share a cache.
 */
export function cacheName(imagePath: string, cellId: string, suffix: string): string {
  const head = imagePath.replaceAll('/', '_')
  const tail = `-${cellId}${suffix}`
  if (head.length + tail.length <= CACHE_NAME_MAX) return `${head}${tail}`
  const hash = createHash('sha256').update(head).digest('hex').slice(0, 8)
  const room = Math.max(0, CACHE_NAME_MAX - tail.length - hash.length - 1)
  return `${head.slice(0, room)}-${hash}${tail}`.slice(-CACHE_NAME_MAX)
}

export interface CacheArgs {
  readonly from: string[]
  readonly to: string[]
  /** local: where the build writes the new cache, moved over dir afterwards */
  readonly newDir?: string
}

/**
 * A failed cache export never fails the build (ignore-error). Without push (a pull request,
 * push: false) the registry cache is only read: nothing is written to the registry.
 */
export function cacheArgs(t: CacheTarget, localExists: boolean, push: boolean): CacheArgs {
  switch (t.kind) {
    case 'none':
      return { from: [], to: [] }
    case 'gha':
      // url and token come from ACTIONS_CACHE_URL / ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN
      return {
        from: [`type=gha,scope=${t.name}`],
        to: [`type=gha,scope=${t.name},mode=max,ignore-error=true`]
      }
    case 'registry': {
      const ref = `${t.repository}:buildcache-${t.name}`
      return {
        from: [`type=registry,ref=${ref}`],
        to: push ? [`type=registry,ref=${ref},mode=max,ignore-error=true`] : []
      }
    }
    case 'local': {
      // a fresh folder each time: exporting into the old one would let it grow without bound
      const newDir = `${t.dir}-new`
      return {
        from: localExists ? [`type=local,src=${t.dir}`] : [],
        to: [`type=local,dest=${newDir},mode=max,ignore-error=true`],
        newDir
      }
    }
  }
}

/**
 * @actions/cache key of a cell's local cache: its name and a hash of its build fingerprint (the
 * Dockerfile, context, build args and base digests), so a new base or input saves a new cache.
 */
export function localCacheKey(
  name: string,
  fingerprint: { readonly baseDigest: string; readonly inputsHash: string }
): { key: string; restoreKeys: string[] } {
  const prefix = `ros-multiarch-buildcache-${name}-`
  const hash = createHash('sha256')
    .update(`${fingerprint.baseDigest}\0${fingerprint.inputsHash}`)
    .digest('hex')
  return { key: `${prefix}${hash.slice(0, 32)}`, restoreKeys: [prefix] }
}
