/**
 * The one place that turns the action's raw inputs into a typed, validated Config.
 * Pure: it reads inputs through the function it is given and returns warnings instead of logging.
 */
import path from 'node:path'
import semver from 'semver'
import { InputError, quote } from './errors.js'
import { Inputs, type InputName } from './names.js'
import {
  assertPrintable,
  parseBoolean,
  parseChoice,
  parseInteger,
  LABEL_KEY,
  PLATFORM_KEY,
  parseKeyValues,
  parseLines,
  parseList,
  parseSize
} from './parse.js'
import { checkTemplates } from './templates.js'
import { findDistro, knownDistroNames, lifecycle, type Distro } from '../ros/catalog.js'
import { findPlatform } from '../ros/platforms.js'
import { loginRegistry, parseReference, type ImageRef } from '../oci/reference.js'
import { parseRegistryAuth, type RegistryLogin } from './registry-auth.js'

export const DEFAULT_BASE_IMAGE = 'ros:{distro}-ros-base'
export const DEFAULT_PLATFORMS = 'linux/amd64,linux/arm64'
export const DEFAULT_SMOKE_TIMEOUT = 180
export const DEFAULT_BUILDX_VERSION = '>=0.13.0'
/** tonistiigi/binfmt, pinned by tag (the image docker/setup-qemu-action uses). */
export const DEFAULT_QEMU_IMAGE = 'docker.io/tonistiigi/binfmt:qemu-v10.2.3-68'
export const NETWORKS = ['default', 'host', 'none'] as const
export const DRIVERS = ['docker', 'docker-container'] as const
/** all: one job does everything; build: this job's slice, staged; merge: publish the staged slices */
export const MODES = ['all', 'build', 'merge'] as const
/** Build cache of each cell (see plan/cache.ts) */
export const CACHE_KINDS = ['none', 'gha', 'registry', 'local'] as const
/** Provenance attestations: none, or BuildKit's min or max mode */
export const PROVENANCE = ['false', 'mode=min', 'mode=max'] as const
/** Signing of each published index: none, keyless (GitHub's OIDC token) or with a key */
export const SIGN = ['false', 'keyless', 'key'] as const
/** cosign 3: the offline signing configuration the key mode signs with */
export const DEFAULT_COSIGN_VERSION = '>=3.0.0'
/** cache-mounts-max-size: 1 GB by default; at most the Actions cache's 10 GB per repository */
export const DEFAULT_MOUNT_MAX_BYTES = 1e9
export const MAX_MOUNT_BYTES = 10e9
/** Build args the action sets itself for every cell. */
export const RESERVED_BUILD_ARGS = ['BASE_IMAGE', 'ROS_DISTRO'] as const

export type Network = (typeof NETWORKS)[number]
export type Driver = (typeof DRIVERS)[number]
export type Mode = (typeof MODES)[number]
export type CacheKind = (typeof CACHE_KINDS)[number]
export type Sign = (typeof SIGN)[number]

/** The attestations each cell's image is built with (see tooling/docker.ts) */
export interface Attestations {
  /** BuildKit's provenance mode; null: none */
  readonly provenance: 'min' | 'max' | null
  readonly sbom: boolean
  /** The SBOM generator image; empty: BuildKit's default (docker/buildkit-syft-scanner) */
  readonly sbomGenerator: string
}

export interface DistroRequest {
  readonly name: string
  /** The catalog entry; undefined for a distro outside the catalog (allowed with base-image). */
  readonly info?: Distro
}

