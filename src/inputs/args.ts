/**
 * The command line of the CLI: the action's inputs as options (`--distros humble,jazzy`), read
 * against the input table of action.yml (names, defaults, which are booleans), over what a
 * `--config` file and a `--from-workflow` step give. Pure: files are read by the caller.
 */
import { parse } from 'yaml'
import { quote } from './errors.js'
import { Inputs, SECRET_INPUTS } from './names.js'

/** One input of action.yml. */
export interface InputSpec {
  readonly name: string
  readonly description: string
  readonly default: string
}

/** A bad command line: one line saying what to give instead (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The inputs of action.yml's text. */
export function inputSpecs(actionYml: string): InputSpec[] {
  const doc = parse(actionYml) as {
    inputs?: Record<string, { description?: string; default?: unknown }>
  }
  return Object.entries(doc.inputs ?? {}).map(([name, spec]) => ({
    name,
    description: spec.description ?? '',
    default: spec.default === undefined ? '' : String(spec.default)
  }))
}

const isBoolean = (spec: InputSpec): boolean => spec.default === 'true' || spec.default === 'false'

const isSecret = (name: string): boolean => (SECRET_INPUTS as readonly string[]).includes(name)

/** Inputs of several lines (or items): a repeated option adds a line; others take the last. */
export const LIST_INPUTS = ['build-args', 'tags', 'labels', 'smoke-tests', 'runners'] as const

/** What the CLI itself is asked to do, besides the inputs. */
export interface CliOptions {
  readonly help: boolean
  readonly version: boolean
  readonly json: boolean
  readonly verbose: boolean
  readonly config?: string
  readonly fromWorkflow?: string
}

export interface CommandLine {
  readonly options: CliOptions
  /** Inputs given as options; a repeated option's values are joined with newlines */
  readonly inputs: ReadonlyMap<string, string>
}

/** `--name value`, `--name=value`; a boolean input also alone (`--push`) or as `--no-push`. */
export function parseArgs(argv: readonly string[], specs: readonly InputSpec[]): CommandLine {
  const byName = new Map(specs.map(s => [s.name, s]))
  const inputs = new Map<string, string>()
  const options: {
    help: boolean
    version: boolean
    json: boolean
    verbose: boolean
    config?: string
    fromWorkflow?: string
  } = { help: false, version: false, json: false, verbose: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '-h' || arg === '--help') {
      options.help = true
      continue
    }
    if (arg === '--version') options.version = true
    else if (arg === '--json') options.json = true
    else if (arg === '--verbose' || arg === '-v') options.verbose = true
    else {
      const m = /^--([a-z][a-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg)
      if (m === null) {
        throw new UsageError(`${quote(arg)} is not an option; options start with -- (see --help)`)
      }
      const [, flag, inline] = m
      const next = (): string => {
        if (inline !== undefined) return inline
        const value = argv[i + 1]
        if (value === undefined || (value.startsWith('--') && value.length > 2)) {
          throw new UsageError(`--${flag} needs a value (see --help)`)
        }
        i++
        return value
      }
      if (flag === 'config') options.config = next()
      else if (flag === 'from-workflow') options.fromWorkflow = next()
      else {
        const negated = flag.startsWith('no-') ? byName.get(flag.slice(3)) : undefined
        const spec = byName.get(flag) ?? negated
        if (spec === undefined) {
          throw new UsageError(`--${flag} is not an option of ros-multiarch-action (see --help)`)
        }
        if (isSecret(spec.name)) {
          throw new UsageError(
            `--${spec.name} would put a secret on the command line; give it in the environment as ${envName(spec.name)}${spec.name === Inputs.Password ? ', or run docker login first' : ''}`
          )
        }
        let value: string
        if (negated !== undefined && isBoolean(spec) && inline === undefined) value = 'false'
        else if (
          isBoolean(spec) &&
          inline === undefined &&
          !/^(true|false)$/i.test(argv[i + 1] ?? '')
        ) {
          value = 'true'
        } else value = next()
        const before = inputs.get(spec.name)
        const list = (LIST_INPUTS as readonly string[]).includes(spec.name)
        inputs.set(spec.name, before === undefined || !list ? value : `${before}\n${value}`)
      }
    }
  }
  return { options, inputs }
}

