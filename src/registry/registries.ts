/**
 * The registries a run talks to, one client each, and what the pipeline reads and writes through
 * them, by image reference: manifests, the platforms an image holds, an image's config.
 * Credentials: the action's own for the registries they are given for (`username` / `password`
 * for the first image's, `registry-auth`); for any other registry (a base image's), the Docker
 * client config.
 */
import {
  formatPlatform,
  indexEntries,
  isDigest,
  isIndexType,
  stringRecord,
  type Descriptor,
  type PlatformEntry,
  type RemoteConfig
} from '../oci/manifest.js'
import { loginRegistry, parseReference, type ImageRef } from '../oci/reference.js'
import { errorMessage } from '../text/text.js'
import type { RetryContext } from '../tooling/retry.js'
import {
  isInsecure,
  RegistryClient,
  RegistryError,
  type BlobSource,
  type FetchedManifest,
  type Fetch,
  type UploadOutcome
} from './client.js'
import type { RegistryLogin } from '../inputs/registry-auth.js'
import { jsonObject } from './http.js'
import { dockerConfigCredentials, type CredentialSources, type Credentials } from './credentials.js'

export interface RegistriesOptions {
  /** The action's own credentials, each with the registry it is for */
  readonly logins?: readonly RegistryLogin[]
  readonly sources: CredentialSources
  readonly retry: RetryContext
  readonly fetch?: Fetch
  /** Hides a secret found in the Docker config from the log */
  readonly mask?: (secret: string) => void
  readonly timeoutMs?: number
}

/** A reference with its registry, repository and the tag or digest to ask for. */
function target(ref: string): { registry: string; repo: string; ref: string } {
  const parsed: ImageRef | string = parseReference(ref)
  if (typeof parsed === 'string') throw new Error(`${ref} is not an image reference: ${parsed}`)
  const registry = loginRegistry(parsed)
  // Docker Hub's official images live under library/
  const repo =
    registry === 'docker.io' && !parsed.path.includes('/') ? `library/${parsed.path}` : parsed.path
  return { registry, repo, ref: parsed.digest ?? parsed.tag ?? 'latest' }
}

/** An image name (no tag) as its registry and repository. */
function repository(image: string): { registry: string; repo: string } {
  return target(`${image}:latest`)
}

export class Registries {
  private readonly clients = new Map<string, RegistryClient>()
  private insecure: { readonly hosts: readonly string[]; readonly cidrs: readonly string[] } = {
    hosts: [],
    cidrs: []
  }

  constructor(private readonly o: RegistriesOptions) {}

  /** The registries the engine reaches over plain HTTP (from docker info), before any request. */
  useInsecure(insecure: {
    readonly hosts: readonly string[]
    readonly cidrs: readonly string[]
  }): void {
    this.insecure = insecure
  }

  client(registry: string): RegistryClient {
    let c = this.clients.get(registry)
    if (c === undefined) {
      c = new RegistryClient({
        registry,
        credentials: () => this.credentials(registry),
        retry: this.o.retry,
        ...(this.o.fetch === undefined ? {} : { fetch: this.o.fetch }),
        ...(this.o.timeoutMs === undefined ? {} : { timeoutMs: this.o.timeoutMs }),
        insecure: isInsecure(registry, this.insecure),
        insecureHost: host => isInsecure(host, this.insecure)
      })
      this.clients.set(registry, c)
    }
    return c
  }

  /** Whether the engine reaches the registry of `image` over plain HTTP. */
  plainHttp(image: string): boolean {
    return isInsecure(repository(image).registry, this.insecure)
  }

  /** Requests and retries over every registry so far. */
  stats(): { requests: number; retries: number } {
    let requests = 0
    let retries = 0
    for (const c of this.clients.values()) {
      requests += c.stats.requests
      retries += c.stats.retries
    }
    return { requests, retries }
  }

  private async credentials(registry: string): Promise<Credentials | null> {
    const login = this.o.logins?.find(l => l.registry === registry)
    if (login !== undefined && login.username !== '') {
      return { username: login.username, password: login.password, source: 'the action inputs' }
    }
    const found = await dockerConfigCredentials(registry, this.o.sources)
    if (found !== null) this.o.mask?.(found.password)
    return found
  }

  /** True when the registry of an image asked for credentials and was given some. */
  sentCredentials(image: string): Promise<boolean> {
    return this.client(repository(image).registry).sentCredentials()
  }

