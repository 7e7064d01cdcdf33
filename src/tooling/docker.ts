/** Typed docker and buildx commands over the Exec seam. Argument lists are built by pure functions. */
import type { Attestations } from '../inputs/config.js'
import { ToolError, type Exec, type ExecOptions, type ExecResult } from './exec.js'
import { BuildProgress } from './progress.js'
import { NO_RETRY, withRetry, type Operation, type RetryContext } from './retry.js'

export interface BuildRequest {
  readonly platform: string
  readonly file: string
  readonly context: string
  readonly tag: string
  readonly buildArgs: readonly (readonly [string, string])[]
  readonly labels?: readonly (readonly [string, string])[]
  /** default, host or none */
  readonly network: string
  readonly pull: boolean
  readonly builder: string
  readonly iidFile: string
  readonly cacheFrom?: readonly string[]
  readonly cacheTo?: readonly string[]
  /**
   * Load the image with OCI media types (an engine with the containerd image store keeps them,
   * and pushes an OCI manifest, whose index can carry annotations); otherwise Docker v2.
   */
  readonly oci?: boolean
  /**
   * Attestations to make at build time and load with the image (the containerd image store
   * keeps them in the image's index); none when absent
   */
  readonly attest?: Attestations
}

/** buildx's --provenance and --sbom values. Pure. */
export function attestArgs(a: Attestations | undefined): string[] {
  const provenance = a?.provenance == null ? 'false' : `mode=${a.provenance}`
  const sbom =
    a?.sbom !== true ? 'false' : a.sbomGenerator === '' ? 'true' : `generator=${a.sbomGenerator}`
  return [`--provenance=${provenance}`, `--sbom=${sbom}`]
}

/** `docker buildx build` arguments: one platform, loaded into the engine with its attestations. */
export function buildCommand(r: BuildRequest): string[] {
  const args = ['buildx', 'build']
  if (r.builder !== '') args.push('--builder', r.builder)
  args.push('--platform', r.platform, '--file', r.file, '--tag', r.tag)
  for (const [k, v] of r.buildArgs) args.push('--build-arg', `${k}=${v}`)
  for (const [k, v] of r.labels ?? []) args.push('--label', `${k}=${v}`)
  if (r.network !== 'default') args.push('--network', r.network)
  if (r.pull) args.push('--pull')
  for (const c of r.cacheFrom ?? []) args.push('--cache-from', c)
  for (const c of r.cacheTo ?? []) args.push('--cache-to', c)
  // always said: buildx would otherwise add provenance where the exporter can take it
  args.push(...attestArgs(r.attest))
  // --load is --output type=docker; the same exporter, with OCI media types when asked
  args.push(...(r.oci === true ? ['--output', 'type=docker,oci-mediatypes=true'] : ['--load']))
  // progress as data (buildx 0.13+): read live for the progress lines, rendered as plain text after
  args.push('--progress=rawjson', '--iidfile', r.iidFile, '--', r.context)
  return args
}

/** What `docker push` did with a layer: uploaded it, mounted it from another repository, or found it. */
export type LayerOutcome = 'pushed' | 'mounted' | 'exists'

/** What a `docker push` said it did. */
export interface PushOutput {
  /** Per layer, by the short ID docker prints (the blob's digest, or its diff ID on the classic store) */
  readonly layers: ReadonlyMap<string, LayerOutcome>
  /** The digest the tag got, from the last line (`TAG: digest: sha256:... size: N`) */
  readonly digest?: string
  /** The engine retries an upload ("Retrying in 5 seconds"): the registry is failing requests */
  readonly retrying: boolean
}

/** `docker push` output as it prints it without a terminal: one line per change. Pure. */
export function parsePush(output: string): PushOutput {
  const layers = new Map<string, LayerOutcome>()
  let digest: string | undefined
  let retrying = false
  for (const line of output.split('\n')) {
    const layer = /^([0-9a-f]{12}): (Pushed|Mounted from \S+|Layer already exists)\s*$/.exec(line)
    if (layer !== null) {
      const said = layer[2]
      layers.set(
        layer[1],
        said === 'Pushed' ? 'pushed' : said.startsWith('Mounted') ? 'mounted' : 'exists'
      )
      continue
    }
    const done = /: digest: (sha256:[0-9a-f]{64}) size: \d+\s*$/.exec(line)
    if (done !== null) digest = done[1]
    if (/Retrying in \d+ seconds?/.test(line)) retrying = true
  }
  return { layers, ...(digest === undefined ? {} : { digest }), retrying }
}