/** The environment variable a secret input is read from (INPUT_COSIGN_KEY for cosign-key). */
export function envName(input: string): string {
  return `INPUT_${input.replace(/[ -]/g, '_').toUpperCase()}`
}

/** A --config file's inputs: a YAML mapping of input names to values (lists joined by lines). */
export function configInputs(
  file: string,
  text: string,
  specs: readonly InputSpec[]
): Map<string, string> {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (error) {
    throw new UsageError(`--config ${file}: not YAML (${(error as Error).message.split('\n')[0]})`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`--config ${file}: give a mapping of input names to values`)
  }
  const names = new Set(specs.map(s => s.name))
  const inputs = new Map<string, string>()
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!names.has(name)) {
      throw new UsageError(
        `--config ${file}: ${quote(name)} is not an input of ros-multiarch-action`
      )
    }
    if (isSecret(name)) {
      throw new UsageError(
        `--config ${file}: ${name} is a secret; give it in the environment as ${envName(name)}`
      )
    }
    inputs.set(name, scalar(`--config ${file}: ${name}`, value))
  }
  return inputs
}

function scalar(what: string, value: unknown): string {
  if (Array.isArray(value)) return value.map(v => scalar(what, v)).join('\n')
  if (value === null || value === undefined) return ''
  if (typeof value === 'object')
    throw new UsageError(`${what}: give a string, number, boolean or list`)
  return String(value)
}

/**
 * The inputs of a run: action.yml's defaults, each of `layers` over them in turn (a
 * --from-workflow step's, the --config file's, the options), then the secrets from `env`
 * (INPUT_COSIGN_KEY, ...), the only place they come from. Pure.
 */
export function runInputs(
  specs: readonly InputSpec[],
  layers: readonly ReadonlyMap<string, string>[],
  env: Readonly<Record<string, string | undefined>>
): Map<string, string> {
  const inputs = new Map(specs.map(s => [s.name, s.default]))
  for (const layer of layers) for (const [k, v] of layer) inputs.set(k, v)
  for (const name of SECRET_INPUTS) inputs.set(name, env[envName(name)] ?? '')
  return inputs
}

/** `owner/ros-multiarch-action@v1`, `./` (the action in its own repository), a path to it. */
export function isThisAction(uses: string): boolean {
  const name = uses.split('@')[0].replace(/\/+$/, '')
  return name === '.' || /(^|\/)ros-multiarch-action$/.test(name)
}

interface WorkflowStep {
  readonly uses?: unknown
  readonly with?: Record<string, unknown>
  readonly env?: Record<string, unknown>
}
interface WorkflowJob {
  readonly env?: Record<string, unknown>
  readonly steps?: WorkflowStep[]
}

const EXPRESSION = /\$\{\{\s*([\s\S]*?)\s*\}\}/g

/**
 * The `with:` of this action's step in a workflow (`file[#job]`), with `${{ env.NAME }}` filled
 * in from the workflow's, the job's and the step's `env:` where that value is plain text. Any
 * other expression (matrix, secrets, vars, needs, an env value that is itself one, ...) is
 * refused in one line naming every input that has one, unless `given` (the options and --config)
 * sets that input. Secrets are never taken from a workflow: username and password come from the
 * Docker config's credentials, the others from the environment (INPUT_COSIGN_KEY, ...).
 */
