/**
 * The real run: set up Docker, buildx and QEMU, check the bases, build and test every cell (at
 * most max-parallel at once, emulated cells first), and publish each distro whose cells all passed
 * while other cells still build.
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { prepareCache, saveLocalCaches, type CacheService } from './cache.js'
import type { Config } from '../inputs/config.js'
import { InputError } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import type { CleanupState } from './cleanup.js'
import type { Cell, Plan } from '../plan/planner.js'
import {
  publishDistro,
  stageCell,
  type PublishOptions,
  type Published
} from '../publish/publish.js'
import { collectSlice } from './merge.js'
import { loginRegistry } from '../oci/reference.js'
import {
  cellOk,
  notRun,
  type CellResult,
  type DistroResult,
  type RunResults
} from '../results/results.js'
import type { Runtime } from './runtime.js'
import { errorMessage } from '../tooling/exec.js'
import { decideBuildx, installBuildx, type ToolCache } from '../tooling/buildx.js'
import { Docker, type EngineInfo } from '../tooling/docker.js'
import type { Exec } from '../tooling/exec.js'
import { ensureEmulation, type ReadText } from '../tooling/qemu.js'
import { runCell } from './cell.js'
import { runPool } from './pool.js'
import { baseNeeds, checkBases, type BaseDigests } from './preflight.js'
import { findUnchanged, type Reuse } from './unchanged.js'
import { fingerprint, fingerprintLabels, type Fingerprint } from '../plan/fingerprint.js'
import { hashContext } from '../tooling/context.js'

export interface PipelineDeps {
  readonly rt: Runtime
  readonly exec: Exec
  readonly toolCache: ToolCache
  readonly readText: ReadText
  /** The Actions cache service (cache: local) */
  readonly cacheService: CacheService
  readonly tempDir: string
  readonly dockerConfig: string
  readonly hostPlatform: string
  /** Unique per run, safe in container and builder names */
  readonly runTag: string
  /** Runs even after cancellation (to stop containers) */
  readonly cleanupExec: Exec
  /** Aborted when the run is cancelled */
  readonly signal?: AbortSignal
  /** What the post step must undo */
  readonly cleanup: CleanupState
  /** Saves cleanup as post-step state; called whenever it grows */
  readonly saveCleanup: () => void
}

