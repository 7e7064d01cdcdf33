/** Smoke tests as the planner hands them to the runner. */

export type TestSource = 'built-in' | 'smoke-tests' | 'smoke-test-file'

interface TestBase {
  readonly name: string
  readonly source: TestSource
  /** Seconds before the test's container is killed */
  readonly timeout: number
}

/** A shell command run with `sh -c` through the image's entrypoint. */
export interface CommandTest extends TestBase {
  readonly kind: 'command'
  readonly command: string
  readonly exitCode: number
  /** Regular expressions (JavaScript syntax) that must / must not match */
  readonly stdout: readonly string[]
  readonly stdoutNot: readonly string[]
  readonly stderr: readonly string[]
  readonly stderrNot: readonly string[]
}

export interface FileTest extends TestBase {
  readonly kind: 'file'
  readonly path: string
  readonly exists: boolean
}

export interface EnvTest extends TestBase {
  readonly kind: 'env'
  readonly variable: string
  /** Regular expression the value must match; undefined: set and not empty */
  readonly matches?: string
}

export type SmokeTest = CommandTest | FileTest | EnvTest

export function commandTest(
  fields: Pick<CommandTest, 'name' | 'source' | 'timeout' | 'command'> & Partial<CommandTest>
): CommandTest {
  return {
    exitCode: 0,
    stdout: [],
    stdoutNot: [],
    stderr: [],
    stderrNot: [],
    ...fields,
    kind: 'command'
  }
}

/** Turn the smoke-tests input's lines into tests named after their commands. */
export function lineTests(lines: readonly string[], timeout: number): CommandTest[] {
  return lines.map(line =>
    commandTest({
      name: line.length > 60 ? `${line.slice(0, 57)}...` : line,
      source: 'smoke-tests',
      timeout,
      command: line
    })
  )
}
