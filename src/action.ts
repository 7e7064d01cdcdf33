/** The action's steps: run() for the main step, post() for the post step. Nothing runs on import. */
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { readConfig, type Config } from './inputs/config.js'
import { InputError } from './inputs/errors.js'
import { Inputs, Outputs, States, type InputName } from './inputs/names.js'
import { runPipeline, type CleanupState } from './pipeline/pipeline.js'
import { failedCells, type RunResults } from './report/results.js'
import { resultsSummary } from './report/summary.js'
import { Docker } from './tooling/docker.js'
import { realTools, type Tools } from './tools.js'
import { repoInfo } from './plan/labels.js'
import { planBuild, planMatrix, type Plan } from './plan/planner.js'
import { renderPlan } from './plan/render.js'
import { nativePlatform } from './ros/platforms.js'
import { planSummary } from './report/plan-summary.js'
import { errorMessage, type Runtime } from './runtime.js'
import { parseSpec } from './smoke/spec.js'
import type { SmokeTest } from './smoke/types.js'

export async function run(rt: Runtime, tools: Tools = realTools()): Promise<void> {
  try {
    // Mask the credential before anything else can print it.
    const password = rt.getInput(Inputs.Password)
    if (password !== '') rt.setSecret(password)

    const { config, warnings } = readConfig((name: InputName) => rt.getInput(name), {
      today: rt.now().toISOString().slice(0, 10)
    })
    for (const warning of warnings) rt.warning(warning)

    const hostPlatform = nativePlatform(rt.hostArch) ?? `unknown/${rt.hostArch}`
    const now = rt.now()
    const plan = planBuild(config, {
      hostPlatform,
      git: {
        eventName: rt.env.GITHUB_EVENT_NAME ?? '',
        ref: rt.env.GITHUB_REF ?? '',
        sha: rt.env.GITHUB_SHA ?? '',
        date: now.toISOString().slice(0, 10).replaceAll('-', '')
      },
      repo: repoInfo(
        rt.env,
        await readEvent(rt.env.GITHUB_EVENT_PATH),
        config.image.path.split('/').pop() ?? ''
      ),
      created: now.toISOString(),
      runId: runId(rt.env),
      fileTests: await readSpec(config)
    })
    rt.info(renderPlan(plan))
    if (plan.pushBlocked !== undefined) rt.info(`push is off: ${plan.pushBlocked}.`)
    writePlanOutputs(rt, plan)

    if (config.dryRun) {
      rt.setOutput(Outputs.Tags, plan.manifests.flatMap(m => m.tags).join('\n'))
      rt.info('Dry run: nothing was built, tested or pushed.')
      if (config.summary) await summarize(rt, planSummary(plan, warnings))
      return
    }
    const tempDir = await mkdtemp(path.join(rt.env.RUNNER_TEMP || os.tmpdir(), 'ros-multiarch-'))
    const results = await runPipeline(config, plan, {
      rt,
      exec: tools.exec,
      toolCache: tools.toolCache,
      readText: tools.readText,
      tempDir,
      dockerConfig: rt.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'),
      hostPlatform,
      runTag: runId(rt.env) || `${process.pid}`
    })
    writeResultOutputs(rt, results)
    if (config.summary) await summarize(rt, resultsSummary(plan, results))
    const failed = failedCells(results)
    for (const cell of failed) {
      if (cell.status === 'failed')
        rt.error(`${cell.id}: ${cell.failure ?? 'failed'}`, `${cell.id} failed`)
    }
    const unpublished = results.distros.filter(d => d.status === 'publish failed')
    for (const d of unpublished)
      rt.error(`${d.distro}: publishing failed: ${d.reason ?? ''}`, `${d.distro} not published`)
    if (failed.length > 0 || unpublished.length > 0) {
      const parts = []
      if (failed.length > 0) {
        parts.push(
          `${failed.length} of ${results.cells.length} cells did not pass (${failed.map(c => c.id).join(', ')})`
        )
      }
      if (unpublished.length > 0)
        parts.push(`publishing failed for ${unpublished.map(d => d.distro).join(', ')}`)
      throw new Error(`${parts.join('; ')}; see the summary for details.`)
    }
    rt.info(
      `All ${results.cells.length} cells passed in ${results.seconds} s` +
        (plan.push
          ? `; published ${results.distros.flatMap(d => d.tags).length} tags.`
          : '; push is off.')
    )
  } catch (error) {
    rt.setFailed(errorMessage(error))
  }
}

/** The post step: undo what the main step set up. Problems here are warnings, never failures. */
export async function post(rt: Runtime, tools: Tools = realTools()): Promise<void> {
  let cleanup: CleanupState = {}
  try {
    const saved = rt.getState(States.Cleanup)
    if (saved !== '') cleanup = JSON.parse(saved) as CleanupState
  } catch (error) {
    rt.warning(`Post step: unreadable state (${errorMessage(error)})`)
    return
  }
  const docker = new Docker(tools.exec)
  if (cleanup.builder !== undefined) {
    const r = await docker.run(['buildx', 'rm', cleanup.builder])
    if (r.code === 0) rt.info(`Removed builder ${cleanup.builder}`)
    else rt.warning(`Could not remove builder ${cleanup.builder}: ${r.stderr.trim()}`)
  }
  if (cleanup.logout !== undefined) {
    try {
      await docker.logout(cleanup.logout)
      rt.info(`Logged out of ${cleanup.logout}`)
    } catch (error) {
      rt.warning(errorMessage(error))
    }
  }
}

function writeResultOutputs(rt: Runtime, results: RunResults): void {
  rt.setOutput(Outputs.Results, JSON.stringify(results.cells))
  const digests: Record<string, string> = {}
  for (const d of results.distros) for (const t of d.tags) if (d.digest) digests[t] = d.digest
  for (const c of results.cells) if (c.pushed) digests[c.pushed.tag] = c.pushed.digest
  rt.setOutput(Outputs.Digests, JSON.stringify(digests))
  rt.setOutput(Outputs.Tags, results.distros.flatMap(d => d.tags).join('\n'))
}

async function readSpec(config: Config): Promise<SmokeTest[]> {
  if (config.smokeTestFile === '') return []
  let text: string
  try {
    text = await readFile(config.smokeTestFile, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new InputError(
      Inputs.SmokeTestFile,
      `cannot read ${config.smokeTestFile} (${code ?? errorMessage(error)}); give a path relative to the workspace`
    )
  }
  return parseSpec(config.smokeTestFile, text, config.smokeTimeout)
}

function runId(env: Runtime['env']): string {
  const id = env.GITHUB_RUN_ID ?? ''
  const attempt = env.GITHUB_RUN_ATTEMPT ?? ''
  return /^\d+$/.test(id) ? (/^\d+$/.test(attempt) ? `${id}-${attempt}` : id) : ''
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

function writePlanOutputs(rt: Runtime, plan: Plan): void {
  rt.setOutput(Outputs.Plan, JSON.stringify(plan))
  const metadata: Record<
    string,
    { tags: readonly string[]; labels: Record<string, string>; version: string }
  > = {}
  for (const m of plan.manifests) {
    metadata[m.distro] = { tags: m.tags, labels: Object.fromEntries(m.labels), version: m.version }
  }
  rt.setOutput(Outputs.Metadata, JSON.stringify(metadata))
  rt.setOutput(Outputs.Matrix, JSON.stringify(planMatrix(plan)))
}

async function summarize(rt: Runtime, html: string): Promise<void> {
  try {
    await rt.writeSummary(html)
  } catch (error) {
    rt.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}
