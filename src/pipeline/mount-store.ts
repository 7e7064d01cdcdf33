/**
 * Where a cell's cache mount contents are kept between runs, by the `cache` the user chose:
 * - registry: one artifact per cell, tag `mountcache-<name>` in the cache repository, a layer per
 *   mount (blobs the registry has already are not sent again); only read when push is off;
 * - gha, and local where the runner has the Actions cache service: one Actions cache entry per
 *   cell and mount, a fixed file under the runner's temp folder;
 * - local without the service (the CLI on a machine that keeps its temp folder): that file alone.
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
import { formatBytes } from '../text/text.js'
import { sha256File } from '../tooling/download.js'
import type { CacheService } from './cache.js'

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
  /** sha256:<hex> of the file */
  readonly digest: string
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

/** Saved contents over cache-mounts-max-size: not restored (another cell's may be). */
export class TooLarge extends Error {
  constructor(where: string, bytes: number, maxBytes: number) {
    super(
      `${where} holds ${formatBytes(bytes)}, over cache-mounts-max-size (${formatBytes(maxBytes)})`
    )
    this.name = 'TooLarge'
  }
}

export interface MountStore {
  /** For the log: `registry <repo>`, `Actions cache`, `folder <root>` */
  readonly where: string
  /** Why it does not save (registry without push), or null */
  readonly readOnly: string | null
  /**
   * The saved contents of a mount, at most maxBytes (TooLarge beyond), put into a file under
   * `dir`; null: none
   */
  fetch(slot: MountSlot, dir: string, maxBytes: number): Promise<Found | null>
  /**
   * Keep a mount's new contents for its cell; `ids` are all the cell's mounts now (the registry
   * artifact keeps those it holds and this run did not change). Says where they went.
   */
  keep(cell: string, kept: Keep, ids: readonly string[]): Promise<string>
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

  /** Each cell's artifact as read (or last written) this run, by cache name */
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
    if (stored.size > maxBytes) throw new TooLarge(ref, stored.size, maxBytes)
    const file = path.join(dir, `${mountSlug(slot.id)}.tar`)
    const bytes = await this.registries.downloadBlob(this.repository, stored.digest, file, maxBytes)
    return { file, bytes, digest: stored.digest, from: ref }
  }

  async keep(cell: string, k: Keep, ids: readonly string[]): Promise<string> {
    const ref = `${this.repository}:${mountTag(k.slot.name)}`
    await this.registries.uploadBlob(this.repository, k.digest, await fileBlob(k.file))
    await this.registries.uploadBlob(this.repository, EMPTY_CONFIG.digest, {
      size: EMPTY_CONFIG.size,
      open: () => new Blob(['{}']).stream()
    })
    // what the artifact held of the cell's other mounts stays (their blobs are there already)
    let before: Map<string, StoredMount> | null = null
    try {
      before = await this.stored(k.slot.name)
    } catch {
      // unreadable: the artifact then holds this mount alone
    }
    const next = new Map(
      [...(before ?? new Map<string, StoredMount>()).values()]
        .filter(m => m.id !== k.slot.id && ids.includes(m.id))
        .map(m => [m.id, m])
    )
    next.set(k.slot.id, { id: k.slot.id, target: k.slot.target, digest: k.digest, size: k.bytes })
    await this.registries.put(
      ref,
      OCI_MANIFEST,
      mountsManifest(cell, [...next.values()], this.now().toISOString())
    )
    this.manifests.set(k.slot.name, Promise.resolve(next))
    return ref
  }
}

/**
 * The file forms: each mount's contents in a fixed file under `root`, restored and saved with the
 * Actions cache when the runner has it (gha always; local where it can). Without the service (the
 * CLI, whose temp folder is the machine's), the file itself is what the next run finds.
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

  async fetch(slot: MountSlot, _dir: string, maxBytes: number): Promise<Found | null> {
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
    if (bytes === null) return null
    if (bytes > maxBytes) throw new TooLarge(from, bytes, maxBytes)
    return { file, bytes, digest: `sha256:${await sha256File(file)}`, from }
  }

  async keep(_cell: string, k: Keep): Promise<string> {
    const file = mountFile(this.root, k.slot.name, k.slot.id)
    await mkdir(path.dirname(file), { recursive: true })
    if (path.resolve(k.file) !== path.resolve(file)) await copyFile(k.file, file)
    if (this.service === null) return file
    const key = mountCacheKeys(k.slot.name, k.slot.id, k.slot.fingerprint, k.slot.run).save
    if (await this.service.save([file], key)) return key
    throw new Error(`the Actions cache took no entry ${key} (the upload failed)`)
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size
  } catch {
    return null
  }
}