export interface Config {
  readonly mode: Mode
  readonly distros: readonly DistroRequest[]
  readonly platforms: readonly string[]
  /** The primary image name: messages, outputs, the build cache and staging */
  readonly image: ImageRef
  /** The other names of image: each gets the same images and tags, all or nothing */
  readonly mirrors: readonly ImageRef[]
  readonly context: string
  readonly file: string
  readonly buildArgs: readonly (readonly [string, string])[]
  /** Template with {distro} */
  readonly baseImage: string
  /** True when the user set base-image themselves */
  readonly baseImageSet: boolean
  /** Tag templates; empty: the defaults for the kind of run */
  readonly tags: readonly string[]
  readonly tagSuffix: string
  /** The distro that gets `latest` on a final release; empty: none */
  readonly latestDistro: string
  readonly labels: readonly (readonly [string, string])[]
  readonly push: boolean
  readonly username: string
  readonly password: string
  /** Credentials for other registries (registry-auth); passwords are secrets */
  readonly registryAuth: readonly RegistryLogin[]
  readonly smokeTests: readonly string[]
  readonly smokeTestFile: string
  readonly smokeTimeout: number
  readonly smokeNetwork: Network
  readonly rosChecks: boolean
  readonly failFast: boolean
  /** null: as many as the runner has CPUs (resolved by the caller) */
  readonly maxParallel: number | null
  /** Runner labels per platform for the matrix output (over the GitHub-hosted defaults) */
  readonly runners: readonly (readonly [string, readonly string[]])[]
  readonly network: Network
  /** Always pull the base images (--pull), so the build uses what the registry holds */
  readonly pull: boolean
  /** Build cache of each cell: none, gha, registry or local */
  readonly cache: CacheKind
  /** registry cache: the repository its tags go to */
  readonly cacheRef: string
  /** Carry the Dockerfile's cache mounts between runs through the cache (see plan/mounts.ts) */
  readonly cacheMounts: boolean
  /** The largest cache mount contents saved, in bytes */
  readonly cacheMountsMaxSize: number
  /** Tries of a registry operation in all (1: no retry) */
  readonly retryAttempts: number
  /** Runs of an emulated cell again after QEMU crashed in it */
  readonly qemuRetries: number
  /** Minutes after which a still running emulated cell gets a warning (0: never) */
  readonly emulationWarning: number
  /** Longest wait between two tries, seconds */
  readonly retryMaxDelay: number
  readonly dryRun: boolean
  /** Rebuild and retest every cell even when its published image was made from the same inputs */
  readonly force: boolean
  readonly buildxVersion: string
  readonly buildxUrl: string
  /** sha256 (hex) of the buildx binary at buildx-url; empty: the action's pinned checksum */
  readonly buildxSha256: string
  readonly attestations: Attestations
  readonly sign: Sign
  /** cosign's private key (PEM, encrypted) for sign: key; a secret */
  readonly cosignKey: string
  readonly cosignPassword: string
  readonly cosignVersion: string
  /** sha256 (hex) of the cosign release binary, for a version the action pins none for */
  readonly cosignSha256: string
  readonly builder: string
  readonly driver: Driver
  readonly qemuImage: string
  readonly summary: boolean
}

export interface ReadContext {
  /** Today, YYYY-MM-DD (UTC), for end-of-life checks */
  readonly today: string
  /** The workspace (GITHUB_WORKSPACE, or the working directory): paths must stay inside it */
  readonly workspace?: string
}

export interface ReadResult {
  readonly config: Config
  readonly warnings: string[]
}

export type InputSource = (name: InputName) => string

const DISTRO_NAME = /^[a-z][a-z0-9_-]{0,31}$/
const BUILDER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/

/** An input's one line: trimmed, and only printable characters. */
type LineSource = (name: InputName) => string

export function readConfig(get: InputSource, ctx: ReadContext): ReadResult {
  const warnings: string[] = []
  const line: LineSource = name => {
    const value = get(name).trim()
    assertPrintable(name, value)
    return value
  }
  const baseImageRaw = line(Inputs.BaseImage)
  const baseImageSet = baseImageRaw !== ''
  const baseImage = baseImageSet ? baseImageRaw : DEFAULT_BASE_IMAGE
  const distros = readDistros(get(Inputs.Distros), baseImageSet, ctx.today, warnings)
  const platforms = readPlatforms(get(Inputs.Platforms), distros, baseImageSet, warnings)
  readBaseImage(baseImage, distros, warnings)
  const [image, ...mirrors] = readImages(get(Inputs.Image))
  const mode = parseChoice(Inputs.Mode, get(Inputs.Mode), MODES, 'all')
  const config: Config = {
    mode,
    distros,
    platforms,
    image,
    mirrors,
    ...readPaths(line, ctx.workspace ?? '.'),
    buildArgs: readBuildArgs(get),
    baseImage,
    baseImageSet,
    ...readTagging(get, line, mode, distros),
    push: parseBoolean(Inputs.Push, get(Inputs.Push), false),
    ...readLogin(get, line, image),
    ...readTesting(get),
    ...readRunning(get),
    ...readCaching(get, line, image, warnings),
    dryRun: parseBoolean(Inputs.DryRun, get(Inputs.DryRun), false),
    force: parseBoolean(Inputs.Force, get(Inputs.Force), false),
    ...readBuildx(line),
    attestations: readAttestations(get, line),
    ...readSigning(get, line, warnings),
    ...readBuilder(get, line),
    summary: parseBoolean(Inputs.Summary, get(Inputs.Summary), true)
  }
  if (config.sign !== 'false' && !config.push && mode !== 'merge') {
    warnings.push(`sign: ${config.sign} signs what is published; with push: false nothing is.`)
  }
  return { config, warnings }
}

