/**
 * buildx: keep the installed plugin when it satisfies buildx-version, otherwise install a release
 * with @actions/tool-cache (cached between runs on self-hosted runners) and verify it runs.
 */
import { chmod, copyFile, mkdir, rename } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { check, type Exec } from './exec.js'

/** The newest buildx release this version of the action knows (used for `latest` and ranges). */
export const KNOWN_LATEST_BUILDX = '0.37.1'
export const DEFAULT_BUILDX_URL =
  'https://github.com/docker/buildx/releases/download/v{version}/buildx-v{version}.linux-{arch}'

/** buildx release asset architecture for a Node os.arch() */
const ASSET_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm-v7',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64'
}

export type BuildxDecision =
  { action: 'keep'; version: string } | { action: 'install'; version: string; reason: string }

/** What to do about buildx, given the requirement and what `docker buildx version` said. Pure. */
export function decideBuildx(required: string, installed: string | null): BuildxDecision {
  const have = installed === null ? null : (semver.coerce(installed)?.version ?? null)
  let want: string
  let ok: boolean
  const exact = semver.valid(semver.clean(required) ?? '')
  if (required === 'latest') {
    want = KNOWN_LATEST_BUILDX
    ok = have !== null && semver.gte(have, want)
  } else if (exact !== null) {
    want = exact
    ok = have === exact
  } else {
    ok = have !== null && semver.satisfies(have, required)
    want = semver.satisfies(KNOWN_LATEST_BUILDX, required)
      ? KNOWN_LATEST_BUILDX
      : (semver.minVersion(required)?.version ?? KNOWN_LATEST_BUILDX)
  }
  if (ok && have !== null) return { action: 'keep', version: have }
  const reason =
    have === null ? 'buildx is not installed' : `buildx ${have} does not satisfy ${required}`
  return { action: 'install', version: want, reason }
}

export function buildxUrl(template: string, version: string, nodeArch: string): string {
  const arch = ASSET_ARCH[nodeArch]
  if (arch === undefined)
    throw new Error(`No buildx release exists for this runner's architecture (${nodeArch}).`)
  return (template || DEFAULT_BUILDX_URL)
    .replaceAll('{version}', version)
    .replaceAll('{arch}', arch)
}

/** The parts of @actions/tool-cache the installer uses. */
export interface ToolCache {
  find(tool: string, version: string, arch: string): string
  download(url: string): Promise<string>
  cacheFile(
    source: string,
    target: string,
    tool: string,
    version: string,
    arch: string
  ): Promise<string>
}

export interface InstallOptions {
  readonly version: string
  readonly urlTemplate: string
  readonly nodeArch: string
  /** Docker's config folder: the plugin goes to <dir>/cli-plugins/docker-buildx */
  readonly dockerConfig: string
  readonly exec: Exec
  readonly cache: ToolCache
  readonly log: (message: string) => void
}

export async function installBuildx(o: InstallOptions): Promise<string> {
  let dir = o.cache.find('docker-buildx', o.version, o.nodeArch)
  if (dir === '') {
    const url = buildxUrl(o.urlTemplate, o.version, o.nodeArch)
    o.log(`Downloading buildx ${o.version} from ${url}`)
    if (url.startsWith('http://')) {
      o.log(
        `Warning: ${url} is plain HTTP; the plugin is not checksum-verified, prefer an https mirror`
      )
    }
    let file: string
    try {
      file = await o.cache.download(url)
    } catch (error) {
      throw new Error(
        `Downloading buildx ${o.version} from ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error }
      )
    }
    dir = await o.cache.cacheFile(file, 'docker-buildx', 'docker-buildx', o.version, o.nodeArch)
  } else {
    o.log(`Using buildx ${o.version} from the tool cache`)
  }
  const plugins = path.join(o.dockerConfig, 'cli-plugins')
  await mkdir(plugins, { recursive: true })
  const target = path.join(plugins, 'docker-buildx')
  // copied beside it, then renamed over it: never written through a link, never half-written,
  // and a buildx still running from an earlier step keeps its own file
  const part = `${target}.${process.pid}.part`
  await copyFile(path.join(dir, 'docker-buildx'), part)
  await chmod(part, 0o755)
  await rename(part, target)
  const r = await check(o.exec, `Running the installed buildx ${o.version}`, 'docker', [
    'buildx',
    'version'
  ])
  const got = semver.coerce(r.stdout)?.version
  if (got !== o.version) {
    throw new Error(
      `The installed buildx reports ${got ?? 'no version'} where ${o.version} was installed (${target}).`
    )
  }
  return target
}