/** A build's outcome and what BuildKit reported of its steps (the last attempt's). */
export interface BuildResult extends ExecResult {
  readonly progress: BuildProgress
}

/**
 * A helper build (the cache mounts' restore and save): with no network, its result written to a
 * folder; no attestations. Never `--no-cache`: BuildKit then gives every cache mount a new empty
 * directory, which replaces the builder's (measured: a file written by one build was gone after
 * a `--no-cache` build of the same mount id); the helper Dockerfile's nonce build arg keeps the
 * layer cache from answering instead.
 */
export interface HelperBuildRequest {
  readonly builder: string
  readonly platform: string
  readonly file: string
  readonly context: string
  /** The folder the result's files are written to */
  readonly output: string
  readonly buildArgs: readonly (readonly [string, string])[]
}

export function helperBuildCommand(r: HelperBuildRequest): string[] {
  const args = ['buildx', 'build']
  if (r.builder !== '') args.push('--builder', r.builder)
  args.push('--platform', r.platform, '--file', r.file, '--network', 'none')
  for (const [k, v] of r.buildArgs) args.push('--build-arg', `${k}=${v}`)
  args.push('--provenance=false', '--output', `type=local,dest=${r.output}`, '--progress=plain')
  args.push('--', r.context)
  return args
}

export interface ContainerRequest {
  readonly name: string
  readonly image: string
  readonly platform: string
  readonly network: string
  /** Arguments after the image: passed to the image's own entrypoint */
  readonly command: readonly string[]
}

export function runCommand(r: ContainerRequest): string[] {
  const args = ['run', '--rm', '--name', r.name, '--platform', r.platform, '--pull', 'never']
  if (r.network !== 'default') args.push('--network', r.network)
  args.push('--', r.image, ...r.command)
  return args
}

export interface ImageInfo {
  /**
   * The image's ID in the engine's store: its config digest on the classic image store, its
   * manifest digest on the containerd image store.
   */
  readonly id: string
  /** The config digest, where the engine reports it apart from the ID (containerd image store) */
  readonly configDigest?: string
  readonly os: string
  readonly architecture: string
  readonly variant: string
  readonly size: number
}

/** Where an engine keeps its images; the two differ in image IDs, media types and cache export. */
export type ImageStore = 'containerd' | 'classic'

export interface EngineInfo {
  readonly version: string
  readonly store: ImageStore
  /**
   * Registries the engine speaks plain HTTP to (`insecure-registries` in daemon.json): host[:port]
   * names, and IPv4 CIDRs (the loopback's is there by default)
   */
  readonly insecure?: { readonly hosts: readonly string[]; readonly cidrs: readonly string[] }
}

/** The engine's version and image store from `docker info --format '{{json .}}'`. Pure. */
export function parseEngineInfo(json: string): EngineInfo {
  const info = JSON.parse(json) as {
    ServerVersion?: string
    DriverStatus?: [string, string][] | null
    ServerErrors?: string[]
    RegistryConfig?: {
      InsecureRegistryCIDRs?: string[] | null
      IndexConfigs?: Record<string, { Name?: string; Secure?: boolean }> | null
    } | null
  }
  if (!info.ServerVersion) {
    throw new Error(
      `the Docker engine did not answer: ${info.ServerErrors?.join('; ') || 'no server version in docker info'}`
    )
  }
  const containerd = (info.DriverStatus ?? []).some(
    ([key, value]) => key === 'driver-type' && value.startsWith('io.containerd.snapshotter')
  )
  const registry = info.RegistryConfig ?? {}
  const hosts = Object.entries(registry.IndexConfigs ?? {})
    .filter(([, c]) => c.Secure === false)
    .map(([name]) => name)
  const cidrs = (registry.InsecureRegistryCIDRs ?? []).filter(c =>
    /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c)
  )
  return {
    version: info.ServerVersion,
    store: containerd ? 'containerd' : 'classic',
    insecure: { hosts, cidrs }
  }
}

