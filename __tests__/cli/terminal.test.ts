import { describe, expect, it } from '@jest/globals'
import { terminalRuntime, type TerminalStream } from '../../src/terminal.js'
import { endOfRun, terminalReport } from '../../src/report/terminal.js'
import type { CellResult } from '../../src/results/results.js'

function stream(isTTY: boolean): TerminalStream & { text: () => string } {
  let text = ''
  return { isTTY, columns: 40, write: (t: string) => (text += t), text: () => text }
}

const runtime = (out: TerminalStream, verbose = false) =>
  terminalRuntime({
    inputs: new Map([['distros', 'humble']]),
    out,
    env: {},
    hostArch: 'x64',
    verbose
  })

describe('terminalRuntime', () => {
  it('gives the inputs it was handed, and no workflow commands in what it prints', async () => {
    const out = stream(false)
    const rt = runtime(out)
    expect(rt.getInput('distros')).toBe('humble')
    expect(rt.getInput('push')).toBe('')
    await rt.group('Set up', async () => rt.info('inside'))
    rt.warning('careful')
    rt.error('broke', 'humble-amd64 failed')
    rt.setFailed('1 of 2 cells did not pass')
    expect(out.text()).toBe(
      '== Set up\ninside\nwarning: careful\nerror (humble-amd64 failed): broke\nerror: 1 of 2 cells did not pass\n'
    )
    expect(out.text()).not.toContain('::')
    expect(rt.failed()).toBe('1 of 2 cells did not pass')
  })

  it('has no redrawn lines when piped: the board then logs its lines', () => {
    expect(runtime(stream(false)).status).toBeUndefined()
  })

  it('redraws running lines in place on a terminal, below what is logged, cut to its width', () => {
    const out = stream(true)
    const rt = runtime(out)
    rt.status?.('humble-amd64', 'humble-amd64: build step 1/3 FROM ros, 1s')
    rt.status?.('humble-arm64', 'humble-arm64 (QEMU): build step 2/3 RUN make all the things, 2s')
    rt.info('a log line')
    rt.status?.('humble-amd64', null)
    rt.close()
    const UP = (n: number) => `\u001b[${n}A\u001b[J`
    expect(out.text()).toBe(
      'humble-amd64: build step 1/3 FROM ros,…\n' +
        UP(1) +
        'humble-amd64: build step 1/3 FROM ros,…\nhumble-arm64 (QEMU): build step 2/3 RU…\n' +
        UP(2) +
        'a log line\n' +
        'humble-amd64: build step 1/3 FROM ros,…\nhumble-arm64 (QEMU): build step 2/3 RU…\n' +
        UP(2) +
        'humble-arm64 (QEMU): build step 2/3 RU…\n' +
        UP(1)
    )
  })

  it('masks secrets in everything it prints', () => {
    const out = stream(false)
    const rt = runtime(out)
    rt.setSecret('hunter2')
    rt.info('password is hunter2')
    rt.block('x FAILED', 'said hunter2')
    expect(out.text()).toBe('password is ***\nx FAILED\n  | said ***\n')
  })

  it('masks what it is handed to print elsewhere', () => {
    const rt = runtime(stream(false))
    rt.setSecret('hunter2')
    expect(rt.mask('password is hunter2')).toBe('password is ***')
  })

  it('prints a finished block whole when it failed or with --verbose, else its title', () => {
    const quiet = stream(false)
    runtime(quiet).block('humble-amd64: build (native) done in 1 s', '#1 DONE')
    expect(quiet.text()).toBe('humble-amd64: build (native) done in 1 s\n')
    const loud = stream(false)
    runtime(loud, true).block('humble-amd64: build (native) done in 1 s', '#1 DONE')
    expect(loud.text()).toBe('humble-amd64: build (native) done in 1 s\n  | #1 DONE\n')
  })
})

describe('terminalReport', () => {
  const cell = (over: Partial<CellResult>): CellResult => ({
    id: 'humble-amd64',
    distro: 'humble',
    platform: 'linux/amd64',
    emulated: false,
    status: 'passed',
    buildSeconds: 1.5,
    testSeconds: 2,
    tests: [],
    ...over
  })

  it('tables the cells, then what failed with its output', () => {
    const text = terminalReport([
      cell({}),
      cell({
        id: 'humble-arm64',
        platform: 'linux/arm64',
        emulated: true,
        status: 'failed',
        failure: 'smoke test "app" failed: exit code 3',
        tests: [
          {
            name: 'app',
            source: 'smoke-tests',
            status: 'failed',
            seconds: 1,
            reason: 'exit code 3',
            output: 'starting\nsegfault here\n'
          }
        ]
      })
    ] as CellResult[])
    expect(text).toBe(
      [
        '',
        'distro  linux/amd64                      linux/arm64',
        '------  -------------------------------  -------------------------------------',
        'humble  passed (build 1.5 s, tests 2 s)  FAILED (build 1.5 s, tests 2 s, QEMU)',
        '',
        'humble-arm64 FAILED: smoke test "app" failed: exit code 3',
        '  test "app" failed: exit code 3',
        '    | starting',
        '    | segfault here'
      ].join('\n')
    )
  })
})

describe('endOfRun', () => {
  const secret = 'hun"ter2'
  const results = [
    {
      id: 'humble-amd64',
      distro: 'humble',
      platform: 'linux/amd64',
      emulated: false,
      status: 'failed',
      failure: `smoke test "login" failed: stdout matches /${secret}/`,
      buildSeconds: 1,
      testSeconds: 1,
      tests: [
        {
          name: 'login',
          source: 'smoke-tests',
          status: 'failed',
          seconds: 1,
          reason: `stdout matches /${secret}/`,
          output: `logging in with ${secret}\nrefused`
        }
      ],
      failedStep: { step: 'RUN echo', tail: [`echo ${secret}`] }
    }
  ]
  const outputs = new Map([
    ['results', JSON.stringify(results)],
    ['tags', `acme/robot:${secret}`]
  ])

  it('masks the secrets a test or a build printed in the report, the tags and the JSON', () => {
    const rt = runtime(stream(false))
    rt.setSecret(secret)
    const end = endOfRun(outputs, rt.mask)
    expect(end.report).not.toContain('hun')
    expect(end.report).toContain('    | logging in with ***')
    expect(end.report).toContain('Published:\n  acme/robot:***\n')
    expect(end.json).not.toContain('hun')
    const cells = JSON.parse(end.json) as CellResult[]
    expect(cells[0].tests[0].output).toBe('logging in with ***\nrefused')
    expect(cells[0].failedStep?.tail).toEqual(['echo ***'])
  })

  it('prints the results as they are when nothing is secret, and no report without results', () => {
    const end = endOfRun(outputs, text => text)
    expect(JSON.parse(end.json)).toEqual(results)
    expect(end.report).toBe(
      `${terminalReport(results as CellResult[])}\n\nPublished:\n  acme/robot:${secret}\n`
    )
    expect(endOfRun(new Map(), text => text)).toEqual({ report: '', json: '[]\n' })
  })
})