/** context, file and smoke-test-file: inside the workspace, as far as their text says. */
function readPaths(
  line: LineSource,
  workspace: string
): Pick<Config, 'context' | 'file' | 'smokeTestFile'> {
  const context = line(Inputs.Context) || '.'
  const file = line(Inputs.File) || joinPath(context, 'Dockerfile')
  const smokeTestFile = line(Inputs.SmokeTestFile)
  insideWorkspace(Inputs.Context, context, workspace)
  insideWorkspace(Inputs.File, file, workspace)
  insideWorkspace(Inputs.SmokeTestFile, smokeTestFile, workspace)
  return { context, file, smokeTestFile }
}

/** build-args: none of those the action sets itself, printable values. */
function readBuildArgs(get: InputSource): Config['buildArgs'] {
  const buildArgs = parseKeyValues(Inputs.BuildArgs, get(Inputs.BuildArgs))
  for (const [key, value] of buildArgs) {
    if ((RESERVED_BUILD_ARGS as readonly string[]).includes(key)) {
      const use = key === 'BASE_IMAGE' ? 'use the base-image input' : 'it comes from distros'
      throw new InputError(Inputs.BuildArgs, `${key} is set by the action for each distro; ${use}`)
    }
    assertPrintable(Inputs.BuildArgs, value)
  }
  return buildArgs
}

/** tags, tag-suffix, latest-distro and labels. */
function readTagging(
  get: InputSource,
  line: LineSource,
  mode: Mode,
  distros: readonly DistroRequest[]
): Pick<Config, 'tags' | 'tagSuffix' | 'latestDistro' | 'labels'> {
  const tags = parseList(get(Inputs.Tags))
  for (const t of tags) assertPrintable(Inputs.Tags, t)
  checkTemplates(tags)
  const tagSuffix = line(Inputs.TagSuffix)
  if (!/^[\w.-]*$/.test(tagSuffix)) {
    throw new InputError(
      Inputs.TagSuffix,
      `${quote(tagSuffix)} is not valid; use letters, digits, _ . - (e.g. -cuda)`
    )
  }
  const latestDistro = line(Inputs.LatestDistro).toLowerCase()
  // a build slice holds some of the distros only; the merge job checks latest-distro
  if (latestDistro !== '' && mode !== 'build' && !distros.some(d => d.name === latestDistro)) {
    throw new InputError(
      Inputs.LatestDistro,
      `${quote(latestDistro)} is not one of the distros being built (${distros.map(d => d.name).join(', ')})`
    )
  }
  const labels = parseKeyValues(Inputs.Labels, get(Inputs.Labels), LABEL_KEY)
  for (const [, value] of labels) assertPrintable(Inputs.Labels, value)
  return { tags, tagSuffix, latestDistro, labels }
}

/**
 * username and password (both, or neither) for the first image's registry, and registry-auth for
 * any registry: no registry given credentials twice.
 */
function readLogin(
  get: InputSource,
  line: LineSource,
  image: ImageRef
): Pick<Config, 'username' | 'password' | 'registryAuth'> {
  const username = line(Inputs.Username)
  const password = get(Inputs.Password)
  if (username !== '' && password === '') {
    throw new InputError(Inputs.Password, 'is required when username is set')
  }
  if (password !== '' && username === '') {
    throw new InputError(Inputs.Username, 'is required when password is set')
  }
  const registryAuth = parseRegistryAuth(get(Inputs.RegistryAuth))
  const primary = loginRegistry(image)
  if (username !== '' && registryAuth.some(l => l.registry === primary)) {
    throw new InputError(
      Inputs.RegistryAuth,
      `names ${primary}, which username and password are for already; give its credentials in one place`
    )
  }
  return { username, password, registryAuth }
}

