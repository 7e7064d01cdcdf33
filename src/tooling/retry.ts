/**
 * Retries for registry work (the docker CLI's login and builds' base pulls; the registry
 * client's requests): on transient failures only, with exponential backoff and jitter.
 */
import { type ExecResult } from './exec.js'
import { lastLine } from '../text/text.js'

export interface RetryPolicy {
  /** Tries in all (1: no retry) */
  readonly attempts: number
  /** Delay before the first retry, ms; it doubles each time */
  readonly baseDelayMs: number
  /** Longest delay between two tries, ms */
  readonly maxDelayMs: number
}

export const NO_RETRY: RetryPolicy = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }

/** What the docker CLI does against a registry (the registry client retries its own requests). */
export type Operation = 'login' | 'build'

const TRANSIENT: readonly [RegExp, string][] = [
  [/toomanyrequests|too many requests|(HTTP|status( code)?:?)\s*429\b/i, 'rate limited (429)'],
  [
    // 500, 502, 503, 504; not 501 (Not Implemented: asking again changes nothing)
    /(HTTP|status( code)?:?)\s*50[0234]\b|internal server error|bad gateway|service unavailable|gateway time-?out/i,
    'server error (5xx)'
  ],
  [
    /connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|server closed|closed network connection/i,
    'connection dropped'
  ],
  [
    /i\/o timeout|timeout awaiting|TLS handshake timeout|context deadline exceeded|Client\.Timeout/i,
    'timed out'
  ]
]

/** Credentials the registry refused: never transient for a login. */
const BAD_CREDENTIALS =
  /incorrect username or password|unauthorized: (?!authentication required)|invalid username\/password|401 Unauthorized/i
/**
 * After a login that worked, an authorization error is a registry hiccup: when the registry's
 * /v2/ ping fails, the Docker daemon goes on without credentials and reports this.
 */
const LOST_CREDENTIALS =
  /unauthorized: authentication required|no basic auth credentials|authorization failed/i

export interface Verdict {
  readonly transient: boolean
  readonly reason: string
  /** A wait the registry asked for (Retry-After), ms */
  readonly waitMs?: number
  /** Tries in all for this kind of failure, when fewer than the policy's */
  readonly maxAttempts?: number
}

/**
 * The daemon answers a login whose authenticated /v2/ ping failed (5xx, dropped) with the 401
 * of the unauthenticated ping: the same words as wrong credentials. Such a refusal is tried
 * this many times in all, so that wrong credentials still fail fast.
 */
export const AMBIGUOUS_LOGIN_ATTEMPTS = 3
const AMBIGUOUS_401 = /login attempt to \S+ failed with status: 401 Unauthorized/i

/**
 * In a build's output only BuildKit's final error line can say "transient", and not when it is a
 * RUN step that failed (whatever that step printed, e.g. apt's own network errors).
 */
const BUILD_ERROR_LINE = /^ERROR:.*failed to solve/
const RUN_STEP_FAILED = /did not complete successfully/

/** Is this failure worth another try? Pure. */
export function classify(op: Operation, r: ExecResult, loggedIn = false): Verdict {
  let text = `${r.stderr}\n${r.stdout}`
  if (op === 'build') {
    text = text
      .split('\n')
      .filter(line => BUILD_ERROR_LINE.test(line) && !RUN_STEP_FAILED.test(line))
      .join('\n')
  }
  if (op === 'login' && BAD_CREDENTIALS.test(text) && !TRANSIENT.some(([re]) => re.test(text))) {
    if (AMBIGUOUS_401.test(text)) {
      return {
        transient: true,
        reason: 'login refused (401): wrong credentials, or a failed registry ping',
        maxAttempts: AMBIGUOUS_LOGIN_ATTEMPTS
      }
    }
    return { transient: false, reason: 'the registry refused the credentials' }
  }
  for (const [re, reason] of TRANSIENT) {
    if (re.test(text)) {
      const after = /retry[- ]after:?\s*(\d+)/i.exec(text)
      return after
        ? { transient: true, reason, waitMs: Number(after[1]) * 1000 }
        : { transient: true, reason }
    }
  }
  if (op !== 'login' && loggedIn && LOST_CREDENTIALS.test(text)) {
    return { transient: true, reason: 'authorization lost (registry ping failed)' }
  }
  return { transient: false, reason: lastLine(r.stderr || r.stdout) }
}

/** The delay before try number `attempt` + 1 (attempt >= 1): base * 2^(attempt-1), capped, with jitter in [50%, 100%]. */
export function backoff(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random
): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return Math.round(full * (0.5 + random() / 2))
}

export interface RetryContext {
  readonly policy: RetryPolicy
  readonly log: (message: string) => void
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
  /** Stop retrying when aborted */
  readonly signal?: AbortSignal
  /** True once this run logged in: an authorization error after that is a registry hiccup */
  readonly loggedIn?: () => boolean
  /** Called before each retry (to count them) */
  readonly onRetry?: () => void
}

/** Wait, but no longer than until the run is cancelled. */
function cancellableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Run `attempt` until `judge` finds it done (null), the failure is not transient, or the tries run
 * out; returns the last result. The one retry loop for commands and registry requests alike.
 */
export async function retrying<T>(
  what: string,
  attempt: () => Promise<T>,
  judge: (result: T) => Verdict | null,
  ctx: RetryContext
): Promise<T> {
  const sleep = ctx.sleep ?? ((ms: number) => cancellableSleep(ms, ctx.signal))
  for (let n = 1; ; n++) {
    const r = await attempt()
    if (n >= ctx.policy.attempts || ctx.signal?.aborted) return r
    const verdict = judge(r)
    if (verdict === null || !verdict.transient || n >= (verdict.maxAttempts ?? Infinity)) return r
    const delay = Math.min(
      ctx.policy.maxDelayMs,
      Math.max(verdict.waitMs ?? 0, backoff(ctx.policy, n, ctx.random))
    )
    const of = Math.min(ctx.policy.attempts, verdict.maxAttempts ?? Infinity)
    ctx.onRetry?.()
    ctx.log(
      `${what}: ${verdict.reason} (try ${n} of ${of}); retrying in ${(delay / 1000).toFixed(1)} s`
    )
    await sleep(delay)
  }
}

/**
 * A build's base pulls make many registry requests per try (a ping, a token, the manifests, one
 * per layer) and can only be retried as a whole, where the registry client retries each request
 * on its own: a build gets this many times the tries.
 */
export const WHOLE_COMMAND_FACTOR = 3

/** Tries in all for a command: the policy's, times WHOLE_COMMAND_FACTOR for a build. Pure. */
export function commandAttempts(op: Operation, attempts: number): number {
  return attempts > 1 && op === 'build' ? attempts * WHOLE_COMMAND_FACTOR : attempts
}

/** Run a command until it succeeds, fails for good, or the tries run out; returns the last result. */
export function withRetry(
  op: Operation,
  what: string,
  attempt: () => Promise<ExecResult>,
  ctx: RetryContext
): Promise<ExecResult> {
  const policy = { ...ctx.policy, attempts: commandAttempts(op, ctx.policy.attempts) }
  return retrying(
    what,
    attempt,
    r => (r.code === 0 ? null : classify(op, r, ctx.loggedIn?.() ?? false)),
    { ...ctx, policy }
  )
}
