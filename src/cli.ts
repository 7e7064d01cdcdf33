/**
 * Entry of the command-line interface (dist/cli.js): the action's pipeline on a developer's
 * machine. The same run() as the action, with a terminal Runtime in place of the runner's; the
 * post step's cleanup runs in-process when the run ends, also after Ctrl-C (which cancels the run
 * as a cancelled workflow does; a second Ctrl-C exits at once).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from './action.js'
import {
  configInputs,
  helpText,
  inputSpecs,
  parseArgs,
  runInputs,
  UsageError,
  workflowInputs,
  type InputSpec
} from './inputs/args.js'
import { post } from './post.js'
import { endOfRun } from './report/terminal.js'
import { markMainStep } from './state.js'
import { terminalRuntime } from './terminal.js'
import { errorMessage } from './text/text.js'
import { realTools } from './tools.js'

/**
 * A file of the action's checkout: action.yml, or its package.json (not the bundle's own), in a
 * folder above this module (the bundle is dist/cli/index.js; tests run src/cli.ts).
 */
function packageFile(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const file = path.join(dir, name)
    if (
      existsSync(file) &&
      (name !== 'package.json' ||
        /"name":\s*"ros-multiarch-action"/.test(readFileSync(file, 'utf8')))
    ) {
      return file
    }
    dir = path.dirname(dir)
  }
  throw new Error(
    `${name} of ros-multiarch-action not found next to ${fileURLToPath(import.meta.url)}`
  )
}

/** The engine's architecture, named as os.arch() names it: the native platform of a local run. */
function engineArch(): string {
  const names: Record<string, string> = {
    amd64: 'x64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64le: 'ppc64'
  }
  try {
    const arch = execFileSync('docker', ['version', '--format', '{{.Server.Arch}}'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000
    }).trim()
    return names[arch] ?? arch
  } catch {
    // no engine: the run's set-up says so
    return os.arch()
  }
}

/**
 * The inputs of this run: action.yml's defaults, --from-workflow, --config, then the options;
 * secrets from the environment only.
 */
function readInputs(
  argv: readonly string[],
  specs: readonly InputSpec[],
  env: NodeJS.ProcessEnv,
  say: (line: string) => void
): { inputs: Map<string, string>; options: ReturnType<typeof parseArgs>['options'] } {
  const { options, inputs: given } = parseArgs(argv, specs)
  const fromConfig =
    options.config === undefined
      ? new Map<string, string>()
      : configInputs(options.config, readText(options.config, '--config'), specs)
  let fromWorkflow = new Map<string, string>()
  if (options.fromWorkflow !== undefined) {
    const file = options.fromWorkflow.split('#')[0]
    const set = new Set([...given.keys(), ...fromConfig.keys()])
    const wf = workflowInputs(options.fromWorkflow, readText(file, '--from-workflow'), set)
    say(`Inputs from ${file}, job ${wf.job}: ${[...wf.inputs.keys()].join(', ') || 'none'}`)
    for (const note of wf.notes) say(`  (${note})`)
    fromWorkflow = wf.inputs
  }
  return { inputs: runInputs(specs, [fromWorkflow, fromConfig, given], env), options }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(
      `${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`
    )
  }
}

/** What the run sees of the environment: no GitHub context (a local run), no runner inputs. */
function localEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !/^(GITHUB_|RUNNER_|INPUT_|ACTIONS_)/.test(k))
  )
}

async function main(): Promise<number> {
  const specs = inputSpecs(readFileSync(packageFile('action.yml'), 'utf8'))
  let read: ReturnType<typeof readInputs>
  try {
    read = readInputs(process.argv.slice(2), specs, process.env, l =>
      process.stderr.write(`${l}\n`)
    )
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`ros-multiarch-action: ${error.message}\n`)
    return 2
  }
  const { inputs, options } = read
  if (options.help) {
    process.stdout.write(`${helpText(specs, process.stdout.columns ?? 100)}\n`)
    return 0
  }
  if (options.version) {
    const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
    process.stdout.write(`ros-multiarch-action ${pkg.version}\n`)
    return 0
  }
  const out = options.json ? process.stderr : process.stdout
  const rt = terminalRuntime({
    inputs,
    out,
    env: localEnv(process.env),
    hostArch: engineArch(),
    verbose: options.verbose
  })
  const cancel = new AbortController()
  let stops = 0
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (++stops > 1) {
        rt.close()
        process.exit(130)
      }
      rt.warning(`${sig}: cancelling the run (again to quit at once)`)
      cancel.abort(new Error(`cancelled by ${sig}`))
    })
  }
  markMainStep(rt)
  await run(rt, realTools(cancel.signal))
  // the post step's cleanup, as the runner runs it after the main step
  await post(rt, realTools())
  rt.close()
  // masked as the log is: test output and build logs in the results can hold a secret
  const end = endOfRun(rt.outputs, rt.mask)
  if (end.report !== '') out.write(end.report)
  if (options.json) process.stdout.write(end.json)
  if (cancel.signal.aborted) return 130
  return rt.failed() === undefined ? 0 : 1
}

process.exitCode = await main()
