/**
 * The post step: undo what the main step left, as the state it saved says (read back through
 * src/state.ts, which keeps only what this run's main step could have written). Problems here are
 * warnings, never failures.
 */
import { rm } from 'node:fs/promises'
import type { CleanupState } from './pipeline/cleanup.js'
import type { Runtime } from './pipeline/runtime.js'
import { readCleanup } from './state.js'
import { Docker } from './tooling/docker.js'
import { errorMessage } from './text/text.js'
import { realTools, type Tools } from './tools.js'

export async function post(rt: Runtime, tools: Tools = realTools()): Promise<void> {
  try {
    const { state, dropped } = readCleanup(rt)
    if (dropped.length > 0) {
      rt.warning(
        `Post step: ignored state the main step could not have written (${dropped.join(', ')})`
      )
    }
    await cleanUp(rt, tools, state)
  } catch (error) {
    rt.warning(`Post step: ${errorMessage(error)}`)
  }
}

async function cleanUp(rt: Runtime, tools: Tools, cleanup: CleanupState): Promise<void> {
  const docker = new Docker(tools.exec)
  if (cleanup.runTag !== undefined) {
    const r = await docker.run([
      'ps',
      '--all',
      '--quiet',
      '--filter',
      `name=^rma-${cleanup.runTag}-`
    ])
    const left = r.stdout.split('\n').filter(id => id.trim() !== '')
    if (left.length > 0) {
      await docker.run(['rm', '--force', ...left])
      rt.info(`Removed ${left.length} container(s) left by the main step`)
    }
  }
  if (cleanup.images !== undefined) {
    // untag what this run's builds loaded (a tag one never loaded is no harm); layers other
    // images use stay
    await docker.run(['image', 'rm', ...cleanup.images])
  }
  if (cleanup.tempDir !== undefined) {
    await rm(cleanup.tempDir, { recursive: true, force: true })
  }
  if (cleanup.builder !== undefined) {
    const r = await docker.run(['buildx', 'rm', cleanup.builder])
    if (r.code === 0) rt.info(`Removed builder ${cleanup.builder}`)
    else rt.warning(`Could not remove builder ${cleanup.builder}: ${r.stderr.trim()}`)
  }
  for (const registry of cleanup.logout ?? []) {
    try {
      await docker.logout(registry)
      rt.info(`Logged out of ${registry}`)
    } catch (error) {
      rt.warning(errorMessage(error))
    }
  }
}