export function workflowInputs(
  ref: string,
  text: string,
  given: ReadonlySet<string>
): { inputs: Map<string, string>; job: string; notes: string[] } {
  const [file, wanted] = ref.split('#', 2) as [string, string | undefined]
  let doc: { env?: Record<string, unknown>; jobs?: Record<string, WorkflowJob> }
  try {
    doc = (parse(text) ?? {}) as typeof doc
  } catch (error) {
    throw new UsageError(
      `--from-workflow ${file}: not YAML (${(error as Error).message.split('\n')[0]})`
    )
  }
  const jobs = Object.entries(doc.jobs ?? {})
  const found = jobs.flatMap(([job, j]) =>
    (j.steps ?? [])
      .filter(s => typeof s.uses === 'string' && isThisAction(s.uses))
      .map(step => ({ job, j, step }))
  )
  const mine = wanted === undefined ? found : found.filter(f => f.job === wanted)
  if (mine.length === 0) {
    throw new UsageError(
      wanted === undefined
        ? `--from-workflow ${file}: no step uses ros-multiarch-action`
        : `--from-workflow ${file}#${wanted}: job ${quote(wanted)} has no step using ros-multiarch-action (jobs that do: ${[...new Set(found.map(f => f.job))].join(', ') || 'none'})`
    )
  }
  if (mine.length > 1) {
    throw new UsageError(
      `--from-workflow ${file}: ${mine.length} steps use ros-multiarch-action (jobs ${[...new Set(mine.map(f => f.job))].join(', ')}); name one: ${file}#${mine[0].job}`
    )
  }
  const { job, j, step } = mine[0]
  const env = new Map<string, string>()
  for (const scope of [doc.env, j.env, step.env]) {
    for (const [k, v] of Object.entries(scope ?? {})) env.set(k, String(v))
  }
  const inputs = new Map<string, string>()
  const unresolved: string[] = []
  const notes: string[] = []
  for (const [name, raw] of Object.entries(step.with ?? {})) {
    if (name === Inputs.Username || name === Inputs.Password) {
      notes.push(`${name} is not taken from the workflow: a local run uses your docker login`)
      continue
    }
    if (isSecret(name)) {
      notes.push(`${name} is taken from the environment (${envName(name)}), not from the workflow`)
      continue
    }
    if (given.has(name)) continue
    const text = scalar(`--from-workflow ${file}#${job}: ${name}`, raw)
    let bad = ''
    const value = text.replace(EXPRESSION, (whole, expr: string) => {
      const m = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr)
      const known = m === null ? undefined : env.get(m[1])
      // an env value with an expression of its own (secrets.X) is no more evaluable than it
      if (known !== undefined && !known.includes('${{')) return known
      bad ||= whole
      return whole
    })
    if (bad !== '') unresolved.push(`${name} (${bad})`)
    else inputs.set(name, value)
  }
  if (unresolved.length > 0) {
    throw new UsageError(
      `--from-workflow ${file}#${job}: ${unresolved.join(', ')} ${unresolved.length === 1 ? 'is a GitHub expression' : 'are GitHub expressions'} the CLI cannot evaluate (only env.NAME from the workflow's env is filled in); give ${unresolved.length === 1 ? 'it as an option' : 'them as options'} (${unresolved.map(u => `--${u.split(' ')[0]}`).join(' ')})`
    )
  }
  return { inputs, job, notes }
}

/** `--help`: usage, then every input as an option with its default, wrapped for a terminal. */
export function helpText(specs: readonly InputSpec[], width = 100): string {
  const lines = [
    'Usage: ros-multiarch-action [options]',
    '',
    "Runs the action's pipeline on this machine: builds each distro x platform cell from your",
    'Dockerfile (foreign platforms under QEMU), smoke-tests it and, with --push, publishes it.',
    '',
    'Options of the CLI:',
    '  --config FILE            inputs from a YAML file (input: value); options given win over it',
    '  --from-workflow FILE[#JOB]',
    "                           the with: of this action's step in a workflow (env.NAME filled in)",
    '  --json                   print the results output as JSON on stdout (the log on stderr)',
    '  -v, --verbose            print every build log and test output, not only failures',
    '  --version, -h, --help',
    '',
    "Inputs (the action's inputs, as options; a boolean alone means true, --no-NAME false;",
    'repeat an option for more lines). Secrets are read from the environment only:',
    ...SECRET_INPUTS.map(name => `  ${envName(name).padEnd(25)}${name}`),
    'Registry credentials come from your docker login.',
    ''
  ]
  for (const spec of specs) {
    if (isSecret(spec.name)) continue
    const head = `  --${spec.name}${isBoolean(spec) ? '' : ' VALUE'}`
    const shown =
      spec.name === Inputs.Push ? 'false (a local run pushes only with --push)' : spec.default
    const text = `${spec.description} [default: ${shown === '' ? 'none' : shown}]`
    lines.push(head, ...wrap(text, width - 6).map(l => `      ${l}`))
  }
  return lines.join('\n')
}

function wrap(text: string, width: number): string[] {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') out.push(line)
  return out
}
