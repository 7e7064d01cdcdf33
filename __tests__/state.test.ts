import { describe, expect, it } from '@jest/globals'
import { isPostStep, markMainStep, readCleanup, saveCleanup } from '../src/state.js'
import { fakeRuntime } from './helpers/fake-runtime.js'

const withState = (cleanup: unknown, env: Record<string, string> = {}) => {
  const rt = fakeRuntime({}, { cleanup: JSON.stringify(cleanup) })
  return { ...rt, env: { RUNNER_TEMP: '/runner/temp', ...env } }
}

describe('post-step state', () => {
  it('reads back what the main step saved', () => {
    const state: Record<string, string> = {}
    const rt = { ...fakeRuntime({}, state), env: { RUNNER_TEMP: '/runner/temp' } }
    const cleanup = {
      runTag: '42-1-abc123',
      tempDir: '/runner/temp/ros-multiarch-Xy12Zq',
      builder: 'rma-42-1-abc123',
      logout: '127.0.0.1:5000',
      images: [
        'ros-multiarch-local/acme/robot:humble-amd64-42-1-abc123',
        '127.0.0.1:5000/acme/robot:humble-main-amd64',
        '127.0.0.1:5000/acme/robot:rma-stage-42-humble-amd64'
      ]
    }
    saveCleanup(rt, cleanup)
    expect(readCleanup(rt)).toEqual({ state: cleanup, dropped: [] })
  })

  it('marks the main step, so the same bundle knows the post step', () => {
    const state: Record<string, string> = {}
    expect(isPostStep(fakeRuntime({}, state))).toBe(false)
    markMainStep(fakeRuntime({}, state))
    expect(isPostStep(fakeRuntime({}, state))).toBe(true)
  })

  it.each([
    ['a temporary folder outside RUNNER_TEMP', { tempDir: '/etc/ros-multiarch-x' }, 'tempDir'],
    ['a relative temporary folder', { tempDir: 'ros-multiarch-x' }, 'tempDir'],
    ['a builder the action did not name', { builder: 'default' }, 'builder'],
    ['a run tag with a shell character', { runTag: 'a;b' }, 'runTag'],
    ['a registry with a path', { logout: 'ghcr.io/acme' }, 'logout'],
    ['an image list that is not a list', { images: 'a:b' }, 'images'],
    ['an image that looks like an option', { images: ['a:b', '--force'] }, 'images'],
    ['an image without a tag', { images: ['acme/robot'] }, 'images'],
    ['an image by digest', { images: [`acme/robot:x@sha256:${'a'.repeat(64)}`] }, 'images'],
    ['a number where a name goes', { runTag: 7 }, 'runTag'],
    ['a key the main step never writes', { command: 'rm -rf /' }, 'command']
  ])('drops %s', (_name, cleanup, key) => {
    const { state, dropped } = readCleanup(withState(cleanup))
    expect(dropped).toEqual([key])
    expect(state).toEqual({})
  })

  it('drops an image list longer than a run could make', () => {
    const images = Array.from({ length: 3001 }, (_, i) => `acme/robot:t${i}`)
    expect(readCleanup(withState({ images })).dropped).toEqual(['images'])
  })

  it('reads state that is JSON but not an object as nothing', () => {
    expect(readCleanup(withState(['runTag']))).toEqual({ state: {}, dropped: [] })
  })

  it('throws on state that is not JSON', () => {
    const rt = fakeRuntime({}, { cleanup: '{not json' })
    expect(() => readCleanup(rt)).toThrow(SyntaxError)
  })
})
