/**
 * The Runtime of the CLI: a terminal instead of a workflow step. Inputs come from the command
 * line (over action.yml's defaults); the log is plain text with no workflow commands; warnings
 * and errors are marked (in colour on a terminal); a finished cell's build log and test output
 * are shown when it failed (all of them with --verbose); outputs and post-step state are kept in
 * memory; there is no job summary. On a terminal (TTY) each running cell has a line at the
 * bottom, redrawn in place; piped, those lines are logged as in a workflow. Secrets registered
 * with setSecret are masked in everything printed, as the runner masks them.
 */
import os from 'node:os'
import type { Runtime } from './pipeline/runtime.js'

/** Where the terminal runtime writes, and what it knows of it. */
export interface TerminalStream {
  write(text: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

export interface TerminalOptions {
  readonly inputs: ReadonlyMap<string, string>
  readonly out: TerminalStream
  readonly env: Readonly<Record<string, string | undefined>>
  /** os.arch() naming of the engine's architecture (the native platform of this run) */
  readonly hostArch: string
  /** Print every finished block, not only failed ones */
  readonly verbose: boolean
  readonly now?: () => Date
  readonly colour?: boolean
}

export interface TerminalRuntime extends Runtime {
  readonly outputs: ReadonlyMap<string, string>
  /** The message the run failed with, or undefined when it did not fail */
  readonly failed: () => string | undefined
  /** Clears the redrawn lines (before the process exits) */
  readonly close: () => void
  /** Text with every secret registered with setSecret as ***, for what is printed elsewhere */
  readonly mask: (text: string) => string
}

const RESET = '\u001b[0m'
const COLOURS = { warning: '\u001b[33m', error: '\u001b[31m', heading: '\u001b[1m' } as const

/** Whether a finished block is worth showing by default: a failure. Pure. */
export function isFailureBlock(title: string): boolean {
  return /FAILED|failed/.test(title)
}

/**
 * The terminal's lines: what is printed scrolls up above the running cells' status lines, which
 * are redrawn in place; every secret is masked in all of it.
 */
function screen(o: TerminalOptions) {
  const secrets: string[] = []
  const statuses = new Map<string, string>()
  const colour = o.colour ?? o.out.isTTY === true
  let drawn = 0
  const mask = (text: string): string =>
    secrets.reduce((t, s) => (s === '' ? t : t.split(s).join('***')), text)
  /** Erase the redrawn lines (cursor up, clear to the end of the screen). */
  const erase = (): void => {
    if (drawn > 0) o.out.write(`\u001b[${drawn}A\u001b[J`)
    drawn = 0
  }
  const draw = (): void => {
    const width = Math.max(20, (o.out.columns ?? 100) - 1)
    const lines = [...statuses.values()].map(l =>
      l.length > width ? `${l.slice(0, width - 1)}…` : l
    )
    if (lines.length > 0) o.out.write(`${lines.join('\n')}\n`)
    drawn = lines.length
  }
  return {
    mask,
    paint: (kind: keyof typeof COLOURS, text: string): string =>
      colour ? `${COLOURS[kind]}${text}${RESET}` : text,
    addSecret: (value: string): void => {
      if (value !== '') secrets.push(value)
    },
    /** Print lines above the redrawn ones. */
    print: (text: string): void => {
      erase()
      o.out.write(`${mask(text)}\n`)
      draw()
    },
    status: (key: string, line: string | null): void => {
      erase()
      if (line === null) statuses.delete(key)
      else statuses.set(key, mask(line))
      draw()
    },
    clear: (): void => {
      erase()
      statuses.clear()
    }
  }
}

export function terminalRuntime(o: TerminalOptions): TerminalRuntime {
  const outputs = new Map<string, string>()
  const state = new Map<string, string>()
  const { print, paint, mask, addSecret, status, clear } = screen(o)
  let failure: string | undefined
  return {
    getInput: name => o.inputs.get(name) ?? '',
    setOutput: (name, value) => void outputs.set(name, value),
    setSecret: addSecret,
    debug: message => {
      if (o.verbose) print(`debug: ${message}`)
    },
    info: message => print(message),
    warning: message => print(paint('warning', `warning: ${message}`)),
    error: (message, title) =>
      print(paint('error', `error${title === undefined ? '' : ` (${title})`}: ${message}`)),
    group: async (name, fn) => {
      print(paint('heading', `== ${name}`))
      return fn()
    },
    ...(o.out.isTTY === true ? { status } : {}),
    block: (title, body) => {
      const shown = body !== '' && (o.verbose || isFailureBlock(title))
      print(shown ? `${title}\n${body.replace(/^/gm, '  | ')}` : title)
    },
    setFailed: message => {
      failure = message
      print(paint('error', `error: ${message}`))
    },
    saveState: (name, value) => void state.set(name, value),
    getState: name => state.get(name) ?? '',
    writeSummary: async () => undefined,
    env: o.env,
    now: o.now ?? (() => new Date()),
    hostArch: o.hostArch,
    cpus: os.availableParallelism(),
    outputs,
    failed: () => failure,
    close: clear,
    mask
  }
}
