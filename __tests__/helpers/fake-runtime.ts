/** A Runtime that records what the action did, for unit tests of run() and post(). */
import type { Runtime } from '../../src/pipeline/runtime.js'

export interface Recorded {
  failed: string[]
  warnings: string[]
  infos: string[]
  outputs: Record<string, string>
  secrets: string[]
  /** In order: every input read (input:<name>) and secret masked (secret) */
  events: string[]
}

export function fakeRuntime(
  inputs: Record<string, string>,
  state: Record<string, string> = {}
): Runtime & { recorded: Recorded } {
  const recorded: Recorded = {
    failed: [],
    warnings: [],
    infos: [],
    outputs: {},
    secrets: [],
    events: []
  }
  return {
    recorded,
    getInput: name => {
      recorded.events.push(`input:${name}`)
      return inputs[name] ?? ''
    },
    setOutput: (name, value) => {
      recorded.outputs[name] = value
    },
    setSecret: value => {
      recorded.events.push('secret')
      recorded.secrets.push(value)
    },
    debug: () => undefined,
    info: message => {
      recorded.infos.push(message)
    },
    warning: message => {
      recorded.warnings.push(message)
    },
    error: () => undefined,
    group: (_name, fn) => fn(),
    block: () => undefined,
    setFailed: message => {
      recorded.failed.push(message)
    },
    saveState: (name, value) => {
      state[name] = value
    },
    getState: name => state[name] ?? '',
    writeSummary: async () => undefined,
    env: {},
    now: () => new Date('2026-11-23T12:00:00Z'),
    hostArch: 'x64',
    cpus: 2
  }
}