  /** Whether the credentials for an image's registry may push to its repository. */
  checkPush(image: string): Promise<void> {
    const t = repository(image)
    return this.client(t.registry).checkPush(t.repo)
  }

  /**
   * Put a blob into an image's repository, mounted from one of `mountFrom` (image references;
   * those in the same registry are tried) when it holds it, else uploaded.
   */
  uploadBlob(
    image: string,
    digest: string,
    source: BlobSource,
    mountFrom: readonly string[] = []
  ): Promise<UploadOutcome> {
    const t = repository(image)
    const sources = [
      ...new Set(
        mountFrom
          .map(ref => target(ref))
          .filter(m => m.registry === t.registry && m.repo !== t.repo)
          .map(m => m.repo)
      )
    ]
    return this.client(t.registry).uploadBlob(t.repo, digest, source, sources)
  }

  /** Whether an image's repository holds a blob. */
  hasBlob(image: string, digest: string): Promise<boolean> {
    const t = repository(image)
    return this.client(t.registry).hasBlob(t.repo, digest)
  }

  /** Whether two image names are in the same registry (a blob of one can be mounted into the other). */
  sameRegistry(a: string, b: string): boolean {
    return repository(a).registry === repository(b).registry
  }

  /**
   * Download a blob of an image's repository into `file`, at most `maxBytes` bytes, checked
   * against its sha256 `digest` (see RegistryClient.downloadBlob); returns the bytes written.
   */
  downloadBlob(image: string, digest: string, file: string, maxBytes: number): Promise<number> {
    const t = repository(image)
    return this.client(t.registry).downloadBlob(t.repo, digest, file, maxBytes)
  }

  /** A manifest or index by reference; null when the registry has none. */
  manifest(ref: string): Promise<FetchedManifest | null> {
    const t = target(ref)
    return this.client(t.registry).getManifest(t.repo, t.ref)
  }

  /** The descriptor a tag or digest points at; null when the registry has none. */
  head(ref: string): Promise<Descriptor | null> {
    const t = target(ref)
    return this.client(t.registry).headManifest(t.repo, t.ref)
  }

  /** Store a manifest under the reference's tag (or digest); returns its digest. */
  put(ref: string, mediaType: string, body: string): Promise<string> {
    const t = target(ref)
    return this.client(t.registry).putManifest(t.repo, t.ref, mediaType, body)
  }

  /** Like manifest(), but a missing one is an error naming the reference. */
  async require(ref: string): Promise<FetchedManifest> {
    const m = await this.manifest(ref)
    if (m === null) throw new RegistryError(`${ref}: not found`, 404)
    return m
  }

  /** The platforms a reference holds, with digests; attestation entries are left out. */
  async platforms(ref: string): Promise<PlatformEntry[]> {
    const m = await this.require(ref)
    let entries: PlatformEntry[] | null
    try {
      entries = indexEntries(m.body)
    } catch (error) {
      throw new RegistryError(`${ref}: ${errorMessage(error)}`, 200)
    }
    if (entries !== null) return entries
    const config = await this.configOfManifest(ref, m)
    return [{ platform: config.platform, digest: m.digest }]
  }

  /** The platform and labels of a single image. */
  async config(ref: string): Promise<RemoteConfig> {
    return this.configOfManifest(ref, await this.require(ref))
  }

  /** An image's config, read from its registry (at most 8 MiB) and checked: a valid platform, string labels. */
  private async configOfManifest(ref: string, m: FetchedManifest): Promise<RemoteConfig> {
    if (isIndexType(m.mediaType)) throw new Error(`${ref} is an index, not a single image`)
    const config = (JSON.parse(m.body) as { config?: { digest?: unknown } }).config
    const digest = typeof config === 'object' && config !== null ? config.digest : undefined
    if (!isDigest(digest)) throw new Error(`${ref} has no image config (a sha256 digest)`)
    const t = target(ref)
    const what = `Reading the config of ${ref}`
    const image = jsonObject(what, await this.client(t.registry).getBlob(t.repo, digest))
    const inner = image.config
    const labels =
      typeof inner === 'object' && inner !== null
        ? stringRecord((inner as { Labels?: unknown }).Labels)
        : undefined
    return {
      platform: formatPlatform(
        image.os ?? '',
        image.architecture ?? '',
        image.variant ?? '',
        `the config of ${ref}`
      ),
      labels: labels ?? {}
    }
  }
}