/**
 * `docker save` of an image of several GB, and unpacking it: minutes on a slow disk, not hours
 * (the Exec's default limit is for quick commands).
 */
export const SAVE_TIMEOUT_MS = 60 * 60_000

export class Docker {
  private loggedIn = false

  constructor(
    private readonly exec: Exec,
    private readonly retry: RetryContext = { policy: NO_RETRY, log: () => undefined }
  ) {}

  /** A docker command; the Exec's default time limit unless `options` give one. */
  run(args: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.exec.run('docker', args, options)
  }

  /** Run; retry transient failures of registry operations; throw a ToolError naming `what`. */
  private async check(
    what: string,
    args: readonly string[],
    op?: Operation,
    options?: ExecOptions
  ): Promise<ExecResult> {
    const once = (): Promise<ExecResult> => this.run(args, options)
    const r =
      op === undefined
        ? await once()
        : await withRetry(op, what, once, { ...this.retry, loggedIn: () => this.loggedIn })
    if (r.code !== 0) throw new ToolError(what, r)
    return r
  }

  /** The engine's version and image store. */
  async engine(): Promise<EngineInfo> {
    const r = await this.check('Reaching the Docker engine', ['info', '--format', '{{json .}}'])
    try {
      return parseEngineInfo(r.stdout)
    } catch (error) {
      throw new ToolError(`Reading docker info (${(error as Error).message})`, r)
    }
  }

  /** The driver of a builder ('' for the current one), as `docker buildx inspect` names it. */
  async builderDriver(builder: string): Promise<string> {
    const args = ['buildx', 'inspect', ...(builder === '' ? [] : [builder])]
    const r = await this.check(`Inspecting builder ${builder || '(current)'}`, args)
    return /^Driver:\s+(\S+)/m.exec(r.stdout)?.[1] ?? 'unknown'
  }

  /** Whether the engine has a network of this name (`bridge`: not with dockerd --bridge=none). */
  async hasNetwork(name: string): Promise<boolean> {
    return (await this.run(['network', 'inspect', '--format', '{{.Name}}', name])).code === 0
  }

  /** The buildx version, or null when the plugin is missing. */
  async buildxVersion(): Promise<string | null> {
    const r = await this.run(['buildx', 'version'])
    if (r.code !== 0) return null
    const m = /\bv?(\d+\.\d+\.\d+)/.exec(r.stdout)
    return m ? m[1] : null
  }

  /**
   * A build whose base pull hit a transient registry failure is tried again (it is cached).
   * BuildKit's progress is read as it comes and handed to `onProgress` (with whether the step
   * running now changed); the result's stderr is the log as plain progress shows it.
   */
  async build(
    request: BuildRequest,
    onProgress?: (progress: BuildProgress, stepChanged: boolean) => void
  ): Promise<BuildResult> {
    let progress = new BuildProgress()
    const attempt = async (): Promise<ExecResult> => {
      const p = (progress = new BuildProgress())
      const r = await this.exec.run('docker', buildCommand(request), {
        // no limit: a ROS build under QEMU can take hours, and its progress shows it is alive;
        // the job's timeout-minutes and cancellation (Ctrl-C for the CLI) stop it
        timeoutMs: Infinity,
        onStderr: chunk => {
          const changed = p.feed(chunk)
          onProgress?.(p, changed)
        }
      })
      // what the Exec says itself (command not found, cancelled), or all of it from an Exec that
      // does not stream (a test's fake)
      if (r.stderr !== '') p.feed(r.stderr)
      return { ...r, stderr: p.render() }
    }
    const r = await withRetry('build', `Building ${request.tag}`, attempt, {
      ...this.retry,
      loggedIn: () => this.loggedIn
    })
    return { ...r, progress }
  }

