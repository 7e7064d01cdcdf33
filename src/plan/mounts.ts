/**
 * Cache mounts carried between runs (the contents of a Dockerfile's `RUN --mount=type=cache`,
 * such as ccache's folder): where each cell's saved contents live, their keys, the helper builds
 * that put contents into the builder and take them out, and the registry artifact that stores
 * them. BuildKit keeps a cache mount in the builder only, and no `--cache-to` exports it, so a
 * fresh builder (every GitHub-hosted run) starts with it empty. Pure.
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import type { CacheMount } from '../tooling/cache-mounts.js'

/** The tag prefix of a cell's cache mounts in the cache repository (beside `buildcache-`). */
export const MOUNT_TAG_PREFIX = 'mountcache-'
/** The artifact type of the manifest that holds a cell's cache mounts, one layer per mount. */
export const MOUNTS_ARTIFACT_TYPE = 'application/vnd.ros-multiarch.cache-mounts.v1'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json'
/** The empty JSON object `{}`: the config an artifact without one carries (OCI 1.1). */
export const EMPTY_CONFIG = {
  mediaType: OCI_EMPTY,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2
} as const
/** A mount's contents: an uncompressed tar (ccache and apt keep their files compressed already) */
export const MOUNT_LAYER = 'application/vnd.oci.image.layer.v1.tar'
export const MOUNT_ID_ANNOTATION = 'io.github.ros-multiarch.cache-mount.id'
export const MOUNT_TARGET_ANNOTATION = 'io.github.ros-multiarch.cache-mount.target'
export const CELL_ANNOTATION = 'io.github.ros-multiarch.cell'

/** The only digests the action downloads contents by (the client checks them as it reads) */
const SHA256 = /^sha256:[0-9a-f]{64}$/

/**
 * What the helper builds can pass on safely: an id without quotes, commas, spaces or backslashes
 * (`$`, `{` and `}` for an old frontend, which keeps `${TARGETARCH}` as written).
 */
const SAFE = /^[A-Za-z0-9_./:@+=${}-]{1,255}$/

/** Where variables are substituted, the same without `$ { }`: the helper's frontend would substitute them again */
const SAFE_SUBSTITUTED = /^[A-Za-z0-9_./:@+=-]{1,255}$/

/**
 * Why a mount cannot be carried (its id has characters the helpers do not pass on), or null.
 * `expanded`: the frontend substitutes variables in mount options (see expandsMountVariables).
 */
export function uncarriable(mount: CacheMount, expanded: boolean): string | null {
  if ((expanded ? SAFE_SUBSTITUTED : SAFE).test(mount.id)) return null
  const allowed = `A-Z a-z 0-9 _ . / : @ + = -${expanded ? '' : ' $ { }'}`
  return `its id ${JSON.stringify(mount.id)} has characters other than ${allowed}`
}

/** A Dockerfile's `# syntax=` parser directive (a frontend image of its own), among the first lines. */
function hasSyntaxDirective(dockerfile: string): boolean {
  for (const line of dockerfile.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const m = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=/.exec(line)
    if (m === null) return false
    if (m[1].toLowerCase() === 'syntax') return true
  }
  return false
}

/**
 * Whether the frontend that reads the Dockerfile substitutes variables in `--mount` options, so
 * that the mount ids the helpers use are the ones the build used. A `# syntax=` frontend (a
 * current image) and BuildKit in a container (driver docker-container) do; the frontend built
 * into the engine does from Docker 23 (BuildKit 0.10); Docker 20.10's (BuildKit 0.8) does not:
 * there `id=ccache-${TARGETARCH}` is that text, shared by every platform (measured on Docker
 * 20.10: a helper build with the substituted id found the mount empty, with the text as written
 * it found the build's files).
 */
export function expandsMountVariables(
  dockerfile: string,
  driver: string,
  engineVersion: string
): boolean {
  if (hasSyntaxDirective(dockerfile) || driver !== 'docker') return true
  const major = Number(/^(\d+)\./.exec(engineVersion)?.[1] ?? NaN)
  return !(major < 23)
}

