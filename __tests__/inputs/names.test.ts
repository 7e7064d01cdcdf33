import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { Inputs, Outputs } from '../../src/inputs/names.js'

const action = parse(readFileSync('action.yml', 'utf8'))
const readme = readFileSync('README.md', 'utf8')

describe('the names table', () => {
  it('matches the inputs of action.yml, each with a description and a default', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort())
    for (const [name, spec] of Object.entries(action.inputs) as [
      string,
      Record<string, unknown>
    ][]) {
      expect([name, typeof spec.description]).toEqual([name, 'string'])
      if (spec.required !== true) expect([name, typeof spec.default]).toEqual([name, 'string'])
    }
  })

  it('matches the outputs of action.yml', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort())
  })

  it('every input and output is in the README tables', () => {
    for (const name of [...Object.values(Inputs), ...Object.values(Outputs)]) {
      expect([name, readme.includes(`| \`${name}\` |`)]).toEqual([name, true])
    }
  })

  it('runs on node24 from dist/, main and post', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js' })
  })
})
