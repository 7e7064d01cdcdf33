import { describe, expect, it } from '@jest/globals'
import { post } from '../src/post.js'
import { fakeExec } from './helpers/fake-exec.js'
import { fakeRuntime } from './helpers/fake-runtime.js'
import { fakeTools as tools } from './helpers/fake-tools.js'

/** The post step of workflow run 42, attempt 1, whose image input is ghcr.io/acme/robot */
const RUN_TAG = '42-1-abc123'
const LOCAL = `ros-multiarch-local/acme/robot:humble-amd64-${RUN_TAG}`
const postStep = (cleanup: unknown, image = 'ghcr.io/acme/robot') => ({
  ...fakeRuntime({ image }, { cleanup: JSON.stringify(cleanup) }),
  env: { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' }
})

describe('post', () => {
  it('removes the builder it created and logs out', async () => {
    const exec = fakeExec(call => (call.args[0] === 'ps' ? { stdout: '' } : undefined))
    const rt = postStep(
      { runTag: RUN_TAG, builder: `rma-${RUN_TAG}`, logout: ['docker.io', 'ghcr.io'] },
      'acme/robot, ghcr.io/acme/robot'
    )
    await post(rt, tools(exec))
    expect(exec.calls.map(c => [c.command, ...c.args])).toEqual([
      ['docker', 'ps', '--all', '--quiet', '--filter', `name=^rma-${RUN_TAG}-`],
      ['docker', 'buildx', 'rm', `rma-${RUN_TAG}`],
      ['docker', 'logout', 'docker.io'],
      ['docker', 'logout', 'ghcr.io']
    ])
    expect(rt.recorded.failed).toEqual([])
  })

  it('removes the containers, local tags and temporary folder of its own run', async () => {
    const exec = fakeExec(call => (call.args[0] === 'ps' ? { stdout: 'c1\nc2\n' } : undefined))
    const rt = postStep({ runTag: RUN_TAG, images: [LOCAL] })
    await post(rt, tools(exec))
    expect(exec.calls.map(c => c.args)).toEqual([
      ['ps', '--all', '--quiet', '--filter', `name=^rma-${RUN_TAG}-`],
      ['rm', '--force', 'c1', 'c2'],
      ['image', 'rm', LOCAL]
    ])
  })

  it('ignores state values it could not have written', async () => {
    const exec = fakeExec()
    const rt = postStep({
      builder: 'default',
      tempDir: '/',
      runTag: 'x; rm -rf /',
      logout: 'a b',
      images: ['ros-multiarch-local/a:humble-amd64-7', '--force', 'x']
    })
    await post(rt, tools(exec))
    expect(exec.calls).toEqual([])
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.warnings).toEqual([
      'Post step: ignored state the main step could not have written (runTag, tempDir, builder, logout, images)'
    ])
  })

  // state another step of the job wrote, in the form the main step writes: this run's tag, and
  // one value that names what this run never made
  it.each([
    ['an image the user pulled', { images: ['ubuntu:24.04'] }, 'ubuntu:24.04'],
    [
      'a published image',
      { images: ['ghcr.io/acme/production:latest'] },
      'ghcr.io/acme/production:latest'
    ],
    [
      "another run's local tag",
      { images: ['ros-multiarch-local/acme/robot:humble-amd64-41-1-abc123'] },
      'ros-multiarch-local/acme/robot:humble-amd64-41-1-abc123'
    ],
    ['an arch tag of the image', { images: ['ghcr.io/acme/robot:humble-amd64'] }, 'humble-amd64'],
    ['a builder of another name', { builder: 'rma-other' }, 'rma-other'],
    ['a logout of another registry', { logout: ['docker.io'] }, 'docker.io'],
    ["another run's containers", { runTag: '41-1-abc123' }, '41-1-abc123']
  ])('forged state naming %s reaches no docker command', async (_name, forged, value) => {
    const exec = fakeExec()
    const rt = postStep({ runTag: RUN_TAG, ...forged })
    await post(rt, tools(exec))
    const commands = exec.calls.map(c => [c.command, ...c.args].join(' '))
    expect(commands.filter(c => c.includes(value))).toEqual([])
    expect(commands.filter(c => !c.startsWith('docker ps '))).toEqual([])
    expect(rt.recorded.warnings).toEqual([
      `Post step: ignored state the main step could not have written (${Object.keys(forged)[0]})`
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
    const rt = postStep({ runTag: RUN_TAG, builder: `rma-${RUN_TAG}`, logout: ['ghcr.io'] })
    await post(rt, tools(exec))
    expect(rt.recorded.failed).toEqual([])
    expect(rt.recorded.warnings).toEqual([
      `Could not remove builder rma-${RUN_TAG}: boom`,
      'Logging out of ghcr.io failed (exit 1): boom'
    ])
  })
})
