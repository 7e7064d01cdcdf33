/**
 * The seams to the outside world that tests replace: commands (every command the action's run
 * makes goes through an Exec; only the CLI's entry asks `docker version` directly, before a run
 * exists) and reading a file that may be missing (ReadText). Modules that only read their own
 * files (the Dockerfile, the smoke-test spec) use node:fs directly.
 * The real Exec spawns the command directly (no shell: arguments are never parsed by one), stops
 * it at its time limit and kills it when the run is cancelled; tests hand in a fake that records
 * and answers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { lastLine } from '../text/text.js'

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface ExecOptions {
  /** Written to the command's stdin (credentials go this way, never in arguments) */
  readonly input?: string
  readonly env?: Readonly<Record<string, string>>
  /**
   * Takes stderr as it comes (live progress of a long command); the result's stderr is then
   * empty: the listener keeps what it needs, so hours of output are not held twice
   */
  readonly onStderr?: (chunk: string) => void
  /** Sees stdout as it comes (the result keeps it too) */
  readonly onStdout?: (chunk: string) => void
  /**
   * Stops this command alone (SIGTERM) when aborted; it then reports CANCELLED_CODE. The run's
   * cancellation stops every command anyway
   */
  readonly stop?: AbortSignal
  /**
   * How long the command may run, in milliseconds, before it is stopped (TIMED_OUT_CODE);
   * Infinity: no limit. Absent: the executor's default
   */
  readonly timeoutMs?: number
}

/** Reads a file, or returns undefined when it does not exist. */
export type ReadText = (path: string) => Promise<string | undefined>

export interface Exec {
  /** Runs a command and captures its output; a non-zero exit is a result, not an error. */
  run(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>
}

/**
 * The environment of a command: this process's, without the runner's INPUT_* variables (the
 * action's inputs, secrets among them: a command gets what it needs in its own options).
 */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_')))
}

/** Exit code reported for a command stopped by cancellation (as a shell reports SIGINT). */
export const CANCELLED_CODE = 130

/** Exit code reported for a command stopped at its time limit (as coreutils `timeout` reports). */
export const TIMED_OUT_CODE = 124

/** The time limit of a command that gives none: quick probes, logins, signing. */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000

/** How long a command stopped at its limit has between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 5_000

export interface ExecLimits {
  /** For a command whose options give none (DEFAULT_TIMEOUT_MS); Infinity: no limit */
  readonly timeoutMs?: number
  /** Between SIGTERM and SIGKILL (KILL_AFTER_MS) */
  readonly killAfterMs?: number
}

/** `timed out after 60 s`, for a limit in milliseconds. Pure. */
export function timedOutText(ms: number): string {
  return `timed out after ${ms / 1000} s`
}

/**
 * Runs commands as child processes. When `signal` aborts, running children get SIGTERM and no
 * new one starts (each then reports CANCELLED_CODE). A child still running at its time limit gets
 * SIGTERM, then SIGKILL if it is still there `killAfterMs` later, and reports TIMED_OUT_CODE.
 */
export function processExecutor(signal?: AbortSignal, limits: ExecLimits = {}): Exec {
  const killAfterMs = limits.killAfterMs ?? KILL_AFTER_MS
  return {
    run(command, args, options = {}) {
      return new Promise(resolve => {
        if (signal?.aborted) {
          resolve({ code: CANCELLED_CODE, stdout: '', stderr: 'cancelled before it started' })
          return
        }
        const limit = options.timeoutMs ?? limits.timeoutMs ?? DEFAULT_TIMEOUT_MS
        let stdout = ''
        let stderr = ''
        let settled = false
        const timers: NodeJS.Timeout[] = []
        const done = (result: ExecResult): void => {
          if (settled) return
          settled = true
          for (const t of timers) clearTimeout(t)
          resolve(result)
        }
        const stops = [signal, options.stop].filter(s => s !== undefined)
        const stop = stops.length > 1 ? AbortSignal.any(stops) : stops[0]
        const child = spawn(command, [...args], {
          env: { ...childEnv(), ...options.env },
          stdio: ['pipe', 'pipe', 'pipe'],
          ...(stop === undefined ? {} : { signal: stop, killSignal: 'SIGTERM' as const })
        })
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d
          options.onStdout?.(d)
        })
        const onStderr = options.onStderr
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          if (onStderr === undefined) stderr += d
          else onStderr(d)
        })
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT')
            done({ code: 127, stdout, stderr: `${command}: command not found` })
          else if (error.name === 'AbortError')
            done({ code: CANCELLED_CODE, stdout, stderr: `${stderr}\ncancelled` })
          else done({ code: 126, stdout, stderr: `${stderr}\n${error.message}` })
        })
        // a stopped command is done when it has exited: a child of it (a docker CLI plugin) can
        // hold its output open for longer
        limitTime(child, limit, killAfterMs, timers, () => {
          child.stdout.destroy()
          child.stderr.destroy()
          done({ code: TIMED_OUT_CODE, stdout, stderr: `${stderr}\n${timedOutText(limit)}` })
        })
        child.on('close', (code, sig) => {
          if (stop?.aborted) done({ code: CANCELLED_CODE, stdout, stderr: `${stderr}\ncancelled` })
          else
            done({
              code: code ?? 128,
              stdout,
              stderr: sig ? `${stderr}\nkilled by ${sig}` : stderr
            })
        })
        child.stdin.on('error', () => undefined)
        child.stdin.end(options.input ?? '')
      })
    }
  }
}

/**
 * At `limit` ms, SIGTERM to a child still running, SIGKILL `killAfterMs` later; `stopped` once it
 * has exited. Its timers go into `timers`, for the caller to clear.
 */
function limitTime(
  child: ChildProcess,
  limit: number,
  killAfterMs: number,
  timers: NodeJS.Timeout[],
  stopped: () => void
): void {
  if (!Number.isFinite(limit)) return
  let timedOut = false
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null
  timers.push(
    setTimeout(() => {
      timedOut = true
      if (exited()) return stopped()
      child.kill('SIGTERM')
      timers.push(setTimeout(() => child.kill('SIGKILL'), killAfterMs))
    }, limit)
  )
  child.on('exit', () => {
    if (timedOut) stopped()
  })
}

/** A command that failed, with what it printed last. */
export class ToolError extends Error {
  readonly result: ExecResult

  constructor(what: string, result: ExecResult) {
    super(`${what} failed (exit ${result.code}): ${lastLine(result.stderr || result.stdout)}`)
    this.name = 'ToolError'
    this.result = result
  }
}

/** Run and throw a ToolError saying `what` failed when the exit code is not 0. */
export async function check(
  exec: Exec,
  what: string,
  command: string,
  args: readonly string[],
  options?: ExecOptions
): Promise<ExecResult> {
  const result = await exec.run(command, args, options)
  if (result.code !== 0) throw new ToolError(what, result)
  return result
}
