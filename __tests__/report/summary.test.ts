import { describe, expect, it } from '@jest/globals'
import type { CellResult, RunResults } from '../../src/results/results.js'
import { resultsSummary, SUMMARY_LIMIT } from '../../src/report/summary.js'
import { planOf } from '../helpers/inputs.js'

const { plan } = planOf({ image: 'acme/robot', distros: 'humble, jazzy' })

function cell(id: string, extra: Partial<CellResult>): CellResult {
  const [distro, arch] = id.split('-')
  return {
    id,
    distro,
    platform: `linux/${arch}`,
    emulated: arch === 'arm64',
    status: 'passed',
    buildSeconds: 1.5,
    testSeconds: 2,
    tests: [],
    ...extra
  }
}

describe('resultsSummary', () => {
  it('shows reused, merged, missing and built cells, and staged or unchanged distros', () => {
    const results: RunResults = {
      seconds: 3,
      cells: [
        cell('humble-amd64', {
          status: 'unchanged',
          buildSeconds: 0,
          testSeconds: 0,
          reused: { from: 'acme/robot:humble', digest: 'sha256:1' }
        }),
        cell('humble-arm64', {
          status: 'unchanged',
          buildSeconds: 0,
          testSeconds: 0,
          reused: { from: 'acme/robot:humble', digest: 'sha256:2' }
        }),
        cell('jazzy-amd64', {
          reused: { from: 'acme/robot:rma-stage-1-jazzy-amd64', digest: 'sha256:3' }
        }),
        cell('jazzy-arm64', {
          status: 'failed',
          buildSeconds: 0,
          testSeconds: 0,
          failure: 'slice missing: acme/robot:rma-stage-1-jazzy-arm64 is not in the registry; <b>'
        })
      ],
      distros: [
        {
          distro: 'humble',
          status: 'published',
          tags: ['acme/robot:humble'],
          digest: 'sha256:9',
          unchanged: true
        },
        {
          distro: 'jazzy',
          status: 'failed',
          tags: [],
          reason: 'not published: jazzy-arm64 missing or wrong'
        }
      ]
    }
    const html = resultsSummary(plan, results)
    expect(html).toContain('3 of 4 cells passed (2 unchanged: reused, not rebuilt)')
    expect(html).toContain('♻️ unchanged<br>reused from <code>acme/robot:humble</code>')
    expect(html).toContain(
      'tested by its build job: <code>acme/robot:rma-stage-1-jazzy-amd64</code>'
    )
    expect(html).toContain('❌ failed<br>slice missing</td>')
    expect(html).toContain('unchanged, already published:<br><code>:humble</code>')
    expect(html).toContain('is not in the registry; &lt;b&gt;')
    expect(html).not.toContain('<b>')
  })

  it('lists the staging tags of a build slice', () => {
    const html = resultsSummary(plan, {
      seconds: 1,
      cells: [cell('humble-amd64', {}), cell('humble-arm64', {})],
      distros: [
        { distro: 'humble', status: 'staged', tags: ['acme/robot:rma-stage-1-humble-amd64'] }
      ]
    })
    expect(html).toContain('staged for the merge job:<br><code>:rma-stage-1-humble-amd64</code>')
    expect(html).toContain('build 1.5s, tests 2s (emulated)')
    expect(html).not.toContain('by its digest')
  })

  it('has a table of the cache mounts carried: what was restored and saved, escaped', () => {
    const arm64Mount = {
      id: 'ccache-arm64',
      target: '/ccache',
      restore: { outcome: 'none', seconds: 0.4 },
      save: { outcome: 'too large', seconds: 1, reason: 'about 2 GB is over <1 GB>' }
    } as const
    const html = resultsSummary(plan, {
      seconds: 1,
      cells: [
        cell('humble-amd64', {
          mounts: [
            {
              id: 'ccache-<amd64>',
              target: '/ccache',
              restore: { outcome: 'restored', bytes: 41_200_000, seconds: 3.1, where: 'r:t' },
              save: { outcome: 'saved', bytes: 42_000_000, seconds: 2.5, where: 'r:t' }
            }
          ]
        }),
        cell('humble-arm64', { mounts: [arm64Mount] }),
        cell('jazzy-amd64', {}),
        // shares humble-arm64's mount: restored and saved once, so one row for both
        cell('jazzy-arm64', { mounts: [arm64Mount] })
      ],
      distros: []
    })
    expect(html).toContain('<h3>Cache mounts</h3>')
    expect(html).toContain(
      '<tr><td>humble-amd64</td><td><code>ccache-&lt;amd64&gt;</code> at <code>/ccache</code></td><td>restored 41.2 MB in 3.1s</td><td>saved 42.0 MB in 2.5s</td></tr>'
    )
    expect(html).toContain('<tr><td>humble-arm64<br>jazzy-arm64</td><td><code>ccache-arm64</code>')
    expect(html.match(/<tr>/g)).toHaveLength(1 + 2 + 1 + 2) // results table (head, 2 distros), mounts (head, 2 rows)
    expect(html).toContain(
      '<td>none saved yet (0.4s)</td><td>⚠️ too large in 1s: about 2 GB is over &lt;1 GB&gt;</td>'
    )
    // a run without mounts has no such table
    expect(
      resultsSummary(plan, { seconds: 1, cells: [cell('humble-amd64', {})], distros: [] })
    ).not.toContain('Cache mounts')
  })
})

