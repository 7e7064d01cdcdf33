/** The real outside world: child processes (node:child_process), @actions/tool-cache, @actions/cache and the file system. */
import * as tc from '@actions/tool-cache'
import { actionsCacheRuntime, type CacheService } from './pipeline/cache.js'
import { readFile } from 'node:fs/promises'
import type { ToolCache } from './tooling/buildx.js'
import { processExecutor, type Exec, type ReadText } from './tooling/exec.js'

export interface Tools {
  /** Stops with the run when it is cancelled */
  readonly exec: Exec
  /** Runs even after cancellation: for cleaning up */
  readonly cleanupExec: Exec
  /** Aborted on SIGINT or SIGTERM */
  readonly signal?: AbortSignal
  readonly toolCache: ToolCache
  readonly readText: ReadText
  /** The Actions cache service, for cache: local */
  readonly cache: CacheService
}

export function realTools(signal?: AbortSignal): Tools {
  return {
    exec: processExecutor(signal),
    cleanupExec: processExecutor(),
    ...(signal === undefined ? {} : { signal }),
    toolCache: {
      find: (tool, version, arch) => tc.find(tool, version, arch),
      download: url => tc.downloadTool(url),
      cacheFile: (source, target, tool, version, arch) =>
        tc.cacheFile(source, target, tool, version, arch)
    },
    // loaded only for cache: local (it is most of the bundle's size; ncc puts it in a chunk)
    cache: {
      available: () => actionsCacheRuntime(process.env),
      restore: async (paths, key, restoreKeys) =>
        (await import('@actions/cache')).restoreCache(paths, key, restoreKeys),
      save: async (paths, key) =>
        (await (await import('@actions/cache')).saveCache(paths, key)) !== -1
    },
    readText: async path => {
      try {
        return await readFile(path, 'utf8')
      } catch {
        return undefined
      }
    }
  }
}
