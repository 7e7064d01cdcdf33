import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { cancelledAfter, run, secretParts } from '../src/action.js'
import type { CleanupState } from '../src/pipeline/cleanup.js'
import type { RunResults } from '../src/results/results.js'
import { Inputs } from '../src/inputs/names.js'
import { errorMessage } from '../src/text/text.js'
import { fakeDocker } from './helpers/fake-docker.js'
import { fakeExec } from './helpers/fake-exec.js'
import { fakeTools as tools } from './helpers/fake-tools.js'
import { fakeRuntime } from './helpers/fake-runtime.js'

describe('run', () => {
  it('fails once, with the input error, and runs no command', async () => {
    const exec = fakeExec()
    const rt = fakeRuntime({ distros: 'humbel', image: 'acme/robot' })
    await run(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([
      'Input "distros": unknown distro "humbel"; known distros: noetic, humble, iron, jazzy, kilted, lyrical, rolling (others need base-image)'
    ])
    expect(exec.calls).toEqual([])
  })

  it('masks the password before reading anything else', async () => {
    const rt = fakeRuntime({
      distros: 'humble',
      image: 'acme/robot',
      username: 'me',
      password: 'tok',
      'dry-run': 'true'
    })
    await run(rt, tools())
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.secrets).toEqual(['tok'])
    // the password is read and masked first; every input is read after that
    const { events } = rt.recorded
    expect(events.slice(0, 2)).toEqual(['input:password', 'secret'])
    const later = new Set(events.slice(2))
    for (const name of Object.values(Inputs)) expect(later).toContain(`input:${name}`)
  })

  it('a dry run runs no command at all', async () => {
    const exec = fakeExec()
    const rt = fakeRuntime({ distros: 'humble, jazzy', image: 'acme/robot', 'dry-run': 'true' })
    await run(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([])
    expect(exec.calls).toEqual([])
    expect(Object.keys(rt.recorded.outputs).sort()).toEqual(['matrix', 'metadata', 'plan', 'tags'])
  })

  it('fails with what the engine said when Docker cannot be reached', async () => {
    const exec = fakeExec(() => ({
      code: 1,
      stderr:
        'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'
    }))
    const rt = fakeRuntime({ distros: 'humble', image: 'acme/robot', context: 'examples/ros-app' })
    await run(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([
      'Reaching the Docker engine failed (exit 1): Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'
    ])
  })
})

describe('run: what the post step is left to clean up', () => {
  const realFetch = globalThis.fetch
  afterEach(() => {
    globalThis.fetch = realFetch
  })
  /** A run of workflow run 7 on the fake engine and registry, its state kept in `state` */
  const runOn = (inputs: Record<string, string>, state: Record<string, string>) => ({
    ...fakeRuntime(
      {
        image: 'registry.test/acme/robot',
        context: 'examples/ros-app',
        'base-image': 'registry.test/ros:{distro}-ros-base',
        'ros-checks': 'false',
        'retry-max-delay': '1',
        ...inputs
      },
      state
    ),
    env: {
      GITHUB_RUN_ID: '7',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
      RUNNER_TEMP: mkdtempSync(path.join(os.tmpdir(), 'rma-action-'))
    }
  })
  const saved = (state: Record<string, string>): CleanupState =>
    JSON.parse(state.cleanup ?? '{}') as CleanupState

  it('lists the local tags its builds made, and no tag it pushed or staged', async () => {
    const docker = fakeDocker()
    docker.addBase('registry.test/ros:humble-ros-base', ['linux/amd64'])
    docker.addBase('registry.test/ros:jazzy-ros-base', ['linux/amd64'])
    // the registry client speaks to the fake registry
    globalThis.fetch = docker.fetch
    const state: Record<string, string> = {}
    const rt = runOn({ distros: 'humble, jazzy', platforms: 'linux/amd64', push: 'true' }, state)
    await run(rt, tools(docker))
    expect(rt.recorded.failed).toEqual([])
    const built = docker.commands().filter(c => c[1] === 'build')
    const tags = built.map(c => c[c.indexOf('--tag') + 1])
    expect(tags.sort()).toEqual([
      expect.stringMatching(/^ros-multiarch-local\/acme\/robot:humble-amd64-7-1-[0-9a-f]{6}$/),
      expect.stringMatching(/^ros-multiarch-local\/acme\/robot:jazzy-amd64-7-1-[0-9a-f]{6}$/)
    ])
    expect(saved(state).images?.sort()).toEqual(tags)
    // the arch tags were pushed through the registry client, never tagged in the engine
    expect(docker.registry.has('registry.test/acme/robot:humble-main-amd64')).toBe(true)
  })

  it('lists no image when no cell was built', async () => {
    const exec = fakeExec(() => ({ code: 1, stderr: 'Cannot connect to the Docker daemon\n' }))
    const state: Record<string, string> = {}
    const rt = runOn({ distros: 'humble, jazzy', push: 'true' }, state)
    await run(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([
      expect.stringMatching(/^Reaching the Docker engine failed/)
    ])
    expect(saved(state)).toEqual({
      runTag: expect.stringMatching(/^7-1-[0-9a-f]{6}$/),
      tempDir: expect.stringContaining('ros-multiarch-')
    })
  })
})

describe('cancelledAfter', () => {
  const cells = ['a', 'b', 'c'].map(id => ({
    id,
    distro: id,
    platform: 'linux/amd64',
    emulated: false,
    buildSeconds: 0,
    testSeconds: 0,
    tests: []
  }))
  const signal = (() => {
    const c = new AbortController()
    c.abort(new Error('cancelled by SIGTERM'))
    return c.signal
  })()

  it('says what did not finish, and what was published before the cancellation', () => {
    const results: RunResults = {
      seconds: 1,
      cells: [
        { ...cells[0], status: 'passed' },
        { ...cells[1], status: 'cancelled' },
        { ...cells[2], status: 'cancelled' }
      ],
      distros: [
        { distro: 'a', status: 'published', tags: ['x:a'] },
        { distro: 'b', status: 'failed', tags: [] },
        { distro: 'c', status: 'failed', tags: [] }
      ]
    }
    expect(cancelledAfter(signal, results).message).toBe(
      'The run was cancelled by SIGTERM: 2 of 3 cells did not finish; published before that: a; nothing more.'
    )
    const none = {
      ...results,
      distros: results.distros.map(d => ({ ...d, status: 'failed' as const }))
    }
    expect(cancelledAfter(signal, none).message).toBe(
      'The run was cancelled by SIGTERM: 2 of 3 cells did not finish; nothing was published.'
    )
  })
})

describe('errorMessage', () => {
  it.each([
    [new Error('plain'), 'plain'],
    ['a thrown string', 'a thrown string'],
    [{ code: 7 }, 'Unexpected error: {"code":7}'],
    [undefined, 'Unexpected error: undefined']
  ])('%p -> %s', (thrown, message) => {
    expect(errorMessage(thrown)).toBe(message)
  })
})

describe('secretParts', () => {
  it('masks a password whole, and a key whole and line by line, but not its BEGIN and END lines', () => {
    expect(secretParts('')).toEqual([])
    expect(secretParts('hunter2hunter2')).toEqual(['hunter2hunter2'])
    const key =
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9\nLCJzYWx0IjoiYWJjIn0=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n'
    expect(secretParts(key)).toEqual([
      key,
      'eyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9',
      'LCJzYWx0IjoiYWJjIn0='
    ])
  })
})