/** The smoke tests' inputs (the spec file's path is read with the other paths). */
function readTesting(
  get: InputSource
): Pick<Config, 'smokeTests' | 'smokeTimeout' | 'smokeNetwork' | 'rosChecks'> {
  return {
    smokeTests: parseLines(get(Inputs.SmokeTests)),
    smokeTimeout: parseInteger(
      Inputs.SmokeTimeout,
      get(Inputs.SmokeTimeout),
      DEFAULT_SMOKE_TIMEOUT,
      1,
      21_600
    ),
    smokeNetwork: parseChoice(Inputs.SmokeNetwork, get(Inputs.SmokeNetwork), NETWORKS, 'none'),
    rosChecks: parseBoolean(Inputs.RosChecks, get(Inputs.RosChecks), true)
  }
}

/** How the cells run: at once, networks, pulls, retries, the runners of the matrix output. */
function readRunning(
  get: InputSource
): Pick<
  Config,
  | 'failFast'
  | 'maxParallel'
  | 'runners'
  | 'network'
  | 'pull'
  | 'retryAttempts'
  | 'retryMaxDelay'
  | 'qemuRetries'
  | 'emulationWarning'
> {
  return {
    failFast: parseBoolean(Inputs.FailFast, get(Inputs.FailFast), false),
    maxParallel:
      get(Inputs.MaxParallel).trim() === ''
        ? null
        : parseInteger(Inputs.MaxParallel, get(Inputs.MaxParallel), 1, 1, 64),
    runners: parseKeyValues(Inputs.Runners, get(Inputs.Runners), PLATFORM_KEY).map(
      ([platform, value]) => readRunner(platform, value)
    ),
    network: parseChoice(Inputs.Network, get(Inputs.Network), NETWORKS, 'default'),
    pull: parseBoolean(Inputs.Pull, get(Inputs.Pull), true),
    retryAttempts: parseInteger(Inputs.RetryAttempts, get(Inputs.RetryAttempts), 8, 1, 30),
    retryMaxDelay: parseInteger(Inputs.RetryMaxDelay, get(Inputs.RetryMaxDelay), 30, 1, 600),
    qemuRetries: parseInteger(Inputs.QemuRetries, get(Inputs.QemuRetries), 1, 0, 5),
    emulationWarning: parseInteger(
      Inputs.EmulationWarning,
      get(Inputs.EmulationWarning),
      60,
      0,
      360
    )
  }
}

/** cache and cache-ref (which only cache: registry uses). */
function readCaching(
  get: InputSource,
  line: LineSource,
  image: ImageRef,
  warnings: string[]
): Pick<Config, 'cache' | 'cacheRef' | 'cacheMounts' | 'cacheMountsMaxSize'> {
  const cache = parseChoice(Inputs.Cache, get(Inputs.Cache), CACHE_KINDS, 'none')
  const cacheRefInput = line(Inputs.CacheRef)
  const cacheRef = readCacheRef(cacheRefInput, image)
  if (cacheRefInput !== '' && cache !== 'registry') {
    warnings.push(`cache-ref is used by cache: registry only; it is ignored with cache: ${cache}.`)
  }
  const cacheMounts = parseBoolean(Inputs.CacheMounts, get(Inputs.CacheMounts), true)
  const cacheMountsMaxSize = parseSize(
    Inputs.CacheMountsMaxSize,
    get(Inputs.CacheMountsMaxSize),
    DEFAULT_MOUNT_MAX_BYTES,
    MAX_MOUNT_BYTES
  )
  return { cache, cacheRef, cacheMounts, cacheMountsMaxSize }
}

