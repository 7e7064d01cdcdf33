import { describe, expect, it } from '@jest/globals'
import { imageLabels, repoInfo } from '../../src/plan/labels.js'

describe('repoInfo', () => {
  it('prefers the event payload', () => {
    const payload = {
      repository: {
        name: 'robot',
        html_url: 'https://ghe.example/acme/robot',
        description: 'Our robot',
        license: { spdx_id: 'BSD-3-Clause' }
      }
    }
    expect(repoInfo({ GITHUB_REPOSITORY: 'acme/robot' }, payload, 'x')).toEqual({
      source: 'https://ghe.example/acme/robot',
      title: 'robot',
      description: 'Our robot',
      licenses: 'BSD-3-Clause'
    })
  })

  it('falls back to the environment and never guesses a license', () => {
    expect(
      repoInfo(
        { GITHUB_REPOSITORY: 'acme/robot', GITHUB_SERVER_URL: 'https://github.com' },
        { schedule: '0 3 * * *' },
        'x'
      )
    ).toEqual({
      source: 'https://github.com/acme/robot',
      title: 'robot',
      description: '',
      licenses: ''
    })
    expect(repoInfo({}, null, 'robot-image')).toEqual({
      source: '',
      title: 'robot-image',
      description: '',
      licenses: ''
    })
    expect(
      repoInfo({}, { repository: { license: { spdx_id: 'NOASSERTION' } } }, 'x').licenses
    ).toBe('')
  })
})

describe('imageLabels', () => {
  const repo = {
    source: 'https://github.com/acme/robot',
    title: 'robot',
    description: '',
    licenses: ''
  }
  it('sets the OCI keys, the ROS keys, and user labels on top; leaves unknown values out', () => {
    expect(
      imageLabels({
        distro: 'jazzy',
        rosVersion: 2,
        version: '1.2.3',
        revision: 'abc',
        created: '2026-11-23T12:00:00Z',
        repo,
        user: [
          ['org.opencontainers.image.title', 'Robot'],
          ['com.acme.team', 'nav']
        ]
      })
    ).toEqual([
      ['org.opencontainers.image.source', 'https://github.com/acme/robot'],
      ['org.opencontainers.image.revision', 'abc'],
      ['org.opencontainers.image.created', '2026-11-23T12:00:00Z'],
      ['org.opencontainers.image.version', '1.2.3'],
      ['org.opencontainers.image.title', 'Robot'],
      ['org.opencontainers.image.description', 'robot for ROS jazzy'],
      ['io.ros-multiarch.ros.distro', 'jazzy'],
      ['io.ros-multiarch.ros.version', '2'],
      ['com.acme.team', 'nav']
    ])
  })
})
