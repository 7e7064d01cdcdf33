import { describe, expect, it } from '@jest/globals'
import { sliceProblem } from '../../src/pipeline/merge.js'

const cell = { distro: 'humble', platform: 'linux/arm64' }
const ours = { 'io.ros-multiarch.ros.distro': 'humble', 'io.ros-multiarch.inputs.hash': 'sha256:1' }

describe('sliceProblem', () => {
  it('accepts an image of the platform and distro, built by the action', () => {
    expect(sliceProblem(cell, 'linux/arm64', ours)).toBeNull()
  })
  it.each([
    ['linux/amd64', ours, 'it is linux/amd64, not linux/arm64'],
    [
      'linux/arm64',
      { ...ours, 'io.ros-multiarch.ros.distro': 'jazzy' },
      'it was built for distro jazzy, not humble'
    ],
    ['linux/arm64', { 'io.ros-multiarch.ros.distro': 'humble' }, 'it was not built by this action']
  ])('refuses %s %j', (platform, labels, why) => {
    expect(sliceProblem(cell, platform, labels)).toBe(why)
  })
})
