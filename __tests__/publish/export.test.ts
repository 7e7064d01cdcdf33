/**
 * Reading an unpacked `docker save`: an OCI layout as the containerd store writes it (the engine's
 * manifest kept byte for byte), one as Docker 25+ with the classic store writes it (uncompressed
 * layers, compressed here into a new manifest), and Docker's legacy format (Docker before 25).
 */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { readSaved } from '../../src/publish/export.js'
import { MEDIA, sha256 } from '../../src/oci/manifest.js'

const CONFIG = '{"architecture":"arm64","os":"linux","rootfs":{"type":"layers"}}'
const LAYER = 'layer bytes'

function dirWith(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rma-saved-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    writeFileSync(path.join(root, name), text)
  }
  return root
}
const blob = (text: string) => `blobs/sha256/${sha256(text).slice(7)}`

const STATEMENT =
  '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}'
const ATT_CONFIG =
  '{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers"}}'

/** An attestation manifest about `image`, as BuildKit writes it; its blobs. */
function attestation(image: string) {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(ATT_CONFIG),
      size: ATT_CONFIG.length
    },
    layers: [
      {
        mediaType: 'application/vnd.in-toto+json',
        digest: sha256(STATEMENT),
        size: STATEMENT.length,
        annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' }
      }
    ]
  })
  return {
    manifest,
    entry: {
      mediaType: MEDIA.ociManifest,
      digest: sha256(manifest),
      size: manifest.length,
      annotations: {
        'vnd.docker.reference.digest': image,
        'vnd.docker.reference.type': 'attestation-manifest'
      },
      platform: { architecture: 'unknown', os: 'unknown' }
    },
    files: {
      [blob(manifest)]: manifest,
      [blob(ATT_CONFIG)]: ATT_CONFIG,
      [blob(STATEMENT)]: STATEMENT
    }
  }
}

function layout(layerType: string, nested: boolean, attested = false) {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(CONFIG),
      size: CONFIG.length
    },
    layers: [{ mediaType: layerType, digest: sha256(LAYER), size: LAYER.length }]
  })
  const top = { mediaType: MEDIA.ociManifest, digest: sha256(manifest), size: manifest.length }
  const att = attestation(sha256(manifest))
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: attested ? [top, att.entry] : [top]
  })
  const files: Record<string, string> = {
    ...(attested ? att.files : {}),
    [blob(manifest)]: manifest,
    [blob(CONFIG)]: CONFIG,
    [blob(LAYER)]: LAYER,
    'index.json': nested
      ? JSON.stringify({
          schemaVersion: 2,
          manifests: [{ mediaType: MEDIA.ociIndex, digest: sha256(index), size: index.length }]
        })
      : JSON.stringify({ schemaVersion: 2, manifests: [top] })
  }
  if (nested) files[blob(index)] = index
  return { root: dirWith(files), manifest, attestation: att.manifest }
}

describe('readSaved', () => {
  it("keeps the engine's own manifest when its layers are compressed (containerd store), through a nested index", async () => {
    const { root, manifest } = layout('application/vnd.oci.image.layer.v1.tar+gzip', true)
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    expect(files.manifest).toEqual({ mediaType: MEDIA.ociManifest, body: manifest })
    expect(files.blobs.map(b => b.digest)).toEqual([sha256(CONFIG), sha256(LAYER)])
  })

  it('compresses uncompressed layers of an OCI layout (Docker 25+ classic store) into a new manifest', async () => {
    const { root } = layout('application/vnd.oci.image.layer.v1.tar', false)
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    const doc = JSON.parse(files.manifest.body)
    expect(doc.config.digest).toBe(sha256(CONFIG))
    expect(doc.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    const gz = readFileSync(files.blobs[1].file)
    expect(sha256(gz)).toBe(doc.layers[0].digest)
    expect(gunzipSync(gz).toString()).toBe(LAYER)
  })

  it('makes an OCI manifest of the legacy format (its index then carries annotations), layers gzip-compressed, the config as it is', async () => {
    const root = dirWith({
      [`${sha256(CONFIG).slice(7)}.json`]: CONFIG,
      'abc/layer.tar': LAYER,
      'manifest.json': JSON.stringify([
        { Config: `${sha256(CONFIG).slice(7)}.json`, Layers: ['abc/layer.tar'] }
      ])
    })
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    expect(files.manifest.mediaType).toBe(MEDIA.ociManifest)
    const doc = JSON.parse(files.manifest.body)
    expect(doc.config).toEqual({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(CONFIG),
      size: CONFIG.length
    })
    expect(doc.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    expect(gunzipSync(readFileSync(files.blobs[1].file)).toString()).toBe(LAYER)
  })

  it('takes the attestation manifests about the image with their blobs (containerd store)', async () => {
    const { root, manifest, attestation } = layout(
      'application/vnd.oci.image.layer.v1.tar+gzip',
      true,
      true
    )
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    expect(files.manifest.body).toBe(manifest)
    expect(files.attestations).toEqual([
      { mediaType: MEDIA.ociManifest, digest: sha256(attestation), body: attestation }
    ])
    expect(files.blobs.map(b => b.digest)).toEqual([
      sha256(CONFIG),
      sha256(LAYER),
      sha256(ATT_CONFIG),
      sha256(STATEMENT)
    ])
    expect(files.attestationsLeft).toBeUndefined()
  })

  it('leaves attestations out, saying why, when compressing layers changed the manifest they name', async () => {
    const { root } = layout('application/vnd.oci.image.layer.v1.tar', true, true)
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    expect(files.attestations).toEqual([])
    expect(files.blobs).toHaveLength(2)
    expect(files.attestationsLeft).toMatch(/compressed manifest is not the one they name/)
  })

  it('says so when an attestation blob is missing from the saved image', async () => {
    const { root, attestation } = layout('application/vnd.oci.image.layer.v1.tar+gzip', true, true)
    rmSync(path.join(root, blob(STATEMENT)))
    const files = await readSaved(root, { configDigest: sha256(CONFIG) }, root)
    expect(files.attestations).toEqual([])
    // the image alone is pushed: its config and layer
    expect(files.blobs.map(b => b.digest)).toEqual([sha256(CONFIG), sha256(LAYER)])
    expect(attestation).not.toBe('')
    expect(files.attestationsLeft).toBe('the engine saved them incomplete')
  })

  it('says so when the saved image is not the tested one', async () => {
    const { root } = layout('application/vnd.oci.image.layer.v1.tar+gzip', false)
    await expect(readSaved(root, { configDigest: sha256('other') }, root)).rejects.toThrow(
      `the saved image has no manifest with config ${sha256('other')}`
    )
  })
})
