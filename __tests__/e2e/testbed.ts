/**
 * End-to-end helpers: the test bed's registry and credentials (scripts/testbed.sh), and the
 * action run from dist/ as the Actions runner runs it. Nothing here skips: without a working
 * test bed, every e2e test fails with the reason.
 */
import { expect } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { runAction } from '../../scripts/runner.mjs'
import type { CellResult } from '../../src/results/results.js'
import { parseEngineInfo, type ImageStore } from '../../src/tooling/docker.js'

/**
 * The test bed's engines: Docker 20.10 with the classic image store, Docker 28.5 with the
 * containerd image store, and Docker 28.5 with the classic image store, all with no bridge network
 * (dockerd --bridge=none); and, for the SBOM tests only (sbom.e2e.ts, `bash scripts/e2e.sh sbom`),
 * Docker 28.5 with the containerd image store and a bridge, inside a network namespace with no
 * link to the host (scripts/testbed/lib/sbom.sh).
 */
export type Engine = 'classic' | 'containerd' | 'classic28' | 'sbom'

/**
 * What each engine is, for the tests to ask the question they mean: the image store (what the
 * engine keeps: attestations, a build cache export, an image's ID), or Docker before 25 (its
 * legacy `docker save` format, which the registry client reads when the engine cannot push).
 * Checked against the engine itself when the suite starts.
 */
export const ENGINES: Readonly<Record<Engine, { store: ImageStore; legacy: boolean }>> = {
  classic: { store: 'classic', legacy: true },
  containerd: { store: 'containerd', legacy: false },
  classic28: { store: 'classic', legacy: false },
  sbom: { store: 'containerd', legacy: false }
}

/** A registry with Basic (htpasswd) auth, and the user to read and write it as. */
export interface RegistryAccess {
  /** host:port */
  readonly registry: string
  readonly username: string
  readonly password: string
}

export interface Testbed {
  /** The engine this run of the suite uses (TESTBED_ENGINE; default classic) */
  readonly engine: Engine
  /** Its image store */
  readonly store: ImageStore
  /** Its Docker version (docker info) */
  readonly version: string
  /** Docker before 25: `docker save` writes the legacy format (the registry client's fallback) */
  readonly legacy: boolean
  /**
   * The Node the action runs on (ACTION_NODE, from scripts/e2e.sh): the major version
   * action.yml's `runs.using` names
   */
  readonly actionNode: { readonly path: string; readonly version: string }
  /** Its own CLI plugin folder (its buildx), or '' for the system's */
  readonly cliPlugins: string
  readonly registry: string
  /** The registry with token auth (Bearer tokens from the test bed's token service), same storage */
  readonly tokenRegistry: string
  readonly username: string
  readonly password: string
  /** A user the token service grants pull only */
  readonly pullUsername: string
  readonly pullPassword: string
  /**
   * The mirror registry (127.0.0.1:5003): storage of its own (no fixture base is in it) and a user
   * of its own (`rosmirror`; the first registry's user is refused there), reached over plain HTTP
   * like `registry`. The second registry of a run that publishes to several.
   */
  readonly mirror: RegistryAccess
  readonly ros1Base: string
  /**
   * ROS 2's lower layers from Debian 13 with a ros2 CLI stand-in over Cyclone DDS (amd64 + arm64),
   * as a base-image template with {distro}; for the distros in lowerDistros
   */
  readonly lowerBase: string
  readonly lowerDistros: readonly string[]
  readonly amd64OnlyBase: string
  /** Debian's cosign 3 and a key pair of the test bed (the private key's path, its password) */
  readonly cosign: {
    readonly bin: string
    readonly key: string
    readonly pub: string
    readonly password: string
  }
  /**
   * The SBOM tests' engine (not one the whole suite runs on), its network namespace and bridge
   * subnet, and the stand-in for BuildKit's default SBOM generator in the test registry
   */
  readonly sbom: {
    readonly engine: string
    readonly netns: string
    readonly subnet: string
    readonly generator: string
  }
}

let cached: Testbed | undefined

/**
 * The Node the action runs on: ACTION_NODE (scripts/e2e.sh sets it from the test bed), of the
 * major version action.yml declares (`runs.using: node24`), as GitHub's runners run it.
 */
