/**
 * The external images a Dockerfile pulls for one build (one set of build args, one target
 * platform), so the action can check that every base image holds every requested platform
 * before it starts building. Follows the BuildKit Dockerfile frontend: parser directives, line
 * continuations, heredocs, global ARG scope, automatic platform ARGs and its variable substitution.
 */

import { parseReference } from '../oci/reference.js'
import { normalizePlatform } from '../ros/platforms.js'

export interface BaseImageUse {
  /** The image reference after substitution, e.g. "ros:humble-ros-base" or "127.0.0.1:5000/ros:humble-ros-base" */
  readonly image: string
  /** The platform it must provide for this build, e.g. "linux/arm64" */
  readonly platform: string
  /** 1-based line of the FROM instruction */
  readonly line: number
}

export interface ResolveOptions {
  /** Build args passed with --build-arg, in order (later wins on duplicates) */
  readonly buildArgs: readonly (readonly [string, string])[]
  /** The target platform of this build, e.g. "linux/arm64" */
  readonly targetPlatform: string
  /** The platform the builder runs on natively, e.g. "linux/amd64" (for $BUILDPLATFORM) */
  readonly buildPlatform: string
}

/** A Dockerfile problem that prevents resolving its bases; message is one line with the line number. */
export class DockerfileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DockerfileError'
  }
}

/** The external images a Dockerfile builds FROM for one build, deduplicated by (image, platform), in file order. */
export function resolveBaseImages(dockerfile: string, options: ResolveOptions): BaseImageUse[] {
  const { escape, instructions } = parseInstructions(dockerfile)
  const firstFrom = instructions.findIndex(instruction => instruction.keyword === 'from')
  if (firstFrom < 0) throw new DockerfileError('Dockerfile has no FROM instruction')
  const stages = instructions.slice(firstFrom)
  const context: Context = {
    escape,
    vars: globalArgs(instructions.slice(0, firstFrom), options, escape),
    targetPlatform: options.targetPlatform,
    stageNames: new Set(
      stages.filter(isFrom).flatMap(instruction => parseFrom(instruction, escape).name ?? [])
    )
  }
  const earlierStages = new Set<string>()
  const uses: BaseImageUse[] = []
  for (const instruction of stages) {
    if (isFrom(instruction)) {
      const from = parseFrom(instruction, escape)
      uses.push(...fromUses(from, earlierStages, context))
      if (from.name !== undefined) earlierStages.add(from.name)
    } else if (instruction.keyword === 'copy') {
      uses.push(...copyUses(instruction, context))
    } else if (instruction.keyword === 'run') {
      uses.push(...mountUses(instruction, context))
    }
  }
  return dedupe(uses)
}

export interface Instruction {
  /** Lowercased, e.g. "from" */
  readonly keyword: string
  /** Everything after the keyword, continuation lines joined */
  readonly args: string
  /** 1-based line where the instruction starts */
  readonly line: number
}

interface Context {
  readonly escape: string
  /** Variables visible in FROM: automatic platform ARGs and global ARGs */
  readonly vars: Vars
  readonly targetPlatform: string
  /** Every stage name in the file, lowercased: COPY --from and RUN --mount from= may name any */
  readonly stageNames: ReadonlySet<string>
}

export interface FromInstruction {
  readonly line: number
  /** As written, before substitution */
  readonly image: string
  /** The --platform value as written, before substitution */
  readonly platform?: string
  /** The AS name, lowercased */
  readonly name?: string
}

// --- Reading instructions ---------------------------------------------------------------------

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check'])
const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add'])
const HEREDOC = /^\d*<<(-?)([^<]+)$/

export function parseInstructions(dockerfile: string): {
  escape: string
  instructions: Instruction[]
} {
  const lines = dockerfile.replace(/^\uFEFF/, '').split(/\r?\n/)
  const escape = escapeDirective(lines)
  const instructions: Instruction[] = []
  let index = 0
  while (index < lines.length) {
    const line = index + 1
    const logical = joinContinuedLines(lines, index, escape)
    index = logical.next
    const match = /^(\S+)\s*(.*)$/.exec(logical.text.trim())
    if (!match) continue
    const instruction = { keyword: match[1].toLowerCase(), args: match[2], line }
    instructions.push(instruction)
    index = skipHeredocs(instruction, lines, index, escape)
  }
  return { escape, instructions }
}

