/**
 * One cell against the fake engine: the image the engine loaded must be the one built (by its
 * config digest, however the store names it), of the planned platform, and then it is tested.
 */
import { describe, expect, it } from '@jest/globals'
import { runCell, type CellContext } from '../../src/pipeline/cell.js'
import { runRetried } from '../../src/pipeline/cells.js'
import type { CleanupState } from '../../src/pipeline/cleanup.js'
import { runPipeline } from '../../src/pipeline/pipeline.js'
import type { ExecResult } from '../../src/tooling/exec.js'
import { ProgressBoard } from '../../src/pipeline/progress.js'
import type { ImageStore } from '../../src/tooling/docker.js'
import { DAMAGED_STATE_ADVICE } from '../../src/tooling/engine-state.js'
import type { FakeDockerOptions } from '../helpers/fake-docker.js'
import { pipelineFixture, type PipelineFixture } from '../helpers/pipeline.js'

function context(
  store: ImageStore,
  options: FakeDockerOptions = {},
  pool: { qemuRetries?: number } = {}
) {
  const f = pipelineFixture({ distros: 'humble' }, { store, ...options })
  const blocks: string[] = []
  const run = f.run()
  const ctx: CellContext = {
    docker: run.docker,
    running: new Set(),
    build: { ...run.settings.build, network: 'host', pull: true },
    testNetwork: 'none',
    builder: '',
    store,
    tempDir: f.deps.tempDir,
    runTag: '7',
    loading: () => undefined,
    logBlock: title => blocks.push(title),
    warn: m => f.deps.rt.warning(m),
    qemuRetries: pool.qemuRetries ?? 1,
    failFast: false,
    now: () => 0,
    board: new ProgressBoard({
      info: () => undefined,
      warning: () => undefined,
      now: () => 0,
      intervalMs: 60_000,
      emulatedWarnMs: 0,
      readme: 'README'
    })
  }
  return { f, ctx, blocks }
}

/** The record of the fixture's cell `i` (0: amd64, 1: arm64), as the cells phase hands it. */
const jobOf = (f: PipelineFixture, i: number) => ({ cell: f.plan.cells[i], bases: [] })

