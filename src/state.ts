/**
 * Post-step state, in one place: the runner hands back to the post step what the main step saved.
 * Values are JSON and never secrets. What is read back is checked to be something this run's main
 * step could have written before any of it reaches a command, not only to have its form: state is
 * a file in the runner's temporary folder, which other steps of the job can write to.
 */
import os from 'node:os'
import path from 'node:path'
import { Inputs, States } from './inputs/names.js'
import { parseList } from './inputs/parse.js'
import { parseRegistryAuth } from './inputs/registry-auth.js'
import { loginRegistry, parseReference, type ImageRef } from './oci/reference.js'
import {
  builderName,
  isOwnLocalTag,
  isRunTag,
  tempDirPrefix,
  type CleanupState
} from './pipeline/cleanup.js'
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

/** A run loads one local tag per cell, a few dozen at most: a list this long is not its own. */
const MAX_IMAGES = 3 * 1000

export interface ReadCleanup {
  readonly state: CleanupState
  /** Names of the values dropped because the main step could not have written them */
  readonly dropped: string[]
}

/** What this run's main step could have written: it sees the same environment and inputs. */
interface OwnRun {
  readonly env: Runtime['env']
  /** The image input's first name, parsed; a reason string when it is not an image name */
  readonly image: ImageRef | string
  /** The registries the main step may have logged in to: image's and registry-auth's */
  readonly registries: ReadonlySet<string>
}

/**
 * The cleanup state, keeping only values this run's main step could have written: its run tag,
 * the builder and local tags named after it, its temporary folder in RUNNER_TEMP, and logouts
 * of the registries of the image and registry-auth inputs. Throws when the saved text is not JSON.
 */
export function readCleanup(rt: Runtime): ReadCleanup {
  const saved = rt.getState(States.Cleanup)
  if (saved === '') return { state: {}, dropped: [] }
  const raw = JSON.parse(saved) as unknown
  const fields: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : {}
  const images = parseList(rt.getInput(Inputs.Image)).map(parseReference)
  return checkCleanup(fields, {
    env: rt.env,
    image: images[0] ?? 'it is empty',
    registries: new Set([
      ...images.flatMap(i => (typeof i === 'string' ? [] : [loginRegistry(i)])),
      ...authRegistries(rt.getInput(Inputs.RegistryAuth))
    ])
  })
}

/** The registries registry-auth names (none when it is not valid: nothing was logged in to). */
function authRegistries(value: string): string[] {
  try {
    return parseRegistryAuth(value).map(l => l.registry)
  } catch {
    return []
  }
}

/** The values of saved state this run could have written, and the names of the others. Pure. */
function checkCleanup(fields: Record<string, unknown>, own: OwnRun): ReadCleanup {
  const temp = path.resolve(own.env.RUNNER_TEMP || os.tmpdir())
  const image = typeof own.image === 'string' ? undefined : own.image
  const state: CleanupState = {}
  const dropped: string[] = []
  const take = (key: keyof CleanupState, ok: (s: string) => boolean): string | undefined => {
    const v = fields[key]
    if (v === undefined) return undefined
    if (typeof v === 'string' && ok(v)) return v
    dropped.push(key)
    return undefined
  }
  const runTag = take('runTag', s => isRunTag(own.env, s))
  // named after this run's tag (tempDirPrefix), so another run's folder is never removed
  const tempDir = take(
    'tempDir',
    s =>
      runTag !== undefined &&
      path.isAbsolute(s) &&
      path.dirname(path.resolve(s)) === temp &&
      path.basename(s).startsWith(tempDirPrefix(runTag)) &&
      /^[A-Za-z0-9]{6}$/.test(path.basename(s).slice(tempDirPrefix(runTag).length))
  )
  const builder = take('builder', s => runTag !== undefined && s === builderName(runTag))
  if (runTag !== undefined) state.runTag = runTag
  if (tempDir !== undefined) state.tempDir = tempDir
  if (builder !== undefined) state.builder = builder
  if (fields.logout !== undefined) {
    const logout = fields.logout
    const ours = (r: unknown): r is string => typeof r === 'string' && own.registries.has(r)
    if (Array.isArray(logout) && logout.every(ours) && new Set(logout).size === logout.length) {
      if (logout.length > 0) state.logout = logout
    } else {
      dropped.push('logout')
    }
  }
  if (fields.images !== undefined) {
    const images = fields.images
    const ownTag = (tag: unknown): tag is string =>
      typeof tag === 'string' &&
      runTag !== undefined &&
      image !== undefined &&
      isOwnLocalTag(tag, image.path, runTag)
    if (Array.isArray(images) && images.length <= MAX_IMAGES && images.every(ownTag)) {
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
