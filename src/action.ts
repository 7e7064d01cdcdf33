/** The main step: run(). The post step is post() in post.ts. Nothing runs on import. */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { readConfig, type Config } from './inputs/config.js'
import { InputError } from './inputs/errors.js'
import { Inputs, Outputs, SECRET_INPUTS, type InputName } from './inputs/names.js'
import { registryAuthSecrets } from './inputs/registry-auth.js'
import { retarget } from './oci/reference.js'
import { realPathInside } from './inputs/workspace.js'
import { makeRunTag, tempDirPrefix, type CleanupState } from './pipeline/cleanup.js'
import { Cancelled } from './pipeline/deps.js'
import { runPipeline } from './pipeline/pipeline.js'
import { saveCleanup } from './state.js'
import { failedCells, type CellResult, type RunResults } from './results/results.js'
import { resultsSummary } from './report/summary.js'
import { realTools, type Tools } from './tools.js'
import { repoInfo } from './plan/labels.js'
import { planBuild, planMatrix, type Plan } from './plan/planner.js'
import { phasesOf, secretsOf, settingsOf } from './plan/settings.js'
import { renderPlan } from './plan/render.js'
import { nativePlatform } from './ros/platforms.js'
import { planSummary } from './report/plan-summary.js'
import type { Runtime } from './pipeline/runtime.js'
import { errorMessage } from './text/text.js'
import { parseSpec } from './smoke/spec.js'
import type { SmokeTest } from './smoke/types.js'

/** A secret and, for a multi-line one, each of its lines of some length. Pure. */
export function secretParts(value: string, name = ''): string[] {
  if (value === '') return []
  if (name === Inputs.RegistryAuth) return [value, ...registryAuthSecrets(value)]
  const lines = value
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l.length >= 8 && !/^-----(BEGIN|END) /.test(l))
  return [value, ...(lines.length > 1 ? lines : [])]
}

export async function run(rt: Runtime, tools: Tools = realTools()): Promise<void> {
  try {
    // Mask the credentials before anything else can print them: a key's every line too (the
    // runner masks a multi-line secret line by line only when each line is registered)
    for (const name of SECRET_INPUTS) {
      for (const secret of secretParts(rt.getInput(name), name)) rt.setSecret(secret)
    }
    const workspace = rt.env.GITHUB_WORKSPACE || process.cwd()
    const { config, warnings } = readConfig((name: InputName) => rt.getInput(name), {
      today: rt.now().toISOString().slice(0, 10),
      workspace
    })
    for (const warning of warnings) rt.warning(warning)
    // Names this run gives to containers, builders and local tags: unique even when several jobs
    // or steps of one workflow run share a Docker engine.
    const runTag = makeRunTag(rt.env, randomBytes(3).toString('hex'))
    const plan = await makePlan(rt, config, { workspace, runTag })
    if (!(await goesOn(rt, config, plan, warnings))) return
    const results = await runPlan(rt, tools, { config, plan, workspace, runTag })
    writeResultOutputs(rt, results)
    if (config.summary) await summarize(rt, resultsSummary(plan, results))
    report(rt, plan, results, tools.signal)
  } catch (error) {
    // cancelled before the pipeline could say so itself: say it was cancelled, not what broke
    const signal = tools.signal
    rt.setFailed(
      signal?.aborted && !(error instanceof Cancelled)
        ? Cancelled.before(signal, 'the start').message
        : errorMessage(error)
    )
  }
}

/** The plan of this run, from the inputs and the workflow's context; printed and output. */
async function makePlan(
  rt: Runtime,
  config: Config,
  at: { readonly workspace: string; readonly runTag: string }
): Promise<Plan> {
  const now = rt.now()
  const event = await readEvent(rt.env.GITHUB_EVENT_PATH)
  const prNumber = (event as { pull_request?: { number?: unknown } } | null)?.pull_request?.number
  const plan = planBuild(config, {
    hostPlatform: hostPlatformOf(rt),
    git: {
      eventName: rt.env.GITHUB_EVENT_NAME ?? '',
      ref: rt.env.GITHUB_REF ?? '',
      sha: rt.env.GITHUB_SHA ?? '',
      date: now.toISOString().slice(0, 10).replaceAll('-', ''),
      ...(typeof prNumber === 'number' ? { prNumber: String(prNumber) } : {})
    },
    repo: repoInfo(rt.env, event, config.image.path.split('/').pop() ?? ''),
    created: now.toISOString(),
    runId: at.runTag,
    workflowRun: rt.env.GITHUB_RUN_ID ?? '',
    fileTests: await readSpec(config, at.workspace)
  })
  rt.info(renderPlan(plan))
  if (plan.pushBlocked !== undefined) rt.info(`push is off: ${plan.pushBlocked}.`)
  writePlanOutputs(rt, plan, config)
  return plan
}

