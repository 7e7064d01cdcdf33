/**
 * buildx: keep the installed plugin when it satisfies buildx-version, otherwise install a release
 * with @actions/tool-cache (cached between runs on self-hosted runners), checked against its
 * pinned sha256 (or buildx-sha256) whether downloaded or cached, and verify it runs.
 */
import { Inputs } from '../inputs/names.js'
import { chmod, copyFile, mkdir, rename } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import type { ToolCache } from './download.js'
import { check, type Exec } from './exec.js'
import {
  decideTool,
  newestPinned,
  pinnedVersions,
  releaseFile,
  releaseUrl,
  type ToolDecision
} from './releases.js'

export type { ToolCache } from './download.js'

/** The newest buildx release this version of the action pins (used for `latest` and ranges). */
export const KNOWN_LATEST_BUILDX = newestPinned('buildx')

export type BuildxDecision = ToolDecision

/** What to do about buildx, given the requirement and what `docker buildx version` said. Pure. */
export function decideBuildx(required: string, installed: string | null): BuildxDecision {
  return decideTool('buildx', required, installed, pinnedVersions('buildx'))
}

export function buildxUrl(template: string, version: string, nodeArch: string): string {
  return releaseUrl('buildx', template, version, nodeArch)
}

export interface InstallOptions {
  readonly version: string
  readonly urlTemplate: string
  /**
   * The sha256 of the file at the URL (input buildx-sha256, for a mirror serving its own build);
   * empty or absent: the pinned one for this version and architecture
   */
  readonly sha256?: string
  readonly nodeArch: string
  /** Docker's config folder: the plugin goes to <dir>/cli-plugins/docker-buildx */
  readonly dockerConfig: string
  readonly exec: Exec
  readonly cache: ToolCache
  readonly log: (message: string) => void
}

export async function installBuildx(o: InstallOptions): Promise<string> {
  const cached = await releaseFile({
    tool: 'buildx',
    cacheName: 'docker-buildx',
    version: o.version,
    nodeArch: o.nodeArch,
    urlTemplate: o.urlTemplate,
    sha256: o.sha256,
    input: Inputs.BuildxSha256,
    cache: o.cache,
    log: o.log
  })
  const plugins = path.join(o.dockerConfig, 'cli-plugins')
  await mkdir(plugins, { recursive: true })
  const target = path.join(plugins, 'docker-buildx')
  // copied beside it, then renamed over it: never written through a link, never half-written,
  // and a buildx still running from an earlier step keeps its own file
  const part = `${target}.${process.pid}.part`
  await copyFile(cached, part)
  await chmod(part, 0o755)
  await rename(part, target)
  const r = await check(o.exec, `Running the installed buildx ${o.version}`, 'docker', [
    'buildx',
    'version'
  ])
  const got = semver.coerce(r.stdout)?.version
  if (got !== o.version) {
    throw new Error(
      `The installed buildx reports ${got ?? 'no version'} where ${o.version} was installed ` +
        `(${target}).`
    )
  }
  return target
}
