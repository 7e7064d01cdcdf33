/**
 * The BuildKit cache mounts (RUN --mount=type=cache,...) one build of a Dockerfile uses, so the
 * action can name, keep and report the caches a build fills: only the stages the build target
 * needs, each mount's id, target, sharing and ownership after BuildKit's variable substitution,
 * one entry per cache id. Follows the BuildKit Dockerfile frontend (moby/buildkit
 * frontend/dockerfile: parser, instructions/commands_runmount.go, dockerfile2llb/convert.go and
 * convert_runmount.go). Pure: it reads the Dockerfile text only, so what an external base image's
 * config sets (ENV, WORKDIR) is unknown here: such variables expand to empty, WORKDIR starts at /.
 */

import path from 'node:path'
import {
  DockerfileError,
  expandWord,
  flagValues,
  globalArgs,
  isFrom,
  parseFrom,
  parseInstructions,
  splitFlags,
  splitWords,
  type Instruction,
  type ResolveOptions,
  type Vars
} from './dockerfile.js'

export type CacheSharing = 'shared' | 'private' | 'locked'

export interface CacheMount {
  /** The cache's id after substitution; BuildKit's default when the Dockerfile gives none: the target */
  readonly id: string
  /** Where the RUN sees it, after substitution (a relative target resolved against the stage's WORKDIR, as BuildKit does) */
  readonly target: string
  /** 'shared' unless the mount says otherwise */
  readonly sharing: CacheSharing
  /** As written (decimal), when given */
  readonly uid?: number
  readonly gid?: number
  /** Octal digits as written, e.g. "0755", when given */
  readonly mode?: string
  /** 1-based line of the first RUN that uses this id */
  readonly line: number
}

export interface MountOptions extends ResolveOptions {
  /** The stage to build (--target); the last stage when absent */
  readonly target?: string
  /**
   * Whether the frontend substitutes variables in --mount options (default true). The Dockerfile
   * frontend built into Docker 20.10 (BuildKit 0.8) does not: there `id=ccache-${TARGETARCH}` is
   * that very text, for every platform (measured on the test bed's Docker 20.10).
   */
  readonly expandVariables?: boolean
}

/** The cache mounts (RUN --mount=type=cache) of the stages a build of `target` uses, one per id, in file order. */
export function findCacheMounts(dockerfile: string, options: MountOptions): CacheMount[] {
  const { escape, instructions } = parseInstructions(dockerfile)
  const firstFrom = instructions.findIndex(isFrom)
  if (firstFrom < 0) throw new DockerfileError('Dockerfile has no FROM instruction')
  const globals = globalArgs(instructions.slice(0, firstFrom), options, escape)
  const stages = readStages(instructions.slice(firstFrom), globals, escape)
  const reachable = reachableStages(stages, targetStage(stages, options.target))
  const scope: Scope = {
    escape,
    globals,
    buildArgs: new Map(options.buildArgs),
    literal: options.expandVariables === false
  }
  const finalStates: StageState[] = []
  const mounts: CacheMount[] = []
  for (const stage of stages) {
    if (!reachable.has(stage.index)) continue
    // A stage built FROM an earlier stage starts from that stage's state: ENV, ARG values, WORKDIR.
    const base = stage.base === undefined ? undefined : finalStates[stage.base]
    const state = base?.clone() ?? new StageState()
    mounts.push(...stageMounts(stage, state, scope))
    finalStates[stage.index] = state
  }
  return firstPerId(mounts)
}

interface Stage {
  readonly index: number
  /** The AS name, lowercased */
  readonly name?: string
  /** The earlier stage this one is built FROM */
  readonly base?: number
  /** The instructions after FROM, up to the next FROM */
  readonly body: readonly Instruction[]
  /** The stages its COPY --from and RUN --mount from= name */
  readonly sources: readonly number[]
}