function actionNodeOf(): { path: string; version: string } {
  const using = String(
    (parse(readFileSync('action.yml', 'utf8')) as { runs: { using: string } }).runs.using
  )
  const major = /^node(\d+)$/.exec(using)?.[1]
  if (major === undefined) throw new Error(`action.yml runs.using is ${using}, not nodeNN`)
  const node = process.env.ACTION_NODE
  if (!node) {
    throw new Error(
      `ACTION_NODE is not set: the action must run on Node ${major} (action.yml), the test bed's TESTBED_ACTION_NODE; run bash scripts/e2e.sh`
    )
  }
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  if (!version.startsWith(`v${major}.`)) {
    throw new Error(`ACTION_NODE=${node} is Node ${version}; action.yml runs on node${major}`)
  }
  return { path: node, version }
}

export function testbed(): Testbed {
  if (cached) return cached
  let env: string
  try {
    env = execFileSync('bash', ['-c', 'source <(bash scripts/testbed.sh env) && env -0'], {
      encoding: 'utf8'
    })
  } catch (error) {
    throw new Error(
      `The test bed is not set up (run: bash scripts/testbed.sh up): ${String(error)}`,
      { cause: error }
    )
  }
  const vars = Object.fromEntries(
    env
      .split('\0')
      .filter(l => l.includes('='))
      .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
  )
  for (const name of [
    'TESTBED_REGISTRY',
    'TESTBED_TOKEN_REGISTRY',
    'TESTBED_USERNAME',
    'TESTBED_PASSWORD',
    'TESTBED_PULL_USERNAME',
    'TESTBED_PULL_PASSWORD',
    'TESTBED_MIRROR_REGISTRY',
    'TESTBED_MIRROR_USERNAME',
    'TESTBED_MIRROR_PASSWORD',
    'TESTBED_COSIGN',
    'TESTBED_COSIGN_KEY',
    'TESTBED_COSIGN_PUB',
    'TESTBED_COSIGN_PASSWORD',
    'TESTBED_SBOM_ENGINE',
    'TESTBED_SBOM_GENERATOR'
  ]) {
    if (!vars[name])
      throw new Error(`The test bed gives no ${name}: run bash scripts/testbed.sh up`)
  }
  const engine = (process.env.TESTBED_ENGINE ?? 'classic') as Engine
  const host = vars[`TESTBED_DOCKER_HOST_${engine.toUpperCase()}`]
  if (!host || !(engine in ENGINES)) {
    throw new Error(
      `TESTBED_ENGINE=${engine} is not an engine of the test bed (${vars.TESTBED_ENGINES})`
    )
  }
  // every docker command of the tests and of the action under test goes to this engine
  if (process.env.DOCKER_HOST !== host) {
    throw new Error(
      `TESTBED_ENGINE=${engine} needs DOCKER_HOST=${host} (got ${process.env.DOCKER_HOST ?? 'none'}): run bash scripts/e2e.sh ${engine}`
    )
  }
  // read as the action reads it
  const { store, version } = parseEngineInfo(
    execFileSync('docker', ['info', '--format', '{{json .}}'], { encoding: 'utf8' })
  )
  const expected = ENGINES[engine]
  if (store !== expected.store) {
    throw new Error(`TESTBED_ENGINE=${engine}, but the engine at ${host} has the ${store} store`)
  }
  const legacy = Number(version.split('.')[0]) < 25
  if (legacy !== expected.legacy) {
    throw new Error(
      `TESTBED_ENGINE=${engine}, but the engine at ${host} is Docker ${version} (${expected.legacy ? 'before' : 'not before'} 25 expected)`
    )
  }
  cached = {
    engine,
    store,
    version,
    legacy,
    actionNode: actionNodeOf(),
    cliPlugins: vars[`TESTBED_CLI_PLUGINS_${engine.toUpperCase()}`] ?? '',
    registry: vars.TESTBED_REGISTRY,
    tokenRegistry: vars.TESTBED_TOKEN_REGISTRY,
    username: vars.TESTBED_USERNAME,
    password: vars.TESTBED_PASSWORD,
    pullUsername: vars.TESTBED_PULL_USERNAME,
    pullPassword: vars.TESTBED_PULL_PASSWORD,
    mirror: {
      registry: vars.TESTBED_MIRROR_REGISTRY,
      username: vars.TESTBED_MIRROR_USERNAME,
      password: vars.TESTBED_MIRROR_PASSWORD
    },
    ros1Base: vars.TESTBED_ROS1_BASE ?? `${vars.TESTBED_REGISTRY}/ros:noetic-ros-base`,
    lowerBase: vars.TESTBED_ROS2_LOWER_BASE ?? `${vars.TESTBED_REGISTRY}/ros:{distro}-lower-layers`,
    lowerDistros: (vars.TESTBED_ROS2_LOWER_DISTROS ?? 'humble jazzy').split(' '),
    amd64OnlyBase:
      vars.TESTBED_AMD64_ONLY_BASE ?? `${vars.TESTBED_REGISTRY}/osrf/ros:humble-desktop`,
    cosign: {
      bin: vars.TESTBED_COSIGN,
      key: vars.TESTBED_COSIGN_KEY,
      pub: vars.TESTBED_COSIGN_PUB,
      password: vars.TESTBED_COSIGN_PASSWORD
    },
    sbom: {
      engine: vars.TESTBED_SBOM_ENGINE,
      netns: vars.TESTBED_SBOM_NETNS ?? '',
      subnet: vars.TESTBED_SBOM_SUBNET ?? '',
      generator: vars.TESTBED_SBOM_GENERATOR
    }
  }
  return cached
}

