import { describe, expect, it } from '@jest/globals'
import { post, run } from '../src/action.js'
import { errorMessage } from '../src/runtime.js'
import type { Tools } from '../src/tools.js'
import { fakeExec } from './helpers/fake-exec.js'
import { fakeRuntime } from './helpers/fake-runtime.js'

function tools(exec = fakeExec()): Tools {
  return {
    exec,
    cleanupExec: exec,
    toolCache: {
      find: () => '',
      download: async () => {
        throw new Error('no downloads in unit tests')
      },
      cacheFile: async () => ''
    },
    readText: async () => undefined,
    cache: {
      available: () => false,
      restore: async () => undefined,
      save: async () => false
    }
  }
}

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
      password: 'tok',
      'dry-run': 'true'
    })
    await run(rt, tools())
    expect(rt.recorded.secrets).toEqual(['tok'])
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
    const rt = fakeRuntime({ distros: 'humble', image: 'acme/robot' })
    await run(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([
      'Reaching the Docker engine failed (exit 1): Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'
    ])
  })
})

describe('post', () => {
  it('removes the builder it created and logs out', async () => {
    const exec = fakeExec()
    const rt = fakeRuntime(
      {},
      { cleanup: JSON.stringify({ builder: 'rma-42', logout: 'docker.io' }) }
    )
    await post(rt, tools(exec))
    expect(exec.calls.map(c => [c.command, ...c.args])).toEqual([
      ['docker', 'buildx', 'rm', 'rma-42'],
      ['docker', 'logout', 'docker.io']
    ])
    expect(rt.recorded.failed).toEqual([])
  })

  it('removes the containers, local tags and temporary folder of its own run', async () => {
    const exec = fakeExec(call => (call.args[0] === 'ps' ? { stdout: 'c1\nc2\n' } : undefined))
    const rt = fakeRuntime(
      {},
      {
        cleanup: JSON.stringify({
          runTag: '7-1-abc123',
          images: ['ros-multiarch-local/a:humble-amd64-7-1-abc123']
        })
      }
    )
    await post(rt, tools(exec))
    expect(exec.calls.map(c => c.args)).toEqual([
      ['ps', '--all', '--quiet', '--filter', 'name=^rma-7-1-abc123-'],
      ['rm', '--force', 'c1', 'c2'],
      ['image', 'rm', 'ros-multiarch-local/a:humble-amd64-7-1-abc123']
    ])
  })

  it('ignores state values it could not have written', async () => {
    const exec = fakeExec()
    const rt = fakeRuntime(
      {},
      {
        cleanup: JSON.stringify({
          builder: 'default',
          tempDir: '/',
          runTag: 'x; rm -rf /',
          logout: 'a b'
        })
      }
    )
    await post(rt, tools(exec))
    expect(exec.calls).toEqual([])
    expect(rt.recorded.failed).toEqual([])
  })

  it('unreadable state is a warning', async () => {
    const rt = fakeRuntime({}, { cleanup: '{not json' })
    await post(rt, tools())
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.warnings[0]).toMatch(/^Post step: /)
  })

  it('does nothing when the main step left nothing', async () => {
    const exec = fakeExec()
    await post(fakeRuntime({}), tools(exec))
    expect(exec.calls).toEqual([])
  })

  it('turns cleanup problems into warnings, never a failure', async () => {
    const exec = fakeExec(() => ({ code: 1, stderr: 'boom\n' }))
    const rt = fakeRuntime({}, { cleanup: JSON.stringify({ builder: 'rma-1', logout: 'ghcr.io' }) })
    await post(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.warnings).toEqual([
      'Could not remove builder rma-1: boom',
      'Logging out of ghcr.io failed (exit 1): boom'
    ])
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
