import { describe, expect, it } from '@jest/globals'
import type { CellResult, RunResults } from '../../src/report/results.js'
import { resultsSummary } from '../../src/report/summary.js'
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
    expect(html).toContain('unchanged, already published:<br><code>acme/robot:humble</code>')
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
    expect(html).toContain(
      'staged for the merge job:<br><code>acme/robot:rma-stage-1-humble-amd64</code>'
    )
    expect(html).toContain('build 1.5 s, tests 2 s (emulated)')
  })
})
