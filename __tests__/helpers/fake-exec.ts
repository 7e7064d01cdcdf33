/** A fake Exec for unit tests of failure paths: records calls, answers from a function. */
import type { Exec, ExecOptions, ExecResult } from '../../src/tooling/exec.js'

export interface Call {
  readonly command: string
  readonly args: readonly string[]
  readonly options?: ExecOptions
}

export function fakeExec(
  answer: (call: Call) => Partial<ExecResult> | undefined = () => undefined
): Exec & {
  calls: Call[]
} {
  const calls: Call[] = []
  return {
    calls,
    async run(command, args, options) {
      const call = { command, args, options }
      calls.push(call)
      return { code: 0, stdout: '', stderr: '', ...answer(call) }
    }
  }
}
