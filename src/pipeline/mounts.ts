/**
 * Cache mounts carried between runs (see plan/mounts.ts): before the builds, each mount's saved
 * contents are put into the builder with a helper build; after the cells passed their tests, a
 * helper build takes the contents out and the store keeps them for the next run. Cells whose
 * Dockerfile names the same id share one mount in the builder, so it is restored once and read
 * out once. Nothing here fails the run: a problem is a warning and the build goes on without it.
 */
import { link, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cacheName } from '../plan/cache.js'
import {
  expandsMountVariables,
  NONCE_ARG,
  restoreDockerfile,
  saveDockerfile,
  uncarriable,
  type HelperBuild
} from '../plan/mounts.js'
import type { MountReport, MountStep, RestoreOutcome, SaveOutcome } from '../results/results.js'
import { findCacheMounts, type CacheMount } from '../tooling/cache-mounts.js'
import { sha256File } from '../tooling/download.js'
import { errorMessage, formatBytes } from '../text/text.js'
import { cancellableCache } from './deps.js'
import {
  FileMounts,
  RegistryMounts,
  TooLarge,
  type Found,
  type MountSlot,
  type MountStore
} from './mount-store.js'
import type { CellJob, Run } from './run.js'
import type { Setup } from './setup.js'

/** One cache mount of a cell, and what restore and save did with it. */
export interface CellMount {
  readonly mount: CacheMount
  restore?: MountStep<RestoreOutcome>
  save?: MountStep<SaveOutcome>
}

/** The cells that share one mount id in the builder. */
interface Group {
  readonly mount: CacheMount
  readonly jobs: CellJob[]
  /** What was restored (to see whether a save changes anything) */
  restored?: { readonly bytes: number; readonly digest: string }
}

/** The state of the mounts of one run, from restore to save. */
export class Mounts {
  private constructor(
    private readonly run: Run,
    private readonly builder: string,
    private readonly store: MountStore,
    private readonly groups: readonly Group[],
    private readonly dir: string
  ) {}

  /** Counts the helper builds, for their nonce */
  private nonce = 0

  /**
   * The cache mounts of the cells to build, or null when none are carried (cache none,
   * cache-mounts false, a Dockerfile without any). Each job gets its `mounts`.
   */
  static async find(run: Run, setup: Setup, dockerfile: string): Promise<Mounts | null> {
    const { cache } = run.settings
    if (cache.kind === 'none' || !cache.mounts.enabled) return null
    const jobs = run.jobs.filter(j => j.reuse === undefined)
    if (jobs.length === 0) return null
    const driver = await run.docker.builderDriver(setup.builder)
    const expand = expandsMountVariables(dockerfile, driver, setup.engine.version)
    const groups = new Map<string, Group>()
    const warned = new Set<string>()
    const warn = (m: string): void => {
      if (!warned.has(m)) run.warn(m)
      warned.add(m)
    }
    for (const job of jobs) {
      const mounts = mountsOf(run, job, dockerfile, expand, warn)
      job.mounts = mounts.map(mount => ({ mount }))
      for (const mount of mounts) {
        const g = groups.get(mount.id) ?? { mount, jobs: [] }
        g.jobs.push(job)
        groups.set(mount.id, g)
      }
    }
    if (groups.size === 0) return null
    const dir = path.join(run.deps.tempDir, 'cache-mounts')
    return new Mounts(run, setup.builder, storeOf(run), [...groups.values()], dir)
  }

  /** Put each mount's saved contents into the builder, all mounts at once. */
  async restore(): Promise<void> {
    const ids = this.groups.map(g => `${g.mount.id} (${g.mount.target})`).join(', ')
    this.run.log(
      `Cache mounts: ${ids}, carried through the ${this.store.where}${this.store.readOnly === null ? '' : ` (${this.store.readOnly})`}`
    )
    await mkdir(this.dir, { recursive: true })
    await Promise.all(this.groups.map(g => this.restoreGroup(g)))
  }

