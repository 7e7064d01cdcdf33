/**
 * The action's view of the runner: inputs, outputs, logs, state and the job summary.
 * The real one wraps @actions/core; tests hand in their own.
 */
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import os from 'node:os'

export interface Runtime {
  getInput(name: string): string
  setOutput(name: string, value: string): void
  setSecret(value: string): void
  debug(message: string): void
  info(message: string): void
  warning(message: string): void
  error(message: string, title?: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Prints a finished block of log as one collapsed group (safe with concurrent work). */
  block(title: string, body: string): void
  setFailed(message: string): void
  saveState(name: string, value: string): void
  getState(name: string): string
  /** Appends HTML/Markdown to the job summary (no-op outside a runner). */
  writeSummary(text: string): Promise<void>
  readonly env: Readonly<Record<string, string | undefined>>
  now(): Date
  /** os.arch() of this runner */
  readonly hostArch: string
  readonly cpus: number
}

export function coreRuntime(): Runtime {
  return {
    getInput: name => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: value => core.setSecret(value),
    debug: message => core.debug(message),
    info: message => core.info(message),
    warning: message => core.warning(message),
    error: (message, title) => core.error(message, title === undefined ? {} : { title }),
    group: (name, fn) => core.group(name, fn),
    block: (title, body) => {
      core.startGroup(title)
      if (body !== '') {
        // Build and test output is untrusted: the runner must not take workflow commands from it.
        const token = `rma-${randomBytes(8).toString('hex')}`
        core.info(`::stop-commands::${token}`)
        core.info(body)
        core.info(`::${token}::`)
      }
      core.endGroup()
    },
    setFailed: message => core.setFailed(message),
    saveState: (name, value) => core.saveState(name, value),
    getState: name => core.getState(name),
    writeSummary: async text => {
      if (!process.env.GITHUB_STEP_SUMMARY) return
      await core.summary.addRaw(text, true).write()
    },
    env: process.env,
    now: () => new Date(),
    hostArch: os.arch(),
    cpus: os.availableParallelism()
  }
}

/** What was thrown, as one line a user can act on (errors can be anything in JavaScript). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  try {
    return `Unexpected error: ${JSON.stringify(error)}`
  } catch {
    return `Unexpected error: ${String(error)}`
  }
}