  /**
   * An image in the engine; with `platform`, that platform's image of an index (the containerd
   * image store keeps a build with attestations as an index of the image and them), whose ID is
   * then its manifest digest (`docker image inspect --platform`: Docker 28.1 and later)
   */
  async inspectImage(ref: string, platform?: string): Promise<ImageInfo> {
    const r = await this.check(`Inspecting image ${ref}${platform ? ` (${platform})` : ''}`, [
      'image',
      'inspect',
      ...(platform === undefined ? [] : ['--platform', platform]),
      '--format',
      '{{json .}}',
      ref
    ])
    const doc = JSON.parse(r.stdout) as {
      Id: string
      Os: string
      Architecture: string
      Variant?: string
      Size: number
      Descriptor?: { annotations?: Record<string, string> }
    }
    const configDigest = doc.Descriptor?.annotations?.['config.digest']
    return {
      id: doc.Id,
      ...(configDigest === undefined ? {} : { configDigest }),
      os: doc.Os,
      architecture: doc.Architecture,
      variant: doc.Variant ?? '',
      size: doc.Size
    }
  }

  async login(registry: string, username: string, password: string): Promise<void> {
    await this.check(
      `Logging in to ${registry}`,
      ['login', registry, '--username', username, '--password-stdin'],
      'login',
      { input: password }
    )
    this.credentialsAccepted()
  }

  /**
   * The registry took this run's credentials (a login, or a push access check with credentials
   * from the Docker config): an authorization error after that is a registry hiccup.
   */
  credentialsAccepted(): void {
    this.loggedIn = true
  }

  async logout(registry: string): Promise<void> {
    await this.check(`Logging out of ${registry}`, ['logout', registry])
  }

  /**
   * The engine pushes a tag (`docker push`): only what the registry lacks is read and sent, a
   * layer the registry has in another repository is mounted. Stopped at the engine's first retry
   * of an upload (its own retries wait 5 s and more each): `retrying` then says so, and the
   * caller pushes another way. Never retried here.
   */
  async push(ref: string): Promise<ExecResult & PushOutput> {
    const stop = new AbortController()
    let seen = ''
    const r = await this.run(['push', ref], {
      timeoutMs: SAVE_TIMEOUT_MS,
      stop: stop.signal,
      onStdout: chunk => {
        seen += chunk
        if (/Retrying in \d+ seconds?/.test(seen)) stop.abort()
      }
    })
    const parsed = parsePush(`${r.stdout}\n${r.stderr}`)
    return { ...r, ...parsed, retrying: parsed.retrying || stop.signal.aborted }
  }

  /** The image ID a reference names in the engine, or null when it names none. */
  async imageId(ref: string): Promise<string | null> {
    const r = await this.run(['image', 'inspect', '--format', '{{.Id}}', ref])
    return r.code === 0 ? r.stdout.trim() : null
  }

  /** An image's layers, by their uncompressed digests (diff IDs), base layers first. */
  async layerIds(ref: string): Promise<string[]> {
    const r = await this.check(`Inspecting the layers of ${ref}`, [
      'image',
      'inspect',
      '--format',
      '{{json .RootFS.Layers}}',
      ref
    ])
    const ids = JSON.parse(r.stdout) as unknown
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []
  }

  /** Give an image another name (`docker tag`). */
  async tag(source: string, target: string): Promise<void> {
    await this.check(`Tagging ${source} as ${target}`, ['tag', source, target])
  }

  /** Take a name off an image (`docker image rm` of a name the image has others of: an untag). */
  async untag(ref: string): Promise<void> {
    await this.check(`Untagging ${ref}`, ['image', 'rm', ref])
  }

  /** Save an image from the engine into a tar file (`docker save`). */
  async save(ref: string, file: string): Promise<void> {
    await this.check(`Saving ${ref} from the engine`, ['save', '--output', file, ref], undefined, {
      timeoutMs: SAVE_TIMEOUT_MS
    })
  }

  /** A helper build; a base pull that failed transiently is tried again, as a build is. */
  async helperBuild(what: string, r: HelperBuildRequest, timeoutMs: number): Promise<void> {
    await this.check(what, helperBuildCommand(r), 'build', { timeoutMs })
  }

  async kill(name: string): Promise<void> {
    await this.run(['kill', name])
  }

  async removeContainer(name: string): Promise<void> {
    await this.run(['rm', '--force', name])
  }
}