  private async restoreGroup(g: Group): Promise<void> {
    const started = this.run.now()
    const seconds = (): number => (this.run.now() - started) / 1000
    const failed = (error: unknown): void => {
      this.record(g, 'restore', { outcome: 'failed', reason: errorMessage(error) })
      this.run.warn(
        `Cache mount ${g.mount.id}: not restored, building without it: ${errorMessage(error)}`
      )
    }
    try {
      // a builder that persists (self-hosted) holds it already: nothing is fetched
      if ((await this.putIntoBuilder(g, null)) === 'full') {
        this.record(g, 'restore', { outcome: 'kept', seconds: round(seconds()) })
        this.run.log(`Cache mount ${g.mount.id}: the builder holds it already; kept as it is`)
        return
      }
    } catch (error) {
      return failed(error)
    }
    let found
    try {
      found = await this.fetch(g)
    } catch (error) {
      return failed(error)
    }
    if (found === null) {
      this.record(g, 'restore', { outcome: 'none', seconds: round(seconds()) })
      const build = g.jobs.length === 1 ? 'builds' : 'build'
      this.run.log(
        `Cache mount ${g.mount.id}: nothing saved yet; ${cellsOf(g)} ${build} with it empty`
      )
      return
    }
    const fetched = seconds()
    try {
      const outcome = (await this.putIntoBuilder(g, found.file)) === 'kept' ? 'kept' : 'restored'
      const took = seconds()
      g.restored = { bytes: found.bytes, digest: found.digest }
      const step: MountStep<RestoreOutcome> = {
        outcome,
        bytes: found.bytes,
        seconds: round(took),
        where: found.from
      }
      this.record(g, 'restore', step)
      this.run.log(
        `Cache mount ${g.mount.id}: ${outcome} ${formatBytes(found.bytes)} from ${found.from} in ${round(took)} s (looked into the builder and fetched in ${round(fetched)} s, into the builder in ${round(took - fetched)} s), for ${cellsOf(g)}`
      )
    } catch (error) {
      failed(error)
    } finally {
      // not kept on the runner's disk through the builds
      await rm(found.file, { force: true })
    }
  }

  /**
   * The first saved contents of the group's cells (they share the mount); contents over the size
   * limit are passed over for the next cell's.
   */
  private async fetch(g: Group): Promise<Found | null> {
    const dir = await mkdtemp(path.join(this.dir, 'fetch-'))
    let tooLarge: TooLarge | undefined
    for (const job of g.jobs) {
      try {
        const found = await this.store.fetch(this.slot(job, g.mount), dir, this.maxBytes)
        if (found !== null) return found
      } catch (error) {
        if (!(error instanceof TooLarge)) throw error
        tooLarge = error
      }
    }
    if (tooLarge !== undefined) throw tooLarge
    return null
  }