/**
 * Where a test keeps what a person reads after the run (a failed run's log): the temporary folder
 * the Jest run started with, not the run's own, which its teardown removes.
 */
export function keptDir(): string {
  return process.env.RMA_TEST_KEEP ?? os.tmpdir()
}

/** A repository name no other test uses. */
export function uniqueRepo(name: string): string {
  return `e2e/${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

/** The test bed's first registry (127.0.0.1:5000) as the test bed's user (rosci). */
export function primaryRegistry(): RegistryAccess {
  const tb = testbed()
  return { registry: tb.registry, username: tb.username, password: tb.password }
}

/**
 * A GET straight to a registry (default: the first one), never through a proxy a test put in
 * front of it.
 */
async function registryGet(
  path: string,
  at: RegistryAccess = primaryRegistry()
): Promise<Response> {
  return fetch(`http://${at.registry}/v2/${path}`, {
    headers: {
      Authorization: `Basic ${Buffer.from(`${at.username}:${at.password}`).toString('base64')}`,
      Accept: ACCEPT
    }
  })
}

/**
 * Tags of a repository in the test registry, or in the registry given (`testbed().mirror`);
 * [] when it does not exist.
 */
export async function tagsOf(repo: string, at?: RegistryAccess): Promise<string[]> {
  const r = await registryGet(`${repo}/tags/list`, at)
  if (r.status === 404) return []
  if (!r.ok)
    throw new Error(
      `registry ${at?.registry ?? testbed().registry} answered ${r.status} for ${repo}/tags/list`
    )
  const body = (await r.json()) as { tags: string[] | null }
  return (body.tags ?? []).sort()
}

export interface IndexEntry {
  digest: string
  platform: { os: string; architecture: string; variant?: string }
  annotations?: Record<string, string>
}

export interface Manifest {
  readonly digest: string
  readonly mediaType: string
  /** An index's images (its attestation manifests are in `attestations`) */
  readonly manifests?: IndexEntry[]
  /** An index's attestation manifests (vnd.docker.reference.type: attestation-manifest) */
  readonly attestations?: IndexEntry[]
  readonly config?: { digest: string }
  /** An image's (or attestation manifest's) layers; an attestation's name their predicate type */
  readonly layers?: {
    digest: string
    mediaType: string
    size: number
    annotations?: Record<string, string>
  }[]
  readonly annotations?: Record<string, string>
}

const isAttestation = (e: IndexEntry): boolean =>
  e.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'

/**
 * A manifest or index by tag or digest, in the test registry or in the registry given
 * (`testbed().mirror`); null when absent.
 */
export async function manifestOf(
  repo: string,
  ref: string,
  at?: RegistryAccess
): Promise<Manifest | null> {
  const r = await registryGet(`${repo}/manifests/${ref}`, at)
  if (r.status === 404) return null
  if (!r.ok)
    throw new Error(
      `registry ${at?.registry ?? testbed().registry} answered ${r.status} for ${repo}:${ref}`
    )
  const body = (await r.json()) as Omit<Manifest, 'digest'>
  const digest = r.headers.get('docker-content-digest') ?? ''
  if (body.manifests === undefined) return { ...body, digest }
  return {
    ...body,
    digest,
    manifests: body.manifests.filter(e => !isAttestation(e)),
    attestations: body.manifests.filter(isAttestation)
  }
}

/**
 * An index's attestation manifests are what the engine can keep: one about each image on the
 * containerd image store (provenance is on by default), none on the classic one.
 */