describe('resultsSummary: several registries', () => {
  const two = planOf({ image: 'acme/robot, ghcr.io/acme/robot', distros: 'humble, jazzy' }).plan
  const digest = `sha256:${'a'.repeat(64)}`
  const html = resultsSummary(two, {
    seconds: 9,
    cells: ['humble-amd64', 'humble-arm64', 'jazzy-amd64', 'jazzy-arm64'].map(id => cell(id, {})),
    distros: [
      {
        distro: 'humble',
        status: 'published',
        digest,
        tags: ['acme/robot:humble', 'ghcr.io/acme/robot:humble'],
        registries: [
          { image: 'acme/robot', state: 'published' },
          { image: 'ghcr.io/acme/robot', state: 'published' }
        ]
      },
      {
        distro: 'jazzy',
        status: 'publish failed',
        tags: [],
        reason: 'ghcr.io/acme/robot: denied; no tag moved in any registry',
        registries: [
          { image: 'acme/robot', state: 'index by digest' },
          { image: 'ghcr.io/acme/robot', state: 'nothing', failed: true }
        ]
      }
    ]
  })

  it('names every registry, and what each holds of each distro', () => {
    expect(html).toContain(
      '<p>Image <code>acme/robot</code>, and <code>ghcr.io/acme/robot</code> (several registries: all or nothing)</p>'
    )
    // the first name's tags short, once; each registry on a line of its own
    expect(html).toContain(
      '<code>:humble</code><br><code>sha256:aaaaaaaaaaaa</code><br>✅ <code>acme/robot</code>: published<br>✅ <code>ghcr.io/acme/robot</code>: published'
    )
    expect(html).toContain(
      'ghcr.io/acme/robot: denied; no tag moved in any registry<br>⚪ <code>acme/robot</code>: index by digest<br>❌ <code>ghcr.io/acme/robot</code>: nothing'
    )
  })

  it('lists the index by digest in every registry', () => {
    expect(html).toContain(`# humble\nacme/robot@${digest}\nghcr.io/acme/robot@${digest}`)
  })
})

