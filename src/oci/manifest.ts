/**
 * Manifests and indexes as the OCI image spec and Docker's v2 schema 2 write them: media types,
 * platforms, the entries of an index, and a new index made of given images. Pure.
 */
import { createHash } from 'node:crypto'

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json'
} as const

/** What a registry is asked to return for a manifest request: any of the four. */
export const MANIFEST_ACCEPT = [
  MEDIA.ociIndex,
  MEDIA.dockerList,
  MEDIA.ociManifest,
  MEDIA.dockerManifest
].join(', ')

export function isIndexType(mediaType: string): boolean {
  return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList
}

/** A content descriptor: what an index entry points at. */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
}

/**
 * Attestations in an index (BuildKit's attestation storage): a manifest of in-toto statements,
 * listed with platform unknown/unknown and two annotations naming the image it is about.
 */
export const REFERENCE_DIGEST = 'vnd.docker.reference.digest'
export const REFERENCE_TYPE = 'vnd.docker.reference.type'
export const ATTESTATION_MANIFEST = 'attestation-manifest'
/** The in-toto predicate type of each attestation layer */
export const PREDICATE_TYPE = 'in-toto.io/predicate-type'

/** An attestation manifest's index entry: about the image `annotations[REFERENCE_DIGEST]`. */
export interface AttestationEntry extends Descriptor {
  readonly annotations: Readonly<Record<string, string>>
}

/** The index entry of an attestation manifest about `image`. Pure. */
export function attestationEntry(manifest: Descriptor, image: string): AttestationEntry {
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    annotations: { [REFERENCE_DIGEST]: image, [REFERENCE_TYPE]: ATTESTATION_MANIFEST }
  }
}

/** An index entry that may carry annotations. */
export interface Annotated extends Descriptor {
  readonly annotations?: Readonly<Record<string, string>>
}

/** Whether an index entry is an attestation manifest about the image `digest`. Pure. */
export function isAttestationOf(entry: Annotated, digest: string): boolean {
  return (
    entry.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST &&
    entry.annotations[REFERENCE_DIGEST] === digest
  )
}

/** The attestation manifests an index lists for the image `digest`. Pure. */
export function attestationsOf(raw: string, digest: string): AttestationEntry[] {
  const doc = JSON.parse(raw) as { manifests?: Annotated[] }
  return (doc.manifests ?? [])
    .filter(m => isAttestationOf(m, digest))
    .map(m => attestationEntry(m, digest))
}

/** What an attestation manifest holds: `provenance`, `sbom` or the predicate type itself. Pure. */
export function attestationKinds(raw: string): string[] {
  const doc = JSON.parse(raw) as { layers?: { annotations?: Record<string, string> }[] }
  return (doc.layers ?? []).map(l => {
    const type = l.annotations?.[PREDICATE_TYPE] ?? 'unknown'
    if (type.startsWith('https://slsa.dev/provenance/')) return 'provenance'
    if (type.startsWith('https://spdx.dev/Document')) return 'sbom'
    return type
  })
}

export interface PlatformEntry {
  /** os/arch[/variant] */
  readonly platform: string
  /** The platform's manifest digest */
  readonly digest: string
  /** The entry's own annotations (OCI indexes) */
  readonly annotations?: Readonly<Record<string, string>>
}

/** What the action reads of an image config in a registry. */
export interface RemoteConfig {
  readonly platform: string
  readonly labels: Readonly<Record<string, string>>
}

/**
 * A digest as the OCI image spec writes it (`algorithm:encoded`, e.g. sha256 and 64 hex digits):
 * what a registry's answer must hold where a digest goes, so that it is safe to print and to put
 * in a URL. Pure.
 */
export function isDigest(value: unknown): value is string {
  return (
    typeof value === 'string' && /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{1,256}$/.test(value)
  )
}

/**
 * An os, architecture or variant as platforms name them (containerd's platform grammar): letters,
 * digits, `_`, `.` and `-`. Anything else, a new line among them, is not printed or used.
 */
const PLATFORM_PART = /^[A-Za-z0-9_.-]{1,64}$/

