/**
 * Build errors that come from the engine's own state, not from the Dockerfile: the builder's
 * cache (or the image store under it) refers to files that are not on disk. Seen on the test
 * bed's Docker 20.10 after its daemon was stopped under a write (the machine stopped), and
 * reported upstream after image removals; pruning the build cache clears some cases, a clean data
 * root all of them. A build that fails so fails again until the engine is fixed, so the action
 * says what it is rather than leaving the user to debug their Dockerfile.
 */

/** BuildKit's messages for a cache record whose snapshot is missing or cannot be unpacked */
const DAMAGED_STATE = [
  // a snapshot the cache metadata counts as committed, whose files are gone (Docker 20.10)
  /failed to prepare \S+: open \S+\/committed: no such file or directory/,
  // a cache record of a pulled layer whose blob and snapshot are both gone
  /\b(?:extract|unlazy) requires an applier\b/
]

/** The first line of a build's output that says the engine's own state is damaged, or undefined. Pure. */
export function damagedEngineState(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (DAMAGED_STATE.some(re => re.test(line))) return line.trim()
  }
  return undefined
}

/** What the action adds to such a failure. */
export const DAMAGED_STATE_ADVICE =
  "the engine's build cache refers to files missing from its disk (as after a Docker daemon or machine stopped uncleanly), not a fault of the Dockerfile: `docker builder prune --all --force` clears some cases; if the error stays, restart the engine on a clean data root"