describe('runCell', () => {
  it.each<ImageStore>(['classic', 'containerd'])(
    'on the %s store: builds, checks and tests the image, naming it as the engine does',
    async store => {
      const { f, ctx } = context(store)
      const r = await runCell(jobOf(f, 1), ctx)
      expect(r.status).toBe('passed')
      expect(r.tests.map(t => t.name)).toEqual(['architecture is aarch64'])
      expect(r.localId === r.imageId).toBe(store === 'classic')
      // the two digests, each under its own name: the config's always, the manifest's where
      // the engine keeps one (containerd's store names the image by it)
      expect(r.configDigest).toBe(r.imageId)
      expect(r.manifestDigest).toBe(store === 'containerd' ? r.localId : undefined)
      // the test containers ran the image by its name in this engine
      const runs = f.docker.commands().filter(c => c[0] === 'run')
      expect(runs.every(c => c.includes(r.localId ?? ''))).toBe(true)
    }
  )

  it('labels the image with its fingerprint, for the next run to judge it by', async () => {
    const { f, ctx } = context('classic')
    const fingerprint = { baseDigest: 'b@sha256:1', inputsHash: 'sha256:2' }
    await runCell({ ...jobOf(f, 1), fingerprint }, ctx)
    const build = f.docker.commands().find(c => c[1] === 'build') ?? []
    expect(build).toContain('io.ros-multiarch.base.digest=b@sha256:1')
    expect(build).toContain('io.ros-multiarch.inputs.hash=sha256:2')
  })

  it('on the containerd store of an engine before API 1.48 (no config digest reported) it still passes', async () => {
    const { f, ctx } = context('containerd', { noDescriptor: true })
    const r = await runCell(jobOf(f, 0), ctx)
    expect(r.status).toBe('passed')
  })

  it('fails when the engine holds another image under the local tag', async () => {
    const { f, ctx, blocks } = context('classic', {
      override: call =>
        call.args[0] === 'image' && call.args[1] === 'inspect'
          ? {
              stdout: JSON.stringify({
                Id: 'sha256:other',
                Os: 'linux',
                Architecture: 'amd64',
                Size: 1
              })
            }
          : undefined
    })
    const r = await runCell(jobOf(f, 0), ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toMatch(
      / is sha256:other in the engine, not the image just built \(sha256:\w+\)$/
    )
    expect(blocks).toContain('humble-amd64: image check FAILED')
  })

  it('fails when what was built is not the planned platform (an amd64-only base)', async () => {
    const { f, ctx } = context('classic')
    // build arm64 but report amd64, as a build FROM an amd64-only base does
    const build = f.docker.run.bind(f.docker)
    f.docker.run = async (command, args, options) =>
      build(
        command,
        args[1] === 'build' ? args.map(a => (a === 'linux/arm64' ? 'linux/amd64' : a)) : args,
        options
      )
    const r = await runCell(jobOf(f, 1), ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toBe(
      'the built image is linux/amd64, not linux/arm64: its base image has no linux/arm64 variant'
    )
    expect(r.tests).toEqual([])
  })

  it('reports a failed build with its last line, and tests nothing', async () => {
    const { f, ctx } = context('containerd', {
      override: call =>
        call.args[1] === 'build'
          ? {
              code: 1,
              stderr:
                '#5 ERROR: process "/bin/sh -c make" did not complete successfully\nERROR: failed to solve: exit code: 2\n'
            }
          : undefined
    })
    const r = await runCell(jobOf(f, 0), ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toBe('build failed: ERROR: failed to solve: exit code: 2')
    expect(r.buildLog).toContain('did not complete successfully')
    expect(f.docker.commands().filter(c => c[0] === 'run')).toEqual([])
  })

  it("says when a build failed on the engine's damaged state rather than on the Dockerfile", async () => {
    const line =
      'ERROR: failed to solve: failed to prepare 0ix9i7o4: open /var/lib/docker/overlay2/5hhkk1nt/committed: no such file or directory'
    const { f, ctx } = context('classic', {
      override: call => (call.args[1] === 'build' ? { code: 1, stderr: `${line}\n` } : undefined)
    })
    const r = await runCell(jobOf(f, 0), ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toBe(`build failed: ${line} (${DAMAGED_STATE_ADVICE})`)
  })
})

/** A failed build as buildx's rawjson reports it: the failing step, its output, buildx's last line. */
function failedBuild(output: string, earlier = ''): Partial<ExecResult> {
  const at = '2026-01-01T00:00:00Z'
  const name = '[2/2] RUN ./configure && make'
  const data = (text: string): string => Buffer.from(text).toString('base64')
  const report = {
    vertexes: [
      { digest: 'u', name: '[1/2] RUN ./probe || true', started: at, completed: at },
      { digest: 'v', name, started: at, completed: at, error: 'exit code: 139' }
    ],
    logs: [
      { vertex: 'u', stream: 2, data: data(earlier), timestamp: at },
      { vertex: 'v', stream: 2, data: data(output), timestamp: at }
    ]
  }
  return { code: 1, stderr: `${JSON.stringify(report)}\nERROR: failed to solve: exit code: 139\n` }
}
const SEGV = 'qemu: uncaught target signal 11 (Segmentation fault) - core dumped'

describe('runRetried: a cell run again after a QEMU crash', () => {
  /** The fake engine, its builds of `platform` answered by `answers` in turn (then built) */
  function crashing(answers: (Partial<ExecResult> | undefined)[], kind: 'build' | 'run' = 'build') {
    let n = 0
    return context('classic', {
      override: call =>
        (kind === 'build' ? call.args[1] === 'build' : call.args[0] === 'run')
          ? answers[n++]
          : undefined
    })
  }
  const warnings = (f: ReturnType<typeof context>['f']) =>
    (f.deps.rt as unknown as { recorded: { warnings: string[] } }).recorded?.warnings ?? []

  it('an emulated build that QEMU crashed in is run again, and passes', async () => {
    const { f, ctx } = crashing([failedBuild(`make: compiling\n${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 1 })
    expect(r).toMatchObject({
      status: 'passed',
      retries: 1,
      qemuCrashes: [{ phase: 'build', signature: SEGV }]
    })
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(2)
  })

  it("a build failure without QEMU's line is never retried", async () => {
    const { f, ctx } = crashing([failedBuild('Segmentation fault (core dumped)\n')])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 3 })
    expect(r.status).toBe('failed')
    expect(r.failure).toBe(
      'build failed at step 2/2 RUN ./configure && make: ERROR: failed to solve: exit code: 139'
    )
    expect(r.failedStep).toEqual({
      step: 'step 2/2 RUN ./configure && make',
      tail: ['Segmentation fault (core dumped)']
    })
    expect(r.retries).toBeUndefined()
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
  })

  it("QEMU's line in an earlier step that went on regardless does not count", async () => {
    const { f, ctx } = crashing([failedBuild('make: *** [all] Error 2\n', `${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 1 })
    expect(r.status).toBe('failed')
    expect(r.qemuCrashes).toBeUndefined()
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
  })

  it('no retry once fail-fast stopped the run', async () => {
    const { f, ctx } = crashing([failedBuild(`${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 1 }, () => false)
    expect(r).toMatchObject({ status: 'failed', retries: 0 })
    expect(warnings(f).at(-1)).toMatch(/not run again: fail-fast stopped the run\.$/)
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
  })

  it('a native build is never retried, whatever it printed', async () => {
    const { f, ctx } = crashing([failedBuild(`${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 0), { ...ctx, qemuRetries: 1 })
    expect(r.status).toBe('failed')
    expect(r.qemuCrashes).toBeUndefined()
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
  })

  it('gives up after qemu-retries, with every crash in the result', async () => {
    const { f, ctx } = crashing([failedBuild(`${SEGV}\n`), failedBuild(`${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 1 })
    expect(r).toMatchObject({ status: 'failed', retries: 1 })
    expect(r.qemuCrashes).toHaveLength(2)
    expect(warnings(f).at(-1)).toBe(
      `humble-arm64: QEMU crashed in the build (${SEGV}), again after 1 retry: giving up.`
    )
  })

  it('qemu-retries 0 runs the cell once and says why it was not retried', async () => {
    const { f, ctx } = crashing([failedBuild(`${SEGV}\n`)])
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 0 })
    expect(r).toMatchObject({ status: 'failed', retries: 0 })
    expect(warnings(f).at(-1)).toMatch(/qemu-retries is 0: not retried\.$/)
  })

  it('an emulated smoke test that QEMU crashed in runs the cell again', async () => {
    const { f, ctx } = crashing([{ code: 139, stdout: '', stderr: `${SEGV}\n` }], 'run')
    const r = await runRetried(jobOf(f, 1), { ...ctx, qemuRetries: 1 })
    expect(r).toMatchObject({
      status: 'passed',
      retries: 1,
      qemuCrashes: [{ phase: 'test', signature: SEGV }]
    })
    expect(f.docker.commands().filter(c => c[0] === 'run')).toHaveLength(2)
  })
})

describe('the local tags left for the post step', () => {
  /** The fixture's run; the cleanup state as it was saved, each time */
  async function runSaving(
    f: PipelineFixture,
    saves: CleanupState[] = []
  ): Promise<CleanupState[]> {
    const saveCleanup = (): void => {
      saves.push(JSON.parse(JSON.stringify(f.cleanup)) as CleanupState)
    }
    await runPipeline(f.input, { ...f.deps, saveCleanup })
    return saves
  }
  const buildTags = (f: PipelineFixture): string[] =>
    f.docker
      .commands()
      .filter(c => c[1] === 'build')
      .map(c => c[c.indexOf('--tag') + 1])

  it('each build saves its local tag before it runs (a cancelled run still untags it), nothing else', async () => {
    const saves: CleanupState[] = []
    const savedAtBuild: boolean[] = []
    const f = pipelineFixture(
      {},
      {
        onCall: call => {
          if (call.args[1] !== 'build') return
          const tag = call.args[call.args.indexOf('--tag') + 1]
          savedAtBuild.push(saves.at(-1)?.images?.includes(tag) ?? false)
        }
      }
    )
    await runSaving(f, saves)
    expect(savedAtBuild).toEqual([true, true, true, true])
    expect(saves.at(-1)?.images?.sort()).toEqual(f.plan.cells.map(c => c.localTag).sort())
    expect(buildTags(f).sort()).toEqual(f.plan.cells.map(c => c.localTag).sort())
  })

  it('a cell that never built adds nothing', async () => {
    const f = pipelineFixture(
      { 'fail-fast': 'true', 'max-parallel': '1' },
      {
        override: call =>
          call.args[1] === 'build' ? { code: 1, stderr: 'ERROR: boom\n' } : undefined
      }
    )
    const saves = await runSaving(f)
    // the one build that started; fail-fast started no other
    expect(buildTags(f)).toHaveLength(1)
    expect(f.cleanup.images).toEqual(buildTags(f))
    expect(saves.at(-1)?.images).toEqual(buildTags(f))
  })

  it('a cell run again after a QEMU crash lists its tag once', async () => {
    let builds = 0
    const f = pipelineFixture(
      { distros: 'humble', platforms: 'linux/arm64', 'qemu-retries': '1' },
      {
        override: call =>
          call.args[1] === 'build' && builds++ === 0 ? failedBuild(`${SEGV}\n`) : undefined
      }
    )
    await runSaving(f)
    expect(buildTags(f)).toHaveLength(2)
    expect(f.cleanup.images).toEqual([f.plan.cells[0].localTag])
  })
})
