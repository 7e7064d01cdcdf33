/** One cell: build once, check what was built, smoke-test that very image. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Cell } from '../plan/planner.js'
import type { CellCache } from './cache.js'
import type { CellResult } from '../results/results.js'
import { runTest, type TestResult } from '../smoke/runner.js'
import { formatPlatform } from '../oci/manifest.js'
import type { Docker, ImageStore } from '../tooling/docker.js'
import { lastLine, tail } from '../tooling/exec.js'

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
  /** The engine's image store: the containerd one loads OCI and names images by manifest digest */
  readonly store: ImageStore
  /** Per cell id: its build cache arguments (none when absent) */
  readonly caches: ReadonlyMap<string, CellCache>
  /** A folder for iid files */
  readonly tempDir: string
  /** Unique per run: container names */
  readonly runTag: string
  /** Prints one block of log, grouped (blocks of concurrent cells never interleave) */
  readonly logBlock: (title: string, body: string) => void
  readonly now: () => number
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
  const iidFile = path.join(ctx.tempDir, `${cell.id}.iid`)
  const build = await ctx.docker.build({
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
    cacheFrom: ctx.caches.get(cell.id)?.args.from ?? [],
    cacheTo: ctx.caches.get(cell.id)?.args.to ?? []
  })
  const buildSeconds = seconds(ctx.now() - buildStart)
  const output = [build.stdout, build.stderr].filter(s => s !== '').join('\n')
  ctx.logBlock(
    `${cell.id}: build (${run}) ${build.code === 0 ? 'done' : 'FAILED'} in ${buildSeconds} s`,
    output
  )
  if (build.code !== 0) {
    return {
      ...base,
      status: 'failed',
      failure: `build failed: ${lastLine(build.stderr || build.stdout)}`,
      buildSeconds,
      testSeconds: 0,
      tests: [],
      buildLog: tail(output)
    }
  }

  // buildx writes the config digest; the engine names the image by it on the classic image
  // store, by its manifest digest on the containerd image store. The local tag is this run's own.
  const configDigest = (await readFile(iidFile, 'utf8')).trim()
  const image = await ctx.docker.inspectImage(cell.localTag)
  // engines before API 1.48 do not report a containerd-store image's config digest; there the
  // check after the push (the registry's manifest has this config) is the one that holds
  const loaded = image.configDigest ?? (ctx.store === 'containerd' ? undefined : image.id)
  if (loaded !== undefined && loaded !== configDigest) {
    const failure = `${cell.localTag} is ${loaded} in the engine, not the image just built (${configDigest})`
    ctx.logBlock(`${cell.id}: image check FAILED`, failure)
    return { ...base, status: 'failed', failure, buildSeconds, testSeconds: 0, tests: [] }
  }
  const built = formatPlatform(image.os, image.architecture, image.variant)
  const withImage = {
    ...base,
    buildSeconds,
    imageId: configDigest,
    localId: image.id,
    size: image.size
  }
  if (built !== cell.platform) {
    const failure = `the built image is ${built}, not ${cell.platform}: its base image has no ${cell.platform} variant`
    ctx.logBlock(`${cell.id}: image check FAILED`, failure)
    return { ...withImage, status: 'failed', failure, testSeconds: 0, tests: [] }
  }

  const testStart = ctx.now()
  const tests: TestResult[] = []
  for (const [index, test] of cell.tests.entries()) {
    const name = `rma-${ctx.runTag}-${cell.id}-${index}`
    ctx.running.add(name)
    try {
      tests.push(
        await runTest(test, {
          docker: ctx.docker,
          image: image.id,
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
  const testSeconds = seconds(ctx.now() - testStart)
  const failed = tests.filter(t => t.status !== 'passed')
  ctx.logBlock(
    `${cell.id}: smoke tests (${run}) ${failed.length === 0 ? 'passed' : `${failed.length} FAILED`} in ${testSeconds} s`,
    tests.map(describeTest).join('\n')
  )
  if (failed.length > 0) {
    const first = failed[0]
    return {
      ...withImage,
      status: 'failed',
      failure: `smoke test "${first.name}" ${first.status}: ${first.reason ?? ''}`,
      testSeconds,
      tests
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