/** buildx-version (0.13 or newer: builds read BuildKit's progress as data), its URL and checksum. */
function readBuildx(
  line: LineSource
): Pick<Config, 'buildxVersion' | 'buildxUrl' | 'buildxSha256'> {
  const buildxVersion = line(Inputs.BuildxVersion) || DEFAULT_BUILDX_VERSION
  if (buildxVersion !== 'latest' && semver.validRange(buildxVersion) === null) {
    throw new InputError(
      Inputs.BuildxVersion,
      `${quote(buildxVersion)} is not a version or range; use e.g. 0.19.3, >=0.13.0 or latest`
    )
  }
  // builds read BuildKit's progress as data (--progress=rawjson), which buildx has since 0.13
  const lowest = buildxVersion === 'latest' ? null : semver.minVersion(buildxVersion)
  if (lowest !== null && semver.lt(lowest, '0.13.0')) {
    throw new InputError(
      Inputs.BuildxVersion,
      `${quote(buildxVersion)} allows buildx before 0.13.0, which cannot report build progress as data (--progress=rawjson); use 0.13.0 or newer, e.g. >=0.13.0`
    )
  }
  const buildxUrl = line(Inputs.BuildxUrl)
  if (buildxUrl !== '' && !/^https?:\/\/\S+$/.test(buildxUrl)) {
    throw new InputError(Inputs.BuildxUrl, `${quote(buildxUrl)} is not an http(s) URL`)
  }
  const buildxSha256 = readSha256(
    line(Inputs.BuildxSha256),
    Inputs.BuildxSha256,
    'buildx binary at buildx-url'
  )
  return { buildxVersion, buildxUrl, buildxSha256 }
}

/** builder, driver and qemu-image. */
function readBuilder(
  get: InputSource,
  line: LineSource
): Pick<Config, 'builder' | 'driver' | 'qemuImage'> {
  const qemuImage = line(Inputs.QemuImage) || DEFAULT_QEMU_IMAGE
  const qemuRef = parseReference(qemuImage)
  if (typeof qemuRef === 'string') {
    throw new InputError(
      Inputs.QemuImage,
      `${quote(qemuImage)} is not an image reference: ${qemuRef}`
    )
  }
  const builder = line(Inputs.Builder)
  if (builder !== '' && !BUILDER_NAME.test(builder)) {
    throw new InputError(
      Inputs.Builder,
      `${quote(builder)} is not a builder name; use letters, digits, _ . - (as docker buildx ls shows)`
    )
  }
  return {
    builder,
    driver: parseChoice(Inputs.Driver, get(Inputs.Driver), DRIVERS, 'docker'),
    qemuImage
  }
}

/** A sha256 checksum input: 64 hex digits, `sha256:` allowed; '' when empty. */
function readSha256(value: string, input: InputName, of: string): string {
  const hex = value.toLowerCase().replace(/^sha256:/, '')
  if (hex !== '' && !/^[0-9a-f]{64}$/.test(hex)) {
    throw new InputError(
      input,
      `${quote(value)} is not a sha256 checksum; give the 64 hex digits of the ${of} (sha256sum prints them)`
    )
  }
  return hex
}

function readAttestations(get: InputSource, line: (name: InputName) => string): Attestations {
  // true is build-push-action's spelling of the default mode
  const raw = get(Inputs.Provenance).trim()
  const provenance = parseChoice(
    Inputs.Provenance,
    raw === 'true' ? 'mode=min' : raw,
    PROVENANCE,
    'mode=min'
  )
  const sbomGenerator = line(Inputs.SbomGenerator)
  if (sbomGenerator !== '' && typeof parseReference(sbomGenerator) === 'string') {
    throw new InputError(
      Inputs.SbomGenerator,
      `${quote(sbomGenerator)} is not an image reference; give a BuildKit SBOM generator image, e.g. docker/buildkit-syft-scanner:1`
    )
  }
  return {
    provenance: provenance === 'false' ? null : provenance === 'mode=max' ? 'max' : 'min',
    sbom: parseBoolean(Inputs.Sbom, get(Inputs.Sbom), false),
    sbomGenerator
  }
}

const PEM_KEY =
  /^-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END [A-Z ]*PRIVATE KEY-----\s*$/

