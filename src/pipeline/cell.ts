/** One cell: build once, check what was built, smoke-test that very image. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Attestations } from '../inputs/config.js'
import type { Cell } from '../plan/planner.js'
import type { CellCache } from './cache.js'
import type { CellResult, QemuCrash } from '../results/results.js'
import { runTest, type TestResult } from '../smoke/runner.js'
import { formatPlatform } from '../oci/manifest.js'
import type { Docker, ImageStore } from '../tooling/docker.js'
import { ellipsis, lastLine, tail } from '../text/text.js'
import { stepLabel, parseStep, type StepTime } from '../tooling/progress.js'
import { qemuCrash } from '../tooling/qemu.js'
import { DAMAGED_STATE_ADVICE, damagedEngineState } from '../tooling/engine-state.js'
import type { ProgressBoard } from './progress.js'

export interface CellContext {
  readonly docker: Docker
  /** Names of the test containers running now (for cancellation) */
  readonly running: Set<string>
  readonly file: string
  readonly context: string
  readonly network: string
  readonly pull: boolean
  readonly smokeNetwork: string
  readonly builder: string
  /** Attestations made with each image; none when absent */
  readonly attest?: Attestations
  /** The engine's image store: the containerd one loads OCI and names images by manifest digest */
  readonly store: ImageStore
  /** Per cell id: its build cache arguments (none when absent) */
  readonly caches: ReadonlyMap<string, CellCache>
  /** A folder for iid files */
  readonly tempDir: string
  /** Unique per run: container names */
  readonly runTag: string
  /** Records a local tag a build is about to load, for the post step to remove */
  readonly loading: (tag: string) => void
  /** Prints one block of log, grouped (blocks of concurrent cells never interleave) */
  readonly logBlock: (title: string, body: string) => void
  readonly now: () => number
  /** Live progress lines and the timeline */
  readonly board: ProgressBoard
}

/** The last lines of a failed step's output, for its error annotation: 15, each cut at 300. */
function lastLines(output: readonly string[]): string[] {
  return output.slice(-15).map(l => ellipsis(l, 300))
}

/** Slowest build steps kept per cell */
const SLOWEST = 5

