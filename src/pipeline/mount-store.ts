/**
 * Where a cell's cache mount contents are kept between runs, by the `cache` the user chose:
 * - registry: one artifact per cell, tag `mountcache-<name>` in the cache repository, a layer per
 *   mount (blobs the registry has already are not sent again); only read when push is off;
 * - gha, and local where the runner has the Actions cache service: one Actions cache entry per
 *   cell and mount, a fixed file under the runner's temp folder;
 * - local without the service (a self-hosted runner keeps its temp folder): that file alone.
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import {
  EMPTY_CONFIG,
  mountCacheKeys,
  mountFile,
  mountSlug,
  mountsManifest,
  mountTag,
  OCI_MANIFEST,
  storedMounts,
  type StoredMount
} from '../plan/mounts.js'
import type { Fingerprint } from '../plan/fingerprint.js'
import { fileBlob } from '../registry/files.js'
import type { Registries } from '../registry/registries.js'
import { errorMessage } from '../text/text.js'
import type { CacheService } from './cache.js'

/** Where a mount's contents went, or why they were not taken. */
export type Kept = { readonly to: string } | { readonly error: string }

/** What a store is asked about: one cell's mount. */
export interface MountSlot {
  /** The cell's cache name (image path, cell, tag suffix) */
  readonly name: string
  readonly cell: string
  readonly id: string
  readonly target: string
  readonly fingerprint?: Fingerprint
  /** Unique per run (an Actions cache key is written once) */
  readonly run: string
}

/** Saved contents found for a mount, in a file of their own. */
export interface Found {
  readonly file: string
  readonly bytes: number
  /** Where they came from, for the log: a cache key or a registry reference */
  readonly from: string
}

/** New contents of a mount, to keep for the next run. */
export interface Keep {
  readonly slot: MountSlot
  readonly file: string
  readonly bytes: number
  /** sha256:<hex> of the file */
  readonly digest: string
}

export interface MountStore {
  /** For the log: `registry <repo>`, `Actions cache`, `folder <root>` */
  readonly where: string
  /** Why it does not save (registry without push), or null */
  readonly readOnly: string | null
  /** The saved contents of a mount, at most maxBytes, put into a file under `dir`; null: none */
  fetch(slot: MountSlot, dir: string, maxBytes: number): Promise<Found | null>
  /** Keep a cell's mounts (all of its mounts that are saved this run); says where each went */
  keep(cell: string, kept: readonly Keep[]): Promise<Map<string, Kept>>
}

/** The registry form: one artifact per cell in the cache repository. */
export class RegistryMounts implements MountStore {
  readonly where: string
  readonly readOnly: string | null

  constructor(
    private readonly registries: Registries,
    /** The cache repository, e.g. 127.0.0.1:5000/acme/robot */
    private readonly repository: string,
    push: boolean,
    private readonly now: () => Date = () => new Date()
  ) {
    this.where = `registry ${repository}`
    this.readOnly = push ? null : 'read only: push is off'
  }

  private readonly manifests = new Map<string, Promise<Map<string, StoredMount> | null>>()

  private stored(name: string): Promise<Map<string, StoredMount> | null> {
    let m = this.manifests.get(name)
    if (m === undefined) {
      m = this.registries
        .manifest(`${this.repository}:${mountTag(name)}`)
        .then(f => (f === null ? null : storedMounts(f.body)))
      this.manifests.set(name, m)
    }
    return m
  }

  async fetch(slot: MountSlot, dir: string, maxBytes: number): Promise<Found | null> {
    const stored = (await this.stored(slot.name))?.get(slot.id)
    if (stored === undefined) return null
    const ref = `${this.repository}:${mountTag(slot.name)}`
    if (stored.size > maxBytes) {
      throw new Error(`${ref} holds ${stored.size} bytes for it, over cache-mounts-max-size`)
    }
    const file = path.join(dir, `${mountSlug(slot.id)}.tar`)
    const bytes = await this.registries.downloadBlob(this.repository, stored.digest, file, maxBytes)
    return { file, bytes, from: ref }
  }

  async keep(cell: string, kept: readonly Keep[]): Promise<Map<string, Kept>> {
    const ref = `${this.repository}:${mountTag(kept[0].slot.name)}`
    for (const k of kept) {
      await this.registries.uploadBlob(this.repository, k.digest, await fileBlob(k.file))
    }
    await this.registries.uploadBlob(this.repository, EMPTY_CONFIG.digest, {
      size: EMPTY_CONFIG.size,
      open: () => new Blob(['{}']).stream()
    })
    const stored = kept.map(k => ({
      id: k.slot.id,
      target: k.slot.target,
      digest: k.digest,
      size: k.bytes
    }))
    await this.registries.put(
      ref,
      OCI_MANIFEST,
      mountsManifest(cell, stored, this.now().toISOString())
    )
    return new Map(kept.map(k => [k.slot.id, { to: ref }]))
  }
}

/**
 * The file forms: each mount's contents in a fixed file under `root`, restored and saved with the
 * Actions cache when the runner has it (gha always; local where it can).
 */
export class FileMounts implements MountStore {
  readonly where: string
  readonly readOnly = null

  constructor(
    private readonly root: string,
    private readonly service: CacheService | null
  ) {
    this.where = service === null ? `folder ${root}` : 'Actions cache'
  }

  async fetch(slot: MountSlot): Promise<Found | null> {
    const file = mountFile(this.root, slot.name, slot.id)
    let from = file
    if (this.service !== null) {
      const k = mountCacheKeys(slot.name, slot.id, slot.fingerprint, slot.run)
      await rm(file, { force: true })
      const hit = await this.service.restore([file], k.restore[0], k.restore)
      if (hit === undefined) return null
      from = hit
    }
    const bytes = await sizeOf(file)
    return bytes === null ? null : { file, bytes, from }
  }

  async keep(_cell: string, kept: readonly Keep[]): Promise<Map<string, Kept>> {
    const where = new Map<string, Kept>()
    for (const k of kept) {
      try {
        where.set(k.slot.id, await this.keepOne(k))
      } catch (error) {
        where.set(k.slot.id, { error: errorMessage(error) })
      }
    }
    return where
  }

  private async keepOne(k: Keep): Promise<Kept> {
    const file = mountFile(this.root, k.slot.name, k.slot.id)
    await mkdir(path.dirname(file), { recursive: true })
    if (path.resolve(k.file) !== path.resolve(file)) await copyFile(k.file, file)
    if (this.service === null) return { to: file }
    const key = mountCacheKeys(k.slot.name, k.slot.id, k.slot.fingerprint, k.slot.run).save
    if (await this.service.save([file], key)) return { to: key }
    return { error: `the Actions cache took no entry ${key} (the upload failed)` }
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size
  } catch {
    return null
  }
}