const hostPlatformOf = (rt: Runtime): string =>
  nativePlatform(rt.hostArch) ?? `unknown/${rt.hostArch}`

/** Whether the run goes on past its plan: not a dry run, nor a merge with nothing to merge. */
async function goesOn(
  rt: Runtime,
  config: Config,
  plan: Plan,
  warnings: readonly string[]
): Promise<boolean> {
  if (config.dryRun) {
    rt.setOutput(Outputs.Tags, allTags(plan).join('\n'))
    rt.info('Dry run: nothing was built, tested or pushed.')
    if (config.summary) await summarize(rt, planSummary(plan, warnings))
    return false
  }
  if (!phasesOf(plan.mode).build && !plan.push) {
    rt.info(
      `mode merge: push is off (${plan.pushBlocked ?? 'push: false'}), so no slice was staged and nothing is merged.`
    )
    return false
  }
  return true
}

/** The pipeline over the plan: the run's folder and clean-up state, its settings, the phases. */
async function runPlan(
  rt: Runtime,
  tools: Tools,
  r: { readonly config: Config; readonly plan: Plan; workspace: string; runTag: string }
): Promise<RunResults> {
  const { config, plan, runTag } = r
  // a merge builds nothing: its job need not have the context; a build reads what was checked
  const paths = phasesOf(plan.mode).build
    ? await buildPaths(config, r.workspace)
    : { context: config.context, file: config.file }
  const tempDir = await mkdtemp(path.join(rt.env.RUNNER_TEMP || os.tmpdir(), tempDirPrefix(runTag)))
  // local tags are added as builds load them: pushes and staging go through the registry
  // client and tag nothing in the engine
  const cleanup: CleanupState = { runTag, tempDir }
  saveCleanup(rt, cleanup)
  return runPipeline(
    { plan, settings: settingsOf(config, paths), secrets: secretsOf(config) },
    {
      rt,
      exec: tools.exec,
      toolCache: tools.toolCache,
      readText: tools.readText,
      cacheService: tools.cache,
      tempDir,
      dockerConfig: rt.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'),
      hostPlatform: hostPlatformOf(rt),
      runTag,
      cleanupExec: tools.cleanupExec,
      ...(tools.signal === undefined ? {} : { signal: tools.signal }),
      cleanup,
      saveCleanup: () => saveCleanup(rt, cleanup)
    }
  )
}

/** Each failure as an error annotation; the step fails when a cell or a distro did. */
function report(
  rt: Runtime,
  plan: Plan,
  results: RunResults,
  signal: AbortSignal | undefined
): void {
  const failed = failedCells(results)
  for (const cell of failed) {
    if (cell.status === 'failed') rt.error(failureAnnotation(cell), `${cell.id} failed`)
  }
  const unpublished = results.distros.filter(d => d.status === 'publish failed')
  for (const d of unpublished)
    rt.error(`${d.distro}: publishing failed: ${d.reason ?? ''}`, `${d.distro} not published`)
  if (signal?.aborted) throw cancelledAfter(signal, results)
  if (failed.length > 0 || unpublished.length > 0) {
    const parts = []
    if (failed.length > 0) {
      parts.push(
        `${failed.length} of ${results.cells.length} cells did not pass (${failed.map(c => c.id).join(', ')})`
      )
    }
    if (unpublished.length > 0)
      parts.push(`publishing failed for ${unpublished.map(d => d.distro).join(', ')}`)
    // a terminal (the CLI) has no job summary: its report follows
    const where = rt.env.GITHUB_STEP_SUMMARY ? 'the summary' : 'the report below'
    throw new Error(`${parts.join('; ')}; see ${where} for details.`)
  }
  const reused = results.cells.filter(c => c.status === 'unchanged').length
  const tagCount = results.distros.flatMap(d => d.tags).length
  rt.info(
    `All ${results.cells.length} cells passed` +
      (reused > 0 ? ` (${reused} unchanged since their last publish: reused)` : '') +
      ` in ${results.seconds} s` +
      (!plan.push
        ? '; push is off.'
        : phasesOf(plan.mode).outcome === 'stage'
          ? `; staged ${tagCount} images for the merge job.`
          : `; published ${tagCount} tags.`)
  )
}