export async function runPipeline(
  config: Config,
  plan: Plan,
  d: PipelineDeps
): Promise<RunResults> {
  const { rt } = d
  const docker = new Docker(d.exec, {
    policy: {
      attempts: config.retryAttempts,
      baseDelayMs: 1000,
      maxDelayMs: config.retryMaxDelay * 1000
    },
    log: m => rt.info(m),
    ...(d.signal === undefined ? {} : { signal: d.signal })
  })
  const started = Date.now()
  const cleanup = d.cleanup
  let builder = config.builder

  const needsQemu = plan.mode !== 'merge' && plan.cells.some(c => c.emulated)
  let engine: EngineInfo = { version: '', store: 'classic' }
  await rt.group(`Set up Docker, buildx${needsQemu ? ' and QEMU' : ''}`, async () => {
    engine = await docker.engine()
    rt.info(
      `Docker engine ${engine.version}, ${engine.store} image store` +
        (engine.store === 'containerd'
          ? ': images are loaded with OCI media types'
          : ': images are Docker v2 (their indexes cannot carry annotations)')
    )
    const decision = decideBuildx(config.buildxVersion, await docker.buildxVersion())
    if (decision.action === 'keep') {
      rt.info(`buildx ${decision.version} satisfies ${config.buildxVersion}`)
    } else {
      rt.info(`${decision.reason}: installing buildx ${decision.version}`)
      await installBuildx({
        version: decision.version,
        urlTemplate: config.buildxUrl,
        nodeArch: d.rt.hostArch,
        dockerConfig: d.dockerConfig,
        exec: d.exec,
        cache: d.toolCache,
        log: m => rt.info(m)
      })
    }
    if (plan.mode === 'merge') {
      rt.info('mode merge: nothing is built here, so no builder and no QEMU are set up')
    } else {
      if (config.driver === 'docker-container') {
        if (config.builder !== '') {
          rt.warning(
            `builder "${config.builder}" is not used: driver docker-container creates a builder of its own.`
          )
        }
        builder = `rma-${d.runTag}`
        // remembered before it exists: a half-created builder is removed too
        cleanup.builder = builder
        d.saveCleanup()
        const args = ['buildx', 'create', '--name', builder, '--driver', 'docker-container']
        if (config.network === 'host') args.push('--driver-opt', 'network=host')
        const r = await docker.run([...args, '--bootstrap'])
        if (r.code !== 0)
          throw new Error(`Creating the docker-container builder failed: ${r.stderr.trim()}`)
        rt.info(`Created builder ${builder} (docker-container driver); the post step removes it`)
      } else {
        rt.info(`Using builder ${builder || '(current)'}`)
      }
      const emulated = [...new Set(plan.cells.filter(c => c.emulated).map(c => c.platform))]
      const native = [...new Set(plan.cells.filter(c => !c.emulated).map(c => c.platform))]
      await ensureEmulation(
        [...native, ...emulated],
        d.hostPlatform,
        config.qemuImage,
        d.exec,
        d.readText,
        m => rt.info(m)
      )
    }
  })

  if (config.username !== '') {
    const registry = loginRegistry(config.image)
    await docker.login(registry, config.username, config.password)
    cleanup.logout = registry
    d.saveCleanup()
    rt.info(`Logged in to ${registry} as ${config.username}`)
  }

  const publishOptions = {
    docker,
    image: plan.image,
    platforms: plan.platforms,
    log: (m: string) => rt.info(m),
    warn: (m: string) => rt.warning(m)
  }
  if (plan.mode === 'merge') return mergeSlices(plan, publishOptions, rt, started)

  let dockerfile = ''
  let bases: BaseDigests = new Map()
  await rt.group('Preflight: base images hold every platform', async () => {
    try {
      dockerfile = await readFile(config.file, 'utf8')
    } catch {
      throw new InputError(
        Inputs.File,
        `cannot read ${config.file}; give the Dockerfile's path (default <context>/Dockerfile)`
      )
    }
    let needs
    try {
      needs = baseNeeds(dockerfile, plan.cells, d.hostPlatform)
    } catch (error) {
      throw new InputError(Inputs.File, `${config.file}: ${errorMessage(error)}`)
    }
    bases = await checkBases(needs, docker, m => rt.info(m))
  })

  // What each cell's image is made from: recorded on it, and compared with what is published.
  const contextHash = await hashContext(config.context)
  const fingerprints = new Map<string, Fingerprint>()
  for (const cell of plan.cells) {
    fingerprints.set(
      cell.id,
      fingerprint(cell, bases.get(cell.id) ?? [], {
        dockerfile,
        contextHash,
        userLabels: config.labels,
        network: config.network,
        smokeNetwork: config.smokeNetwork
      })
    )
  }
  let reuse = new Map<string, Reuse>()
  if (plan.push && !config.force && config.pull) {
    await rt.group('Skip unchanged: compare with the published images', async () => {
      reuse = await findUnchanged(plan.image, plan.manifests, plan.cells, fingerprints, docker, m =>
        rt.info(m)
      )
    })
  } else if (plan.push && config.force) {
    rt.info('force: every cell is rebuilt and retested, even when its published image is unchanged')
  } else if (plan.push) {
    rt.info(
      'pull is off: every cell is rebuilt (a local copy of a base may differ from the registry digest a reuse is judged by)'
    )
  }

  const caches = await prepareCache({
    config,
    cells: plan.cells.filter(c => !reuse.has(c.id)),
    push: plan.push,
    imagePath: config.image.path,
    builder,
    store: engine.store,
    docker,
    env: rt.env,
    // a fixed folder: @actions/cache restores to the very path it saved
    root: path.join(rt.env.RUNNER_TEMP || os.tmpdir(), 'ros-multiarch-buildcache'),
    fingerprints,
    service: d.cacheService,
    log: m => rt.info(m),
    warn: m => rt.warning(m)
  })

  // Emulated cells are the slowest: start them first. Unchanged cells are not built at all.
  const order = plan.cells
    .filter(c => !reuse.has(c.id))
    .map(c => ({
      ...c,
      labels: [...c.labels, ...fingerprintLabels(fingerprints.get(c.id) as Fingerprint)]
    }))
    .sort((a, b) => Number(b.emulated) - Number(a.emulated))
  const done = new Map<string, CellResult>()
  const distros = new Map<string, DistroResult>()
  const publishing: Promise<void>[] = []
  // Test containers running now: stopped at once when the run is cancelled.
  const running = new Set<string>()
  const cleanupDocker = new Docker(d.cleanupExec)
  const onCancel = (): void => {
    rt.warning(
      `Cancelling: stopping ${running.size} running container(s); no new cell starts and nothing more is published.`
    )
    for (const name of running) void cleanupDocker.kill(name)
  }
  d.signal?.addEventListener('abort', onCancel, { once: true })
  const cellCtx = {
    docker,
    running,
    file: config.file,
    context: config.context,
    network: config.network,
    pull: config.pull,
    smokeNetwork: config.smokeNetwork,
    builder,
    oci: engine.store === 'containerd',
    caches,
    tempDir: d.tempDir,
    runTag: d.runTag,
    logBlock: (title: string, body: string) => rt.block(title, body),
    now: () => Date.now()
  }
  const limit = config.maxParallel ?? rt.cpus
  rt.info(
    `Running ${order.length} cells, ${limit} at a time${config.failFast ? ', fail-fast' : ''}` +
      (reuse.size > 0 ? ` (${reuse.size} unchanged, reused)` : '')
  )

  const onDistroDone = (distro: string): void => {
    const manifest = plan.manifests.find(m => m.distro === distro)
    if (manifest === undefined) return
    const cells = manifest.cells.map(id => plan.cells.find(c => c.id === id) as Cell)
    const results = cells.map(c => done.get(c.id) as CellResult)
    const bad = results.filter(r => !cellOk(r.status))
    if (bad.length > 0) {
      distros.set(distro, {
        distro,
        status: 'failed',
        tags: [],
        reason: `not published: ${bad.map(b => `${b.id} ${b.status}`).join(', ')}`
      })
      return
    }
    if (!plan.push) {
      distros.set(distro, { distro, status: 'tested', tags: [] })
      return
    }
    if (d.signal?.aborted) {
      distros.set(distro, {
        distro,
        status: 'failed',
        tags: [],
        reason: 'not published: the run was cancelled'
      })
      return
    }
    if (plan.mode === 'build') {
      publishing.push(
        stageDistro(cells, results, publishOptions).then(staged => {
          distros.set(distro, staged.distro)
          for (const [id, pushed] of staged.pushed)
            done.set(id, { ...(done.get(id) as CellResult), pushed })
        })
      )
      return
    }
    publishing.push(
      publishDistro(manifest, cells, results, publishOptions).then(p => {
        distros.set(distro, p.distro)
        for (const [id, pushed] of p.pushed)
          done.set(id, { ...(done.get(id) as CellResult), pushed })
      })
    )
  }

  const finish = (result: CellResult): CellResult => {
    done.set(result.id, result)
    const manifest = plan.manifests.find(m => m.distro === result.distro)
    if (manifest?.cells.every(id => done.has(id))) onDistroDone(result.distro)
    return result
  }

  for (const cell of plan.cells) {
    const found = reuse.get(cell.id)
    if (found === undefined) continue
    finish(notRun(cell, { status: 'unchanged', reused: found }))
  }

  await runPool(
    order,
    limit,
    async (cell, pool) => {
      if (d.signal?.aborted) {
        pool.stop()
        return finish(cancelled(cell, 'cancelled with the run'))
      }
      let result: CellResult
      try {
        result = await runCell(cell, cellCtx)
      } catch (error) {
        result = notRun(cell, {
          status: 'failed',
          failure: error instanceof Error ? error.message : String(error)
        })
      }
      if (d.signal?.aborted) {
        pool.stop()
        result = { ...result, status: 'cancelled', failure: 'cancelled with the run' }
      }
      if (result.status !== 'passed' && config.failFast) pool.stop()
      return finish(result)
    },
    cell =>
      finish(
        cancelled(
          cell,
          d.signal?.aborted
            ? 'cancelled with the run'
            : 'cancelled by fail-fast after an earlier failure'
        )
      )
  )
  await Promise.all(publishing)
  d.signal?.removeEventListener('abort', onCancel)
  if (config.cache === 'local' && !d.signal?.aborted) {
    const built = new Set([...done.values()].filter(r => r.imageId !== undefined).map(r => r.id))
    await saveLocalCaches(
      built,
      caches,
      d.cacheService,
      m => rt.info(m),
      m => rt.warning(m)
    )
  }

  return {
    cells: plan.cells.map(c => done.get(c.id) as CellResult),
    distros: plan.manifests.map(m => distros.get(m.distro) as DistroResult),
    seconds: Math.round((Date.now() - started) / 100) / 10
  }
}

