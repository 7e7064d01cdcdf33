import { describe, expect, it } from '@jest/globals'
import { judge, testCommand } from '../../src/smoke/runner.js'
import { commandTest, type SmokeTest } from '../../src/smoke/types.js'

const cmd = (fields: Partial<Parameters<typeof commandTest>[0]> = {}) =>
  commandTest({ name: 't', source: 'smoke-tests', timeout: 5, command: 'x', ...fields })
const file = (exists: boolean): SmokeTest => ({
  kind: 'file',
  name: 'f',
  source: 'smoke-test-file',
  timeout: 5,
  path: '/a b',
  exists
})
const env = (matches?: string): SmokeTest => ({
  kind: 'env',
  name: 'e',
  source: 'built-in',
  timeout: 5,
  variable: 'ROS_DISTRO',
  ...(matches ? { matches } : {})
})
const r = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr })

describe('judge', () => {
  it.each([
    ['exit 0 passes', cmd(), r(0), undefined],
    ['wrong exit code', cmd(), r(2), 'exit code 2, expected 0'],
    ['expected non-zero exit', cmd({ exitCode: 3 }), r(3), undefined],
    ['stdout must match', cmd({ stdout: ['^hello'] }), r(0, 'say\nhello\n'), undefined],
    [
      'stdout does not match',
      cmd({ stdout: ['^hello$'] }),
      r(0, 'hello world'),
      'stdout does not match /^hello$/'
    ],
    [
      'stdout must not match',
      cmd({ stdoutNot: ['error'] }),
      r(0, 'an error'),
      'stdout matches /error/'
    ],
    ['stderr must match', cmd({ stderr: ['warn'] }), r(0, '', ''), 'stderr does not match /warn/'],
    [
      'stderr must not match',
      cmd({ stderrNot: ['Traceback'] }),
      r(0, '', 'Traceback (most recent call last)'),
      'stderr matches /Traceback/'
    ],
    ['file exists', file(true), r(0), undefined],
    ['file missing', file(true), r(1), '/a b does not exist'],
    ['file must be absent', file(false), r(0), '/a b exists'],
    ['file absent as wanted', file(false), r(1), undefined],
    ['file check could not run', file(true), r(127), 'the check could not run (exit code 127)'],
    ['env set', env(), r(0, 'humble\n'), undefined],
    ['env unset', env(), r(1), 'ROS_DISTRO is not set'],
    ['env empty', env(), r(0, '\n'), 'ROS_DISTRO is empty'],
    ['env matches', env('^humble$'), r(0, 'humble\n'), undefined],
    [
      'env does not match',
      env('^jazzy$'),
      r(0, 'humble\n'),
      'ROS_DISTRO="humble" does not match /^jazzy$/'
    ]
  ])('%s', (_name, test, result, reason) => {
    expect(judge(test, result)).toBe(reason)
  })
})

describe('testCommand', () => {
  it('passes paths and names as arguments, never as shell text', () => {
    expect(testCommand(file(true))).toEqual(['sh', '-c', 'test -e "$1"', 'sh', '/a b'])
    expect(testCommand(env())).toEqual(['sh', '-c', 'printenv "$1"', 'sh', 'ROS_DISTRO'])
    expect(testCommand(cmd({ command: 'ros2 --help' }))).toEqual(['sh', '-c', 'ros2 --help'])
  })
})