/** A run cancelled once its cells were running: what did not finish, and what was published. */
export function cancelledAfter(signal: AbortSignal, results: RunResults): Cancelled {
  const unfinished = failedCells(results).length
  const out = results.distros
    .filter(d => d.status === 'published' || d.status === 'staged')
    .map(d => d.distro)
  return new Cancelled(
    `The run was ${errorMessage(signal.reason)}: ${unfinished} of ${results.cells.length} cells did not finish; ` +
      (out.length === 0
        ? 'nothing was published.'
        : `published before that: ${out.join(', ')}; nothing more.`)
  )
}

function writeResultOutputs(rt: Runtime, results: RunResults): void {
  rt.setOutput(Outputs.Results, JSON.stringify(results.cells))
  const digests: Record<string, string> = {}
  for (const d of results.distros) for (const t of d.tags) if (d.digest) digests[t] = d.digest
  for (const c of results.cells) {
    if (c.pushed === undefined) continue
    for (const tag of [c.pushed.tag, ...(c.pushed.mirrorTags ?? [])]) digests[tag] = c.pushed.digest
  }
  rt.setOutput(Outputs.Digests, JSON.stringify(digests))
  const published = results.distros.filter(d => d.status === 'published')
  rt.setOutput(Outputs.Tags, published.flatMap(d => d.tags).join('\n'))
}

async function readSpec(config: Config, workspace: string): Promise<SmokeTest[]> {
  if (config.smokeTestFile === '') return []
  // a link must not lead out of the workspace either
  const real = await realPathInside(Inputs.SmokeTestFile, config.smokeTestFile, workspace, 'file')
  let text: string
  try {
    text = await readFile(real, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new InputError(
      Inputs.SmokeTestFile,
      `cannot read ${config.smokeTestFile} (${code ?? errorMessage(error)}); give a file inside the workspace`
    )
  }
  return parseSpec(config.smokeTestFile, text, config.smokeTimeout)
}

/** Before a build reads them: the context and the Dockerfile, where they really lead. */
async function buildPaths(
  config: Config,
  workspace: string
): Promise<{ context: string; file: string }> {
  return {
    context: await realPathInside(Inputs.Context, config.context, workspace, 'folder'),
    file: await realPathInside(Inputs.File, config.file, workspace, 'file')
  }
}

/** The workflow event's payload, or null outside a workflow. */
async function readEvent(file: string | undefined): Promise<unknown> {
  if (!file) return null
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown
  } catch {
    return null
  }
}

/** The tags of a distro (none: of every distro) in every registry `image` names. Pure. */
function allTags(plan: Plan, only?: Plan['manifests'][number]): string[] {
  const names = [plan.image, ...plan.mirrors]
  const manifests = only === undefined ? plan.manifests : [only]
  return names.flatMap(n => manifests.flatMap(m => m.tags.map(t => retarget(t, plan.image, n))))
}

function writePlanOutputs(rt: Runtime, plan: Plan, config: Config): void {
  rt.setOutput(Outputs.Plan, JSON.stringify(plan))
  const metadata: Record<
    string,
    { tags: readonly string[]; labels: Record<string, string>; version: string }
  > = {}
  for (const m of plan.manifests) {
    metadata[m.distro] = {
      tags: allTags(plan, m),
      labels: Object.fromEntries(m.labels),
      version: m.version
    }
  }
  rt.setOutput(Outputs.Metadata, JSON.stringify(metadata))
  rt.setOutput(Outputs.Matrix, JSON.stringify(planMatrix(plan, config.runners)))
}

async function summarize(rt: Runtime, html: string): Promise<void> {
  try {
    await rt.writeSummary(html)
  } catch (error) {
    rt.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}

/** A failed cell's error annotation: what failed and, for a build, its failing step's last lines. */
export function failureAnnotation(cell: CellResult): string {
  const head = `${cell.id}: ${cell.failure ?? 'failed'}`
  const step = cell.failedStep
  if (step === undefined || step.tail.length === 0) return head
  return `${head}\nLast lines of ${step.step}:\n${step.tail.join('\n')}`
}
