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

function parseTest(
  item: YAMLMap,
  index: number,
  defaultTimeout: number,
  fail: (node: Node | null | undefined, problem: string) => never
): SmokeTest {
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
  const node = (key: string): Node => item.get(key, true) as Node
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
  const timeout = int('timeout', 1, 21_600) ?? defaultTimeout
  const source = 'smoke-test-file' as const

  if (kind === 'command') {
    const command = str('command') as string
    return commandTest({
      name: str('name') ?? command.split('\n')[0].slice(0, 60),
      source,
      timeout,
      command,
      exitCode: int('exit-code', 0, 255) ?? 0,
      stdout: patterns('stdout'),
      stdoutNot: patterns('stdout-not'),
      stderr: patterns('stderr'),
      stderrNot: patterns('stderr-not')
    })
  }
  if (kind === 'file') {
    const path = str('file') as string
    let exists = true
    if (item.has('exists')) {
      const n = node('exists')
      if (!isScalar(n) || typeof n.value !== 'boolean') fail(n, '"exists" must be true or false')
      exists = (n as { value: boolean }).value
    }
    return {
      kind: 'file',
      name: str('name') ?? `${path} ${exists ? 'exists' : 'is absent'}`,
      source,
      timeout,
      path,
      exists
    }
  }
  const variable = str('env') as string
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
    fail(node('env'), `"env": ${variable} is not an environment variable name`)
  }
  let matches: string | undefined
  if (item.has('matches')) {
    const n = node('matches')
    matches = regex('matches', n, isScalar(n) ? n.value : undefined)
  }
  return {
    kind: 'env',
    name: str('name') ?? `${variable} is set`,
    source,
    timeout,
    variable,
    ...(matches === undefined ? {} : { matches })
  }
}
