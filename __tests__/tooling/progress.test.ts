/**
 * BuildKit's rawjson progress, from real captures: buildx 0.13 (indented objects) and 0.29 (one
 * object per line, then plain error text) building the same two-stage Dockerfile for arm64 under
 * QEMU, whose last step kills itself with SIGSEGV (QEMU prints its crash line).
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { BuildProgress, MAX_LINES, parseStep, stepLabel } from '../../src/tooling/progress.js'
import { ellipsis } from '../../src/text/text.js'
import { qemuCrash } from '../../src/tooling/qemu.js'

const capture = (name: string): string =>
  readFileSync(`__tests__/fixtures/progress/${name}`, 'utf8')
const CAPTURES = ['buildx-0.13-qemu-crash.txt', 'buildx-0.29-qemu-crash.txt']
const SIGNATURE = 'qemu: uncaught target signal 11 (Segmentation fault) - core dumped'

/** A rawjson object as buildx 0.29 prints it: one per line. */
const obj = (o: unknown): string => `${JSON.stringify(o)}\n`
const b64 = (s: string): string => Buffer.from(s).toString('base64')

describe('parseStep', () => {
  it.each([
    ['[2/5] RUN make', { index: 2, total: 5, instruction: 'RUN make' }, '2/5'],
    [
      '[builder 3/9] RUN colcon build  --merge-install',
      { stage: 'builder', index: 3, total: 9, instruction: 'RUN colcon build --merge-install' },
      'builder 3/9'
    ],
    [
      '[stage-1 1/1] RUN a\n  && b',
      { stage: 'stage-1', index: 1, total: 1, instruction: 'RUN a && b' },
      'stage-1 1/1'
    ]
  ])('%j', (name, step, label) => {
    expect(parseStep(name)).toEqual(step)
    expect(stepLabel(step)).toBe(label)
  })

  it.each(['[internal] load build definition from Dockerfile', 'exporting to image', ''])(
    '%j is not a Dockerfile step',
    name => expect(parseStep(name)).toBeUndefined()
  )
})

