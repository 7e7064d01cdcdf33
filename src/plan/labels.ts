/**
 * Image labels (and index annotations): the OCI keys, the ROS distro and version under the
 * action's own namespace, and the user's labels on top. Pure.
 */
import type { RosVersion } from '../ros/catalog.js'

/** The action's label namespace (documented in the README). */
export const LABEL_NAMESPACE = 'io.ros-multiarch'

/**
 * An index entry's annotation: seconds the image took to build and test under emulation, when it
 * was built emulated. The next run projects its emulated time from it. (An image's own labels
 * cannot hold its build time: they are set before it is built.)
 */
export const EMULATED_SECONDS = `${LABEL_NAMESPACE}.emulated.seconds`

export interface RepoInfo {
  /** e.g. https://github.com/acme/robot; empty outside a workflow */
  readonly source: string
  readonly title: string
  readonly description: string
  /** SPDX expression; empty when unknown (never guessed) */
  readonly licenses: string
}

/** Repository facts from the runner's environment and the event payload (GITHUB_EVENT_PATH). */
export function repoInfo(
  env: Readonly<Record<string, string | undefined>>,
  payload: unknown,
  fallbackTitle: string
): RepoInfo {
  const repo = (payload as { repository?: Record<string, unknown> } | null)?.repository ?? {}
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  const name = env.GITHUB_REPOSITORY ?? ''
  const license = repo.license as { spdx_id?: unknown } | null | undefined
  const spdx =
    typeof license?.spdx_id === 'string' && license.spdx_id !== 'NOASSERTION' ? license.spdx_id : ''
  return {
    source: typeof repo.html_url === 'string' ? repo.html_url : name ? `${server}/${name}` : '',
    title: typeof repo.name === 'string' ? repo.name : name.split('/')[1] || fallbackTitle,
    description: typeof repo.description === 'string' ? repo.description : '',
    licenses: spdx
  }
}

export interface LabelContext {
  readonly distro: string
  readonly rosVersion: RosVersion | null
  readonly version: string
  readonly revision: string
  /** RFC 3339 time of the run */
  readonly created: string
  readonly repo: RepoInfo
  readonly user: readonly (readonly [string, string])[]
}

export function imageLabels(c: LabelContext): [string, string][] {
  const labels = new Map<string, string>()
  const set = (key: string, value: string): void => {
    if (value !== '') labels.set(key, value)
  }
  set('org.opencontainers.image.source', c.repo.source)
  set('org.opencontainers.image.revision', c.revision)
  set('org.opencontainers.image.created', c.created)
  set('org.opencontainers.image.version', c.version)
  set('org.opencontainers.image.title', c.repo.title)
  set(
    'org.opencontainers.image.description',
    c.repo.description || `${c.repo.title} for ROS ${c.distro}`
  )
  set('org.opencontainers.image.licenses', c.repo.licenses)
  set(`${LABEL_NAMESPACE}.ros.distro`, c.distro)
  set(`${LABEL_NAMESPACE}.ros.version`, c.rosVersion === null ? '' : String(c.rosVersion))
  for (const [k, v] of c.user) labels.set(k, v)
  return [...labels.entries()]
}
