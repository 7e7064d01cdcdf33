/**
 * What a run needs of the inputs besides its plan (cells, tags, manifests), resolved once from the
 * Config so that no phase of the pipeline reads the Config; and which phases run in each mode.
 * The secrets are kept apart: the plan is an output, the settings are logged in part, and the
 * secrets go only where they are used. Pure.
 */
import type {
  Attestations,
  CacheKind,
  Config,
  Driver,
  Mode,
  Network,
  Sign
} from '../inputs/config.js'
import { loginRegistry } from '../oci/reference.js'
import type { RegistryLogin } from '../inputs/registry-auth.js'

export type { Attestations } from '../inputs/config.js'

export interface BuildSettings {
  /** The build context and the Dockerfile: where they really are (links resolved) */
  readonly context: string
  readonly file: string
  /** Network of the builds' RUN steps */
  readonly network: Network
  /** Always pull the bases (--pull) */
  readonly pull: boolean
  /** The builder to use ('' for the current one) and its driver */
  readonly builder: string
  readonly driver: Driver
  /** The user's labels, part of every cell's build fingerprint */
  readonly userLabels: readonly (readonly [string, string])[]
  /** Attestations asked for (the engine may make fewer: see set-up) */
  readonly attestations: Attestations
}

export interface PoolSettings {
  /** Cells at once; null: as many as the runner has CPUs */
  readonly maxParallel: number | null
  readonly failFast: boolean
  /** Runs of an emulated cell again after QEMU crashed in it */
  readonly qemuRetries: number
  /** Minutes after which a running emulated cell gets a warning (0: never) */
  readonly emulationWarning: number
}

export interface CacheSettings {
  readonly kind: CacheKind
  /** cache registry: the repository its tags go to */
  readonly ref: string
  /** Part of each cell's cache name, with the image's path in its registry */
  readonly tagSuffix: string
  readonly imagePath: string
  /** Carry the Dockerfile's cache mounts between runs, and the largest contents saved (bytes) */
  readonly mounts: { readonly enabled: boolean; readonly maxBytes: number }
}

export interface ToolSettings {
  readonly buildx: { readonly version: string; readonly url: string; readonly sha256: string }
  readonly cosign: { readonly version: string; readonly sha256: string }
  readonly qemuImage: string
}

export interface RunSettings {
  readonly build: BuildSettings
  /** Network of the smoke test containers */
  readonly testNetwork: Network
  readonly pool: PoolSettings
  /** Rebuild every cell, even an unchanged one */
  readonly force: boolean
  readonly cache: CacheSettings
  /** Tries of a registry operation in all, and the longest wait between two, in seconds */
  readonly retry: { readonly attempts: number; readonly maxDelaySeconds: number }
  readonly tools: ToolSettings
  readonly sign: Sign
  /** The registries the action logs in to (username and password, registry-auth), and as whom */
  readonly logins: readonly { readonly registry: string; readonly username: string }[]
}

/** The secret inputs, for the steps that use them: the registry login and signing. */
export interface Secrets {
  /** The same registries as RunSettings.logins, with their passwords */
  readonly logins: readonly RegistryLogin[]
  readonly cosignKey: string
  readonly cosignPassword: string
}

/**
 * The settings of a run. `paths` are the context and Dockerfile where they really are, once the
 * caller resolved their links (the build then reads what was checked). Pure.
 */
export function settingsOf(
  config: Config,
  paths: { readonly context: string; readonly file: string } = config
): RunSettings {
  return {
    build: {
      context: paths.context,
      file: paths.file,
      network: config.network,
      pull: config.pull,
      builder: config.builder,
      driver: config.driver,
      userLabels: config.labels,
      attestations: config.attestations
    },
    testNetwork: config.smokeNetwork,
    pool: {
      maxParallel: config.maxParallel,
      failFast: config.failFast,
      qemuRetries: config.qemuRetries,
      emulationWarning: config.emulationWarning
    },
    force: config.force,
    cache: {
      kind: config.cache,
      ref: config.cacheRef,
      tagSuffix: config.tagSuffix,
      imagePath: config.image.path,
      mounts: { enabled: config.cacheMounts, maxBytes: config.cacheMountsMaxSize }
    },
    retry: { attempts: config.retryAttempts, maxDelaySeconds: config.retryMaxDelay },
    tools: {
      buildx: {
        version: config.buildxVersion,
        url: config.buildxUrl,
        sha256: config.buildxSha256
      },
      cosign: { version: config.cosignVersion, sha256: config.cosignSha256 },
      qemuImage: config.qemuImage
    },
    sign: config.sign,
    logins: loginsOf(config).map(({ registry, username }) => ({ registry, username }))
  }
}

export function secretsOf(config: Config): Secrets {
  return {
    logins: loginsOf(config),
    cosignKey: config.cosignKey,
    cosignPassword: config.cosignPassword
  }
}

/** Which phases a job runs: decided here, by its mode, and nowhere else. */
export interface Phases {
  /** Cells are built and tested here (all, build); a merge job collects the build jobs' slices */
  readonly build: boolean
  /** A distro whose cells all passed is published (all, merge) or staged for the merge (build) */
  readonly outcome: 'publish' | 'stage'
  /** Published indexes are signed here: not by a build job, whose merge job signs */
  readonly sign: boolean
}

export function phasesOf(mode: Mode): Phases {
  return {
    build: mode !== 'merge',
    outcome: mode === 'build' ? 'stage' : 'publish',
    sign: mode !== 'build'
  }
}

/** username and password for the first image's registry, then registry-auth's. Pure. */
function loginsOf(config: Config): RegistryLogin[] {
  const own =
    config.username === ''
      ? []
      : [
          {
            registry: loginRegistry(config.image),
            username: config.username,
            password: config.password
          }
        ]
  return [...own, ...config.registryAuth]
}
