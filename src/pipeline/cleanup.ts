/**
 * What the post step must undo after the main step, saved as post-step state (never a secret),
 * and the names the main step gives what it makes: made here, so that the post step can tell
 * what its own main step could have made. Pure.
 */
import { LOCAL_REPOSITORY } from '../plan/planner.js'
import { parseReference } from '../oci/reference.js'

export interface CleanupState {
  /** The registries the main step logged in to */
  logout?: string[]
  /** The builder the main step created (driver docker-container) */
  builder?: string
  /** Containers of this run are named rma-<runTag>-... */
  runTag?: string
  /** The run's temporary folder */
  tempDir?: string
  /** Local tags this run's builds loaded (ros-multiarch-local/<image path>:<cell>-<runTag>) */
  images?: string[]
}

type Env = Readonly<Record<string, string | undefined>>

/** The workflow run and its attempt (`GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT`), or '' outside GitHub. */
function runId(env: Env): string {
  const id = env.GITHUB_RUN_ID ?? ''
  const attempt = env.GITHUB_RUN_ATTEMPT ?? ''
  return /^\d+$/.test(id) ? (/^\d+$/.test(attempt) ? `${id}-${attempt}` : id) : ''
}

/** The random part of a run tag: 3 bytes, in hex */
const RANDOM = /^[0-9a-f]{6}$/

/**
 * The name a main step gives its containers, builder and local tags: the workflow run's id and
 * 6 random hex characters, unique even when jobs or steps of one run share a Docker engine.
 */
export function makeRunTag(env: Env, random: string): string {
  return [runId(env), random].filter(s => s !== '').join('-')
}

/** Whether `value` is a run tag the main step of this workflow run (env) could have made. */
export function isRunTag(env: Env, value: string): boolean {
  const random = value.slice(-6)
  return RANDOM.test(random) && value === makeRunTag(env, random)
}

/** The start of the run's temporary folder's name (mkdtemp adds 6 characters). */
export function tempDirPrefix(runTag: string): string {
  return `ros-multiarch-${runTag}-`
}

/** The builder the main step creates for the docker-container driver. */
export function builderName(runTag: string): string {
  return `rma-${runTag}`
}

/**
 * Whether `tag` is a local tag a build of this run (its run tag, its image's path) loads:
 * `ros-multiarch-local/<image path>:<cell id>-<runTag>`.
 */
export function isOwnLocalTag(tag: string, imagePath: string, runTag: string): boolean {
  const ref = parseReference(tag)
  return (
    typeof ref !== 'string' &&
    ref.digest === undefined &&
    ref.name === `${LOCAL_REPOSITORY}/${imagePath}` &&
    ref.tag !== undefined &&
    ref.tag.length > runTag.length + 1 &&
    ref.tag.endsWith(`-${runTag}`)
  )
}

/** Record a local tag a build is about to load; false when it was recorded already. */
export function addImage(state: CleanupState, tag: string): boolean {
  if (state.images?.includes(tag)) return false
  state.images = [...(state.images ?? []), tag]
  return true
}
