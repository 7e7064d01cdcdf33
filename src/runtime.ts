/** The Runtime of a GitHub Actions step: @actions/core. Tests hand in their own Runtime. */
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type { Runtime } from './pipeline/runtime.js'

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
