/** Runs smoke tests in containers of a built image and judges their results. */
import type { ExecResult } from '../tooling/exec.js'
import { tail } from '../text/text.js'
import { qemuCrash } from '../tooling/qemu.js'
import { runCommand, type Docker } from '../tooling/docker.js'
import type { SmokeTest, TestSource } from './types.js'

export type TestStatus = 'passed' | 'failed' | 'timed out'

export interface TestResult {
  readonly name: string
  readonly source: TestSource
  readonly status: TestStatus
  readonly seconds: number
  /** Why it failed, in one line */
  readonly reason?: string
  /** The end of what it printed (stdout, then stderr) */
  readonly output: string
  /** QEMU's crash line, when the test failed and its whole output had one */
  readonly qemuCrash?: string
}

/** What runs after the image name (through the image's own entrypoint). User values are arguments, never shell text. */
export function testCommand(test: SmokeTest): string[] {
  switch (test.kind) {
    case 'command':
      return ['sh', '-c', test.command]
    case 'file':
      return ['sh', '-c', 'test -e "$1"', 'sh', test.path]
    case 'env':
      return ['sh', '-c', 'printenv "$1"', 'sh', test.variable]
  }
}

function matches(pattern: string, text: string): boolean {
  return new RegExp(pattern, 'm').test(text)
}

/** Judge a finished test. Pure. Returns undefined when it passed, otherwise the reason. */
export function judge(test: SmokeTest, r: ExecResult): string | undefined {
  switch (test.kind) {
    case 'command': {
      if (r.code !== test.exitCode) return `exit code ${r.code}, expected ${test.exitCode}`
      for (const p of test.stdout) if (!matches(p, r.stdout)) return `stdout does not match /${p}/`
      for (const p of test.stdoutNot) if (matches(p, r.stdout)) return `stdout matches /${p}/`
      for (const p of test.stderr) if (!matches(p, r.stderr)) return `stderr does not match /${p}/`
      for (const p of test.stderrNot) if (matches(p, r.stderr)) return `stderr matches /${p}/`
      return undefined
    }
    case 'file':
      if (r.code === 0) return test.exists ? undefined : `${test.path} exists`
      if (r.code === 1) return test.exists ? `${test.path} does not exist` : undefined
      return `the check could not run (exit code ${r.code})`
    case 'env': {
      if (r.code !== 0) return `${test.variable} is not set`
      const value = r.stdout.replace(/\n$/, '')
      if (value === '') return `${test.variable} is empty`
      if (test.matches !== undefined && !matches(test.matches, value)) {
        return `${test.variable}=${JSON.stringify(value)} does not match /${test.matches}/`
      }
      return undefined
    }
  }
}

export interface RunTestOptions {
  readonly docker: Docker
  readonly image: string
  readonly platform: string
  readonly network: string
  /** Unique container name */
  readonly name: string
  readonly now?: () => number
}

/**
 * How long a test's `docker run` may go on past the test's timeout (the container killed, then
 * gone) before the command itself is stopped: an engine that does not answer the kill.
 */
export const KILL_GRACE_MS = 60_000

/** Run one test in a fresh container; kill it at its timeout. */
export async function runTest(test: SmokeTest, o: RunTestOptions): Promise<TestResult> {
  const now = o.now ?? Date.now
  const started = now()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void o.docker.kill(o.name)
  }, test.timeout * 1000)
  let r: ExecResult
  try {
    r = await o.docker.run(
      runCommand({
        name: o.name,
        image: o.image,
        platform: o.platform,
        network: o.network,
        command: testCommand(test)
      }),
      { timeoutMs: test.timeout * 1000 + KILL_GRACE_MS }
    )
  } finally {
    clearTimeout(timer)
  }
  if (timedOut) await o.docker.removeContainer(o.name)
  const seconds = (now() - started) / 1000
  const output = tail([r.stdout, r.stderr].filter(s => s !== '').join('\n'))
  const base = { name: test.name, source: test.source, seconds, output }
  if (timedOut) {
    return { ...base, status: 'timed out', reason: `killed after its ${test.timeout} s timeout` }
  }
  const reason = judge(test, r)
  if (reason === undefined) return { ...base, status: 'passed' }
  // looked for in all of the output: the kept end can have lost it
  const crash = qemuCrash(`${r.stdout}\n${r.stderr}`.split('\n'))
  return { ...base, status: 'failed', reason, ...(crash === undefined ? {} : { qemuCrash: crash }) }
}