/** A short stable name of a mount id, for file names and keys. */
export function mountSlug(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 16)
}

/** The registry tag of a cell's cache mounts: `mountcache-<cache name>` (at most 128 characters). */
export function mountTag(cacheName: string): string {
  return `${MOUNT_TAG_PREFIX}${cacheName}`
}

/**
 * The file a mount's contents live in between runs, under the runner's temp folder: a fixed path,
 * since the Actions cache restores to the very path it saved.
 */
export function mountFile(root: string, cacheName: string, id: string): string {
  return path.join(root, cacheName, `${mountSlug(id)}.tar`)
}

/**
 * Actions cache keys of a cell's mount. An entry is never replaced (the service keeps the first
 * save under a key), so each run saves under a key of its own: the cell's cache name, the mount,
 * the cell's build fingerprint and the run. A run looks for the newest entry made from the same
 * inputs, then the newest of the cell's mount (older inputs: the usual case after a change).
 * Keys hold no commas and stay far below the service's 512 characters.
 */
export function mountCacheKeys(
  cacheName: string,
  id: string,
  fingerprint: { readonly baseDigest: string; readonly inputsHash: string } | undefined,
  run: string
): { save: string; restore: string[] } {
  const prefix = `ros-multiarch-mount-${cacheName}-${mountSlug(id)}-`
  const inputs = createHash('sha256')
    .update(fingerprint === undefined ? '' : `${fingerprint.baseDigest}\0${fingerprint.inputsHash}`)
    .digest('hex')
    .slice(0, 32)
  const runPart = run.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)
  return { save: `${prefix}${inputs}-${runPart}`, restore: [`${prefix}${inputs}-`, prefix] }
}

/** One mount as a helper build mounts it: at /rma/<index>, with the Dockerfile's id and options. */
function mountFlag(mount: CacheMount, index: number): string {
  const fields = [
    'type=cache',
    // as found: where the build's frontend left `${VAR}` as written, the helper's (the same
    // engine's, no `# syntax=`) does too
    `id=${mount.id}`,
    `target=/rma/${index}`,
    `sharing=${mount.sharing}`,
    ...(mount.uid === undefined ? [] : [`uid=${mount.uid}`]),
    ...(mount.gid === undefined ? [] : [`gid=${mount.gid}`]),
    ...(mount.mode === undefined ? [] : [`mode=${mount.mode}`])
  ]
  return `--mount=${fields.join(',')}`
}

export interface HelperBuild {
  /** The image whose shell and tar the helper runs (one the cell's build pulls anyway) */
  readonly image: string
  readonly mounts: readonly CacheMount[]
}

/**
 * The build arg that makes each helper build's RUN new to the layer cache (its value differs in
 * every build), so that the step runs and reads or writes the mount as it is now.
 */
export const NONCE_ARG = 'RMA_NONCE'

/**
 * The Dockerfile that puts saved contents into the builder's cache mounts. The build context holds
 * `<index>.tar` for each mount that has contents; a mount that holds files already (a builder that
 * persists) is left as it is. It writes `<index>` with `restored` or `kept` for each; for a mount
 * without contents to put in, `full` or `empty` (a probe: is there anything to restore into?).
 */
export function restoreDockerfile(h: HelperBuild, withContents: ReadonlySet<number>): string {
  const steps = h.mounts.map((_, i) =>
    withContents.has(i)
      ? `if [ -n "$(ls -A /rma/${i})" ]; then echo kept; else tar -xf /rma-in/${i}.tar -C /rma/${i} && echo restored; fi > /rma-out/${i}`
      : `if [ -n "$(ls -A /rma/${i})" ]; then echo full; else echo empty; fi > /rma-out/${i}`
  )
  return [
    `FROM ${h.image} AS restore`,
    'USER 0',
    `ARG ${NONCE_ARG}`,
    `RUN ${h.mounts.map(mountFlag).join(' ')} --mount=type=bind,target=/rma-in \\`,
    `    set -e; mkdir -p /rma-out; ${steps.join('; ')}`,
    'FROM scratch',
    'COPY --from=restore /rma-out/ /',
    ''
  ].join('\n')
}