describe('BuildProgress on real captures', () => {
  it.each(CAPTURES)('%s: steps, times, the failure and the plain log', name => {
    const p = new BuildProgress()
    p.feed(capture(name))
    const steps = p.stepTimes()
    expect(steps.map(s => s.step)).toEqual(['base 1/2', 'base 2/2', 'stage-1 1/1'])
    expect(steps[2].instruction).toBe("RUN uname -m; sh -c 'kill -SEGV $$' && echo survived")
    const failure = p.failure()
    expect(failure?.step).toMatch(/^\[stage-1 1\/1\] RUN uname -m/)
    expect(failure?.error).toMatch(/exit code: 139/)
    expect(failure?.output).toContain('aarch64')
    expect(qemuCrash(failure?.output ?? [])).toBe(SIGNATURE)
    const log = p.render()
    expect(log).toMatch(/^#\d+ \[stage-1 1\/1\] RUN uname -m/m)
    expect(log).toMatch(/^#\d+ \d+\.\d{3} aarch64$/m)
    expect(log).toMatch(/^#\d+ ERROR: .*exit code: 139/m)
    // buildx's own closing line, plain text after the objects
    expect(log.trimEnd().split('\n').at(-1)).toMatch(/^ERROR: failed to (build|solve)/)
    expect(log).not.toMatch(/"vertexes"|"statuses"/)
  })

  it.each(CAPTURES)('%s: the same result fed in pieces of any size', name => {
    const text = capture(name)
    const whole = new BuildProgress()
    whole.feed(text)
    for (const size of [1, 7, 100, 4096]) {
      const p = new BuildProgress()
      for (let i = 0; i < text.length; i += size) p.feed(text.slice(i, i + size))
      expect(p.render()).toBe(whole.render())
      expect(p.stepTimes()).toEqual(whole.stepTimes())
    }
  })
})

describe('BuildProgress', () => {
  const vertex = (digest: string, name: string, more: Record<string, unknown> = {}): string =>
    obj({ vertexes: [{ digest, name, ...more }] })

  it('says when the running step changes, and which it is', () => {
    const p = new BuildProgress()
    expect(
      p.feed(vertex('a', '[internal] load metadata', { started: '2026-01-01T00:00:00Z' }))
    ).toBe(false)
    expect(p.feed(vertex('b', '[1/3] FROM x', { started: '2026-01-01T00:00:01Z' }))).toBe(true)
    expect(
      p.feed(
        vertex('b', '[1/3] FROM x', {
          started: '2026-01-01T00:00:01Z',
          completed: '2026-01-01T00:00:02Z'
        })
      )
    ).toBe(false)
    expect(p.current()).toBeUndefined()
    // started again (BuildKit resolves a FROM, then pulls it): the same step, not a new one
    expect(p.feed(vertex('b', '[1/3] FROM x', { started: '2026-01-01T00:00:02Z' }))).toBe(false)
    p.feed(
      vertex('b', '[1/3] FROM x', {
        started: '2026-01-01T00:00:02Z',
        completed: '2026-01-01T00:00:02Z'
      })
    )
    expect(p.feed(vertex('c', '[2/3] RUN sleep 100', { started: '2026-01-01T00:00:02Z' }))).toBe(
      true
    )
    expect(p.current()?.step).toMatchObject({ index: 2, total: 3, instruction: 'RUN sleep 100' })
    // a log line is no new step
    expect(
      p.feed(
        obj({
          logs: [{ vertex: 'c', stream: 1, data: b64('tick\n'), timestamp: '2026-01-01T00:00:03Z' }]
        })
      )
    ).toBe(false)
    p.feed(
      vertex('c', '[2/3] RUN sleep 100', {
        started: '2026-01-01T00:00:02Z',
        completed: '2026-01-01T00:01:42Z'
      })
    )
    p.feed(
      vertex('d', '[3/3] COPY a b', {
        cached: true,
        started: '2026-01-01T00:01:42Z',
        completed: '2026-01-01T00:01:42Z'
      })
    )
    expect(p.stepTimes()).toEqual([
      { step: '1/3', instruction: 'FROM x', seconds: 1, cached: false },
      { step: '2/3', instruction: 'RUN sleep 100', seconds: 100, cached: false },
      { step: '3/3', instruction: 'COPY a b', seconds: 0, cached: true }
    ])
    expect(p.render()).toContain('#3 1.000 tick\n#3 DONE 100.0s')
    expect(p.render()).toContain('#4 [3/3] COPY a b\n#4 CACHED')
  })

  it('joins a log line split over chunks, and keeps lines of two streams apart', () => {
    const p = new BuildProgress()
    p.feed(vertex('c', '[1/1] RUN x', { started: '2026-01-01T00:00:00Z', error: 'exit code: 1' }))
    const log = (stream: number, data: string): string =>
      obj({ logs: [{ vertex: 'c', stream, data: b64(data), timestamp: '2026-01-01T00:00:01Z' }] })
    p.feed(
      log(1, 'hel') +
        log(2, 'qemu: uncaught target signal 4 (Illegal instruction) - core dumped\n') +
        log(1, 'lo\nwor')
    )
    // in the order lines were finished
    expect(p.failure()?.output).toEqual([
      'qemu: uncaught target signal 4 (Illegal instruction) - core dumped',
      'hello',
      'wor'
    ])
  })

  it('keeps plain text that is not an object, also when it holds braces', () => {
    const p = new BuildProgress()
    p.feed('Dockerfile:3\n   3 | >>> RUN echo ${X} {\nERROR: failed to solve\n{not json}\n')
    expect(p.render()).toBe(
      'Dockerfile:3\n   3 | >>> RUN echo ${X} {\nERROR: failed to solve\n{not json}'
    )
  })

  it('takes braces and escaped quotes inside strings', () => {
    const p = new BuildProgress()
    p.feed(vertex('e', '[1/1] RUN echo "}{" \\" {', { started: '2026-01-01T00:00:00Z' }))
    expect(p.current()?.step?.instruction).toBe('RUN echo "}{" \\" {')
  })

  it('keeps a line that opened a brace and never closed it', () => {
    const p = new BuildProgress()
    p.feed('{ unbalanced\nERROR: failed to solve\n')
    expect(p.render()).toBe('{ unbalanced\nERROR: failed to solve')
  })

  it('decodes a character split between two log messages', () => {
    const p = new BuildProgress()
    p.feed(vertex('u', '[1/1] RUN x', { started: '2026-01-01T00:00:00Z', error: 'exit code: 1' }))
    const bytes = Buffer.from('grüße\n')
    const part = (b: Buffer): string =>
      obj({ logs: [{ vertex: 'u', stream: 1, data: b.toString('base64') }] })
    p.feed(part(bytes.subarray(0, 3)) + part(bytes.subarray(3)))
    expect(p.failure()?.output).toEqual(['grüße'])
  })

  it('says what BuildKit does after the last step (exporting), not the step that ended', () => {
    const p = new BuildProgress()
    p.feed(vertex('s', '[2/2] RUN make', { started: '2026-01-01T00:00:00Z' }))
    p.feed(
      vertex('s', '[2/2] RUN make', {
        started: '2026-01-01T00:00:00Z',
        completed: '2026-01-01T00:00:05Z'
      })
    )
    expect(p.feed(vertex('x', 'exporting to image', { started: '2026-01-01T00:00:05Z' }))).toBe(
      true
    )
    expect(p.current()).toEqual({
      name: 'exporting to image',
      started: Date.parse('2026-01-01T00:00:05Z')
    })
  })

  it('names the step that failed, not one cancelled because of it', () => {
    const p = new BuildProgress()
    p.feed(
      vertex('a', '[a 2/2] RUN slow', {
        started: '2026-01-01T00:00:00Z',
        completed: '2026-01-01T00:00:09Z',
        error: 'rpc error: code = Canceled desc = context canceled'
      })
    )
    p.feed(
      vertex('b', '[b 2/2] RUN bad', {
        started: '2026-01-01T00:00:01Z',
        completed: '2026-01-01T00:00:08Z',
        error: 'exit code: 2'
      })
    )
    expect(p.failure()?.step).toBe('[b 2/2] RUN bad')
  })
})

describe('qemuCrash', () => {
  it.each([
    [SIGNATURE, SIGNATURE],
    [
      'qemu: uncaught target signal 4 (Illegal instruction) - core dumped',
      'qemu: uncaught target signal 4 (Illegal instruction) - core dumped'
    ],
    [
      '  qemu: unhandled CPU exception 0x8 - aborting',
      'qemu: unhandled CPU exception 0x8 - aborting'
    ],
    [
      'qemu:handle_cpu_signal received signal outside vCPU context @ pc=0x7f',
      'qemu:handle_cpu_signal received signal outside vCPU context @ pc=0x7f'
    ]
  ])('finds %j', (line, found) => {
    expect(qemuCrash(['building', line, 'Segmentation fault'])).toBe(found)
  })

  it.each([
    // the program's own failures, which QEMU reports in the same words
    ['qemu: uncaught target signal 6 (Aborted) - core dumped'],
    ['qemu: uncaught target signal 8 (Floating point exception) - core dumped'],
    ['Segmentation fault (core dumped)'],
    ['make: *** [all] Error 139'],
    ['Illegal instruction'],
    ['echo qemu is fine']
  ])('not a crash of QEMU: %j', line => expect(qemuCrash([line])).toBeUndefined())

  it('keeps the last lines of a step that prints without end, and says how many it dropped', () => {
    const p = new BuildProgress()
    p.feed(
      obj({
        vertexes: [
          {
            digest: 'm',
            name: '[1/1] RUN make',
            started: '2026-01-01T00:00:00Z',
            error: 'exit code: 2'
          }
        ]
      })
    )
    const lines = Array.from({ length: 3 * MAX_LINES }, (_, i) => `line ${i}`)
    p.feed(obj({ logs: [{ vertex: 'm', stream: 1, data: b64(`${lines.join('\n')}\n`) }] }))
    const output = p.failure()?.output ?? []
    expect(output.length).toBe(MAX_LINES)
    expect(output.at(-1)).toBe(`line ${3 * MAX_LINES - 1}`)
    expect(p.render()).toContain(`#1 (${2 * MAX_LINES} earlier lines not kept)`)
  })
})

describe('ellipsis', () => {
  it('keeps text that fits, cuts longer text to the length with an ellipsis', () => {
    expect(ellipsis('RUN make', 8)).toBe('RUN make')
    expect(ellipsis('RUN make all', 8)).toBe('RUN mak…')
  })
})
