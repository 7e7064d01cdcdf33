/** What every phase of the run is handed: the runner, the outside world, and cancellation. */
import type { RunSettings, Secrets } from '../plan/settings.js'
import type { Fetch } from '../registry/client.js'
import { Registries } from '../registry/registries.js'
import type { ToolCache } from '../tooling/buildx.js'
import { Docker } from '../tooling/docker.js'
import { type Exec, type ReadText } from '../tooling/exec.js'
import { errorMessage } from '../text/text.js'
import type { RetryContext } from '../tooling/retry.js'
import type { CacheService } from './cache.js'
import type { CleanupState } from './cleanup.js'
import type { Runtime } from './runtime.js'

export interface PipelineDeps {
  readonly rt: Runtime
  readonly exec: Exec
  readonly toolCache: ToolCache
  readonly readText: ReadText
  /** The Actions cache service (cache: local) */
  readonly cacheService: CacheService
  readonly tempDir: string
  readonly dockerConfig: string
  readonly hostPlatform: string
  /** Unique per run, safe in container and builder names */
  readonly runTag: string
  /** Runs even after cancellation (to stop containers) */
  readonly cleanupExec: Exec
  /** Aborted when the run is cancelled */
  readonly signal?: AbortSignal
  /** What the post step must undo */
  readonly cleanup: CleanupState
  /** Saves cleanup as post-step state; called whenever it grows */
  readonly saveCleanup: () => void
  /** Milliseconds, for the run's times (Date.now) */
  readonly now?: () => number
  /** HTTP for the registry client (globalThis.fetch) */
  readonly fetch?: Fetch
}

/** The run was cancelled (SIGINT or SIGTERM from a cancelled workflow); the message says when. */
export class Cancelled extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'Cancelled'
  }

  /** Cancelled in a phase before anything is published. */
  static before(signal: AbortSignal, during: string): Cancelled {
    return new Cancelled(
      `The run was ${errorMessage(signal.reason)} during ${during}; nothing was published.`
    )
  }
}

/** Between phases that come before publishing: stop here when the run was cancelled. */
export function stopIfCancelled(signal: AbortSignal | undefined, during: string): void {
  if (signal?.aborted) throw Cancelled.before(signal, during)
}

/**
 * Run one phase that comes before publishing; when the run is cancelled meanwhile, whatever the
 * phase then failed with (a command stopped with exit 130, a download cut off) is reported as the
 * cancellation it is.
 */
export async function during<T>(
  what: string,
  signal: AbortSignal | undefined,
  work: () => Promise<T>
): Promise<T> {
  let result: T
  try {
    result = await work()
  } catch (error) {
    if (signal?.aborted && !(error instanceof Cancelled)) throw Cancelled.before(signal, what)
    throw error
  }
  stopIfCancelled(signal, what)
  return result
}

/**
 * A promise that settles at the latest when the run is cancelled: for work that takes no abort
 * signal of its own (a download, the Actions cache), which then goes on in the background only
 * until the step ends.
 */
export function cancellable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  what: string
): Promise<T> {
  if (signal === undefined) return work
  const cancelled = (): Cancelled =>
    new Cancelled(`${what} was given up: the run was ${errorMessage(signal.reason)}`)
  if (signal.aborted) return Promise.reject(cancelled())
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(cancelled())
    signal.addEventListener('abort', abort, { once: true })
    work.then(
      value => {
        signal.removeEventListener('abort', abort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort)
        reject(error)
      }
    )
  })
}

/** The Actions cache service, its transfers given up when the run is cancelled. */
export function cancellableCache(d: PipelineDeps): CacheService {
  return {
    available: () => d.cacheService.available(),
    restore: (paths, key, restoreKeys) =>
      cancellable(d.cacheService.restore(paths, key, restoreKeys), d.signal, 'a cache restore'),
    save: (paths, key) => cancellable(d.cacheService.save(paths, key), d.signal, 'a cache save')
  }
}

/** The tool cache, its downloads given up when the run is cancelled (they do not stop by themselves). */
export function cancellableToolCache(d: PipelineDeps): ToolCache {
  return {
    ...d.toolCache,
    download: url => cancellable(d.toolCache.download(url), d.signal, `downloading ${url}`)
  }
}

/** Transient failures retried as the retry inputs say, logged, given up when cancelled. */
function retryContext(settings: RunSettings, d: PipelineDeps): RetryContext {
  return {
    policy: {
      attempts: settings.retry.attempts,
      baseDelayMs: 1000,
      maxDelayMs: settings.retry.maxDelaySeconds * 1000
    },
    log: m => d.rt.info(m),
    ...(d.signal === undefined ? {} : { signal: d.signal })
  }
}

/** Docker for registry work: transient failures retried as the retry inputs say. */
export function registryDocker(settings: RunSettings, d: PipelineDeps): Docker {
  return new Docker(d.exec, retryContext(settings, d))
}

/**
 * The registry client of the run: the action's credentials for the image's registry, the Docker
 * config (an earlier login, credential helpers) for any other; each request retried on its own.
 */
export function registryClients(
  run: { readonly settings: RunSettings; readonly secrets: Secrets },
  d: PipelineDeps
): Registries {
  return new Registries({
    logins: run.secrets.logins,
    sources: { dockerConfig: d.dockerConfig, readText: d.readText, exec: d.exec },
    retry: retryContext(run.settings, d),
    mask: secret => d.rt.setSecret(secret),
    ...(d.fetch === undefined ? {} : { fetch: d.fetch })
  })
}