/**
 * The Dockerfile that takes each cache mount's contents out of the builder: `<index>.tar`, sorted
 * by name where tar can (the same files give the same bytes, so unchanged contents are not
 * uploaded again), cut at one byte over `maxBytes`: contents over the limit are never written
 * whole. Then the tar is dropped and `<index>.over` holds the mount's size as du counts it.
 */
export function saveDockerfile(h: HelperBuild, maxBytes: number): string {
  const cap = maxBytes + 1
  const steps = h.mounts.map(
    (_, i) =>
      `{ tar --sort=name -cf - -C /rma/${i} . 2>/dev/null || tar -cf - -C /rma/${i} .; } | head -c ${cap} > /rma-out/${i}.tar; ` +
      `if [ "$(wc -c < /rma-out/${i}.tar)" -ge ${cap} ]; then rm /rma-out/${i}.tar; du -sk /rma/${i} | cut -f1 > /rma-out/${i}.over; fi`
  )
  return [
    `FROM ${h.image} AS save`,
    'USER 0',
    `ARG ${NONCE_ARG}`,
    `RUN ${h.mounts.map(mountFlag).join(' ')} \\`,
    `    set -e; mkdir -p /rma-out; ${steps.join('; ')}`,
    'FROM scratch',
    'COPY --from=save /rma-out/ /',
    ''
  ].join('\n')
}

/** A mount's contents in the registry artifact. */
export interface StoredMount {
  readonly id: string
  readonly target: string
  readonly digest: string
  readonly size: number
}

/** The manifest of a cell's cache mounts: an OCI artifact, one uncompressed tar layer per mount. */
export function mountsManifest(
  cell: string,
  mounts: readonly StoredMount[],
  created: string
): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MOUNTS_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: mounts.map(m => ({
      mediaType: MOUNT_LAYER,
      digest: m.digest,
      size: m.size,
      annotations: {
        'org.opencontainers.image.title': `${mountSlug(m.id)}.tar`,
        [MOUNT_ID_ANNOTATION]: m.id,
        [MOUNT_TARGET_ANNOTATION]: m.target
      }
    })),
    annotations: { [CELL_ANNOTATION]: cell, 'org.opencontainers.image.created': created }
  })
}

/**
 * The mounts a registry manifest holds, by id; null when it is not the action's cache mounts
 * artifact. Only what checks out is kept: a digest, a size, an id.
 */
export function storedMounts(raw: string): Map<string, StoredMount> | null {
  let m: unknown
  try {
    m = JSON.parse(raw)
  } catch {
    return null
  }
  if (typeof m !== 'object' || m === null) return null
  const o = m as { artifactType?: unknown; layers?: unknown }
  if (o.artifactType !== MOUNTS_ARTIFACT_TYPE || !Array.isArray(o.layers)) return null
  const found = new Map<string, StoredMount>()
  for (const layer of o.layers.slice(0, 100) as unknown[]) {
    const stored = storedLayer(layer)
    if (stored !== null && !found.has(stored.id)) found.set(stored.id, stored)
  }
  return found
}

function storedLayer(layer: unknown): StoredMount | null {
  if (typeof layer !== 'object' || layer === null) return null
  const l = layer as {
    digest?: unknown
    size?: unknown
    annotations?: unknown
    mediaType?: unknown
  }
  const a = (
    typeof l.annotations === 'object' && l.annotations !== null ? l.annotations : {}
  ) as Record<string, unknown>
  const id = a[MOUNT_ID_ANNOTATION]
  const target = a[MOUNT_TARGET_ANNOTATION]
  if (
    l.mediaType !== MOUNT_LAYER ||
    typeof l.digest !== 'string' ||
    !SHA256.test(l.digest) ||
    typeof l.size !== 'number' ||
    !Number.isSafeInteger(l.size) ||
    l.size < 0 ||
    typeof id !== 'string'
  ) {
    return null
  }
  return { id, target: typeof target === 'string' ? target : '', digest: l.digest, size: l.size }
}