function readSigning(
  get: InputSource,
  line: LineSource,
  warnings: string[]
): Pick<Config, 'sign' | 'cosignKey' | 'cosignPassword' | 'cosignVersion' | 'cosignSha256'> {
  const sign = parseChoice(Inputs.Sign, get(Inputs.Sign), SIGN, 'false')
  const cosignKey = get(Inputs.CosignKey).trim()
  const cosignPassword = get(Inputs.CosignPassword)
  if (sign === 'key' && cosignKey === '') {
    throw new InputError(
      Inputs.CosignKey,
      'is required when sign is key; give the private key cosign generate-key-pair wrote (cosign.key), from a secret'
    )
  }
  if (sign === 'key' && !PEM_KEY.test(cosignKey)) {
    // the value is a secret: never quoted back
    throw new InputError(
      Inputs.CosignKey,
      'is not a PEM private key; give the whole cosign.key file (-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY----- ... -----END ...)'
    )
  }
  if (sign !== 'key' && (cosignKey !== '' || cosignPassword !== '')) {
    warnings.push(`cosign-key and cosign-password are used by sign: key only; sign is ${sign}.`)
  }
  const cosignVersion = line(Inputs.CosignVersion) || DEFAULT_COSIGN_VERSION
  if (cosignVersion !== 'latest' && semver.validRange(cosignVersion) === null) {
    throw new InputError(
      Inputs.CosignVersion,
      `${quote(cosignVersion)} is not a version or range; use e.g. 3.0.6, >=3.0.0 or latest`
    )
  }
  // * keeps whatever cosign is installed (checked when signing starts)
  const lowest =
    cosignVersion === 'latest' || cosignVersion === '*' ? null : semver.minVersion(cosignVersion)
  if (lowest !== null && semver.lt(lowest, '3.0.0')) {
    throw new InputError(
      Inputs.CosignVersion,
      `${quote(cosignVersion)} allows cosign before 3.0.0, which has no offline signing configuration; use 3.0.0 or newer, e.g. >=3.0.0`
    )
  }
  const key = sign === 'key'
  return {
    sign,
    cosignKey: key ? cosignKey : '',
    cosignPassword: key ? cosignPassword : '',
    cosignVersion,
    cosignSha256: readSha256(
      line(Inputs.CosignSha256),
      Inputs.CosignSha256,
      'cosign release binary'
    )
  }
}

function readDistros(
  value: string,
  baseImageSet: boolean,
  today: string,
  warnings: string[]
): DistroRequest[] {
  const names = parseList(value)
  if (names.length === 0) {
    throw new InputError(Inputs.Distros, 'is required; list ROS distros, e.g. "humble, jazzy"')
  }
  const distros: DistroRequest[] = []
  for (const raw of names) {
    const name = raw.toLowerCase()
    if (!DISTRO_NAME.test(name)) {
      throw new InputError(
        Inputs.Distros,
        `${quote(raw)} is not a distro name; use lowercase letters, digits, _ and -`
      )
    }
    if (distros.some(d => d.name === name)) {
      throw new InputError(Inputs.Distros, `"${name}" is listed twice; list each distro once`)
    }
    const info = findDistro(name)
    if (info === undefined) {
      if (!baseImageSet) {
        throw new InputError(
          Inputs.Distros,
          `unknown distro "${name}"; known distros: ${knownDistroNames().join(', ')} (others need base-image)`
        )
      }
      warnings.push(
        `Distro "${name}" is not in the catalog: building it from base-image; ROS-version checks are limited to the ROS environment.`
      )
      distros.push({ name })
      continue
    }
    const life = lifecycle(info, today)
    if (life.state === 'ended') {
      warnings.push(
        `Distro "${name}" reached end of life on ${life.date}: it gets no updates or image rebuilds.`
      )
    } else if (life.state === 'ending') {
      warnings.push(`Distro "${name}" reaches end of life on ${life.date} (in ${life.days} days).`)
    }
    distros.push({ name, info })
  }
  return distros
}

function readPlatforms(
  value: string,
  distros: readonly DistroRequest[],
  baseImageSet: boolean,
  warnings: string[]
): string[] {
  const items = parseList(value === '' ? DEFAULT_PLATFORMS : value)
  if (items.length === 0) {
    throw new InputError(
      Inputs.Platforms,
      'is empty; list platforms, e.g. "linux/amd64,linux/arm64"'
    )
  }
  const platforms: string[] = []
  for (const item of items) {
    const info = findPlatform(item)
    if (info === undefined) {
      throw new InputError(Inputs.Platforms, `unknown platform ${quote(item)}; ${PLATFORM_CHOICES}`)
    }
    if (platforms.includes(info.platform)) {
      throw new InputError(
        Inputs.Platforms,
        `${info.platform} is listed twice; list each platform once`
      )
    }
    platforms.push(info.platform)
  }
  for (const distro of distros) {
    if (distro.info === undefined) continue
    const missing = platforms.filter(p => !distro.info?.platforms.includes(p))
    if (missing.length === 0) continue
    const message = `${distro.name} has no ROS binaries for ${missing.join(', ')} (it has ${distro.info.platforms.join(', ')})`
    if (!baseImageSet) {
      throw new InputError(
        Inputs.Platforms,
        `${message}; remove it, or set base-image to a base that has it`
      )
    }
    warnings.push(`${message}; building it anyway from your base-image.`)
  }
  return platforms
}

