/** One cell: build once, check what was built, smoke-test that very image. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fingerprintLabels } from '../plan/fingerprint.js'
import type { Cell } from '../plan/planner.js'
import type { Attestations, BuildSettings } from '../plan/settings.js'
import type { CellResult, QemuCrash } from '../results/results.js'
import { runTest, type TestResult } from '../smoke/runner.js'
import { formatPlatform } from '../oci/manifest.js'
import type { Docker, ImageStore } from '../tooling/docker.js'
import { ellipsis, lastLine, tail } from '../text/text.js'
import { stepLabel, parseStep, type StepTime } from '../tooling/progress.js'
import { qemuCrash } from '../tooling/qemu.js'
import { DAMAGED_STATE_ADVICE, damagedEngineState } from '../tooling/engine-state.js'
import type { ProgressBoard } from './progress.js'
import type { CellJob } from './run.js'

export interface CellContext {
  readonly docker: Docker
  /** Names of the test containers running now (for cancellation) */
  readonly running: Set<string>
  /** The Dockerfile, context, RUN network and pull of every build */
  readonly build: BuildSettings
  /** Network of the smoke test containers */
  readonly testNetwork: string
  readonly builder: string
  /** Attestations made with each image; none when absent */
  readonly attest?: Attestations
  /** The engine's image store: the containerd one loads OCI and names images by manifest digest */
  readonly store: ImageStore
  /** A folder for iid files */
  readonly tempDir: string
  /** Unique per run: container names */
  readonly runTag: string
  /** Records a local tag a build is about to load, for the post step to remove */
  readonly loading: (tag: string) => void
  /** Prints one block of log, grouped (blocks of concurrent cells never interleave) */
  readonly logBlock: (title: string, body: string) => void
  readonly warn: (message: string) => void
  readonly now: () => number
  /** Live progress lines and the timeline */
  readonly board: ProgressBoard
  /** Runs of an emulated cell again after QEMU crashed in it */
  readonly qemuRetries: number
  /** A failed cell stops the pool */
  readonly failFast: boolean
  /** Aborted when the run is cancelled */
  readonly signal?: AbortSignal
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

/** What every result of a cell starts with. */
type CellBase = Pick<CellResult, 'id' | 'distro' | 'platform' | 'emulated'>

/** Build the cell's image, check it is the one built and of its platform, smoke-test it. */
export async function runCell(job: CellJob, ctx: CellContext): Promise<CellResult> {
  const { cell } = job
  const base: CellBase = {
    id: cell.id,
    distro: cell.distro,
    platform: cell.platform,
    emulated: cell.emulated
  }
  const built = await buildImage(job, base, ctx)
  if ('failed' in built) return built.failed
  const checked = await checkImage(cell, built.iid, ctx)
  const withBuild = { ...base, buildSeconds: built.seconds, slowestSteps: built.slowestSteps }
  if ('failure' in checked) {
    ctx.logBlock(`${cell.id}: image check FAILED`, checked.failure)
    return {
      ...withBuild,
      ...(checked.image ?? {}),
      status: 'failed',
      failure: checked.failure,
      testSeconds: 0,
      tests: []
    }
  }
  return testImage(cell, { ...withBuild, ...checked.image }, ctx)
}

/** A built image's names: what identifies it in the engine and in a registry. */
type TestedImage = Pick<
  CellResult,
  'imageId' | 'configDigest' | 'manifestDigest' | 'localId' | 'size'
>

