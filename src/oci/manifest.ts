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

/** The attestation manifests an index lists for the image `digest`. Pure. */
export function attestationsOf(raw: string, digest: string): AttestationEntry[] {
  const doc = JSON.parse(raw) as {
    manifests?: (Descriptor & { annotations?: Record<string, string> })[]
  }
  return (doc.manifests ?? [])
    .filter(
      m =>
        m.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST &&
        m.annotations[REFERENCE_DIGEST] === digest
    )
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

export function formatPlatform(os: string, architecture: string, variant: string): string {
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

interface RawIndex {
  manifests?: {
    digest: string
    platform?: { os?: string; architecture?: string; variant?: string }
    annotations?: Record<string, string>
  }[]
}

/** Platforms and digests of an index, without attestation manifests; null for a single image. */
export function indexEntries(raw: string): PlatformEntry[] | null {
  const doc = JSON.parse(raw) as RawIndex
  if (!Array.isArray(doc.manifests)) return null
  return doc.manifests
    .filter(m => m.platform !== undefined)
    .filter(m => m.platform?.os !== 'unknown' && m.platform?.architecture !== 'unknown')
    .map(m => ({
      platform: formatPlatform(
        m.platform?.os ?? '',
        m.platform?.architecture ?? '',
        m.platform?.variant ?? ''
      ),
      digest: m.digest,
      ...(m.annotations === undefined ? {} : { annotations: m.annotations })
    }))
}

/** Platforms of an index, without attestation manifests; null for a single image. */
export function indexPlatforms(raw: string): string[] | null {
  return indexEntries(raw)?.map(e => e.platform) ?? null
}

/** The config digest of a single-image manifest. */
export function configDigest(raw: string): string | undefined {
  return (JSON.parse(raw) as { config?: { digest?: string } }).config?.digest
}

/** The digests an index lists. */
export function indexDigests(raw: string): string[] {
  return ((JSON.parse(raw) as { manifests?: { digest: string }[] }).manifests ?? []).map(
    m => m.digest
  )
}

/** True when an index carries annotations (OCI indexes can; Docker manifest lists cannot). */
export function hasAnnotations(raw: string): boolean {
  const doc = JSON.parse(raw) as { annotations?: Record<string, string> }
  return doc.annotations !== undefined && Object.keys(doc.annotations).length > 0
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
