import { describe, expect, it } from '@jest/globals'
import {
  BASE_DIGEST_LABEL,
  fingerprint,
  fingerprintLabels,
  INPUTS_HASH_LABEL,
  mismatch,
  type FingerprintInputs
} from '../../src/plan/fingerprint.js'
import type { SmokeTest } from '../../src/smoke/types.js'

const test1: SmokeTest = {
  kind: 'command',
  name: 'hello',
  source: 'smoke-tests',
  timeout: 60,
  command: 'true',
  exitCode: 0,
  stdout: [],
  stdoutNot: [],
  stderr: [],
  stderrNot: []
} as unknown as SmokeTest

const cell = {
  platform: 'linux/arm64',
  buildArgs: [
    ['BASE_IMAGE', 'ros:humble-ros-base'],
    ['ROS_DISTRO', 'humble']
  ] as const,
  tests: [test1]
}
const bases = [{ image: 'ros:humble-ros-base', digest: 'sha256:aaa' }]
const inputs: FingerprintInputs = {
  dockerfile: 'FROM ${BASE_IMAGE}\n',
  contextHash: 'sha256:ccc',
  userLabels: [['vendor', 'Acme']],
  network: 'default',
  smokeNetwork: 'none'
}

describe('fingerprint', () => {
  const fp = fingerprint(cell, bases, inputs)

  it('is the same for the same inputs', () => {
    expect(fingerprint(cell, bases, inputs)).toEqual(fp)
    expect(fp.baseDigest).toBe('ros:humble-ros-base@sha256:aaa')
    expect(fp.inputsHash).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it.each([
    ['the platform', { ...cell, platform: 'linux/amd64' }, inputs],
    ['a build arg', { ...cell, buildArgs: [['ROS_DISTRO', 'jazzy']] as const }, inputs],
    ['a smoke test', { ...cell, tests: [{ ...test1, command: 'false' } as SmokeTest] }, inputs],
    ['the Dockerfile', cell, { ...inputs, dockerfile: 'FROM x\n' }],
    ['the context', cell, { ...inputs, contextHash: 'sha256:ddd' }],
    ['a user label', cell, { ...inputs, userLabels: [['vendor', 'Other']] as const }],
    ['the build network', cell, { ...inputs, network: 'host' }],
    ['the smoke test network', cell, { ...inputs, smokeNetwork: 'host' }]
  ])('changes with %s', (_what, c, i) => {
    expect(fingerprint(c, bases, i).inputsHash).not.toBe(fp.inputsHash)
  })

  it('records a new base digest apart from the inputs', () => {
    const moved = fingerprint(cell, [{ ...bases[0], digest: 'sha256:bbb' }], inputs)
    expect(moved.inputsHash).toBe(fp.inputsHash)
    expect(moved.baseDigest).not.toBe(fp.baseDigest)
  })

  it('says why published labels do not match', () => {
    const labels = Object.fromEntries(fingerprintLabels(fp))
    expect(mismatch(labels, fp)).toBeNull()
    expect(mismatch({}, fp)).toBe('it has no build fingerprint labels')
    expect(mismatch({ ...labels, [BASE_DIGEST_LABEL]: 'x@sha256:0' }, fp)).toBe(
      'its base image changed'
    )
    expect(mismatch({ ...labels, [INPUTS_HASH_LABEL]: 'sha256:0' }, fp)).toBe(
      'its build inputs changed'
    )
  })
})
