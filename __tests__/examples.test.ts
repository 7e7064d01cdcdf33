import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { planMatrix } from '../src/plan/planner.js'
import { parseSpec } from '../src/smoke/spec.js'
import { planOf } from './helpers/inputs.js'

interface Step {
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  jobs: Record<string, { steps: Step[]; 'runs-on': string; strategy?: unknown }>
}

const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }
const workflow = parse(readFileSync('examples/workflows/scale-out.yml', 'utf8')) as Workflow

describe('examples/workflows/scale-out.yml', () => {
  const steps = Object.entries(workflow.jobs).flatMap(([job, j]) =>
    j.steps.filter(s => s.uses?.includes('ros-multiarch-action')).map(s => [job, s] as const)
  )

  it('has a plan, a build and a merge job, each using the action once', () => {
    expect(steps.map(([job]) => job)).toEqual(['plan', 'build', 'merge'])
    expect(steps.map(([, s]) => s.with?.mode ?? s.with?.['dry-run'])).toEqual([
      true,
      'build',
      'merge'
    ])
  })

  it('uses only inputs the action has', () => {
    for (const [, step] of steps) {
      for (const name of Object.keys(step.with ?? {}))
        expect(Object.keys(action.inputs)).toContain(name)
    }
  })

  it('reads only keys the matrix output has', () => {
    const text = readFileSync('examples/workflows/scale-out.yml', 'utf8')
    const used = [...text.matchAll(/matrix\.(\w+)/g)].map(m => m[1])
    const { plan } = planOf({ distros: 'humble', image: 'acme/robot' })
    const keys = Object.keys(planMatrix(plan).include[0])
    expect(used.length).toBeGreaterThan(0)
    for (const key of used) expect(keys).toContain(key)
  })
})

describe('the example projects', () => {
  it.each(['examples/ros-app', 'examples/ros2-workspace'])(
    '%s: its smoke.yaml parses as the action parses it, its tests named uniquely',
    dir => {
      const tests = parseSpec(`${dir}/smoke.yaml`, readFileSync(`${dir}/smoke.yaml`, 'utf8'), 60)
      expect(tests.length).toBeGreaterThanOrEqual(4)
      expect(new Set(tests.map(t => t.name)).size).toBe(tests.length)
    }
  )
})