describe('resultsSummary: fits the page', () => {
  const HEX = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4)
  const digest = (n: number): string => `sha256:${String(n).repeat(12)}${HEX.slice(12)}`
  const phases = (start: number, build: number): CellResult['phases'] => [
    { phase: 'build', start: new Date(start * 1000).toISOString(), seconds: build },
    { phase: 'test', start: new Date((start + build) * 1000).toISOString(), seconds: 3.1 }
  ]
  const html = resultsSummary(plan, {
    seconds: 473.2,
    cells: [
      cell('humble-amd64', { buildSeconds: 62.4, testSeconds: 3.1, phases: phases(21, 62.4) }),
      cell('humble-arm64', {
        buildSeconds: 441.8,
        testSeconds: 5.6,
        phases: phases(21, 441.8),
        pushed: { tag: 'acme/robot:humble-arm64', digest: digest(1) },
        slowestSteps: [
          { step: '5/9', instruction: 'RUN colcon build', seconds: 371.6, cached: false }
        ]
      }),
      cell('jazzy-amd64', { buildSeconds: 58.9 }),
      cell('jazzy-arm64', { buildSeconds: 380.2 })
    ],
    distros: [
      {
        distro: 'humble',
        status: 'published',
        tags: ['acme/robot:humble', 'acme/robot:humble-20261124', 'elsewhere/robot:<x>'],
        digest: digest(2)
      },
      { distro: 'jazzy', status: 'published', tags: ['acme/robot:jazzy'], digest: digest(3) }
    ]
  })
  const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'))
  const published = [...table.matchAll(/<td>([^<]*(?:<(?!\/td>)[^<]*)*)<\/td><\/tr>/g)].map(
    m => m[1]
  )

  it('names the image once and shows tags and 12-digit digests in the table', () => {
    expect(html).toContain('<p>Image <code>acme/robot</code></p>')
    expect(published[0]).toBe(
      '<code>:humble</code><br><code>:humble-20261124</code><br><code>elsewhere/robot:&lt;x&gt;</code><br><code>sha256:222222222222</code>'
    )
    expect(table).toContain('<code>sha256:111111111111</code>')
    expect(table).not.toMatch(/[0-9a-f]{13}/)
  })

  it('lists each published index by its full digest below the table, to copy', () => {
    expect(html).toContain(
      `</table>\n<p>Each published index by its digest:</p>\n<pre># humble\nacme/robot@${digest(2)}\n# jazzy\nacme/robot@${digest(3)}</pre>\n`
    )
  })

  it('writes every duration one way: heading, cells, timeline and slowest steps', () => {
    expect(html).toContain('cells passed in 7m53s</h2>')
    expect(html).toContain('build 7m22s, tests 5.6s (emulated)')
    expect(html).toContain('build 1m02s, tests 3.1s<')
    expect(html).toContain('the slowest build (7m22s)')
    expect(html).toContain('<td>6m12s</td>')
    expect(html).toContain('    build 7m22s :t')
    // no seconds with a space before the unit, nor a bare count of seconds
    expect(html).not.toMatch(/\d s\b/)
    expect(html).not.toMatch(/\d{3}(\.\d)?s\b/)
  })
})

describe('resultsSummary: size guard', () => {
  // 10 failed cells x 60 failed tests x 4000 characters of multi-byte output: megabytes
  const big = planOf({ image: 'acme/robot', distros: 'humble, iron, jazzy, kilted, rolling' }).plan
  const output = '✓ <ok> & "done"\n'.repeat(300)
  const failed = (id: string): CellResult =>
    cell(id, {
      status: 'failed',
      failure: 'smoke test "t0" failed: exit code 1',
      tests: Array.from({ length: 60 }, (_, i) => ({
        name: `t${i}`,
        source: 'smoke-tests',
        status: 'failed' as const,
        seconds: 1,
        reason: 'exit code 1',
        output
      }))
    })
  const html = resultsSummary(big, {
    seconds: 9,
    cells: big.cells.map(c => failed(c.id)),
    distros: big.manifests.map(m => ({
      distro: m.distro,
      status: 'failed' as const,
      tags: [],
      reason: 'not published'
    }))
  })

  it('stays within the limit in bytes, not UTF-16 units', () => {
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThanOrEqual(SUMMARY_LIMIT)
  })

  it('never cuts inside a tag, an entity or a block', () => {
    const count = (re: RegExp) => (html.match(re) ?? []).length
    expect(count(/<details>/g)).toBe(count(/<\/details>/g))
    expect(count(/<pre>/g)).toBe(count(/<\/pre>/g))
    expect(html.match(/&[#\w]*(?=[^#\w;]|$)/g)).toBeNull()
    expect(html).toMatch(/<\/table>/)
  })

  it('shows at most 10 failed tests of a cell, and the first cells whole', () => {
    expect(html).toContain('<p>50 more failed tests: see the log.</p>')
    expect(html).toContain('❌ humble-amd64:')
  })

  it('says what it left out', () => {
    expect(html).toMatch(
      /<p>\d+ more failures? not shown here \(the job summary has a size limit\); the log has every one\.<\/p>/
    )
  })
})
