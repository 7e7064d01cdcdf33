/** An input source for readConfig from a plain object, as the runner would hand inputs over. */
import { readConfig, type Config, type InputSource } from '../../src/inputs/config.js'
import { planBuild, type Plan, type PlanContext } from '../../src/plan/planner.js'

export function source(values: Record<string, string>): InputSource {
  return name => values[name] ?? ''
}

export const TODAY = '2026-11-23'

/** Config and plan of a local run on an amd64 runner, from plain input values. */
export function planOf(
  values: Record<string, string>,
  context: Partial<PlanContext> = {}
): { config: Config; plan: Plan } {
  const { config } = readConfig(source(values), { today: TODAY })
  const plan = planBuild(config, {
    hostPlatform: 'linux/amd64',
    git: { eventName: '', ref: '', sha: '', date: '20261124' },
    repo: { source: '', title: 'robot', description: '', licenses: '' },
    created: '',
    runId: '',
    workflowRun: '',
    fileTests: [],
    ...context
  })
  return { config, plan }
}
