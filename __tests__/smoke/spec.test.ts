import { describe, expect, it } from '@jest/globals'
import { parseSpec } from '../../src/smoke/spec.js'

const parse = (text: string) => parseSpec('smoke.yaml', text, 120)

describe('parseSpec', () => {
  it('reads command, file and env tests with their defaults', () => {
    const tests = parse(`
tests:
  - name: app says hello
    command: ros_app_hello
    stdout: ["hello from"]
    stdout-not: error
    timeout: 30
  - command: |
      set -e
      test -d /opt/ros
    exit-code: 0
  - file: /usr/local/bin/ros_app_hello
  - file: /tmp/core
    exists: false
  - env: ROS_DISTRO
    matches: "^(humble|jazzy)$"
  - env: HOME
`)
    expect(tests).toEqual([
      {
        kind: 'command',
        name: 'app says hello',
        source: 'smoke-test-file',
        timeout: 30,
        command: 'ros_app_hello',
        exitCode: 0,
        stdout: ['hello from'],
        stdoutNot: ['error'],
        stderr: [],
        stderrNot: []
      },
      {
        kind: 'command',
        name: 'set -e',
        source: 'smoke-test-file',
        timeout: 120,
        command: 'set -e\ntest -d /opt/ros\n',
        exitCode: 0,
        stdout: [],
        stdoutNot: [],
        stderr: [],
        stderrNot: []
      },
      {
        kind: 'file',
        name: '/usr/local/bin/ros_app_hello exists',
        source: 'smoke-test-file',
        timeout: 120,
        path: '/usr/local/bin/ros_app_hello',
        exists: true
      },
      {
        kind: 'file',
        name: '/tmp/core is absent',
        source: 'smoke-test-file',
        timeout: 120,
        path: '/tmp/core',
        exists: false
      },
      {
        kind: 'env',
        name: 'ROS_DISTRO is set',
        source: 'smoke-test-file',
        timeout: 120,
        variable: 'ROS_DISTRO',
        matches: '^(humble|jazzy)$'
      },
      {
        kind: 'env',
        name: 'HOME is set',
        source: 'smoke-test-file',
        timeout: 120,
        variable: 'HOME'
      }
    ])
  })

  it.each([
    [
      'not yaml',
      'tests: [\n',
      'Input "smoke-test-file": smoke.yaml:2: Flow sequence in block collection must be sufficiently indented and end with a ]'
    ],
    [
      'a list at the top',
      '- command: true\n',
      'Input "smoke-test-file": smoke.yaml:1: must be a mapping with a "tests" list'
    ],
    [
      'an unknown top key',
      'tests: []\nversion: 2\n',
      'Input "smoke-test-file": smoke.yaml:2: unknown key "version"; the file has one key: tests'
    ],
    [
      'tests not a list',
      'tests: {command: x}\n',
      'Input "smoke-test-file": smoke.yaml:1: "tests" must be a list of tests'
    ],
    [
      'no tests',
      'tests: []\n',
      'Input "smoke-test-file": smoke.yaml:1: "tests" is empty; add a test or remove smoke-test-file'
    ],
    [
      'a test that is a string',
      'tests:\n  - true\n',
      'Input "smoke-test-file": smoke.yaml:2: test 1 must be a mapping'
    ],
    [
      'two kinds in one test',
      'tests:\n  - command: x\n    file: /a\n',
      'Input "smoke-test-file": smoke.yaml:2: test 1 must have exactly one of command, file or env'
    ],
    [
      'no kind',
      'tests:\n  - name: x\n',
      'Input "smoke-test-file": smoke.yaml:2: test 1 must have exactly one of command, file or env'
    ],
    [
      'misspelt key',
      'tests:\n  - command: x\n    stdot: [a]\n',
      'Input "smoke-test-file": smoke.yaml:3: unknown key "stdot" in a command test; use name, command, exit-code, stdout, stdout-not, stderr, stderr-not, timeout'
    ],
    [
      'exit code as text',
      'tests:\n  - command: x\n    exit-code: zero\n',
      'Input "smoke-test-file": smoke.yaml:3: "exit-code" must be a whole number'
    ],
    [
      'exit code too big',
      'tests:\n  - command: x\n    exit-code: 256\n',
      'Input "smoke-test-file": smoke.yaml:3: "exit-code" must be from 0 to 255'
    ],
    [
      'bad regex',
      'tests:\n  - command: x\n    stdout: ["("]\n',
      'Input "smoke-test-file": smoke.yaml:3: "stdout": ( is not a valid regular expression (Invalid regular expression: /(/: Unterminated group)'
    ],
    [
      'number as a pattern',
      'tests:\n  - command: x\n    stderr-not: [1]\n',
      'Input "smoke-test-file": smoke.yaml:3: "stderr-not" must hold strings (regular expressions)'
    ],
    [
      'empty command',
      'tests:\n  - command: ""\n',
      'Input "smoke-test-file": smoke.yaml:2: "command" must be a non-empty string'
    ],
    [
      'exists as text',
      'tests:\n  - file: /a\n    exists: "yes"\n',
      'Input "smoke-test-file": smoke.yaml:3: "exists" must be true or false'
    ],
    [
      'bad env name',
      'tests:\n  - env: ROS-DISTRO\n',
      'Input "smoke-test-file": smoke.yaml:2: "env": ROS-DISTRO is not an environment variable name'
    ],
    [
      'duplicate key',
      'tests:\n  - command: a\n    command: b\n',
      'Input "smoke-test-file": smoke.yaml:3: Map keys must be unique'
    ],
    [
      'a YAML alias where a string goes',
      'tests:\n  - name: &n hello\n    command: *n\n',
      'Input "smoke-test-file": smoke.yaml:3: YAML aliases are not supported (*n); write the value out'
    ],
    [
      'a YAML alias before any other mistake in the file',
      'x: &c echo\ntests:\n  - command: *c\n',
      'Input "smoke-test-file": smoke.yaml:3: YAML aliases are not supported (*c); write the value out'
    ]
  ])('rejects %s', (_name, text, message) => {
    expect(() => parse(text)).toThrow(message)
  })
})
