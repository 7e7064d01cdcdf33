/**
 * The one seam to the outside world: every docker command goes through an Exec.
 * The real one wraps @actions/exec; tests hand in a fake that records and answers.
 */
import * as actionsExec from '@actions/exec'

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface ExecOptions {
  /** Written to the command's stdin (credentials go this way, never in arguments) */
  readonly input?: string
  readonly env?: Readonly<Record<string, string>>
}

export interface Exec {
  /** Runs a command and captures its output; a non-zero exit is a result, not an error. */
  run(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>
}

export function actionsExecutor(): Exec {
  return {
    async run(command, args, options = {}) {
      const result = await actionsExec.getExecOutput(command, [...args], {
        ignoreReturnCode: true,
        silent: true,
        ...(options.input === undefined ? {} : { input: Buffer.from(options.input) }),
        ...(options.env === undefined
          ? {}
          : { env: { ...(process.env as Record<string, string>), ...options.env } })
      })
      return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr }
    }
  }
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

/** The last non-empty line of some output, for one-line error messages. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')
  return lines.length === 0 ? 'no output' : lines[lines.length - 1]
}

/** The end of some output, at most `max` characters, cut at a line start where possible. */
export function tail(text: string, max = 3000): string {
  if (text.length <= max) return text
  const cut = text.slice(text.length - max)
  const nl = cut.indexOf('\n')
  return nl >= 0 && nl < 200 ? cut.slice(nl + 1) : cut
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
