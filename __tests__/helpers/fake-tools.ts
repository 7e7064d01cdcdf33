/** Tools for unit tests: a fake exec, and no downloads, cache service or files. */
import type { Tools } from '../../src/tools.js'
import { fakeExec } from './fake-exec.js'

export function fakeTools(exec = fakeExec()): Tools {
  return {
    exec,
    cleanupExec: exec,
    toolCache: {
      find: () => '',
      download: async () => {
        throw new Error('no downloads in unit tests')
      },
      cacheFile: async () => ''
    },
    readText: async () => undefined,
    cache: {
      available: () => false,
      restore: async () => undefined,
      save: async () => false
    }
  }
}
