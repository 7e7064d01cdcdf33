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
  it('draws one section per cell that ran, timed from the first phase, the crashed build marked', () => {
    expect(mermaidTimeline(RESULTS)).toBe(
      [
        '```mermaid',
        '---',
        'config:',
        '  gantt:',
        '    leftPadding: 134',
        '---',
        'gantt',
        '  dateFormat HH:mm:ss.SSS',
        '  todayMarker off',
        '  axisFormat %-Mm%Ss',
        '  tickInterval 1minute',
        '  section humble-amd64',
        '    build 40s :t0, 00:00:00.000, 00:00:40.000',
        '    test 2s :t1, 00:00:40.000, 00:00:42.000',
        '    push 5s :t2, 00:04:59.000, 00:05:04.000',
        '  section humble-arm64 (QEMU)',
        '    build 3m20s, QEMU crash :crit, t3, 00:00:00.000, 00:03:20.000',
        '    build 50s :t4, 00:03:20.000, 00:04:10.000',
        '    test 40s :t5, 00:04:10.000, 00:04:50.000',
        '    push 6s :t6, 00:05:04.000, 00:05:10.000',
        '  section end',
        '    5m10s :milestone, t7, 00:05:10.000, 00:05:10.000',
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
        { phase: 'test', start: at(16), seconds: 5.25 }
      ]
    })
    const gantt = mermaidTimeline({ ...RESULTS, cells: [c] })
    expect(gantt.split('\n').filter(l => l.startsWith('    '))).toEqual([
      '    leftPadding: 75',
      '    build 10s :t0, 00:00:00.000, 00:00:10.000',
      '    test 5s, QEMU crash :crit, t1, 00:00:10.000, 00:00:15.000',
      '    build 1s :t2, 00:00:15.000, 00:00:16.000',
      '    test 5.3s :t3, 00:00:16.000, 00:00:21.250',
      '    21.3s :milestone, t4, 00:00:21.250, 00:00:21.250'
    ])
    expect(gantt).toContain('  tickInterval 5second\n')
  })

  it('starts its axis at a tick and marks where the last phase ended', () => {
    const gantt = mermaidTimeline(RESULTS)
    const times = [...gantt.matchAll(/(\d\d):(\d\d):(\d\d)\.(\d\d\d)/g)].map(
      ([, h, m, s, ms]) => ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(ms)
    )
    // 0 is the earliest time, and a whole number of every tick interval: the axis's first tick
    expect(Math.min(...times)).toBe(0)
    // the milestone sits at the latest end, labelled with it
    expect(gantt).toMatch(/ {4}5m10s :milestone, t\d+, 00:05:10\.000, 00:05:10\.000\n```$/)
    expect(Math.max(...times)).toBe(310_000)
  })

  it('labels every bar in a style Mermaid colours for light and dark mode alike', () => {
    // active and done force dark label text, invisible beside a short bar on a dark page
    const tags = [...mermaidTimeline(RESULTS).matchAll(/ :([a-z]+), t\d+,/g)].map(m => m[1])
    expect(new Set(tags)).toEqual(new Set(['crit', 'milestone']))
  })

  it.each([
    [30, '5second', '%-Mm%Ss'],
    [200, '30second', '%-Mm%Ss'],
    [1500, '5minute', '%-Mm%Ss'],
    [4000, '10minute', '%-Hh%Mm%Ss'],
    [20000, '1hour', '%-Hh%Mm%Ss'],
    [30000, '2hour', '%-Hh%Mm%Ss']
  ])('ticks a run of %d s every %s, the axis as %s', (seconds, tick, format) => {
    const long = {
      ...RESULTS,
      cells: [cell('x', true, { phases: [{ phase: 'build', start: at(0), seconds }] })]
    }
    const gantt = mermaidTimeline(long)
    expect(gantt).toContain(`  tickInterval ${tick}\n`)
    expect(gantt).toContain(`  axisFormat ${format}\n`)
  })

  it('draws nothing without phases, or for phases spread over a day', () => {
    expect(mermaidTimeline({ ...RESULTS, cells: [RESULTS.cells[2]] })).toBe('')
    const day = cell('x', true, { phases: [{ phase: 'build', start: at(0), seconds: 86_400 }] })
    expect(mermaidTimeline({ ...RESULTS, cells: [day] })).toBe('')
    expect(timelineSummary({ ...RESULTS, cells: [day] })).not.toContain('Timeline')
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
    expect(all).toMatch(
      /^<h3>Timeline<\/h3>\n<p>[^\n]*<\/p>\n\n```mermaid\n[\s\S]*```\n\n<h3>Slowest/
    )
    expect(all).toContain('<h3>QEMU crashes</h3>')
  })

  it("says how the axis relates to the run, in the summary's one duration format", () => {
    expect(timelineSummary(RESULTS)).toContain(
      '<p>The axis counts from the start of the first build; the last phase ended at 5m10s. ' +
        "The other 1m30s of the run's 6m40s went to its set-up before and its last steps after.</p>"
    )
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