const PLATFORM_CHOICES =
  'use linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x or linux/riscv64'
const RUNNER_LABEL = /^[A-Za-z0-9][\w.-]{0,99}$/

/** `linux/arm64=self-hosted,jetson`: the labels a platform's matrix entries run on. */
function readRunner(platform: string, value: string): [string, string[]] {
  const info = findPlatform(platform)
  if (info === undefined) {
    throw new InputError(Inputs.Runners, `unknown platform ${quote(platform)}; ${PLATFORM_CHOICES}`)
  }
  const labels = parseList(value)
  if (labels.length === 0 || labels.some(l => !RUNNER_LABEL.test(l))) {
    throw new InputError(
      Inputs.Runners,
      `${quote(value)} is not a runner label list for ${info.platform}; use labels of letters, digits, _ . -, separated by commas (e.g. linux/arm64=self-hosted,jetson)`
    )
  }
  return [info.platform, labels]
}

/** The repository of registry cache tags: the image's own by default. */
function readCacheRef(value: string, image: ImageRef): string {
  if (value === '') return image.name
  const ref = parseReference(value)
  if (typeof ref === 'string' || ref.tag !== undefined || ref.digest !== undefined) {
    throw new InputError(
      Inputs.CacheRef,
      `${quote(value)} is not a repository name; give one without tag, e.g. "acme/robot-cache" (each cell gets its own buildcache-<cell> tag)`
    )
  }
  return ref.name
}

/** image: one name or several (comma or newline separated), none twice. */
function readImages(value: string): [ImageRef, ...ImageRef[]] {
  const names = parseList(value)
  for (const n of names) assertPrintable(Inputs.Image, n)
  if (names.length === 0) return [readImage('')]
  const refs = names.map(readImage)
  const seen = new Map<string, string>()
  for (const r of refs) {
    const key = `${loginRegistry(r)}/${r.path}`
    const before = seen.get(key)
    if (before !== undefined) {
      throw new InputError(
        Inputs.Image,
        `${quote(before)} and ${quote(r.name)} are the same repository; name each registry's repository once`
      )
    }
    seen.set(key, r.name)
  }
  return [refs[0], ...refs.slice(1)]
}

function readImage(value: string): ImageRef {
  if (value === '') {
    throw new InputError(Inputs.Image, 'is required; name the image to build, e.g. "acme/robot"')
  }
  const ref = parseReference(value)
  if (typeof ref === 'string') {
    throw new InputError(Inputs.Image, `${quote(value)} is not an image name: ${ref}`)
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new InputError(
      Inputs.Image,
      `${quote(value)} has a tag or digest; give the name only (e.g. "${ref.name}"), the action makes the tags`
    )
  }
  return ref
}

const PLACEHOLDER = /\{([^{}]*)\}/g

function checkPlaceholders(input: InputName, value: string): void {
  for (const match of value.matchAll(PLACEHOLDER)) {
    if (match[1] !== 'distro') {
      throw new InputError(
        input,
        `unknown placeholder {${match[1]}} in ${quote(value)}; use {distro}`
      )
    }
  }
}

/** The base-image template's syntax; each distro's filled reference is checked by the planner. */
function readBaseImage(
  template: string,
  distros: readonly DistroRequest[],
  warnings: string[]
): void {
  checkPlaceholders(Inputs.BaseImage, template)
  if (distros.length > 1 && !template.includes('{distro}')) {
    warnings.push(
      `base-image "${template}" has no {distro}: every distro builds from the same base image.`
    )
  }
}

function joinPath(dir: string, name: string): string {
  return dir === '.' ? name : `${dir.replace(/\/+$/, '')}/${name}`
}

/** A path input must resolve inside the workspace (no ../ or absolute path out of it). */
function insideWorkspace(input: InputName, value: string, workspace: string): void {
  if (value === '') return
  const root = path.resolve(workspace)
  const target = path.resolve(root, value)
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new InputError(
      input,
      `${quote(value)} is outside the workspace; give a path inside it (relative to ${root})`
    )
  }
}
