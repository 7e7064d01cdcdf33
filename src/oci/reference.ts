/**
 * Image references, following the distribution/reference grammar Docker uses:
 * [registry[:port]/]path[:tag][@digest]. Docker Hub is the registry when none is named.
 */

export const DOCKER_HUB = 'docker.io'

export interface ImageRef {
  /** Registry host[:port]; docker.io when the reference names none. */
  readonly registry: string
  /** Repository path inside the registry, e.g. acme/robot */
  readonly path: string
  readonly tag?: string
  readonly digest?: string
  /** The name as the user wrote it, without tag or digest (what tags are appended to). */
  readonly name: string
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*'
const PATH = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`)
const HOST_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = new RegExp(
  `^(?:${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`
)
export const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/

/** Parse a reference; returns a reason string when it is not valid. */
export function parseReference(value: string): ImageRef | string {
  if (value === '') return 'it is empty'
  if (/\s/.test(value)) return 'it contains whitespace'
  let rest = value
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) return `"${digest}" is not a digest (sha256:<64 hex digits>)`
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) {
      return `tag "${tag}" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)`
    }
  }
  if (rest.length > 255) return 'the name is longer than 255 characters'
  const parts = rest.split('/')
  let registry = DOCKER_HUB
  if (
    parts.length > 1 &&
    (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')
  ) {
    registry = parts.shift() as string
    if (!DOMAIN.test(registry)) return `"${registry}" is not a registry host[:port]`
  }
  const path = parts.join('/')
  if (!PATH.test(path)) {
    return `"${path}" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)`
  }
  return { registry, path, tag, digest, name: rest }
}

/**
 * A reference of one image name as the same reference of another: `acme/robot:humble` with
 * `ghcr.io/acme/robot` is `ghcr.io/acme/robot:humble`. Pure.
 */
export function retarget(ref: string, from: string, to: string): string {
  if (!ref.startsWith(from) || ![':', '@'].includes(ref[from.length])) {
    throw new Error(`${ref} is not a reference of ${from}`)
  }
  return `${to}${ref.slice(from.length)}`
}

/** The registry to log in to for a reference (Docker Hub's canonical names fold to docker.io). */
export function loginRegistry(ref: ImageRef): string {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(ref.registry)
    ? DOCKER_HUB
    : ref.registry
}
