/**
 * The real run: set up Docker, buildx and QEMU, check the bases, build and test every cell (at
 * most max-parallel at once, emulated cells first), and publish each distro whose cells all passed
 * while other cells still build.
 */
import { readFile } from 'node:fs/promises'
import type { Config } from '../inputs/config.js'
import { InputError } from '../inputs/errors.js'
import { Inputs, States } from '../inputs/names.js'
import type { Cell, Plan } from '../plan/planner.js'
import { publishDistro } from '../publish/publish.js'
import { loginRegistry } from '../publish/reference.js'
import type { CellResult, DistroResult, RunResults } from '../report/results.js'
import { errorMessage, type Runtime } from '../runtime.js'
import { decideBuildx, installBuildx, type ToolCache } from '../tooling/buildx.js'
import { Docker } from '../tooling/docker.js'
import type { Exec } from '../tooling/exec.js'
import { ensureEmulation, type ReadText } from '../tooling/qemu.js'
import { runCell } from './cell.js'
import { runPool } from './pool.js'
import { baseNeeds, checkBases } from './preflight.js'

export interface PipelineDeps {
  readonly rt: Runtime
  readonly exec: Exec
  readonly toolCache: ToolCache
  readonly readText: ReadText
  readonly tempDir: string
  readonly dockerConfig: string
  readonly hostPlatform: string
  /** Unique per run, safe in container and builder names */
  readonly runTag: string
  /** Runs even after cancellation (to stop containers) */
  readonly cleanupExec: Exec
  /** Aborted when the run is cancelled */
  readonly signal?: AbortSignal
  /** What the post step must undo; saved as state whenever it grows */
  readonly cleanup: CleanupState
}

/** What the post step must undo; never holds a secret. */
export interface CleanupState {
  logout?: string
  builder?: string
  /** Containers of this run are named rma-<runTag>-... */
  runTag?: string
  tempDir?: string
  /** Local tags this run made (loaded images, arch tags) */
  images?: string[]
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
  const remember = (): void => rt.saveState(States.Cleanup, JSON.stringify(cleanup))
  let builder = config.builder

  await rt.group('Set up Docker, buildx and QEMU', async () => {
    rt.info(`Docker engine ${await docker.serverVersion()}`)
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
    if (config.driver === 'docker-container') {
      if (config.builder !== '') {
        rt.warning(
          `builder "${config.builder}" is not used: driver docker-container creates a builder of its own.`
        )
      }
      builder = `rma-${d.runTag}`
      // remembered before it exists: a half-created builder is removed too
      cleanup.builder = builder
      remember()
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
  })

  if (config.username !== '') {
    const registry = loginRegistry(config.image)
    await docker.login(registry, config.username, config.password)
    cleanup.logout = registry
    remember()
    rt.info(`Logged in to ${registry} as ${config.username}`)
  }

  await rt.group('Preflight: base images hold every platform', async () => {
    let dockerfile: string
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
    await checkBases(needs, docker, m => rt.info(m))
  })

  // Emulated cells are the slowest: start them first.
  const order = [...plan.cells].sort((a, b) => Number(b.emulated) - Number(a.emulated))
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
    tempDir: d.tempDir,
    runTag: d.runTag,
    logBlock: (title: string, body: string) => rt.block(title, body),
    now: () => Date.now()
  }
  const limit = config.maxParallel ?? rt.cpus
  rt.info(
    `Running ${plan.cells.length} cells, ${limit} at a time${config.failFast ? ', fail-fast' : ''}`
  )

  const onDistroDone = (distro: string): void => {
    const manifest = plan.manifests.find(m => m.distro === distro)
    if (manifest === undefined) return
    const cells = manifest.cells.map(id => plan.cells.find(c => c.id === id) as Cell)
    const results = cells.map(c => done.get(c.id) as CellResult)
    const bad = results.filter(r => r.status !== 'passed')
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
    publishing.push(
      publishDistro(manifest, cells, results, {
        docker,
        image: plan.image,
        platforms: plan.platforms,
        log: m => rt.info(m),
        warn: m => rt.warning(m)
      }).then(p => {
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
        result = {
          id: cell.id,
          distro: cell.distro,
          platform: cell.platform,
          emulated: cell.emulated,
          status: 'failed',
          failure: error instanceof Error ? error.message : String(error),
          buildSeconds: 0,
          testSeconds: 0,
          tests: []
        }
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

  return {
    cells: plan.cells.map(c => done.get(c.id) as CellResult),
    distros: plan.manifests.map(m => distros.get(m.distro) as DistroResult),
    seconds: Math.round((Date.now() - started) / 100) / 10
  }
}

function cancelled(cell: Cell, why: string): CellResult {
  return {
    id: cell.id,
    distro: cell.distro,
    platform: cell.platform,
    emulated: cell.emulated,
    status: 'cancelled',
    failure: why,
    buildSeconds: 0,
    testSeconds: 0,
    tests: []
  }
}