interface Scope {
  readonly escape: string
  /** Global ARGs and automatic platform ARGs: what a bare `ARG NAME` in a stage takes */
  readonly globals: Vars
  /** Build args, later ones winning */
  readonly buildArgs: ReadonlyMap<string, string>
  /** Mount options are taken as written, not substituted (an old frontend) */
  readonly literal: boolean
}

// --- Stages and what a build of the target needs ----------------------------------------------

/** The stages in file order, each with its base (FROM an earlier stage) and the stages it copies or mounts from. */
function readStages(instructions: readonly Instruction[], globals: Vars, escape: string): Stage[] {
  const stages: StageHead[] = []
  const earlier = new Map<string, number>()
  for (const instruction of instructions) {
    if (!isFrom(instruction)) {
      stages[stages.length - 1].body.push(instruction)
      continue
    }
    const from = parseFrom(instruction, escape)
    // BuildKit matches FROM against the stages defined before it, after substituting global ARGs.
    const image = expandWord(from.image, globals, escape, from.line).toLowerCase()
    const index = stages.length
    stages.push({ index, name: from.name, base: earlier.get(image), body: [] })
    if (from.name !== undefined) earlier.set(from.name, index)
  }
  return stages.map(stage => ({ ...stage, sources: sourceStages(stage.body, stages, escape) }))
}

/** A stage before its sources are known */
interface StageHead {
  readonly index: number
  readonly name?: string
  readonly base?: number
  readonly body: Instruction[]
}

/**
 * The stages COPY --from and RUN --mount ...,from= name. COPY takes a stage name or index;
 * a mount's from= only a stage name (BuildKit looks it up by name; anything else is an image).
 */
function sourceStages(
  body: readonly Instruction[],
  stages: readonly StageHead[],
  escape: string
): number[] {
  const byName = new Map(stages.flatMap(s => (s.name === undefined ? [] : [[s.name, s.index]])))
  return body.flatMap(instruction => {
    const { flags } = splitFlags(splitWords(instruction.args, escape))
    if (instruction.keyword === 'copy') {
      return flagValues(flags, 'from', instruction.line).flatMap(value => {
        const source = flagText(value)
        if (!/^[+-]?\d+$/.test(source)) return byName.get(source.toLowerCase()) ?? []
        return [stageIndex(Number(source), stages.length, instruction.line)]
      })
    }
    if (instruction.keyword !== 'run') return []
    return flagValues(flags, 'mount', instruction.line).flatMap(spec => {
      const from = mountSpec(spec, instruction.line).get('from')
      if (from === undefined) return []
      if (/\$./.test(from)) {
        throw new DockerfileError(
          `line ${instruction.line}: from=${from} cannot use variables; add a stage "FROM ${from} AS <name>" and mount from that name`
        )
      }
      return byName.get(from.toLowerCase()) ?? []
    })
  })
}

function stageIndex(index: number, count: number, line: number): number {
  if (index < 0 || index >= count) {
    throw new DockerfileError(
      `line ${line}: COPY --from=${index} names no stage; stages are numbered 0 to ${count - 1}`
    )
  }
  return index
}

/** The stage to build: the one named by --target (case-insensitive), else the last one. */
function targetStage(stages: readonly Stage[], target: string | undefined): number {
  if (target === undefined || target === '') return stages.length - 1
  const found = stages.find(stage => stage.name === target.toLowerCase())
  if (found !== undefined) return found.index
  const names = stages.flatMap(stage => stage.name ?? [])
  const known =
    names.length === 0 ? 'the Dockerfile names no stages' : `its stages are ${names.join(', ')}`
  throw new DockerfileError(`target stage "${target}" is not in the Dockerfile; ${known}`)
}

/** The target and every stage it needs, through FROM, COPY --from and mount from=. */
function reachableStages(stages: readonly Stage[], target: number): Set<number> {
  const reached = new Set<number>()
  const pending = [target]
  for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
    if (reached.has(index)) continue
    reached.add(index)
    const stage = stages[index]
    if (stage.base !== undefined) pending.push(stage.base)
    pending.push(...stage.sources)
  }
  return reached
}