/** Parser directives only count at the very top: the first other line ends them. */
function escapeDirective(lines: readonly string[]): string {
  let escape = '\\'
  for (const [index, line] of lines.entries()) {
    const match = DIRECTIVE.exec(line.trimStart())
    if (!match || !KNOWN_DIRECTIVES.has(match[1].toLowerCase())) break
    if (match[1].toLowerCase() !== 'escape') continue
    if (match[2] !== '\\' && match[2] !== '`') {
      throw new DockerfileError(
        `line ${index + 1}: the escape directive must be \\ or \`, got "${match[2]}"`
      )
    }
    escape = match[2]
  }
  return escape
}

/** One logical line; comment and blank lines inside a continuation are dropped, as BuildKit does. */
function joinContinuedLines(
  lines: readonly string[],
  start: number,
  escape: string
): { text: string; next: number } {
  const first = lines[start].trimStart()
  if (first.startsWith('#')) return { text: '', next: start + 1 }
  let { body: text, continues } = cutContinuation(first, escape)
  let next = start + 1
  while (continues && next < lines.length) {
    const line = lines[next++]
    if (/^\s*(#|$)/.test(line)) continue
    const part = cutContinuation(line, escape)
    text += part.body
    continues = part.continues
  }
  return { text, next }
}

function cutContinuation(line: string, escape: string): { body: string; continues: boolean } {
  const match = (escape === '`' ? /`[ \t]*$/ : /\\[ \t]*$/).exec(line)
  return match
    ? { body: line.slice(0, match.index), continues: true }
    : { body: line, continues: false }
}

/** Skips the bodies of RUN/COPY/ADD heredocs (<<EOF ... EOF) so they are not read as instructions. */
function skipHeredocs(
  instruction: Instruction,
  lines: readonly string[],
  next: number,
  escape: string
): number {
  if (!HEREDOC_KEYWORDS.has(instruction.keyword)) return next
  let index = next
  for (const word of splitWords(instruction.args, escape)) {
    const match = HEREDOC.exec(word)
    if (!match) continue
    const chomp = match[1] === '-'
    const terminator = match[2].replace(/["'\\]/g, '')
    const end = lines.findIndex(
      (line, i) => i >= index && (chomp ? line.replace(/^\t+/, '') : line) === terminator
    )
    if (end < 0) {
      throw new DockerfileError(`line ${instruction.line}: heredoc ${word} is not terminated`)
    }
    index = end + 1
  }
  return index
}

// --- Words and flags --------------------------------------------------------------------------

/** Splits at unquoted whitespace, keeping quotes and escapes for substitution to handle. */
export function splitWords(text: string, escape: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quote === undefined && /\s/.test(ch)) {
      if (word !== undefined) words.push(word)
      word = undefined
      continue
    }
    word = (word ?? '') + ch
    if (ch === escape && quote !== "'" && i + 1 < text.length) word += text[++i]
    else if (quote === undefined && (ch === '"' || ch === "'")) quote = ch
    else if (ch === quote) quote = undefined
  }
  if (word !== undefined) words.push(word)
  return words
}

export interface Flag {
  readonly name: string
  readonly value?: string
}

/** Leading --name=value words; a bare -- ends them. */
export function splitFlags(words: readonly string[]): { flags: Flag[]; args: string[] } {
  const flags: Flag[] = []
  let index = 0
  for (; index < words.length && words[index].startsWith('--'); index++) {
    const word = words[index]
    if (word === '--') return { flags, args: words.slice(index + 1) }
    const equals = word.indexOf('=')
    flags.push(
      equals < 0
        ? { name: word.slice(2) }
        : { name: word.slice(2, equals), value: word.slice(equals + 1) }
    )
  }
  return { flags, args: words.slice(index) }
}

export function flagValues(flags: readonly Flag[], name: string, line: number): string[] {
  return flags
    .filter(flag => flag.name === name)
    .map(flag => {
      if (flag.value === undefined) {
        throw new DockerfileError(`line ${line}: --${name} needs a value (--${name}=<value>)`)
      }
      return flag.value
    })
}

function stripQuotes(value: string): string {
  return value.replace(/["']/g, '')
}

// --- Global ARGs ------------------------------------------------------------------------------

/** Variables to substitute: a lookup that may fail (a global ARG whose default could not be expanded). */
export interface Vars {
  get(name: string): string | undefined
}

/**
 * The global ARGs: a default that cannot be expanded fails only when a FROM uses it, so an ARG
 * no FROM needs (or one this resolver reads differently from BuildKit) never stops a run.
 */
class GlobalArgs implements Vars {
  private readonly values = new Map<string, string>()
  private readonly broken = new Map<string, DockerfileError>()

  constructor(entries: Iterable<[string, string]>) {
    for (const [name, value] of entries) this.values.set(name, value)
  }

  get(name: string): string | undefined {
    const error = this.broken.get(name)
    if (error !== undefined) throw error
    return this.values.get(name)
  }

  set(name: string, value: string): void {
    this.broken.delete(name)
    this.values.set(name, value)
  }

  fail(name: string, error: DockerfileError): void {
    this.values.delete(name)
    this.broken.set(name, error)
  }

  names(): string[] {
    return [...this.values.keys()]
  }
}

/** The variables FROM can use: automatic platform ARGs, then the ARGs declared before the first FROM. */
export function globalArgs(
  preamble: readonly Instruction[],
  options: ResolveOptions,
  escape: string
): Vars {
  const buildArgs = new Map(options.buildArgs)
  const vars = new GlobalArgs([
    ...platformArgs('TARGET', options.targetPlatform),
    ...platformArgs('BUILD', options.buildPlatform)
  ])
  // BuildKit lets a build arg override an automatic platform ARG without declaring it.
  for (const name of vars.names()) {
    const value = buildArgs.get(name)
    if (value !== undefined) vars.set(name, value)
  }
  for (const instruction of preamble.filter(({ keyword }) => keyword === 'arg')) {
    for (const word of splitWords(instruction.args, escape)) {
      const equals = word.indexOf('=')
      const name = equals < 0 ? word : word.slice(0, equals)
      const given = buildArgs.get(name)
      if (given !== undefined) {
        vars.set(name, given)
      } else if (equals >= 0) {
        try {
          vars.set(name, expandWord(word.slice(equals + 1), vars, escape, instruction.line))
        } catch (error) {
          if (!(error instanceof DockerfileError)) throw error
          vars.fail(name, error)
        }
      }
      // Declared with neither a build arg nor a default, it stays unset: ${A-x} gives x.
    }
  }
  return vars
}

/** linux/arm/v7 gives PLATFORM linux/arm/v7, OS linux, ARCH arm, VARIANT v7. */
function platformArgs(prefix: string, platform: string): [string, string][] {
  const [os = '', arch = '', variant = ''] = platform.split('/')
  return [
    [`${prefix}PLATFORM`, platform],
    [`${prefix}OS`, os],
    [`${prefix}ARCH`, arch],
    [`${prefix}VARIANT`, variant]
  ]
}

// --- Image sources ----------------------------------------------------------------------------

export function isFrom(instruction: Instruction): boolean {
  return instruction.keyword === 'from'
}

export function parseFrom(instruction: Instruction, escape: string): FromInstruction {
  const { line } = instruction
  const { flags, args } = splitFlags(splitWords(instruction.args, escape))
  const platform = flagValues(flags, 'platform', line).at(-1)
  if (args.length === 0) throw new DockerfileError(`line ${line}: FROM has no image`)
  const named = args.length === 3 && args[1].toLowerCase() === 'as'
  if (args.length !== 1 && !named) {
    throw new DockerfileError(
      `line ${line}: FROM takes <image> [AS <name>], got "${instruction.args}"`
    )
  }
  return {
    line,
    image: args[0],
    platform,
    name: named ? args[2].toLowerCase() : undefined
  }
}

function fromUses(
  from: FromInstruction,
  earlierStages: ReadonlySet<string>,
  context: Context
): BaseImageUse[] {
  const image = expandWord(from.image, context.vars, context.escape, from.line)
  if (image === '') {
    throw new DockerfileError(
      `line ${from.line}: FROM ${from.image} is empty after substitution; pass the build arg or give the ARG a default`
    )
  }
  const platform =
    from.platform === undefined
      ? context.targetPlatform
      : fromPlatform(from, from.platform, context)
  // A stage built on an earlier stage inherits its platform, so it adds no image of its own.
  if (image === 'scratch' || earlierStages.has(image.toLowerCase())) return []
  return [externalImage(image, platform, from.line)]
}

function fromPlatform(from: FromInstruction, raw: string, context: Context): string {
  const platform = expandWord(raw, context.vars, context.escape, from.line)
  if (platform === '') {
    throw new DockerfileError(
      `line ${from.line}: FROM --platform=${raw} is empty after substitution`
    )
  }
  return normalizePlatform(platform)
}

function copyUses(instruction: Instruction, context: Context): BaseImageUse[] {
  const { flags } = splitFlags(splitWords(instruction.args, context.escape))
  return flagValues(flags, 'from', instruction.line).flatMap(value =>
    sourceUses(stripQuotes(value), '--from=', instruction.line, context)
  )
}

function mountUses(instruction: Instruction, context: Context): BaseImageUse[] {
  const { flags } = splitFlags(splitWords(instruction.args, context.escape))
  return flagValues(flags, 'mount', instruction.line).flatMap(spec => {
    const from = mountSource(stripQuotes(spec))
    return from === undefined ? [] : sourceUses(from, 'from=', instruction.line, context)
  })
}

/** The from= of a bind or cache mount (type=bind is the default); other mount types take no source. */
function mountSource(spec: string): string | undefined {
  let type = 'bind'
  let from: string | undefined
  for (const field of spec.split(',')) {
    const equals = field.indexOf('=')
    const key = (equals < 0 ? field : field.slice(0, equals)).trim().toLowerCase()
    const value = equals < 0 ? '' : field.slice(equals + 1)
    if (key === 'type') type = value.toLowerCase()
    else if (key === 'from') from = value
  }
  return (type === 'bind' || type === 'cache') && from ? from : undefined
}

/**
 * An image named by COPY --from or a mount's from=. BuildKit does not substitute variables there,
 * and pulls such an image for the target platform even inside a FROM --platform=... stage.
 */
function sourceUses(source: string, label: string, line: number, context: Context): BaseImageUse[] {
  if (source.includes('$')) {
    throw new DockerfileError(
      `line ${line}: ${label}${source} cannot use variables; add a stage "FROM ${source} AS <name>" and use that name`
    )
  }
  if (
    source === 'scratch' ||
    /^\d+$/.test(source) ||
    context.stageNames.has(source.toLowerCase())
  ) {
    return []
  }
  return [externalImage(source, context.targetPlatform, line)]
}

function externalImage(image: string, platform: string, line: number): BaseImageUse {
  const ref = parseReference(image)
  if (typeof ref === 'string') {
    throw new DockerfileError(`line ${line}: "${image}" is not a valid image reference: ${ref}`)
  }
  return { image, platform, line }
}

function dedupe(uses: readonly BaseImageUse[]): BaseImageUse[] {
  const seen = new Set<string>()
  return uses.filter(use => {
    const key = `${use.image}\n${use.platform}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

// --- Substitution -----------------------------------------------------------------------------

export function expandWord(word: string, vars: Vars, escape: string, line: number): string {
  return new WordExpander(word, vars, escape, line).expand()
}

/** BuildKit's word processing: quotes removed, escapes applied, $VAR and ${VAR...} substituted. */
class WordExpander {
  private pos = 0

  constructor(
    private readonly word: string,
    private readonly vars: Vars,
    private readonly escape: string,
    private readonly line: number
  ) {}

  expand(): string {
    return this.readUntil(undefined)
  }

  /** The stop character the last readUntil ended at */
  private stopped = ''

  /**
   * Reads to the end of the word, or up to and past an unquoted character of `stops`. `raw` keeps
   * escapes as a backslash and the character (a pattern's `\*` is a literal star).
   */
  private readUntil(stops: string | undefined, raw = false): string {
    let out = ''
    while (this.pos < this.word.length) {
      const ch = this.word[this.pos]
      if (stops?.includes(ch)) {
        this.pos++
        this.stopped = ch
        return out
      }
      if (ch === "'") out += this.singleQuoted()
      else if (ch === '"') out += this.doubleQuoted()
      else if (ch === '$') out += this.dollar()
      else if (ch === this.escape && raw && this.pos + 1 < this.word.length) {
        out += `\\${this.word.charAt(this.pos + 1)}`
        this.pos += 2
      } else {
        // The escape character makes the next one literal and disappears.
        if (ch === this.escape) this.pos++
        out += this.word.charAt(this.pos++)
      }
    }
    if (stops !== undefined) throw this.error('unterminated ${')
    return out
  }

  private singleQuoted(): string {
    const end = this.word.indexOf("'", this.pos + 1)
    if (end < 0) throw this.error('unterminated quote')
    const text = this.word.slice(this.pos + 1, end)
    this.pos = end + 1
    return text
  }

  /** Inside "...", $ still expands and the escape character escapes only ", $ and itself. */
  private doubleQuoted(): string {
    let out = ''
    this.pos++
    while (this.pos < this.word.length) {
      const ch = this.word[this.pos]
      if (ch === '"') {
        this.pos++
        return out
      }
      if (ch === '$') {
        out += this.dollar()
        continue
      }
      this.pos++
      const next = this.word.charAt(this.pos)
      if (ch === this.escape && (next === '"' || next === '$' || next === this.escape)) {
        out += next
        this.pos++
      } else {
        out += ch
      }
    }
    throw this.error('unterminated quote')
  }

  private dollar(): string {
    this.pos++
    if (this.word[this.pos] !== '{') {
      const name = this.readName()
      return name === '' ? '$' : (this.vars.get(name) ?? '')
    }
    this.pos++
    const name = this.readName()
    if (this.pos >= this.word.length) throw this.error('unterminated ${')
    if (name === '') throw this.error('bad substitution')
    const operator = this.word[this.pos++]
    return operator === '}' ? (this.vars.get(name) ?? '') : this.modified(name, operator)
  }

  /**
   * ${NAME-word}, ${NAME+word}, ${NAME?word}; with a colon (${NAME:-word}) empty counts as unset.
   * ${NAME#glob}, ${NAME##glob}, ${NAME%glob}, ${NAME%%glob}, ${NAME/glob/word}, ${NAME//glob/word}
   * (Dockerfile 1.7): shortest or longest prefix or suffix removed, first or every match replaced.
   */
  private modified(name: string, operator: string): string {
    if (operator === '#' || operator === '%' || operator === '/')
      return this.patterned(name, operator)
    const colon = operator === ':'
    const modifier = colon ? this.word.charAt(this.pos++) : operator
    if (modifier === '') throw this.error('unterminated ${')
    if (modifier !== '-' && modifier !== '+' && modifier !== '?') {
      throw this.error(`unsupported substitution operator "${colon ? ':' : ''}${modifier}"`)
    }
    const word = this.readUntil('}')
    const value = this.vars.get(name)
    if (value === undefined || (colon && value === '')) {
      if (modifier === '?') throw this.required(name, word, colon)
      return modifier === '-' ? word : ''
    }
    return modifier === '+' ? word : value
  }

  private patterned(name: string, operator: string): string {
    const doubled = this.word[this.pos] === operator
    if (doubled) this.pos++
    const pattern = this.readUntil(operator === '/' ? '/}' : '}', true)
    if (operator === '/' && this.stopped !== '/') {
      throw this.error(`\${${name}/pattern/replacement} has no / after the pattern`)
    }
    const replacement = operator === '/' ? this.readUntil('}') : ''
    const value = this.vars.get(name) ?? ''
    try {
      if (operator === '/') return replacePattern(value, pattern, replacement, doubled)
      return trimPattern(value, pattern, operator === '#' ? 'prefix' : 'suffix', doubled)
    } catch (error) {
      throw this.error((error as Error).message)
    }
  }

  private readName(): string {
    const name = /^(?:[0-9]+|[A-Za-z_][A-Za-z0-9_]*)/.exec(this.word.slice(this.pos))?.[0] ?? ''
    this.pos += name.length
    return name
  }

  private required(name: string, message: string, colon: boolean): DockerfileError {
    const reason =
      message === '' ? `${name} is ${colon ? 'empty or ' : ''}not set` : `${name}: ${message}`
    return new DockerfileError(`line ${this.line}: ${reason}`)
  }

  private error(reason: string): DockerfileError {
    return new DockerfileError(`line ${this.line}: ${reason} in "${this.word}"`)
  }
}

/**
 * A pattern of ${V#...}, ${V%...} and ${V/...} as a regular expression source, as BuildKit
 * converts it: `*` any run of characters (shortest unless greedy), `?` one character, `\*`,
 * `\?` and `\\` literal; every other character, brackets included, stands for itself.
 */
function patternSource(pattern: string, greedy: boolean): string {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '*') out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?'
    else if (ch === '?') out += '.'
    else if (ch === '\\') {
      const next = pattern.charAt(i + 1)
      // \} and \/ keep the pattern's end and separator apart; the escape is not part of it
      if (next === '}' || next === '/') continue
      if (next !== '*' && next !== '?' && next !== '\\')
        throw new Error(`invalid escape "\\${next}"`)
      out += `\\${next}`
      i++
    } else out += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return out
}

/** The pattern's units (an escape and its character are one) in reverse order. */
function reversePattern(pattern: string): string {
  const units: string[] = []
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\' && i + 1 < pattern.length) units.push(pattern.slice(i, ++i + 1))
    else units.push(pattern[i])
  }
  return units.reverse().join('')
}

const reversed = (text: string): string => [...text].reverse().join('')

/**
 * Remove the shortest (or, greedy, the longest) prefix or suffix the pattern matches. A suffix is
 * found as BuildKit does: as a prefix of the reversed value, with the pattern reversed.
 */
function trimPattern(
  value: string,
  pattern: string,
  end: 'prefix' | 'suffix',
  greedy: boolean
): string {
  const suffix = end === 'suffix'
  const subject = suffix ? reversed(value) : value
  const re = new RegExp(`^(?:${patternSource(suffix ? reversePattern(pattern) : pattern, greedy)})`)
  const match = re.exec(subject)
  if (match === null) return value
  const rest = subject.slice(match[0].length)
  return suffix ? reversed(rest) : rest
}

/**
 * Replace the first (or every) match of the pattern, greedy, as Go's regexp does: an empty match
 * right after a match is skipped.
 */
function replacePattern(
  value: string,
  pattern: string,
  replacement: string,
  every: boolean
): string {
  const source = patternSource(pattern, true)
  if (!every) {
    const m = new RegExp(source).exec(value)
    return m === null
      ? value
      : value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length)
  }
  let out = ''
  let last = 0
  let previousEnd = -1
  for (const m of value.matchAll(new RegExp(source, 'g'))) {
    if (m[0] === '' && m.index === previousEnd) continue
    out += value.slice(last, m.index) + replacement
    last = m.index + m[0].length
    previousEnd = last
  }
  return out + value.slice(last)
}