/** The slowest steps that ran (cached ones took no time), slowest first, each step once. Pure. */
export function slowest(steps: readonly StepTime[], n = SLOWEST): StepTime[] {
  const seen = new Set<string>()
  return steps
    .filter(s => !s.cached && s.seconds > 0)
    .sort((a, b) => b.seconds - a.seconds)
    .filter(s => !seen.has(s.step) && seen.add(s.step) !== undefined)
    .slice(0, n)
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10

export async function runCell(cell: Cell, ctx: CellContext): Promise<CellResult> {
  const base = {
    id: cell.id,
    distro: cell.distro,
    platform: cell.platform,
    emulated: cell.emulated
  }
  const run = cell.emulated ? 'emulated' : 'native'

  const buildStart = ctx.now()
  ctx.board.phase(cell, 'build')
  const iidFile = path.join(ctx.tempDir, `${cell.id}.iid`)
  // recorded before the build: a build stopped while it loads may leave the tag behind
  ctx.loading(cell.localTag)
  const build = await ctx.docker.build(
    {
      platform: cell.platform,
      file: ctx.file,
      context: ctx.context,
      tag: cell.localTag,
      buildArgs: cell.buildArgs,
      labels: cell.labels,
      network: ctx.network,
      pull: ctx.pull,
      builder: ctx.builder,
      iidFile,
      oci: ctx.store === 'containerd',
      ...(ctx.attest === undefined ? {} : { attest: ctx.attest }),
      cacheFrom: ctx.caches.get(cell.id)?.args.from ?? [],
      cacheTo: ctx.caches.get(cell.id)?.args.to ?? []
    },
    (progress, changed) => ctx.board.building(cell.id, progress, changed)
  )
  ctx.board.end(cell.id)
  const buildSeconds = seconds(ctx.now() - buildStart)
  const slowestSteps = slowest(build.progress.stepTimes())
  const output = [build.stdout, build.stderr].filter(s => s !== '').join('\n')
  ctx.logBlock(
    `${cell.id}: build (${run}) ${build.code === 0 ? 'done' : 'FAILED'} in ${buildSeconds} s`,
    output
  )
  if (build.code !== 0) {
    const step = build.progress.failure()
    const parsed = step === undefined ? undefined : parseStep(step.step)
    const name =
      parsed === undefined ? step?.step : `step ${stepLabel(parsed)} ${parsed.instruction}`
    const at = parsed === undefined ? '' : ` at ${name}`
    // QEMU's line in the output of the step that failed, not of one that went on regardless
    const crash = cell.emulated && step !== undefined ? qemuCrash(step.output) : undefined
    const advice = damagedEngineState(output) === undefined ? '' : ` (${DAMAGED_STATE_ADVICE})`
    return {
      ...base,
      status: 'failed',
      failure: `build failed${at}: ${lastLine(build.stderr || build.stdout)}${advice}`,
      buildSeconds,
      testSeconds: 0,
      tests: [],
      buildLog: tail(output),
      slowestSteps,
      ...(step === undefined || name === undefined
        ? {}
        : { failedStep: { step: name, tail: lastLines(step.output) } }),
      ...(crash === undefined ? {} : { qemuCrashes: [{ phase: 'build', signature: crash }] })
    }
  }

  // buildx writes the config digest; the engine names the image by it on the classic image
  // store, by its manifest digest on the containerd image store. The local tag is this run's own.
  // With attestations buildx writes the digest of the index of the image and them: the image is
  // then told by its manifest digest.
  const iid = (await readFile(iidFile, 'utf8')).trim()
  let image = await ctx.docker.inspectImage(cell.localTag)
  const attested = ctx.attest !== undefined && iid === image.id
  const localId = image.id
  if (attested) image = await ctx.docker.inspectImage(cell.localTag, cell.platform)
  const configDigest = attested ? image.id : iid
  // engines before API 1.48 do not report a containerd-store image's config digest; there the
  // check after the push (the registry's manifest has this config) is the one that holds. Built
  // with attestations, the tag must hold the very index buildx wrote.
  const loaded = attested
    ? undefined
    : ctx.attest !== undefined && ctx.store === 'containerd'
      ? (image.configDigest ?? image.id)
      : (image.configDigest ?? (ctx.store === 'containerd' ? undefined : image.id))
  if (loaded !== undefined && loaded !== configDigest) {
    const failure = `${cell.localTag} is ${loaded} in the engine, not the image just built (${configDigest})`
    ctx.logBlock(`${cell.id}: image check FAILED`, failure)
    return { ...base, status: 'failed', failure, buildSeconds, testSeconds: 0, tests: [] }
  }
  const built = formatPlatform(image.os, image.architecture, image.variant)
  const withImage = {
    ...base,
    buildSeconds,
    slowestSteps,
    imageId: configDigest,
    localId,
    size: image.size
  }
  if (built !== cell.platform) {
    const failure = `the built image is ${built}, not ${cell.platform}: its base image has no ${cell.platform} variant`
    ctx.logBlock(`${cell.id}: image check FAILED`, failure)
    return { ...withImage, status: 'failed', failure, testSeconds: 0, tests: [] }
  }

  const testStart = ctx.now()
  ctx.board.phase(cell, 'test')
  const tests: TestResult[] = []
  for (const [index, test] of cell.tests.entries()) {
    const name = `rma-${ctx.runTag}-${cell.id}-${index}`
    ctx.board.testing(cell.id, index + 1, cell.tests.length, test.name)
    ctx.running.add(name)
    try {
      tests.push(
        await runTest(test, {
          docker: ctx.docker,
          image: localId,
          platform: cell.platform,
          network: ctx.smokeNetwork,
          name,
          now: ctx.now
        })
      )
    } finally {
      ctx.running.delete(name)
    }
  }
  ctx.board.end(cell.id)
  const testSeconds = seconds(ctx.now() - testStart)
  const failed = tests.filter(t => t.status !== 'passed')
  ctx.logBlock(
    `${cell.id}: smoke tests (${run}) ${failed.length === 0 ? 'passed' : `${failed.length} FAILED`} in ${testSeconds} s`,
    tests.map(describeTest).join('\n')
  )
  if (failed.length > 0) {
    const first = failed[0]
    // retried only when QEMU's line explains every failed test
    const signature = failed[0].qemuCrash
    const crashes: QemuCrash[] =
      cell.emulated && signature !== undefined && failed.every(t => t.qemuCrash !== undefined)
        ? [{ phase: 'test', signature }]
        : []
    return {
      ...withImage,
      status: 'failed',
      failure: `smoke test "${first.name}" ${first.status}: ${first.reason ?? ''}`,
      testSeconds,
      tests,
      ...(crashes.length === 0 ? {} : { qemuCrashes: crashes })
    }
  }
  return { ...withImage, status: 'passed', testSeconds, tests }
}

function describeTest(t: TestResult): string {
  const head = `${t.status === 'passed' ? 'ok  ' : 'FAIL'} ${t.name} (${t.seconds.toFixed(1)} s)`
  if (t.status === 'passed') return head
  const output = t.output === '' ? '' : `\n${t.output.replace(/^/gm, '       | ')}`
  return `${head}: ${t.reason ?? t.status}${output}`
}
