/** Manifests and indexes: the platforms an index lists, and a new index of given images. */
import { describe, expect, it } from '@jest/globals'
import {
  asOciManifest,
  attestationEntry,
  attestationKinds,
  attestationsOf,
  buildIndex,
  indexDigests,
  indexEntries,
  MAX_INDEX_ENTRIES,
  indexPlatforms,
  MEDIA,
  sha256
} from '../../src/oci/manifest.js'

describe('indexPlatforms', () => {
  it('lists the platforms of an index, without attestation entries, arm64/v8 as linux/arm64', () => {
    const raw = JSON.stringify({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { digest: 'sha256:a', platform: { os: 'linux', architecture: 'amd64' } },
        { digest: 'sha256:b', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { digest: 'sha256:c', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { digest: 'sha256:d', platform: { os: 'unknown', architecture: 'unknown' } }
      ]
    })
    expect(indexPlatforms(raw)).toEqual(['linux/amd64', 'linux/arm64', 'linux/arm/v7'])
  })
  it('returns null for a single image manifest', () => {
    expect(
      indexPlatforms(JSON.stringify({ config: { digest: 'sha256:x' }, layers: [] }))
    ).toBeNull()
  })
})

describe('buildIndex', () => {
  const image = (mediaType: string, digest: string, platform: string) => ({
    mediaType,
    digest,
    size: 500,
    platform
  })
  const labels = [['org.opencontainers.image.version', '1.2.3']] as const

  it('makes an OCI index of OCI images, with the annotations, its digest that of its bytes', () => {
    const index = buildIndex(
      [
        image(MEDIA.ociManifest, 'sha256:a', 'linux/amd64'),
        image(MEDIA.ociManifest, 'sha256:b', 'linux/arm/v7')
      ],
      labels
    )
    expect(index.mediaType).toBe(MEDIA.ociIndex)
    expect(index.annotated).toBe(true)
    expect(index.digest).toBe(sha256(index.body))
    expect(JSON.parse(index.body)).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA.ociIndex,
      manifests: [
        {
          mediaType: MEDIA.ociManifest,
          digest: 'sha256:a',
          size: 500,
          platform: { os: 'linux', architecture: 'amd64' }
        },
        {
          mediaType: MEDIA.ociManifest,
          digest: 'sha256:b',
          size: 500,
          platform: { os: 'linux', architecture: 'arm', variant: 'v7' }
        }
      ],
      annotations: { 'org.opencontainers.image.version': '1.2.3' }
    })
  })

  it('makes a Docker manifest list of Docker v2 images, which has no annotations', () => {
    const index = buildIndex(
      [
        image(MEDIA.dockerManifest, 'sha256:a', 'linux/amd64'),
        image(MEDIA.dockerManifest, 'sha256:b', 'linux/arm64')
      ],
      labels
    )
    expect(index.mediaType).toBe(MEDIA.dockerList)
    expect(index.annotated).toBe(false)
    expect(JSON.parse(index.body).annotations).toBeUndefined()
  })
})

describe('attestations in an index', () => {
  const att = (digest: string, about: string) =>
    attestationEntry({ mediaType: MEDIA.ociManifest, digest, size: 500 }, about)

  it('lists attestation manifests after the images, as unknown/unknown with their reference annotations', () => {
    const index = buildIndex(
      [{ mediaType: MEDIA.ociManifest, digest: 'sha256:a', size: 10, platform: 'linux/amd64' }],
      [],
      [att('sha256:att-a', 'sha256:a')]
    )
    const doc = JSON.parse(index.body)
    expect(doc.mediaType).toBe(MEDIA.ociIndex)
    expect(doc.manifests[1]).toEqual({
      mediaType: MEDIA.ociManifest,
      digest: 'sha256:att-a',
      size: 500,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: {
        'vnd.docker.reference.digest': 'sha256:a',
        'vnd.docker.reference.type': 'attestation-manifest'
      }
    })
    // the platforms are exactly the images'
    expect(indexPlatforms(index.body)).toEqual(['linux/amd64'])
    expect(attestationsOf(index.body, 'sha256:a')).toEqual([att('sha256:att-a', 'sha256:a')])
    expect(attestationsOf(index.body, 'sha256:b')).toEqual([])
  })

  it('names what an attestation manifest holds from its layers’ predicate types', () => {
    const layer = (type: string) => ({ annotations: { 'in-toto.io/predicate-type': type } })
    const raw = JSON.stringify({
      layers: [
        layer('https://slsa.dev/provenance/v0.2'),
        layer('https://slsa.dev/provenance/v1'),
        layer('https://spdx.dev/Document'),
        layer('https://example.com/custom')
      ]
    })
    expect(attestationKinds(raw)).toEqual([
      'provenance',
      'provenance',
      'sbom',
      'https://example.com/custom'
    ])
  })
})

describe('an index from a registry that may be hostile', () => {
  const entry = (extra: object) => ({
    mediaType: MEDIA.ociManifest,
    digest: sha256('x'),
    size: 1,
    ...extra
  })
  const index = (manifests: unknown) => JSON.stringify({ schemaVersion: 2, manifests })

  it('refuses entries that are not objects with digests, naming the entry and quoting nothing', () => {
    expect(() => indexDigests(index({}))).toThrow("the index's manifests are not a list")
    expect(() => indexDigests(index([null]))).toThrow('entry 1 of the index is not an object')
    expect(() => indexDigests(index([entry({}), { digest: 'x\n::warning::y' }]))).toThrow(
      /^entry 2 of the index has no digest$/
    )
    expect(() => indexEntries(index([entry({ platform: null })]))).toThrow(
      'entry 1 of the index names a platform that is not one'
    )
    expect(indexDigests(JSON.stringify({ schemaVersion: 2 }))).toEqual([])
  })

  it('refuses an index of more entries than an image index has', () => {
    const many = Array.from({ length: MAX_INDEX_ENTRIES + 1 }, (_, i) =>
      entry({ platform: { os: 'linux', architecture: `a${i}` } })
    )
    expect(() => indexEntries(index(many))).toThrow(
      `the index lists ${MAX_INDEX_ENTRIES + 1} entries, more than the ${MAX_INDEX_ENTRIES} an image index has`
    )
  })
})

describe('asOciManifest', () => {
  const v2 = {
    schemaVersion: 2,
    mediaType: MEDIA.dockerManifest,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: sha256('c'),
      size: 1
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        digest: sha256('l'),
        size: 2
      }
    ]
  }

  it('tells a Docker v2 image as OCI: the same config and layers, OCI media types', () => {
    expect(JSON.parse(asOciManifest(JSON.stringify(v2)) as string)).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256('c'),
        size: 1
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256('l'), size: 2 }
      ]
    })
  })

  it('leaves anything else: an OCI manifest, a part OCI has no name for', () => {
    expect(asOciManifest(JSON.stringify({ ...v2, mediaType: MEDIA.ociManifest }))).toBeNull()
    const odd = { ...v2, layers: [{ ...v2.layers[0], mediaType: 'application/x-other' }] }
    expect(asOciManifest(JSON.stringify(odd))).toBeNull()
  })
})