// --- A stage's variables and working directory ------------------------------------------------

/**
 * What BuildKit substitutes RUN flags with: the stage's own environment, where ARG values and
 * ENV both land, in order. A value that cannot be expanded fails only when a mount uses it.
 */
class StageState implements Vars {
  constructor(
    private readonly env = new Map<string, string | DockerfileError>(),
    private workdir: string | DockerfileError = '/'
  ) {}

  get(name: string): string | undefined {
    const value = this.env.get(name)
    if (value instanceof DockerfileError) throw value
    return value
  }

  set(name: string, value: string | DockerfileError): void {
    this.env.set(name, value)
  }

  /** The WORKDIR, absolute */
  dir(): string {
    if (this.workdir instanceof DockerfileError) throw this.workdir
    return this.workdir
  }

  /** A relative WORKDIR joins the previous one. */
  setDir(value: string | DockerfileError): void {
    if (value instanceof DockerfileError || value.startsWith('/')) this.workdir = value
    else if (!(this.workdir instanceof DockerfileError))
      this.workdir = path.posix.join(this.workdir, value)
  }

  clone(): StageState {
    return new StageState(new Map(this.env), this.workdir)
  }
}

/** The value, or the DockerfileError that computing it threw. */
function attempt<T>(compute: () => T): T | DockerfileError {
  try {
    return compute()
  } catch (error) {
    if (error instanceof DockerfileError) return error
    throw error
  }
}

function stageMounts(stage: Stage, state: StageState, scope: Scope): CacheMount[] {
  const mounts: CacheMount[] = []
  for (const instruction of stage.body) {
    if (instruction.keyword === 'arg') declareArgs(instruction, state, scope)
    else if (instruction.keyword === 'env') setEnv(instruction, state, scope.escape)
    else if (instruction.keyword === 'workdir') setWorkdir(instruction, state, scope.escape)
    else if (instruction.keyword === 'run') mounts.push(...runMounts(instruction, state, scope))
  }
  return mounts
}

/** ARG NAME[=default]: the build arg if given, else the default expanded, else the global ARG's value. */
function declareArgs(instruction: Instruction, state: StageState, scope: Scope): void {
  for (const word of splitWords(instruction.args, scope.escape)) {
    const equals = word.indexOf('=')
    const name = equals < 0 ? word : word.slice(0, equals)
    const given = scope.buildArgs.get(name)
    if (given !== undefined) {
      state.set(name, given)
    } else if (equals >= 0) {
      const raw = word.slice(equals + 1)
      state.set(
        name,
        attempt(() => expandWord(raw, state, scope.escape, instruction.line))
      )
    } else {
      const global = attempt(() => scope.globals.get(name))
      // Declared with no value anywhere, it stays as it was (unset, or inherited).
      if (global !== undefined) state.set(name, global)
    }
  }
}

/**
 * ENV name=value ... or the legacy ENV name value. Every value is expanded with the variables as
 * they were before the instruction, as BuildKit does (ENV A=1 B=$A gives B the old A).
 */
function setEnv(instruction: Instruction, state: StageState, escape: string): void {
  const { line } = instruction
  const pairs = envPairs(instruction, escape)
  const values = pairs.map(([name, raw]) => {
    const value = attempt(() => expandWord(raw, state, escape, line))
    return [expandWord(name, state, escape, line), value] as const
  })
  for (const [name, value] of values) state.set(name, value)
}

function envPairs(instruction: Instruction, escape: string): [string, string][] {
  const { line } = instruction
  const words = splitWords(instruction.args, escape)
  if (words.length > 0 && !words[0].includes('=')) {
    const legacy = /^(\S+)\s+(\S[\s\S]*)$/.exec(instruction.args.trim())
    if (!legacy) {
      throw new DockerfileError(`line ${line}: ENV ${words[0]} has no value (ENV name=value)`)
    }
    return [[legacy[1], legacy[2]]]
  }
  if (words.length === 0) throw new DockerfileError(`line ${line}: ENV needs name=value`)
  return words.map(word => {
    const equals = word.indexOf('=')
    if (equals < 0) throw new DockerfileError(`line ${line}: ENV ${word} is not name=value`)
    return [word.slice(0, equals), word.slice(equals + 1)]
  })
}

