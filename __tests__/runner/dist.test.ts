/**
 * The bundled dist/index.js run the way the Actions runner runs it (scripts/runner.mjs):
 * INPUT_* variables with hyphens kept, GITHUB_OUTPUT/STATE/STEP_SUMMARY files, main then post.
 * dist/ must be built first (the test command does).
 */
import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../../scripts/runner.mjs'

const SHA = '0123456789abcdef0123456789abcdef01234567'

describe('dist/index.js under a simulated runner', () => {
  it('runs from a checkout of the action alone: dist/ and action.yml, no node_modules', async () => {
    // what the runner downloads for `uses: owner/action@v1`: the repository, never node_modules
    const actionDir = mkdtempSync(path.join(os.tmpdir(), 'rma-action-'))
    cpSync('dist', path.join(actionDir, 'dist'), { recursive: true })
    cpSync('action.yml', path.join(actionDir, 'action.yml'))
    const r = await runAction({
      actionDir,
      cwd: actionDir,
      inputs: { distros: 'humble', image: 'acme/robot', 'dry-run': 'true' },
      env: { PATH: '' }
    })
    expect(r.main.stderr).toBe('')
    expect(r.main.code).toBe(0)
    expect(r.outputs.plan).toContain('"humble-arm64"')
  })

  it('dry run: prints 4 cells, writes plan, matrix and tags, runs no docker', async () => {
    const r = await runAction({
      inputs: { distros: 'humble, jazzy', image: 'acme/robot', 'dry-run': 'true' },
      // An empty PATH: any docker (or other) command would fail the step.
      env: {
        GITHUB_SHA: SHA,
        GITHUB_REF: 'refs/heads/main',
        GITHUB_EVENT_NAME: 'push',
        GITHUB_RUN_ID: '77',
        PATH: ''
      }
    })
    expect(r.main.stderr).toBe('')
    expect(r.main.code).toBe(0)
    expect(r.post?.code).toBe(0)
    expect(r.main.stdout).toContain(
      'Plan: 4 cells (2 distros x 2 platforms) for acme/robot, push off'
    )
    expect(r.main.stdout.match(/^(humble|jazzy)-(amd64|arm64) /gm)).toHaveLength(4)
    const plan = JSON.parse(r.outputs.plan)
    expect(plan.cells).toHaveLength(4)
    expect(plan.manifests.map((m: { tags: string[] }) => m.tags)).toEqual([
      ['acme/robot:humble-main', 'acme/robot:humble-sha-0123456'],
      ['acme/robot:jazzy-main', 'acme/robot:jazzy-sha-0123456']
    ])
    const matrix = JSON.parse(r.outputs.matrix)
    expect(matrix.include).toHaveLength(4)
    expect(matrix.include[1]).toEqual({
      distro: 'humble',
      platform: 'linux/arm64',
      arch: 'arm64',
      runner: 'ubuntu-24.04-arm'
    })
    expect(r.outputs.tags.split('\n')).toHaveLength(4)
    expect(r.summary).toContain('<h2>ros-multiarch: plan (dry run)</h2>')
    expect(r.state.isPost).toBe('true')
  })

  it('an unknown distro fails with one line naming the input and the known distros', async () => {
    const r = await runAction({
      inputs: { distros: 'humbel', image: 'acme/robot', 'dry-run': 'true' }
    })
    expect(r.main.code).toBe(1)
    expect(r.main.stdout.trim()).toBe(
      '::error::Input "distros": unknown distro "humbel"; known distros: noetic, humble, iron, jazzy, kilted, lyrical, rolling (others need base-image)'
    )
    expect(r.outputs).toEqual({})
  })

  it('masks the password and never prints it', async () => {
    const r = await runAction({
      inputs: {
        distros: 'humble',
        image: 'acme/robot',
        'dry-run': 'true',
        username: 'bot',
        password: 'pa55-w0rd-xyz'
      }
    })
    expect(r.main.code).toBe(0)
    expect(r.main.stdout).toContain('::add-mask::pa55-w0rd-xyz')
    const rest = (r.main.stdout + r.main.stderr).replace('::add-mask::pa55-w0rd-xyz', '')
    expect(rest).not.toContain('pa55-w0rd-xyz')
    expect(JSON.stringify(r.outputs) + JSON.stringify(r.state) + r.summary).not.toContain(
      'pa55-w0rd-xyz'
    )
  })

  it('warns about an end-of-life distro and still plans it', async () => {
    const r = await runAction({
      inputs: { distros: 'noetic', image: 'acme/robot', 'dry-run': 'true' }
    })
    expect(r.main.code).toBe(0)
    expect(r.main.stdout).toContain(
      '::warning::Distro "noetic" reached end of life on 2025-05-31: it gets no updates or image rebuilds.'
    )
  })

  it('reports a smoke-test-file mistake with its path and line', async () => {
    const r = await runAction({
      inputs: {
        distros: 'humble',
        image: 'acme/robot',
        'dry-run': 'true',
        'smoke-test-file': '__tests__/fixtures/bad-smoke.yaml'
      }
    })
    expect(r.main.code).toBe(1)
    expect(r.main.stdout.trim()).toBe(
      '::error::Input "smoke-test-file": __tests__/fixtures/bad-smoke.yaml:4: unknown key "stdout-nto" in a command test; use name, command, exit-code, stdout, stdout-not, stderr, stderr-not, timeout'
    )
  })

  it('the summary opt-out writes no summary', async () => {
    const r = await runAction({
      inputs: { distros: 'humble', image: 'acme/robot', 'dry-run': 'true', summary: 'false' }
    })
    expect(r.main.code).toBe(0)
    expect(r.summary).toBe('')
  })
})

describe('the chunks of the bundles', () => {
  it("the CLI's lazily loaded chunks load, one copy of each in dist/", async () => {
    const { readdirSync, readFileSync } = await import('node:fs')
    const chunks = readdirSync('dist/cli').filter(n => /^\d+\.index\.js$/.test(n))
    expect(chunks.length).toBeGreaterThan(0)
    for (const name of chunks) {
      // ncc's chunk protocol: the loader reads these three exports
      const chunk = (await import(path.resolve('dist/cli', name))) as Record<string, unknown>
      expect(Object.keys(chunk).sort()).toEqual(['id', 'ids', 'modules'])
      // no chunk is stored twice: where the action has the same chunk, the CLI's re-exports it
      if (readdirSync('dist').includes(name)) {
        expect(readFileSync(path.resolve('dist/cli', name), 'utf8')).toContain(
          `export * from '../${name}'`
        )
      }
    }
  })
})