  /**
   * The restore helper build: the contents go in unless the builder's mount holds files already
   * (restored or kept); without contents, a look into the builder's mount (full or empty).
   */
  private async putIntoBuilder(g: Group, file: string | null): Promise<string> {
    const work = await mkdtemp(path.join(this.dir, 'restore-'))
    try {
      const context = path.join(work, 'context')
      await mkdir(context)
      if (file !== null) await linkOrCopy(file, path.join(context, '0.tar'))
      const withContents = new Set(file === null ? [] : [0])
      const dockerfile = restoreDockerfile(this.helperOf(g), withContents)
      const out = await this.helper(g, work, context, dockerfile, 'Restoring')
      return (await readFile(path.join(out, '0'), 'utf8')).trim()
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }

  /** Run a helper build for a group's mount; returns the folder its files were written to. */
  private async helper(
    g: Group,
    work: string,
    context: string,
    dockerfile: string,
    verb: string
  ): Promise<string> {
    const file = path.join(work, 'Dockerfile')
    const out = path.join(work, 'out')
    await writeFile(file, dockerfile)
    const h = this.helperOf(g)
    await this.run.docker.helperBuild(
      `${verb} cache mount ${g.mount.id} with ${h.image}`,
      {
        builder: this.builder,
        platform: h.platform,
        file,
        context,
        output: out,
        buildArgs: [...h.buildArgs, [NONCE_ARG, `${this.run.deps.runTag}-${++this.nonce}`]]
      },
      HELPER_MINUTES * 60_000 + Math.ceil((g.restored?.bytes ?? this.maxBytes) / 100)
    )
    return out
  }

  /**
   * The image a group's helper builds run: a base its cells build on (pulled for the build
   * anyway), on the runner's own platform where a cell builds that base natively.
   */
  private helperOf(g: Group): HelperBuild & { platform: string; buildArgs: [string, string][] } {
    const first = g.jobs[0]
    const base = first.bases[0]
    const native = this.run.jobs.find(
      j => !j.cell.emulated && j.bases[0] !== undefined && j.bases[0].image === base?.image
    )
    const chosen = native ?? first
    const b = chosen.bases[0] ?? base
    const image =
      b === undefined ? '' : b.digest.startsWith('sha256:') ? `${b.image}@${b.digest}` : b.image
    const ns = first.cell.buildArgs.filter(([k]) => k === 'BUILDKIT_CACHE_MOUNT_NS')
    return {
      image,
      mounts: [g.mount],
      platform: chosen.cell.platform,
      buildArgs: ns.map(([k, v]) => [k, v])
    }
  }

  get maxBytes(): number {
    return this.run.settings.cache.mounts.maxBytes
  }

  private slot(job: CellJob, mount: CacheMount): MountSlot {
    const c = this.run.settings.cache
    return {
      name: cacheName(c.imagePath, job.cell.id, c.tagSuffix),
      cell: job.cell.id,
      id: mount.id,
      target: mount.target,
      run: this.run.deps.runTag,
      ...(job.fingerprint === undefined ? {} : { fingerprint: job.fingerprint })
    }
  }

  private record<K extends 'restore' | 'save'>(
    g: Group,
    key: K,
    step: CellMount[K],
    jobs: readonly CellJob[] = g.jobs
  ): void {
    for (const job of jobs) {
      const m = job.mounts?.find(x => x.mount.id === g.mount.id)
      if (m !== undefined) m[key] = step
    }
  }

  /**
   * After the builds: read out each mount that a cell which passed its tests used, and keep it,
   * one group at a time (a mount's tar is on the runner's disk only while it is stored). A mount
   * several cells share is kept once, for the first of them that passed: a restore looks through
   * the group's cells. A cell that failed saves nothing.
   */
  async save(): Promise<void> {
    for (const g of this.groups) {
      if (this.run.deps.signal?.aborted) break
      const passed = g.jobs.filter(j => j.result?.status === 'passed')
      if (passed.length === 0) continue
      if (this.store.readOnly !== null) {
        this.record(g, 'save', { outcome: 'read only', reason: this.store.readOnly }, passed)
        continue
      }
      const work = await mkdtemp(path.join(this.dir, 'save-'))
      try {
        await this.saveGroup(g, passed, work)
      } finally {
        await rm(work, { recursive: true, force: true })
      }
    }
    await rm(this.dir, { recursive: true, force: true })
  }

  private async saveGroup(g: Group, passed: readonly CellJob[], work: string): Promise<void> {
    const started = this.run.now()
    const seconds = (): number => round((this.run.now() - started) / 1000)
    const owner = passed[0]
    try {
      const read = await this.readOut(g, passed, work)
      if (read === null) return
      const out = seconds()
      const ids = (owner.mounts ?? []).map(m => m.mount.id)
      const to = await this.store.keep(
        owner.cell.id,
        { ...read, slot: this.slot(owner, g.mount) },
        ids
      )
      const step = { outcome: 'saved' as const, bytes: read.bytes, seconds: seconds(), where: to }
      this.record(g, 'save', step, passed)
      this.run.log(
        `Cache mount ${g.mount.id}: saved ${formatBytes(read.bytes)} to ${to} in ${step.seconds} s (out of the builder in ${out} s, stored in ${round(step.seconds - out)} s), for ${passed.map(j => j.cell.id).join(', ')}`
      )
    } catch (error) {
      this.record(g, 'save', { outcome: 'failed', reason: errorMessage(error) }, passed)
      this.run.warn(`Cache mount ${g.mount.id}: not saved: ${errorMessage(error)}`)
    }
  }

  /**
   * A group's contents out of the builder into `work`; null when over the size limit or
   * unchanged since the restore (recorded then).
   */
  private async readOut(
    g: Group,
    passed: readonly CellJob[],
    work: string
  ): Promise<{ file: string; bytes: number; digest: string } | null> {
    const started = this.run.now()
    const dockerfile = saveDockerfile(this.helperOf(g), this.maxBytes)
    const out = await this.helper(g, work, work, dockerfile, 'Saving')
    const seconds = round((this.run.now() - started) / 1000)
    const over = await readFile(path.join(out, '0.over'), 'utf8').catch(() => null)
    if (over !== null) {
      const about = Number(over.trim()) * 1024
      const reason = `${Number.isFinite(about) ? `about ${formatBytes(about)}` : 'its contents'} ${Number.isFinite(about) ? 'is' : 'are'} over cache-mounts-max-size (${formatBytes(this.maxBytes)}); keep the cache below it (for ccache: CCACHE_MAXSIZE), or raise the limit`
      this.record(g, 'save', { outcome: 'too large', seconds, reason }, passed)
      this.run.warn(`Cache mount ${g.mount.id}: not saved: ${reason}`)
      return null
    }
    const file = path.join(out, '0.tar')
    const bytes = (await stat(file)).size
    const digest = `sha256:${await sha256File(file)}`
    if (g.restored?.digest === digest) {
      this.record(g, 'save', { outcome: 'unchanged', bytes, seconds }, passed)
      this.run.log(
        `Cache mount ${g.mount.id}: unchanged since it was restored (${formatBytes(bytes)}); not saved again`
      )
      return null
    }
    return { file, bytes, digest }
  }
}

/** Minutes a helper build may take, plus ten seconds per MB of the mount. */
const HELPER_MINUTES = 10

/** The carried mounts of a cell's Dockerfile; a Dockerfile the finder cannot read carries none. */
function mountsOf(
  run: Run,
  job: CellJob,
  dockerfile: string,
  expand: boolean,
  warn: (m: string) => void
): CacheMount[] {
  if (job.bases.length === 0) {
    warn(`${job.cell.id}: cache mounts not carried: no base image to run the helper builds on`)
    return []
  }
  let mounts: CacheMount[]
  try {
    mounts = findCacheMounts(dockerfile, {
      buildArgs: job.cell.buildArgs,
      targetPlatform: job.cell.platform,
      buildPlatform: run.deps.hostPlatform,
      expandVariables: expand
    })
  } catch (error) {
    warn(`Cache mounts not carried: ${errorMessage(error)}`)
    return []
  }
  return mounts.filter(m => {
    const why = uncarriable(m, expand)
    if (why !== null) warn(`Cache mount ${m.target} not carried: ${why}`)
    return why === null
  })
}

/** The store of the run's `cache`. */
function storeOf(run: Run): MountStore {
  const { cache } = run.settings
  if (cache.kind === 'registry') return new RegistryMounts(run.registries, cache.ref, run.plan.push)
  const service = cancellableCache(run.deps)
  const root = path.join(run.deps.rt.env.RUNNER_TEMP || os.tmpdir(), 'ros-multiarch-mounts')
  return new FileMounts(root, cache.kind === 'gha' || service.available() ? service : null)
}

function cellsOf(g: Group): string {
  return g.jobs.map(j => j.cell.id).join(', ')
}

const round = (s: number): number => Math.round(s * 10) / 10

/** A hard link where the file system allows it (no copy of a large file), else a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch {
    await copyFile(from, to)
  }
}

/** The results' view of a cell's mounts. */
export function mountReports(mounts: readonly CellMount[] | undefined): MountReport[] | undefined {
  if (mounts === undefined || mounts.length === 0) return undefined
  return mounts.map(m => ({
    id: m.mount.id,
    target: m.mount.target,
    restore: m.restore ?? { outcome: 'none' },
    ...(m.save === undefined ? {} : { save: m.save })
  }))
}
