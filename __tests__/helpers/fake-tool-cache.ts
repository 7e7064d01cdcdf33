/**
 * A tool cache on disk for installer tests: download writes `served` into a temp folder,
 * cacheFile copies into <root>/cache/<tool>/<version>/<arch>, find answers `hit` (a cache entry
 * of `tool` holding `hitContent`, or '' for none).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ToolCache } from '../../src/tooling/download.js'

export type FakeToolCache = ToolCache & {
  root: string
  downloads: string[]
  cached: string[][]
  hit: string
}

export function fakeToolCache(tool: string, served: string, hitContent?: string): FakeToolCache {
  const root = mkdtempSync(path.join(os.tmpdir(), `rma-${tool}-`))
  const downloads: string[] = []
  const cached: string[][] = []
  let hit = ''
  if (hitContent !== undefined) {
    hit = path.join(root, 'cache', tool, 'hit', 'x64')
    mkdirSync(hit, { recursive: true })
    writeFileSync(path.join(hit, tool), hitContent, { mode: 0o644 })
  }
  return {
    root,
    downloads,
    cached,
    hit,
    find: () => hit,
    async download(url) {
      downloads.push(url)
      mkdirSync(path.join(root, 'downloads'), { recursive: true })
      const file = path.join(root, 'downloads', `file-${downloads.length}`)
      writeFileSync(file, served, { mode: 0o644 })
      return file
    },
    async cacheFile(source, target, name, version, arch) {
      cached.push([target, name, version, arch])
      const dir = path.join(root, 'cache', name, version, arch)
      mkdirSync(dir, { recursive: true })
      await copyFile(source, path.join(dir, target))
      return dir
    }
  }
}