/** The build, logged; its iid, or the failed result. */
async function buildImage(
  job: CellJob,
  base: CellBase,
  ctx: CellContext
): Promise<{ iid: string; seconds: number; slowestSteps: StepTime[] } | { failed: CellResult }> {
  const { cell } = job
  const buildStart = ctx.now()
  ctx.board.phase(cell, 'build')
  const iidFile = path.join(ctx.tempDir, `${cell.id}.iid`)
  // recorded before the build: a build stopped while it loads may leave the tag behind
  ctx.loading(cell.localTag)
  const build = await ctx.docker.build(
    {
      platform: cell.platform,
      file: ctx.build.file,
      context: ctx.build.context,
      tag: cell.localTag,
      buildArgs: cell.buildArgs,
      labels:
        job.fingerprint === undefined
          ? cell.labels
          : [...cell.labels, ...fingerprintLabels(job.fingerprint)],
      network: ctx.build.network,
      pull: ctx.build.pull,
      builder: ctx.builder,
      iidFile,
      oci: ctx.store === 'containerd',
      ...(ctx.attest === undefined ? {} : { attest: ctx.attest }),
      cacheFrom: job.cache?.args.from ?? [],
      cacheTo: job.cache?.args.to ?? []
    },
    (progress, changed) => ctx.board.building(cell.id, progress, changed)
  )
  ctx.board.end(cell.id)
  const seconds = secondsSince(ctx, buildStart)
  const slowestSteps = slowest(build.progress.stepTimes())
  const output = [build.stdout, build.stderr].filter(s => s !== '').join('\n')
  ctx.logBlock(
    `${cell.id}: build (${how(cell)}) ${build.code === 0 ? 'done' : 'FAILED'} in ${seconds} s`,
    output
  )
  if (build.code === 0) {
    return { iid: (await readFile(iidFile, 'utf8')).trim(), seconds, slowestSteps }
  }
  const step = build.progress.failure()
  const parsed = step === undefined ? undefined : parseStep(step.step)
  const name = parsed === undefined ? step?.step : `step ${stepLabel(parsed)} ${parsed.instruction}`
  const at = parsed === undefined ? '' : ` at ${name}`
  // QEMU's line in the output of the step that failed, not of one that went on regardless
  const crash = cell.emulated && step !== undefined ? qemuCrash(step.output) : undefined
  const advice = damagedEngineState(output) === undefined ? '' : ` (${DAMAGED_STATE_ADVICE})`
  return {
    failed: {
      ...base,
      status: 'failed',
      failure: `build failed${at}: ${lastLine(build.stderr || build.stdout)}${advice}`,
      buildSeconds: seconds,
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
}

/**
 * The image the engine holds under the cell's local tag: the one just built (its digests) and of
 * the cell's platform, or why not.
 *
 * buildx writes the config digest to the iid file; the engine names the image by it on the
 * classic image store, by its manifest digest on the containerd image store. With attestations
 * buildx writes the digest of the index of the image and them: the image is then told by its
 * manifest digest (`docker image inspect --platform`).
 */
async function checkImage(
  cell: Cell,
  iid: string,
  ctx: CellContext
): Promise<{ image: TestedImage } | { failure: string; image?: TestedImage }> {
  let image = await ctx.docker.inspectImage(cell.localTag)
  const attested = ctx.attest !== undefined && iid === image.id
  const localId = image.id
  if (attested) image = await ctx.docker.inspectImage(cell.localTag, cell.platform)
  const containerd = ctx.store === 'containerd'
  const configDigest = attested ? image.configDigest : iid
  // engines before API 1.48 do not report a containerd-store image's config digest; there the
  // check after the push (the registry's manifest has this config) is the one that holds. Built
  // with attestations, the tag must hold the very index buildx wrote.
  const loaded = attested
    ? undefined
    : ctx.attest !== undefined && containerd
      ? (image.configDigest ?? image.id)
      : (image.configDigest ?? (containerd ? undefined : image.id))
  if (loaded !== undefined && loaded !== iid) {
    return {
      failure: `${cell.localTag} is ${loaded} in the engine, not the image just built (${iid})`
    }
  }
  const tested: TestedImage = {
    // the documented output: the config digest, or the manifest digest with attestations
    imageId: attested ? image.id : iid,
    ...(configDigest === undefined ? {} : { configDigest }),
    ...(containerd ? { manifestDigest: image.id } : {}),
    localId,
    size: image.size
  }
  const built = formatPlatform(image.os, image.architecture, image.variant)
  if (built !== cell.platform) {
    return {
      image: tested,
      failure: `the built image is ${built}, not ${cell.platform}: its base image has no ${cell.platform} variant`
    }
  }
  return { image: tested }
}

/** The smoke tests, each in a fresh container of the tested image; the cell's result. */
async function testImage(
  cell: Cell,
  built: CellBase & TestedImage & Pick<CellResult, 'buildSeconds' | 'slowestSteps'>,
  ctx: CellContext
): Promise<CellResult> {
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
          image: built.localId as string,
          platform: cell.platform,
          network: ctx.testNetwork,
          name,
          now: ctx.now
        })
      )
    } finally {
      ctx.running.delete(name)
    }
  }
  ctx.board.end(cell.id)
  const testSeconds = secondsSince(ctx, testStart)
  const failed = tests.filter(t => t.status !== 'passed')
  ctx.logBlock(
    `${cell.id}: smoke tests (${how(cell)}) ${failed.length === 0 ? 'passed' : `${failed.length} FAILED`} in ${testSeconds} s`,
    tests.map(describeTest).join('\n')
  )
  if (failed.length === 0) return { ...built, status: 'passed', testSeconds, tests }
  const first = failed[0]
  // retried only when QEMU's line explains every failed test
  const signature = first.qemuCrash
  const crashes: QemuCrash[] =
    cell.emulated && signature !== undefined && failed.every(t => t.qemuCrash !== undefined)
      ? [{ phase: 'test', signature }]
      : []
  return {
    ...built,
    status: 'failed',
    failure: `smoke test "${first.name}" ${first.status}: ${first.reason ?? ''}`,
    testSeconds,
    tests,
    ...(crashes.length === 0 ? {} : { qemuCrashes: crashes })
  }
}

const how = (cell: Cell): string => (cell.emulated ? 'emulated' : 'native')

const secondsSince = (ctx: CellContext, start: number): number =>
  Math.round((ctx.now() - start) / 100) / 10

function describeTest(t: TestResult): string {
  const head = `${t.status === 'passed' ? 'ok  ' : 'FAIL'} ${t.name} (${t.seconds.toFixed(1)} s)`
  if (t.status === 'passed') return head
  const output = t.output === '' ? '' : `\n${t.output.replace(/^/gm, '       | ')}`
  return `${head}: ${t.reason ?? t.status}${output}`
}
