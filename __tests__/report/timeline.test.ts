/** The summary's timeline: the gantt of every cell's phases, the slowest steps, the QEMU crashes. */
import { describe, expect, it } from '@jest/globals'
import { formatDuration, type CellResult, type RunResults } from '../../src/results/results.js'
import {
  mermaidTimeline,
  qemuCrashList,
  slowestStepsTable,
  timelineSummary
} from '../../src/report/timeline.js'

const T0 = Date.parse('2026-01-01T10:00:00Z')
const at = (s: number): string => new Date(T0 + s * 1000).toISOString()
const SEGV = 'qemu: uncaught target signal 11 (Segmentation fault) - core dumped'

function cell(id: string, emulated: boolean, more: Partial<CellResult>): CellResult {
  return {
    id,
    distro: 'humble',
    platform: emulated ? 'linux/arm64' : 'linux/amd64',
    emulated,
    status: 'passed',
    buildSeconds: 0,
    testSeconds: 0,
    tests: [],
    ...more
  }
}

const RESULTS: RunResults = {
  seconds: 400,
  distros: [],
  cells: [
    cell('humble-amd64', false, {
      phases: [
        { phase: 'build', start: at(1), seconds: 40 },
        { phase: 'test', start: at(41), seconds: 2 },
        { phase: 'push', start: at(300), seconds: 5 }
      ],
      slowestSteps: [{ step: '2/3', instruction: 'RUN make', seconds: 38, cached: false }]
    }),
    cell('humble-arm64', true, {
      retries: 1,
      qemuCrashes: [{ phase: 'build', signature: SEGV }],
      phases: [
        { phase: 'build', start: at(1), seconds: 200 },
        { phase: 'build', start: at(201), seconds: 50 },
        { phase: 'test', start: at(251), seconds: 40 },
        { phase: 'push', start: at(305), seconds: 6 }
      ],
      slowestSteps: [
        { step: 'builder 2/3', instruction: 'RUN make <all> & more', seconds: 190, cached: false },
        { step: '3/3', instruction: 'RUN ./crash', seconds: 45, cached: false }
      ]
    }),
    cell('jazzy-amd64', false, { status: 'unchanged' })
  ]
}

describe('timeline', () => {
  it('draws one section per cell that ran, with real times, the crashed build marked', () => {
    expect(mermaidTimeline(RESULTS)).toBe(
      [
        '```mermaid',
        'gantt',
        '  dateFormat x',
        '  todayMarker off',
        '  axisFormat %H:%M:%S',
        '  section humble-amd64',
        `    build :t0, ${T0 + 1000}, ${T0 + 41000}`,
        `    test :active, t1, ${T0 + 41000}, ${T0 + 43000}`,
        `    push :done, t2, ${T0 + 300000}, ${T0 + 305000}`,
        '  section humble-arm64 (QEMU)',
        `    build (QEMU crash) :crit, t3, ${T0 + 1000}, ${T0 + 201000}`,
        `    build :t4, ${T0 + 201000}, ${T0 + 251000}`,
        `    test :active, t5, ${T0 + 251000}, ${T0 + 291000}`,
        `    push :done, t6, ${T0 + 305000}, ${T0 + 311000}`,
        '```'
      ].join('\n')
    )
  })

  it('marks the phase QEMU crashed in: a smoke test, its build not', () => {
    const c = cell('x', true, {
      retries: 1,
      qemuCrashes: [{ phase: 'test', signature: SEGV }],
      phases: [
        { phase: 'build', start: at(0), seconds: 10 },
        { phase: 'test', start: at(10), seconds: 5 },
        { phase: 'build', start: at(15), seconds: 1 },
        { phase: 'test', start: at(16), seconds: 5 }
      ]
    })
    const gantt = mermaidTimeline({ ...RESULTS, cells: [c] })
    expect(gantt.split('\n').filter(l => l.startsWith('    '))).toEqual([
      `    build :t0, ${T0}, ${T0 + 10000}`,
      `    test (QEMU crash) :crit, t1, ${T0 + 10000}, ${T0 + 15000}`,
      `    build :t2, ${T0 + 15000}, ${T0 + 16000}`,
      `    test :active, t3, ${T0 + 16000}, ${T0 + 21000}`
    ])
  })

  it('shows hours and minutes on a run of more than an hour, and nothing without phases', () => {
    const long = {
      ...RESULTS,
      cells: [cell('x', true, { phases: [{ phase: 'build', start: at(0), seconds: 4000 }] })]
    }
    expect(mermaidTimeline(long)).toContain('axisFormat %H:%M\n')
    expect(mermaidTimeline({ ...RESULTS, cells: [RESULTS.cells[2]] })).toBe('')
  })

  it('keeps Mermaid syntax out of names', () => {
    const odd = { ...RESULTS, cells: [cell('a:b#c;d', false, { phases: RESULTS.cells[0].phases })] }
    expect(mermaidTimeline(odd)).toContain('  section a b c d\n')
  })

  it('lists the slowest steps of the cell whose builds took longest, escaped', () => {
    const html = slowestStepsTable(RESULTS)
    expect(html).toContain(
      'Slowest build steps of humble-arm64 (emulated), the slowest build (4m10s)'
    )
    expect(html).toContain(
      '<tr><td>builder 2/3</td><td><code>RUN make &lt;all&gt; &amp; more</code></td><td>3m10s</td></tr>'
    )
    expect(slowestStepsTable({ ...RESULTS, cells: [RESULTS.cells[2]] })).toBe('')
  })

  it('lists each QEMU crash with what came of it', () => {
    const gaveUp = cell('x', true, {
      status: 'failed',
      retries: 1,
      qemuCrashes: [
        { phase: 'build', signature: SEGV },
        { phase: 'test', signature: SEGV }
      ]
    })
    expect(qemuCrashList({ ...RESULTS, cells: [gaveUp] })).toBe(
      `<h3>QEMU crashes</h3>\n<ul>\n<li>x, build: <code>${SEGV}</code>; run again (retry 1)</li>\n` +
        `<li>x, smoke tests: <code>${SEGV}</code>; not run again (qemu-retries used up, or fail-fast stopped the run)</li>\n</ul>\n`
    )
  })

  it('puts the three together, the gantt fenced by blank lines for Markdown', () => {
    const all = timelineSummary(RESULTS)
    expect(all).toMatch(/^<h3>Timeline<\/h3>\n\n```mermaid\n[\s\S]*```\n\n<h3>Slowest/)
    expect(all).toContain('<h3>QEMU crashes</h3>')
  })
})

describe('formatDuration', () => {
  it.each([
    [2.46, '2.5s'],
    [45, '45s'],
    [83.4, '1m23s'],
    [4000, '1h06m40s'],
    [-1, '0s']
  ])('%d s is %s', (s, text) => expect(formatDuration(s)).toBe(text))
})
