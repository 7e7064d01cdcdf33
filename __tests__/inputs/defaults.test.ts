/**
 * Defaults are written in two places: action.yml (what the runner passes when an input is not
 * given) and the input reader (what it does with an empty input, as outside the runner). They
 * must agree: reading action.yml's defaults gives the very Config that reading nothing gives.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { readConfig } from '../../src/inputs/config.js'
import { source, TODAY } from '../helpers/inputs.js'

const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string; required?: boolean }>
}
const required = { distros: 'humble, jazzy', image: 'acme/robot' }

describe('defaults', () => {
  const fromActionYml = Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, String(spec.default ?? '')])
  )

  it('action.yml defaults give the same Config as empty inputs', () => {
    const withDefaults = readConfig(source({ ...fromActionYml, ...required }), { today: TODAY })
    const withNothing = readConfig(source(required), { today: TODAY })
    expect(withDefaults).toEqual(withNothing)
  })

  it('the comparison sees a default that differs', () => {
    const changed = { ...fromActionYml, 'retry-attempts': '5', ...required }
    expect(readConfig(source(changed), { today: TODAY })).not.toEqual(
      readConfig(source(required), { today: TODAY })
    )
  })
})
