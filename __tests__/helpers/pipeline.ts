/** A plan, its config and the pipeline's dependencies around a fake engine, for phase tests. */
import { mkdtempSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Config } from '../../src/inputs/config.js'
import type { PipelineDeps } from '../../src/pipeline/deps.js'
import { openRun, type CellJob, type Run, type RunInput } from '../../src/pipeline/run.js'
import type { PublishOptions } from '../../src/publish/publish.js'
import type { CleanupState } from '../../src/pipeline/cleanup.js'
import type { Plan } from '../../src/plan/planner.js'
import { secretsOf, settingsOf } from '../../src/plan/settings.js'
import { notRun, type CellResult } from '../../src/results/results.js'
import { fakeDocker, type FakeDocker, type FakeDockerOptions } from './fake-docker.js'
import { fakeRuntime } from './fake-runtime.js'
import { fakeTools } from './fake-tools.js'
import { planOf } from './inputs.js'

export interface PipelineFixture {
  readonly config: Config
  readonly plan: Plan
  /** What the main step hands the pipeline */
  readonly input: RunInput
  /** A run context over the fixture (a new one with each call: fresh cell records) */
  readonly run: () => Run
  readonly docker: FakeDocker
  readonly deps: PipelineDeps
  readonly rt: ReturnType<typeof fakeRuntime>
  readonly cleanup: CleanupState
}

export const EXAMPLE_INPUTS = {
  image: 'registry.test/acme/robot',
  distros: 'humble, jazzy',
  context: 'examples/ros-app',
  'base-image': 'registry.test/ros:{distro}-ros-base',
  'ros-checks': 'false',
  push: 'true',
  'retry-max-delay': '1'
}

/** The example app, 2 distros x amd64/arm64 on an amd64 runner, its bases in the fake registry. */
export function pipelineFixture(
  inputs: Record<string, string> = {},
  options: FakeDockerOptions & {
    docker?: FakeDocker
    signal?: AbortSignal
    workflowRun?: string
  } = {}
): PipelineFixture {
  const { config, plan } = planOf(
    { ...EXAMPLE_INPUTS, ...inputs },
    {
      git: { eventName: 'push', ref: 'refs/heads/main', sha: '0123456789abcdef', date: '20261129' },
      created: '2026-11-29T12:00:00Z',
      runId: '7-1-abc123',
      workflowRun: options.workflowRun ?? '7'
    }
  )
  const docker = options.docker ?? fakeDocker(options)
  if (options.docker === undefined) {
    for (const d of ['humble', 'jazzy']) {
      docker.addBase(`registry.test/ros:${d}-ros-base`, ['linux/amd64', 'linux/arm64'])
    }
  }
  const tools = fakeTools(docker)
  const rt = fakeRuntime({})
  const runtime = { ...rt, env: { RUNNER_TEMP: mkdtempSync(path.join(os.tmpdir(), 'rma-rt-')) } }
  const cleanup: CleanupState = {}
  let t = 0
  const deps: PipelineDeps = {
    rt: runtime,
    exec: docker,
    cleanupExec: docker,
    toolCache: tools.toolCache,
    // every foreign platform has its QEMU registered
    readText: async () => 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: PF\n',
    cacheService: tools.cache,
    tempDir: mkdtempSync(path.join(os.tmpdir(), 'rma-pipeline-')),
    dockerConfig: mkdtempSync(path.join(os.tmpdir(), 'rma-docker-config-')),
    hostPlatform: 'linux/amd64',
    runTag: '7-1-abc123',
    cleanup,
    saveCleanup: () => undefined,
    now: () => (t += 100),
    fetch: docker.fetch,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  }
  const input = { plan, settings: settingsOf(config), secrets: secretsOf(config) }
  return { config, plan, input, run: () => openRun(input, deps), docker, deps, rt, cleanup }
}

/**
 * Each cell of the fixture's plan built into its fake engine, as passed results (to publish),
 * named as the cells phase names them (the config digest from the iid file; the manifest digest
 * where the engine keeps one).
 */
export async function buildCells(f: PipelineFixture): Promise<CellResult[]> {
  const results: CellResult[] = []
  for (const cell of f.plan.cells) {
    const iid = path.join(f.deps.tempDir, `${cell.id}.iid`)
    await f.docker.run('docker', [
      'buildx',
      'build',
      '--platform',
      cell.platform,
      '--tag',
      cell.localTag,
      '--iidfile',
      iid,
      '--',
      '.'
    ])
    const inspect = await f.docker.run('docker', [
      'image',
      'inspect',
      '--format',
      '{{json .}}',
      cell.localTag
    ])
    const image = JSON.parse(inspect.stdout) as { Id: string }
    const configDigest = (await readFile(iid, 'utf8')).trim()
    results.push({
      ...notRun(cell, { status: 'passed' }),
      imageId: configDigest,
      configDigest,
      ...(image.Id === configDigest ? {} : { manifestDigest: image.Id }),
      localId: image.Id
    })
  }
  return results
}

/** The fixture's cells as records to publish: each with its result (in plan order). */
export function jobsOf(f: PipelineFixture, results: readonly CellResult[]): CellJob[] {
  return f.plan.cells.map(cell => ({
    cell,
    bases: [],
    result: results.find(r => r.id === cell.id) as CellResult
  }))
}

/** One distro of the fixture (humble unless told), its cells with these results, to publish. */
export function distroOf(
  f: PipelineFixture,
  results: readonly CellResult[],
  distro = f.plan.manifests[0].distro
): { manifest: Plan['manifests'][number]; jobs: CellJob[] } {
  const manifest = f.plan.manifests.find(m => m.distro === distro) as Plan['manifests'][number]
  const jobs = jobsOf(f, results)
  return { manifest, jobs: manifest.cells.map(id => jobs.find(j => j.cell.id === id) as CellJob) }
}

/** What publishing is handed in the pipeline: the fixture's engine and its registry client. */
export function publishOptions(
  f: PipelineFixture,
  warn: (w: string) => void = () => undefined
): PublishOptions {
  const run = f.run()
  return {
    docker: run.docker,
    exec: f.deps.exec,
    tempDir: f.deps.tempDir,
    registries: run.registries,
    image: f.plan.image,
    platforms: f.plan.platforms,
    log: () => undefined,
    warn
  }
}
