import { describe, expect, it } from '@jest/globals'
import { post } from '../src/post.js'
import { fakeExec } from './helpers/fake-exec.js'
import { fakeRuntime } from './helpers/fake-runtime.js'
import { fakeTools as tools } from './helpers/fake-tools.js'

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
          logout: 'a b',
          images: ['ros-multiarch-local/a:humble-amd64-7', '--force', 'x']
        })
      }
    )
    await post(rt, tools(exec))
    expect(exec.calls).toEqual([])
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.warnings).toEqual([
      'Post step: ignored state the main step could not have written (runTag, tempDir, builder, logout, images)'
    ])
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