function setWorkdir(instruction: Instruction, state: StageState, escape: string): void {
  const raw = instruction.args.trim()
  state.setDir(attempt(() => expandWord(raw, state, escape, instruction.line)))
}

// --- Mount specs ------------------------------------------------------------------------------

const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked']
const KEY_ALIASES: Readonly<Record<string, string>> = { dst: 'target', destination: 'target' }

function runMounts(instruction: Instruction, state: StageState, scope: Scope): CacheMount[] {
  const { flags } = splitFlags(splitWords(instruction.args, scope.escape))
  return flagValues(flags, 'mount', instruction.line).flatMap(spec => {
    const mount = cacheMount(mountSpec(spec, instruction.line), instruction.line, state, scope)
    return mount === undefined ? [] : [mount]
  })
}

/**
 * A --mount value's key=value fields by lowercased key (dst and destination as target), the
 * last of a key winning, values not yet substituted. Fields without `=` (ro, rw, required)
 * say nothing about a cache.
 */
function mountSpec(spec: string, line: number): Map<string, string> {
  if (spec === '') throw new DockerfileError(`line ${line}: --mount= has no fields`)
  const fields = new Map<string, string>()
  for (const field of csvFields(flagText(spec), spec, line)) {
    const equals = field.indexOf('=')
    if (equals < 0) continue
    const key = field.slice(0, equals).toLowerCase()
    fields.set(KEY_ALIASES[key] ?? key, field.slice(equals + 1))
  }
  return fields
}

/** The cache a mount spec describes; undefined for other mount types (bind is the default). */
function cacheMount(
  spec: ReadonlyMap<string, string>,
  line: number,
  state: StageState,
  scope: Scope
): CacheMount | undefined {
  const expand = (raw: string): string =>
    scope.literal ? raw : expandWord(raw, state, scope.escape, line)
  const type = spec.get('type')
  if ((type === undefined ? 'bind' : expand(type).toLowerCase()) !== 'cache') return undefined
  const raw = spec.get('target')
  if (raw === undefined) {
    throw new DockerfileError(`line ${line}: a cache mount needs target=<path>`)
  }
  const written = expand(raw)
  if (written === '') {
    throw new DockerfileError(`line ${line}: the cache mount's target=${raw} is empty`)
  }
  const given = spec.get('id')
  const id = given === undefined ? '' : expand(given)
  const options = { expand, line }
  return {
    // BuildKit (dockerfile2llb/convert_runmount.go) uses path.Clean(target) when the id is
    // missing or empty: the target after substitution, cleaned, NOT resolved against WORKDIR.
    id: id === '' ? cleanPath(written) : id,
    target: mountTarget(written, raw, state, line),
    sharing: sharing(spec.get('sharing'), options),
    ...numberField(spec, 'uid', options),
    ...numberField(spec, 'gid', options),
    ...modeField(spec.get('mode'), options),
    line
  }
}

interface FieldOptions {
  readonly expand: (raw: string) => string
  readonly line: number
}

/** Go's path.Clean: no trailing slash, `.` and `..` resolved, "" becomes ".". */
function cleanPath(p: string): string {
  if (p === '') return '.'
  const normal = path.posix.normalize(p)
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal
}

/** A relative target joins the stage's WORKDIR, as BuildKit does; mounting over / fails there. */
function mountTarget(written: string, raw: string, state: StageState, line: number): string {
  const clean = cleanPath(written)
  const target = clean.startsWith('/') ? clean : cleanPath(path.posix.join(state.dir(), clean))
  if (target === '/') {
    throw new DockerfileError(
      `line ${line}: the cache mount's target=${raw} is /, which cannot be a mount target`
    )
  }
  return target
}

