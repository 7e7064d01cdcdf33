/** The action's steps: run() for the main step, post() for the post step. Nothing runs on import. */
import { readFile } from 'node:fs/promises'
import { readConfig, type Config } from './inputs/config.js'
import { InputError } from './inputs/errors.js'
import { Inputs, Outputs, type InputName } from './inputs/names.js'
import { planBuild, planMatrix, type Plan } from './plan/planner.js'
import { renderPlan } from './plan/render.js'
import { nativePlatform } from './ros/platforms.js'
import { planSummary } from './report/plan-summary.js'
import { errorMessage, type Runtime } from './runtime.js'
import { parseSpec } from './smoke/spec.js'
import type { SmokeTest } from './smoke/types.js'

export async function run(rt: Runtime): Promise<void> {
  try {
    // Mask the credential before anything else can print it.
    const password = rt.getInput(Inputs.Password)
    if (password !== '') rt.setSecret(password)

    const { config, warnings } = readConfig((name: InputName) => rt.getInput(name), {
      today: rt.now().toISOString().slice(0, 10)
    })
    for (const warning of warnings) rt.warning(warning)

    const plan = planBuild(config, {
      hostPlatform: nativePlatform(rt.hostArch) ?? `unknown/${rt.hostArch}`,
      sha: rt.env.GITHUB_SHA ?? '',
      runId: runId(rt.env),
      fileTests: await readSpec(config)
    })
    rt.info(renderPlan(plan))
    writePlanOutputs(rt, plan)

    if (config.dryRun) {
      rt.info('Dry run: nothing was built, tested or pushed.')
      if (config.summary) await summarize(rt, planSummary(plan, warnings))
      return
    }
    throw new Error('Building is not in this version yet; set dry-run: true to see the plan.')
  } catch (error) {
    rt.setFailed(errorMessage(error))
  }
}

export async function post(_rt: Runtime): Promise<void> {
  // Nothing to clean up until the pipeline starts things.
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

function writePlanOutputs(rt: Runtime, plan: Plan): void {
  rt.setOutput(Outputs.Plan, JSON.stringify(plan))
  rt.setOutput(Outputs.Matrix, JSON.stringify(planMatrix(plan)))
  rt.setOutput(Outputs.Tags, plan.manifests.flatMap(m => m.tags).join('\n'))
}

async function summarize(rt: Runtime, html: string): Promise<void> {
  try {
    await rt.writeSummary(html)
  } catch (error) {
    rt.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
}
