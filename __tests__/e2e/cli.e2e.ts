/**
 * The CLI (dist/cli.js) on the test bed, as a developer runs it: the 2x2 example without and with
 * --push, a failing smoke test (exit 1 and its output), --json, --from-workflow on the scale-out
 * example, and, in tmux, the running cells' lines redrawn in place on a terminal while a piped
 * run logs them as lines.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  expectNoLeftovers,
  loggedInDockerConfig,
  logs,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000
/** The escape character terminal control sequences start with */
const ESC = String.fromCharCode(27)

interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function cli(args: readonly string[], dockerConfig: string): Promise<CliRun> {
  return new Promise(resolve => {
    // on the Node the action declares (the test bed's Node 24), not the one running Jest
    const child = spawn(testbed().actionNode.path, ['dist/cli.js', ...args], {
      env: { ...process.env, DOCKER_CONFIG: dockerConfig },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', code => {
      logs.push(`${stdout}\n${stderr}`)
      resolve({ code: code ?? -1, stdout, stderr })
    })
  })
}

describe('the CLI on the test bed', () => {
  const tb = testbed()
  const example = (repo: string): string[] => [
    '--distros',
    'humble,jazzy',
    '--image',
    `${tb.registry}/${repo}`,
    '--context',
    'examples/ros-app',
    '--smoke-test-file',
    'examples/ros-app/smoke.yaml',
    '--no-ros-checks',
    '--base-image',
    `${tb.registry}/ros:{distro}-ros-base`,
    '--network',
    'host'
  ]
  const config = loggedInDockerConfig()

  it(
    'builds and tests the 2x2 example, pushes nothing without --push, and prints a table with no workflow commands',
    async () => {
      const repo = uniqueRepo('cli')
      const r = await cli(example(repo), config)
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
      expect(r.stdout).toContain('All 4 cells passed')
      expect(r.stdout).toContain('push is off')
      expect(r.stdout).toMatch(
        /^humble {2}passed \(build [\d.]+ s, tests [\d.]+ s\) {2,}passed \(build [\d.]+ s, tests [\d.]+ s, QEMU\)$/m
      )
      expect(r.stdout).toMatch(/^jazzy {3}passed/m)
      expect(r.stdout).not.toMatch(/^::/m)
      // a local run: the outside-a-workflow tags, nothing pushed
      expect(r.stdout).toContain(`${tb.registry}/${repo}:humble`)
      expect(await tagsOf(repo)).toEqual([])
    },
    10 * MINUTES
  )

  it(
    'publishes with --push, under the tags of a run outside a workflow',
    async () => {
      const repo = uniqueRepo('cli-push')
      const r = await cli([...example(repo), '--push'], config)
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
      expect(r.stdout).toContain(
        `Published:\n  ${tb.registry}/${repo}:humble\n  ${tb.registry}/${repo}:jazzy\n`
      )
      expect(await tagsOf(repo)).toEqual([
        'humble',
        'humble-amd64',
        'humble-arm64',
        'jazzy',
        'jazzy-amd64',
        'jazzy-arm64'
      ])
    },
    10 * MINUTES
  )

  it(
    'exits 1 on a failing smoke test and shows its output; --json prints the results on stdout',
    async () => {
      const repo = uniqueRepo('cli-fail')
      const r = await cli(
        [
          ...example(repo),
          '--distros',
          'humble',
          '--smoke-test-file',
          '',
          '--smoke-tests',
          'echo "the app says: cannot open /dev/ttyUSB0" >&2; exit 3',
          '--json'
        ],
        config
      )
      expect(r.code).toBe(1)
      const results = JSON.parse(r.stdout) as { id: string; status: string }[]
      expect(results.map(c => [c.id, c.status])).toEqual([
        ['humble-amd64', 'failed'],
        ['humble-arm64', 'failed']
      ])
      // the log, the table and the failure's output on stderr
      expect(r.stderr).toMatch(/^humble {2}FAILED \(build/m)
      expect(r.stderr).toContain('humble-arm64 FAILED: smoke test')
      expect(r.stderr).toContain('    | the app says: cannot open /dev/ttyUSB0')
      expect(r.stderr).toMatch(/^error: 2 of 2 cells did not pass/m)
    },
    10 * MINUTES
  )

  it(
    'reads the with: of a job of examples/workflows/scale-out.yml, and refuses what it cannot evaluate',
    async () => {
      const wf = 'examples/workflows/scale-out.yml'
      const plan = await cli(['--from-workflow', `${wf}#plan`], config)
      expect(plan.code).toBe(0)
      expect(plan.stderr).toContain(
        `Inputs from ${wf}, job plan: distros, platforms, image, dry-run`
      )
      expect(plan.stdout).toContain('Plan: 6 cells (3 distros x 2 platforms) for acme/robot')
      expect(plan.stdout).toContain('Dry run: nothing was built, tested or pushed.')
      const build = await cli(['--from-workflow', `${wf}#build`], config)
      expect(build.code).toBe(2)
      expect(build.stderr).toBe(
        `ros-multiarch-action: --from-workflow ${wf}#build: distros (\${{ matrix.distro }}), platforms (\${{ matrix.platform }}) are GitHub expressions the CLI cannot evaluate (only env.NAME from the workflow's env is filled in); give them as options (--distros --platforms)\n`
      )
      const which = await cli(['--from-workflow', wf], config)
      expect(which.code).toBe(2)
      expect(which.stderr).toContain('3 steps use ros-multiarch-action (jobs plan, build, merge)')
    },
    5 * MINUTES
  )

  it(
    'redraws the running cells in place on a terminal (tmux), and logs them as lines when piped',
    async () => {
      const repo = uniqueRepo('cli-tty')
      const args = [...example(repo), '--distros', 'humble', '--smoke-tests', 'sleep 6']
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-tty-'))
      const session = `rma-${process.pid}`
      const quoted = [tb.actionNode.path, 'dist/cli.js', ...args]
        .map(a => `'${a.replace(/'/g, `'\\''`)}'`)
        .join(' ')
      execFileSync('tmux', [
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '160',
        '-y',
        '50',
        '-e',
        `DOCKER_CONFIG=${config}`,
        '-e',
        `DOCKER_HOST=${process.env.DOCKER_HOST ?? ''}`,
        `${quoted}; echo "exit=$?" > ${dir}/exit; sleep 600`
      ])
      const pane = (history: boolean): string =>
        execFileSync(
          'tmux',
          ['capture-pane', '-p', '-t', session, ...(history ? ['-S', '-'] : [])],
          {
            encoding: 'utf8'
          }
        )
      const seen: string[] = []
      try {
        // while the cells run their 6 s test, what the screen shows
        for (let i = 0; i < 120; i++) {
          await new Promise(r => setTimeout(r, 500))
          seen.push(pane(false))
          if (readExit(dir) !== null) break
        }
        expect(readExit(dir)).toBe('exit=0')
        const whole = pane(true)
        const running = /^humble-(amd64|arm64)( \(QEMU\))?: smoke test \d+\/\d+ "sleep 6", \d+s/m
        // on the screen while they ran: each cell's line, its time going up
        const shown = seen.filter(s => running.test(s))
        expect(shown.length).toBeGreaterThan(2)
        const times = new Set(shown.map(s => running.exec(s)?.[0]))
        expect(times.size).toBeGreaterThan(1)
        // redrawn, not logged: none of those lines is left in the terminal's history
        expect(whole).not.toMatch(running)
        expect(whole).toContain('All 2 cells passed')
        expect(whole).not.toContain(ESC)
        expect(whole).not.toContain('::group::')
      } finally {
        execFileSync('tmux', ['kill-session', '-t', session])
      }
      // piped: the same lines, logged one after another
      const piped = await cli([...args, '--image', `${tb.registry}/${repo}-piped`], config)
      expect(piped.code).toBe(0)
      expect(piped.stdout).toMatch(/^humble-arm64 \(QEMU\): smoke test \d+\/\d+ "sleep 6", \d+s$/m)
      expect(piped.stdout).not.toContain(ESC)
    },
    10 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})

function readExit(dir: string): string | null {
  try {
    return readFileSync(path.join(dir, 'exit'), 'utf8').trim()
  } catch {
    return null
  }
}