export function expectDefaultAttestations(index: Manifest | null): void {
  const images = (index?.manifests ?? []).map(m => m.digest)
  const about = (index?.attestations ?? []).map(a => a.annotations?.['vnd.docker.reference.digest'])
  expect(about).toEqual(testbed().store === 'containerd' ? images : [])
}

export const E2E_SHA = 'e2e0123456789abcdef0123456789abcdef01234'

/** Whether a registry (default: the test registry) holds a blob, by digest (a HEAD request). */
export async function blobExists(
  repo: string,
  digest: string,
  at?: RegistryAccess
): Promise<boolean> {
  const a = at ?? primaryRegistry()
  const r = await fetch(`http://${a.registry}/v2/${repo}/blobs/${digest}`, {
    method: 'HEAD',
    headers: {
      Authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`
    }
  })
  if (r.status === 404) return false
  if (!r.ok)
    throw new Error(`registry ${a.registry} answered ${r.status} for blob ${repo}@${digest}`)
  return true
}

/** The config blob of an image manifest (its labels live there), in the test registry or another. */
export async function configOf(
  repo: string,
  digest: string,
  at?: RegistryAccess
): Promise<{ config: { Labels?: Record<string, string> } }> {
  const r = await registryGet(`${repo}/blobs/${digest}`, at)
  if (!r.ok) throw new Error(`registry answered ${r.status} for blob ${digest}`)
  return (await r.json()) as { config: { Labels?: Record<string, string> } }
}

/** A blob parsed as JSON (an attestation's in-toto statement), from the test registry or another. */
export async function jsonBlobOf<T>(repo: string, digest: string, at?: RegistryAccess): Promise<T> {
  const r = await registryGet(`${repo}/blobs/${digest}`, at)
  if (!r.ok) throw new Error(`registry answered ${r.status} for blob ${repo}@${digest}`)
  return (await r.json()) as T
}

/** Everything the action printed or wrote in this test process, to scan for the password. */
export const logs: string[] = []

export interface E2eRun {
  readonly code: number
  readonly log: string
  readonly outputs: Record<string, string>
  readonly summary: string
  readonly runnerTemp: string
  readonly dockerConfig: string
  readonly seconds: number
  /** The main step's stdout lines, each with when it arrived (ms after the step started) */
  readonly lines: readonly { at: number; text: string }[]
}

/** A docker client config folder of a test's own. */
export function newDockerConfig(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'rma-e2e-docker-'))
}

/**
 * Let a docker client config find the engine's own buildx, as a runner finds its system plugin:
 * a link in DOCKER_CONFIG/cli-plugins (not cliPluginsExtraDirs, which the Docker 28 CLI searches
 * before that folder). A plugin the test put there itself stays; the action's own install
 * replaces the link, never writes through it.
 */
export function useEngineBuildx(dockerConfig: string): void {
  const tb = testbed()
  const plugin = path.join(dockerConfig, 'cli-plugins', 'docker-buildx')
  if (tb.cliPlugins === '' || existsSync(plugin)) return
  mkdirSync(path.dirname(plugin), { recursive: true })
  symlinkSync(path.join(tb.cliPlugins, 'docker-buildx'), plugin)
}

/** A docker client config logged in to the test registry (a developer's docker login). */
export function loggedInDockerConfig(): string {
  const tb = testbed()
  const dir = newDockerConfig()
  useEngineBuildx(dir)
  execFileSync('docker', ['login', tb.registry, '-u', tb.username, '--password-stdin'], {
    input: tb.password,
    env: { ...process.env, DOCKER_CONFIG: dir },
    stdio: ['pipe', 'ignore', 'ignore']
  })
  return dir
}

/**
 * Run dist/ like the runner, against the test bed: its own DOCKER_CONFIG (so login and logout are
 * the action's), builds on the host network (the engine has no bridge), test bed credentials.
 */
export async function runE2e(
  inputs: Record<string, string>,
  options: {
    dockerConfig?: string
    env?: Record<string, string>
    /** The workspace (the runner's working directory); default: the repository */
    cwd?: string
    cancel?: { when: RegExp; delayMs: number; signal: NodeJS.Signals }
  } = {}
): Promise<E2eRun> {
  const tb = testbed()
  const dockerConfig = options.dockerConfig ?? newDockerConfig()
  useEngineBuildx(dockerConfig)
  const r = await runAction({
    ...(options.cancel === undefined ? {} : { cancel: options.cancel }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    inputs: {
      network: 'host',
      username: tb.username,
      password: tb.password,
      ...inputs
    },
    env: {
      DOCKER_CONFIG: dockerConfig,
      GITHUB_SHA: E2E_SHA,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REPOSITORY: 'acme/ros-app',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: String(process.pid),
      GITHUB_RUN_ATTEMPT: '1',
      ...options.env
    }
  })
  // the steps ran on the Node the action declares, not the one running Jest
  if (r.node.version !== tb.actionNode.version) {
    throw new Error(
      `the action ran on Node ${r.node.version} (${r.node.path}), not ${tb.actionNode.version}`
    )
  }
  const log = [r.main.stdout, r.main.stderr, r.post?.stdout ?? '', r.post?.stderr ?? ''].join('\n')
  // scanned for the password after each suite: logs, outputs, state and summary alike
  logs.push([log, JSON.stringify(r.outputs), JSON.stringify(r.state), r.summary].join('\n'))
  return {
    code: r.main.code,
    log,
    outputs: r.outputs,
    summary: r.summary,
    runnerTemp: path.join(r.dir, 'runner_temp'),
    dockerConfig,
    seconds: r.main.ms / 1000,
    lines: (r.main as { lines: { at: number; text: string }[] }).lines
  }
}

/** The log without the runner's masking command (which the runner consumes, never shows). */
export function visibleLog(log: string): string {
  return log
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
}

/**
 * After a suite: no password of the test bed (the registries' users, the mirror's, cosign's) and
 * no line of the cosign key ever showed in any log, and no container of ours is left.
 */
export function expectNoLeftovers(): void {
  const tb = testbed()
  // the cosign key's body lines (its BEGIN and END lines are no secret)
  const keyLines = readFileSync(tb.cosign.key, 'utf8')
    .split('\n')
    .filter(l => l.length >= 8 && !l.startsWith('-----'))
  for (const log of logs) {
    const seen = visibleLog(log)
    expect(seen).not.toContain(tb.password)
    expect(seen).not.toContain(tb.pullPassword)
    expect(seen).not.toContain(tb.mirror.password)
    expect(seen).not.toContain(tb.cosign.password)
    for (const line of keyLines) expect(seen).not.toContain(line)
  }
  const left = execFileSync(
    'docker',
    ['ps', '-a', '--filter', 'name=rma-', '--format', '{{.Names}}'],
    {
      encoding: 'utf8'
    }
  )
  expect(left.trim()).toBe('')
}

/** `cosign verify` by the test bed's public key, as a user runs it: exit code and output. */
export function cosignVerify(ref: string, dockerConfig: string): { code: number; out: string } {
  const tb = testbed()
  try {
    const out = execFileSync(
      tb.cosign.bin,
      ['verify', `--key=${tb.cosign.pub}`, '--insecure-ignore-tlog=true', ref],
      {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_CONFIG: dockerConfig },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    return { code: 0, out }
  } catch (error) {
    const e = error as { status: number; stderr: string }
    return { code: e.status, out: e.stderr }
  }
}

/** `docker buildx imagetools inspect --format` of a reference (as users read it), parsed. */
export function imagetoolsInspect(
  ref: string,
  format: string,
  dockerConfig: string
): Record<string, unknown> {
  const out = execFileSync('docker', ['buildx', 'imagetools', 'inspect', ref, '--format', format], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_CONFIG: dockerConfig }
  })
  return JSON.parse(out) as Record<string, unknown>
}

/** Whether the engine (DOCKER_HOST) has a network named `bridge`, as the action asks it. */
export function engineHasBridge(): boolean {
  const names = execFileSync('docker', ['network', 'ls', '--format', '{{.Name}}'], {
    encoding: 'utf8'
  })
  return names.split('\n').includes('bridge')
}

/** The run passed; when it did not, the failure shows its error lines. */
export function expectPassed(r: Pick<E2eRun, 'code' | 'log'>): void {
  const errors = r.log.split('\n').filter(l => l.startsWith('::error'))
  expect({ code: r.code, errors }).toEqual({ code: 0, errors: [] })
}

/** The action's `results` output, as the type the action writes it from. */
export function cellsOf(r: { outputs: Record<string, string> }): CellResult[] {
  return JSON.parse(r.outputs.results) as CellResult[]
}

/** The cell of that id in the `results` output; a test fails at once without it. */
export function cellNamed(cells: readonly CellResult[], id: string): CellResult {
  const cell = cells.find(c => c.id === id)
  if (cell === undefined)
    throw new Error(`no cell ${id} in the results: ${cells.map(c => c.id).join(', ')}`)
  return cell
}