/** A platform read from a manifest, an index or a config that is not a platform. */
export class BadPlatform extends Error {
  constructor(where: string) {
    super(
      `${where} names a platform that is not one (os, architecture and variant are letters, digits, '_', '.' and '-')`
    )
    this.name = 'BadPlatform'
  }
}

/** `os/architecture[/variant]`; throws BadPlatform (quoting nothing) when a part is not valid. Pure. */
export function formatPlatform(
  os: unknown,
  architecture: unknown,
  variant: unknown,
  where = 'the image'
): string {
  const part = (v: unknown): v is string => typeof v === 'string' && PLATFORM_PART.test(v)
  if (!part(os) || !part(architecture) || !(variant === '' || part(variant))) {
    throw new BadPlatform(where)
  }
  // arm64 images carry the v8 variant on some registries; linux/arm64 is what users write.
  const v = architecture === 'arm64' && variant === 'v8' ? '' : variant
  return v === '' ? `${os}/${architecture}` : `${os}/${architecture}/${v}`
}

interface PlatformObject {
  readonly os: string
  readonly architecture: string
  readonly variant?: string
}

/** `linux/arm/v7` as an index entry's platform object. */
export function platformObject(platform: string): PlatformObject {
  const [os, architecture, variant] = platform.split('/')
  return variant === undefined ? { os, architecture } : { os, architecture, variant }
}

interface RawEntry {
  digest?: unknown
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown }
  annotations?: unknown
}

/**
 * Platforms and digests of an index, without attestation manifests; null for a single image.
 * An index read from a registry may be hostile: an entry without a sha256 digest, or whose
 * platform is not one (BadPlatform), makes the whole index an error that quotes nothing; only
 * string annotations are kept.
 */
export function indexEntries(raw: string): PlatformEntry[] | null {
  const doc = JSON.parse(raw) as { manifests?: unknown }
  if (!Array.isArray(doc.manifests)) return null
  return entriesOf(raw).flatMap((item, i) => {
    const m = item as RawEntry
    const where = `entry ${i + 1} of the index`
    if (!isDigest(m.digest)) throw new Error(`${where} has no digest`)
    const p = m.platform
    if (p === undefined) return []
    if (typeof p !== 'object' || p === null) throw new BadPlatform(where)
    if (p.os === 'unknown' || p.architecture === 'unknown') return []
    const annotations = stringRecord(m.annotations)
    return [
      {
        platform: formatPlatform(p.os ?? '', p.architecture ?? '', p.variant ?? '', where),
        digest: m.digest,
        ...(annotations === undefined ? {} : { annotations })
      }
    ]
  })
}

/** The string values of an object (annotations, labels); undefined when it is no object. Pure. */
export function stringRecord(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string')
  )
}

/** Platforms of an index, without attestation manifests; null for a single image. */
export function indexPlatforms(raw: string): string[] | null {
  return indexEntries(raw)?.map(e => e.platform) ?? null
}

/** The digests an index lists; throws (quoting nothing) when an entry has none. */
export function indexDigests(raw: string): string[] {
  return entriesOf(raw).map((item, i) => {
    const digest = (item as { digest?: unknown }).digest
    if (!isDigest(digest)) throw new Error(`entry ${i + 1} of the index has no digest`)
    return digest
  })
}

/**
 * The blobs an image manifest names, its config and then its layers, each with its digest and
 * size; throws (quoting nothing) on a blob without a sha256 digest or a size. Pure.
 */
export function manifestBlobs(raw: string): { digest: string; size: number }[] {
  const doc = JSON.parse(raw) as { config?: unknown; layers?: unknown }
  if (!Array.isArray(doc.layers ?? [])) throw new Error("the manifest's layers are not a list")
  const blobs = [doc.config, ...((doc.layers as unknown[] | undefined) ?? [])]
  return blobs.map((b, i) => {
    const { digest, size } = (typeof b === 'object' && b !== null ? b : {}) as {
      digest?: unknown
      size?: unknown
    }
    const what = i === 0 ? 'the config' : `layer ${i}`
    if (!isDigest(digest) || !digest.startsWith('sha256:')) {
      throw new Error(`${what} of the manifest has no sha256 digest`)
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new Error(`${what} of the manifest has no size`)
    }
    return { digest, size }
  })
}

