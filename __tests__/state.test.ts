import { describe, expect, it } from '@jest/globals'
import { isPostStep, markMainStep, readCleanup, saveCleanup } from '../src/state.js'
import { fakeRuntime } from './helpers/fake-runtime.js'

/** The runner of workflow run 42, attempt 1, building 127.0.0.1:5000/acme/robot */
const RUN_ENV = { RUNNER_TEMP: '/runner/temp', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1' }
const IMAGE = '127.0.0.1:5000/acme/robot'
const RUN_TAG = '42-1-abc123'

const runtime = (
  state: Record<string, string>,
  env: Record<string, string> = RUN_ENV,
  image = IMAGE
) => ({ ...fakeRuntime({ image }, state), env })
const withState = (cleanup: unknown, env?: Record<string, string>, image?: string) =>
  runtime({ cleanup: JSON.stringify(cleanup) }, env, image)

describe('post-step state', () => {
  it('reads back what the main step saved', () => {
    const state: Record<string, string> = {}
    const rt = runtime(state)
    const cleanup = {
      runTag: RUN_TAG,
      tempDir: `/runner/temp/ros-multiarch-${RUN_TAG}-Xy12Zq`,
      builder: `rma-${RUN_TAG}`,
      logout: ['127.0.0.1:5000'],
      images: [
        `ros-multiarch-local/acme/robot:humble-amd64-${RUN_TAG}`,
        `ros-multiarch-local/acme/robot:humble-arm64-${RUN_TAG}`
      ]
    }
    saveCleanup(rt, cleanup)
    expect(readCleanup(rt)).toEqual({ state: cleanup, dropped: [] })
  })

  it('outside a workflow run (the CLI) a run tag is 6 hex characters alone', () => {
    const env = { RUNNER_TEMP: '/runner/temp' }
    const cleanup = {
      runTag: 'abc123',
      builder: 'rma-abc123',
      images: ['ros-multiarch-local/acme/robot:humble-amd64-abc123']
    }
    expect(readCleanup(withState(cleanup, env))).toEqual({ state: cleanup, dropped: [] })
    expect(readCleanup(withState({ runTag: RUN_TAG }, env)).dropped).toEqual(['runTag'])
  })

  it('marks the main step, so the same bundle knows the post step', () => {
    const state: Record<string, string> = {}
    expect(isPostStep(fakeRuntime({}, state))).toBe(false)
    markMainStep(fakeRuntime({}, state))
    expect(isPostStep(fakeRuntime({}, state))).toBe(true)
  })

  // each case: this run's tag, and the one value the main step could not have written
  it.each([
    ['a temporary folder outside RUNNER_TEMP', { tempDir: '/etc/ros-multiarch-x' }, 'tempDir'],
    ['a relative temporary folder', { tempDir: 'ros-multiarch-x' }, 'tempDir'],
    [
      "another run's temporary folder",
      { tempDir: '/runner/temp/ros-multiarch-41-1-abc123-Xy12Zq' },
      'tempDir'
    ],
    ['a temporary folder of no run', { tempDir: '/runner/temp/ros-multiarch-Xy12Zq' }, 'tempDir'],
    ['a builder the action did not name', { builder: 'default' }, 'builder'],
    ['another rma- builder', { builder: 'rma-other' }, 'builder'],
    ["another run's builder", { builder: 'rma-41-1-abc123' }, 'builder'],
    ['a run tag with a shell character', { runTag: 'a;b' }, 'runTag'],
    ["another workflow run's tag", { runTag: '41-1-abc123' }, 'runTag'],
    ["another attempt's tag", { runTag: '42-2-abc123' }, 'runTag'],
    ['a run tag without its random part', { runTag: '42-1' }, 'runTag'],
    ['a run tag with 7 random characters', { runTag: '42-1-abc1234' }, 'runTag'],
    ['a run tag in capitals', { runTag: '42-1-ABC123' }, 'runTag'],
    ['a registry with a path', { logout: ['127.0.0.1:5000/acme'] }, 'logout'],
    ['a registry other than the image input', { logout: ['ghcr.io'] }, 'logout'],
    ['Docker Hub, not the image input', { logout: ['docker.io'] }, 'logout'],
    ['a registry alone, not in a list', { logout: '127.0.0.1:5000' }, 'logout'],
    ['a list with a registry of no input', { logout: ['127.0.0.1:5000', 'ghcr.io'] }, 'logout'],
    ['a registry twice', { logout: ['127.0.0.1:5000', '127.0.0.1:5000'] }, 'logout'],
    ['an image list that is not a list', { images: 'a:b' }, 'images'],
    ['an image that looks like an option', { images: ['a:b', '--force'] }, 'images'],
    ['an image without a tag', { images: ['acme/robot'] }, 'images'],
    ['an image by digest', { images: [`acme/robot:x@sha256:${'a'.repeat(64)}`] }, 'images'],
    ['an image the user pulled', { images: ['ubuntu:24.04'] }, 'images'],
    ['a published image', { images: ['ghcr.io/acme/production:latest'] }, 'images'],
    ['an arch tag of the image', { images: [`${IMAGE}:humble-main-amd64`] }, 'images'],
    ['a staging tag', { images: [`${IMAGE}:rma-stage-42-humble-amd64`] }, 'images'],
    [
      "another run's local tag",
      { images: ['ros-multiarch-local/acme/robot:humble-amd64-41-1-abc123'] },
      'images'
    ],
    [
      'a local tag of another image',
      { images: [`ros-multiarch-local/acme/other:humble-amd64-${RUN_TAG}`] },
      'images'
    ],
    [
      'a local tag by digest',
      {
        images: [`ros-multiarch-local/acme/robot:humble-${RUN_TAG}@sha256:${'a'.repeat(64)}`]
      },
      'images'
    ],
    [
      'a local tag that is the run tag alone',
      { images: [`ros-multiarch-local/acme/robot:${RUN_TAG}`] },
      'images'
    ],
    ['a number where a name goes', { runTag: 7 }, 'runTag'],
    ['a key the main step never writes', { command: 'rm -rf /' }, 'command']
  ])('drops %s', (_name, forged, key) => {
    const { state, dropped } = readCleanup(withState({ runTag: RUN_TAG, ...forged }))
    expect(dropped).toEqual([key])
    expect(state).toEqual(key === 'runTag' ? {} : { runTag: RUN_TAG })
  })

  it('without a run tag of this run, no builder or local tag can be told to be its own', () => {
    const { state, dropped } = readCleanup(
      withState({
        builder: `rma-${RUN_TAG}`,
        images: [`ros-multiarch-local/acme/robot:humble-amd64-${RUN_TAG}`]
      })
    )
    expect(dropped).toEqual(['builder', 'images'])
    expect(state).toEqual({})
  })

  it('without a valid image input, no registry or local tag can be told to be its own', () => {
    const cleanup = {
      runTag: RUN_TAG,
      logout: ['127.0.0.1:5000'],
      images: [`ros-multiarch-local/acme/robot:humble-amd64-${RUN_TAG}`]
    }
    const { state, dropped } = readCleanup(withState(cleanup, RUN_ENV, 'acme/robot;rm'))
    expect(dropped).toEqual(['logout', 'images'])
    expect(state).toEqual({ runTag: RUN_TAG })
  })

  it("logs out of every registry of the image input's names and of registry-auth", () => {
    const auth = '- registry: quay.io\n  username: bot\n  password: quay-token-1234'
    const rt = {
      ...fakeRuntime(
        { image: `${IMAGE}, ghcr.io/acme/robot`, 'registry-auth': auth },
        { cleanup: JSON.stringify({ logout: ['127.0.0.1:5000', 'ghcr.io', 'quay.io'] }) }
      ),
      env: RUN_ENV
    }
    expect(readCleanup(rt)).toEqual({
      state: { logout: ['127.0.0.1:5000', 'ghcr.io', 'quay.io'] },
      dropped: []
    })
    // without registry-auth, quay.io is no registry the main step logged in to
    const without = {
      ...fakeRuntime(
        { image: `${IMAGE}, ghcr.io/acme/robot` },
        { cleanup: JSON.stringify({ logout: ['ghcr.io', 'quay.io'] }) }
      ),
      env: RUN_ENV
    }
    expect(readCleanup(without)).toEqual({ state: {}, dropped: ['logout'] })
  })

  it('drops an image list longer than a run could make', () => {
    const images = Array.from(
      { length: 3001 },
      (_, i) => `ros-multiarch-local/acme/robot:t${i}-${RUN_TAG}`
    )
    expect(readCleanup(withState({ runTag: RUN_TAG, images })).dropped).toEqual(['images'])
  })

  it('reads state that is JSON but not an object as nothing', () => {
    expect(readCleanup(withState(['runTag']))).toEqual({ state: {}, dropped: [] })
  })

  it('throws on state that is not JSON', () => {
    const rt = fakeRuntime({}, { cleanup: '{not json' })
    expect(() => readCleanup(rt)).toThrow(SyntaxError)
  })
})