/** mode build: stage every cell of a distro that passed here; the merge job publishes them. */
async function stageDistro(
  cells: readonly Cell[],
  results: readonly CellResult[],
  o: PublishOptions
): Promise<Published> {
  const pushed = new Map<string, { tag: string; digest: string }>()
  const distro = cells[0].distro
  try {
    for (const cell of cells) {
      pushed.set(
        cell.id,
        await stageCell(cell, results.find(r => r.id === cell.id) as CellResult, o)
      )
    }
    return {
      distro: { distro, status: 'staged', tags: [...pushed.values()].map(p => p.tag) },
      pushed
    }
  } catch (error) {
    return {
      distro: {
        distro,
        status: 'publish failed',
        tags: [],
        reason: `staging failed: ${errorMessage(error)}`
      },
      pushed
    }
  }
}

/** mode merge: collect the staged slices, then publish each distro whose slices are all there. */
async function mergeSlices(
  plan: Plan,
  o: PublishOptions,
  rt: Runtime,
  started: number
): Promise<RunResults> {
  const cells = new Map<string, CellResult>()
  await rt.group('Merge: the slices staged by the build jobs of this workflow run', async () => {
    const found = await Promise.all(plan.cells.map(c => collectSlice(c, plan.image, o.docker)))
    for (const r of found) {
      cells.set(r.id, r)
      rt.info(
        r.status === 'passed'
          ? `${r.id}: ${r.reused?.from} ${r.reused?.digest}`
          : `${r.id}: ${r.failure}`
      )
    }
  })
  const distros = await Promise.all(
    plan.manifests.map(async (manifest): Promise<DistroResult> => {
      const mine = manifest.cells.map(id => plan.cells.find(c => c.id === id) as Cell)
      const results = mine.map(c => cells.get(c.id) as CellResult)
      const bad = results.filter(r => !cellOk(r.status))
      if (bad.length > 0) {
        return {
          distro: manifest.distro,
          status: 'failed',
          tags: [],
          reason: `not published: ${bad.map(b => `${b.id} missing or wrong`).join(', ')}`
        }
      }
      const p = await publishDistro(manifest, mine, results, o)
      for (const [id, pushed] of p.pushed)
        cells.set(id, { ...(cells.get(id) as CellResult), pushed })
      return p.distro
    })
  )
  return {
    cells: plan.cells.map(c => cells.get(c.id) as CellResult),
    distros,
    seconds: Math.round((Date.now() - started) / 100) / 10
  }
}

function cancelled(cell: Cell, why: string): CellResult {
  return notRun(cell, { status: 'cancelled', failure: why })
}
