/**
 * Post-step state, in one place: the runner hands back to the post step what the main step saved.
 * Values are JSON and never secrets. What is read back is checked to be something the main step
 * could have written before any of it reaches a command: state is a file in the runner's
 * temporary folder, which other steps of the job can write to.
 */
import os from 'node:os'
import path from 'node:path'
import { States } from './inputs/names.js'
import { parseReference } from './oci/reference.js'
import type { CleanupState } from './pipeline/cleanup.js'
import type { Runtime } from './pipeline/runtime.js'

/** The main step marks itself, so that the same bundle knows it runs as the post step. */
export function markMainStep(rt: Runtime): void {
  rt.saveState(States.IsPost, 'true')
}

export function isPostStep(rt: Runtime): boolean {
  return rt.getState(States.IsPost) === 'true'
}

export function saveCleanup(rt: Runtime, state: CleanupState): void {
  rt.saveState(States.Cleanup, JSON.stringify(state))
}

/** A run's local tag list is at most a few per cell; more was not written by the main step. */
const MAX_IMAGES = 3 * 1000

/** A local tag the main step made: a reference with a tag, no digest, no option-like start. */
function isLocalTag(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const ref = parseReference(value)
  return typeof ref !== 'string' && ref.tag !== undefined && ref.digest === undefined
}

export interface ReadCleanup {
  readonly state: CleanupState
  /** Names of the values dropped because the main step could not have written them */
  readonly dropped: string[]
}

/**
 * The cleanup state, keeping only values the main step could have written. Throws when the saved
 * text is not JSON.
 */
export function readCleanup(rt: Runtime): ReadCleanup {
  const saved = rt.getState(States.Cleanup)
  if (saved === '') return { state: {}, dropped: [] }
  const raw = JSON.parse(saved) as unknown
  const fields: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : {}
  const temp = path.resolve(rt.env.RUNNER_TEMP || os.tmpdir())
  const state: CleanupState = {}
  const dropped: string[] = []
  const take = (key: keyof CleanupState, ok: (s: string) => boolean): string | undefined => {
    const v = fields[key]
    if (v === undefined) return undefined
    if (typeof v === 'string' && ok(v)) return v
    dropped.push(key)
    return undefined
  }
  const runTag = take('runTag', s => /^[\w-]{1,64}$/.test(s))
  const tempDir = take(
    'tempDir',
    s =>
      path.isAbsolute(s) &&
      path.dirname(path.resolve(s)) === temp &&
      /^ros-multiarch-[\w]+$/.test(path.basename(s))
  )
  const builder = take('builder', s => /^rma-[\w-]{1,60}$/.test(s))
  const logout = take('logout', s => {
    const ref = parseReference(`${s}/x`)
    return typeof ref !== 'string' && ref.registry === s
  })
  if (runTag !== undefined) state.runTag = runTag
  if (tempDir !== undefined) state.tempDir = tempDir
  if (builder !== undefined) state.builder = builder
  if (logout !== undefined) state.logout = logout
  if (fields.images !== undefined) {
    const images = fields.images
    if (Array.isArray(images) && images.length <= MAX_IMAGES && images.every(isLocalTag)) {
      if (images.length > 0) state.images = images
    } else {
      dropped.push('images')
    }
  }
  for (const key of Object.keys(fields)) {
    if (!['runTag', 'tempDir', 'builder', 'logout', 'images'].includes(key)) dropped.push(key)
  }
  return { state, dropped }
}