function sharing(raw: string | undefined, { expand, line }: FieldOptions): CacheSharing {
  if (raw === undefined) return 'shared'
  const value = expand(raw).toLowerCase()
  const known = SHARING.find(mode => mode === value)
  if (known === undefined) {
    throw new DockerfileError(`line ${line}: sharing=${raw} is not one of ${SHARING.join(', ')}`)
  }
  return known
}

const UINT32_MAX = 0xffffffff

/** uid= and gid=: decimal, 0 to 2^32-1 (BuildKit parses them as unsigned 32-bit). */
function numberField(
  spec: ReadonlyMap<string, string>,
  key: 'uid' | 'gid',
  { expand, line }: FieldOptions
): Partial<Record<'uid' | 'gid', number>> {
  const raw = spec.get(key)
  if (raw === undefined) return {}
  const value = expand(raw)
  if (!/^\d+$/.test(value) || Number(value) > UINT32_MAX) {
    throw new DockerfileError(`line ${line}: ${key}=${raw} is not a number from 0 to ${UINT32_MAX}`)
  }
  return { [key]: Number(value) }
}

/** mode=: octal digits (BuildKit parses them as unsigned 32-bit octal), kept as written. */
function modeField(raw: string | undefined, { expand, line }: FieldOptions): { mode?: string } {
  if (raw === undefined) return {}
  const mode = expand(raw)
  if (!/^[0-7]+$/.test(mode) || parseInt(mode, 8) > UINT32_MAX) {
    throw new DockerfileError(`line ${line}: mode=${raw} is not an octal mode such as 0755`)
  }
  return { mode }
}

/**
 * A flag's value as BuildKit's flag reader hands it on: quotes removed and a backslash making the
 * next character literal (a backslash whatever the escape directive says).
 */
function flagText(word: string): string {
  let out = ''
  let quote: string | undefined
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]
    if (quote === undefined && (ch === '"' || ch === "'")) quote = ch
    else if (ch === quote) quote = undefined
    else if (ch === '\\') out += word.charAt(++i)
    else out += ch
  }
  return out
}

/**
 * One CSV record, as Go's encoding/csv reads a mount spec: fields split at commas; a field that
 * starts with `"` is quoted (`""` inside is a quote, a comma is kept); a `"` elsewhere is an error.
 */
function csvFields(text: string, spec: string, line: number): string[] {
  const fields: string[] = []
  let pos = 0
  for (;;) {
    if (text[pos] === '"') {
      const quoted = quotedField(text, pos, spec, line)
      fields.push(quoted.field)
      pos = quoted.next
    } else {
      const comma = text.indexOf(',', pos)
      const field = text.slice(pos, comma < 0 ? text.length : comma)
      if (field.includes('"')) {
        throw new DockerfileError(
          `line ${line}: --mount=${spec}: a " inside the unquoted field ${field}`
        )
      }
      fields.push(field)
      pos = comma < 0 ? text.length : comma
    }
    if (pos >= text.length) return fields
    pos++
  }
}

function quotedField(
  text: string,
  start: number,
  spec: string,
  line: number
): { field: string; next: number } {
  let field = ''
  let pos = start + 1
  for (;;) {
    const quote = text.indexOf('"', pos)
    if (quote < 0) {
      throw new DockerfileError(`line ${line}: --mount=${spec}: a quoted field has no closing "`)
    }
    field += text.slice(pos, quote)
    if (text[quote + 1] === '"') {
      field += '"'
      pos = quote + 2
      continue
    }
    const next = quote + 1
    if (next < text.length && text[next] !== ',') {
      throw new DockerfileError(
        `line ${line}: --mount=${spec}: text after a quoted field's closing "`
      )
    }
    return { field, next }
  }
}

function firstPerId(mounts: readonly CacheMount[]): CacheMount[] {
  const seen = new Set<string>()
  return mounts.filter(mount => {
    if (seen.has(mount.id)) return false
    seen.add(mount.id)
    return true
  })
}