/** More entries than any image index a build makes or uses: not one to read. */
export const MAX_INDEX_ENTRIES = 1000

/** The entries of an index as objects; [] when it lists none. Throws on any other shape. */
function entriesOf(raw: string): object[] {
  const doc = JSON.parse(raw) as { manifests?: unknown }
  if (doc.manifests === undefined) return []
  if (!Array.isArray(doc.manifests)) throw new Error("the index's manifests are not a list")
  if (doc.manifests.length > MAX_INDEX_ENTRIES) {
    throw new Error(
      `the index lists ${doc.manifests.length} entries, more than the ${MAX_INDEX_ENTRIES} an image index has`
    )
  }
  return doc.manifests.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) {
      throw new Error(`entry ${i + 1} of the index is not an object`)
    }
    return item
  })
}

export function sha256(bytes: string | Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

export interface NewIndex {
  readonly mediaType: string
  /** The exact bytes to PUT; the digest is theirs */
  readonly body: string
  readonly digest: string
  /** False when the annotations had to be left out (a Docker manifest list cannot hold them) */
  readonly annotated: boolean
}

/**
 * An index of exactly these images. OCI images make an OCI index, which carries the annotations
 * (the index's and each entry's); Docker v2 images (an engine with the classic store pushes those)
 * make a Docker manifest list, as buildx does, which has no annotations field. A mix makes an OCI
 * index.
 */
export function buildIndex(
  images: readonly (Descriptor & {
    readonly platform: string
    readonly annotations?: Readonly<Record<string, string>>
  })[],
  annotations: readonly (readonly [string, string])[],
  /** Attestation manifests about the images, listed after them as unknown/unknown */
  attestations: readonly AttestationEntry[] = []
): NewIndex {
  const docker =
    attestations.length === 0 &&
    images.length > 0 &&
    images.every(i => i.mediaType === MEDIA.dockerManifest)
  const mediaType = docker ? MEDIA.dockerList : MEDIA.ociIndex
  const annotate = !docker && annotations.length > 0
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: images
      .map(i => ({
        mediaType: i.mediaType,
        digest: i.digest,
        size: i.size,
        platform: platformObject(i.platform),
        ...(!docker && i.annotations !== undefined && Object.keys(i.annotations).length > 0
          ? { annotations: i.annotations }
          : {})
      }))
      .concat(
        attestations.map(a => ({
          mediaType: a.mediaType,
          digest: a.digest,
          size: a.size,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { ...a.annotations }
        }))
      ),
    ...(annotate ? { annotations: Object.fromEntries(annotations) } : {})
  })
  return { mediaType, body, digest: sha256(body), annotated: annotate }
}

/** Docker v2 media types of an image's parts, and what OCI calls the same bytes. */
const OCI_OF: Readonly<Record<string, string>> = {
  'application/vnd.docker.container.image.v1+json': 'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.image.rootfs.diff.tar.gzip':
    'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'
}

/**
 * A Docker v2 image manifest as an OCI one: the same config and layers (their bytes, so their
 * digests, and so the image, unchanged), told with OCI media types, so that an index of it can
 * carry annotations. Null for anything else, or a part of a media type OCI has no name for. Pure.
 */
export function asOciManifest(raw: string): string | null {
  const doc = JSON.parse(raw) as {
    mediaType?: string
    config?: Descriptor
    layers?: Descriptor[]
  }
  if (doc.mediaType !== MEDIA.dockerManifest || doc.config === undefined) return null
  const parts = [doc.config, ...(doc.layers ?? [])]
  if (parts.some(p => OCI_OF[p.mediaType] === undefined)) return null
  const as = (d: Descriptor): Descriptor => ({
    mediaType: OCI_OF[d.mediaType],
    digest: d.digest,
    size: d.size
  })
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: as(doc.config),
    layers: (doc.layers ?? []).map(as)
  })
}
