/** The real outside world: @actions/exec, @actions/tool-cache and the file system. */
import * as tc from '@actions/tool-cache'
import { readFile } from 'node:fs/promises'
import type { ToolCache } from './tooling/buildx.js'
import { processExecutor, type Exec } from './tooling/exec.js'
import type { ReadText } from './tooling/qemu.js'

export interface Tools {
  /** Stops with the run when it is cancelled */
  readonly exec: Exec
  /** Runs even after cancellation: for cleaning up */
  readonly cleanupExec: Exec
  /** Aborted on SIGINT or SIGTERM */
  readonly signal?: AbortSignal
  readonly toolCache: ToolCache
  readonly readText: ReadText
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
    readText: async path => {
      try {
        return await readFile(path, 'utf8')
      } catch {
        return undefined
      }
    }
  }
}
