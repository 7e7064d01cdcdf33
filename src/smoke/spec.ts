/**
 * The smoke-test-file format: YAML with a `tests` list of command, file and env tests.
 * Mistakes are reported with the file, line and what would be valid, before anything is built.
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Node,
  type YAMLMap
} from 'yaml'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { commandTest, type SmokeTest } from './types.js'

const KEYS = {
  command: [
    'name',
    'command',
    'exit-code',
    'stdout',
    'stdout-not',
    'stderr',
    'stderr-not',
    'timeout'
  ],
  file: ['name', 'file', 'exists', 'timeout'],
  env: ['name', 'env', 'matches', 'timeout']
} as const

type Kind = keyof typeof KEYS

export function parseSpec(path: string, text: string, defaultTimeout: number): SmokeTest[] {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const fail = (node: Node | null | undefined, problem: string): never => {
    const offset = node?.range?.[0]
    const where = offset === undefined ? '' : `:${lines.linePos(offset).line}`
    throw new InputError(Inputs.SmokeTestFile, `${path}${where}: ${problem}`)
  }
  const first = doc.errors[0]
  if (first !== undefined) {
    const line = first.linePos?.[0].line
    const message = first.message.split('\n')[0]
    throw new InputError(Inputs.SmokeTestFile, `${path}${line ? `:${line}` : ''}: ${message}`)
  }
  // Aliases are refused, first: a spec is short enough to write out, and an alias is how a
  // small file expands into a huge one (a "billion laughs").
  visit(doc, {
    Alias(_key, node) {
      fail(node, `YAML aliases are not supported (*${node.source}); write the value out`)
    }
  })
  const root = doc.contents
  if (!isMap(root)) return fail(root, 'must be a mapping with a "tests" list')
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    if (key !== 'tests') fail(pair.key as Node, `unknown key "${key}"; the file has one key: tests`)
  }
  const list = root.get('tests', true) as Node | undefined
  if (!isSeq(list)) return fail(list ?? root, '"tests" must be a list of tests')
  if (list.items.length === 0) fail(list, '"tests" is empty; add a test or remove smoke-test-file')

  return list.items.map((item, index) => {
    if (!isMap(item)) return fail(item as Node, `test ${index + 1} must be a mapping`)
    return parseTest(item, index, defaultTimeout, fail)
  })
}

type Fail = (node: Node | null | undefined, problem: string) => never

function parseTest(item: YAMLMap, index: number, defaultTimeout: number, fail: Fail): SmokeTest {
  const kinds = (Object.keys(KEYS) as Kind[]).filter(k => item.has(k))
  if (kinds.length !== 1) {
    fail(item, `test ${index + 1} must have exactly one of command, file or env`)
  }
  const kind = kinds[0]
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    if (!(KEYS[kind] as readonly string[]).includes(key)) {
      fail(pair.key as Node, `unknown key "${key}" in a ${kind} test; use ${KEYS[kind].join(', ')}`)
    }
  }
  const f = fields(item, fail)
  const timeout = f.int('timeout', 1, 21_600) ?? defaultTimeout
  if (kind === 'command') return commandSpec(f, timeout)
  if (kind === 'file') return fileSpec(f, timeout)
  return envSpec(f, timeout)
}

/** Typed reads of a test's keys, each failing with the key's line and column. */
type Fields = ReturnType<typeof fields>

function fields(item: YAMLMap, fail: Fail) {
  const node = (key: string): Node => item.get(key, true) as Node
  const has = (key: string): boolean => item.has(key)
  const str = (key: string): string | undefined => {
    if (!item.has(key)) return undefined
    const n = node(key)
    if (!isScalar(n) || typeof n.value !== 'string' || n.value.trim() === '') {
      return fail(n, `"${key}" must be a non-empty string`)
    }
    return n.value
  }
  const int = (key: string, min: number, max: number): number | undefined => {
    if (!item.has(key)) return undefined
    const n = node(key)
    if (!isScalar(n) || typeof n.value !== 'number' || !Number.isInteger(n.value)) {
      return fail(n, `"${key}" must be a whole number`)
    }
    if (n.value < min || n.value > max) fail(n, `"${key}" must be from ${min} to ${max}`)
    return n.value
  }
  const regex = (key: string, n: Node, value: unknown): string => {
    if (typeof value !== 'string')
      return fail(n, `"${key}" must hold strings (regular expressions)`)
    try {
      new RegExp(value)
    } catch (e) {
      fail(n, `"${key}": ${value} is not a valid regular expression (${(e as Error).message})`)
    }
    return value
  }
  const patterns = (key: string): string[] => {
    if (!item.has(key)) return []
    const n = node(key)
    if (isScalar(n)) return [regex(key, n, n.value)]
    if (!isSeq(n)) return fail(n, `"${key}" must be a list of regular expressions`)
    return n.items.map(i => regex(key, i as Node, isScalar(i) ? i.value : undefined))
  }
  const bool = (key: string, otherwise: boolean): boolean => {
    if (!item.has(key)) return otherwise
    const n = node(key)
    if (!isScalar(n) || typeof n.value !== 'boolean') fail(n, `"${key}" must be true or false`)
    return (n as { value: boolean }).value
  }
  return { node, has, str, int, regex, patterns, bool, fail }
}

const SOURCE = 'smoke-test-file' as const

function commandSpec(f: Fields, timeout: number): SmokeTest {
  const command = f.str('command') as string
  return commandTest({
    name: f.str('name') ?? command.split('\n')[0].slice(0, 60),
    source: SOURCE,
    timeout,
    command,
    exitCode: f.int('exit-code', 0, 255) ?? 0,
    stdout: f.patterns('stdout'),
    stdoutNot: f.patterns('stdout-not'),
    stderr: f.patterns('stderr'),
    stderrNot: f.patterns('stderr-not')
  })
}

function fileSpec(f: Fields, timeout: number): SmokeTest {
  const path = f.str('file') as string
  const exists = f.bool('exists', true)
  return {
    kind: 'file',
    name: f.str('name') ?? `${path} ${exists ? 'exists' : 'is absent'}`,
    source: SOURCE,
    timeout,
    path,
    exists
  }
}

function envSpec(f: Fields, timeout: number): SmokeTest {
  const variable = f.str('env') as string
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
    f.fail(f.node('env'), `"env": ${variable} is not an environment variable name`)
  }
  let matches: string | undefined
  if (f.has('matches')) {
    const n = f.node('matches')
    matches = f.regex('matches', n, isScalar(n) ? n.value : undefined)
  }
  return {
    kind: 'env',
    name: f.str('name') ?? `${variable} is set`,
    source: SOURCE,
    timeout,
    variable,
    ...(matches === undefined ? {} : { matches })
  }
}
