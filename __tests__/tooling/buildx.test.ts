import { describe, expect, it } from '@jest/globals'
import { buildxUrl, decideBuildx, KNOWN_LATEST_BUILDX } from '../../src/tooling/buildx.js'

describe('decideBuildx', () => {
  it.each([
    ['>=0.13.0', '0.13.1', { action: 'keep', version: '0.13.1' }],
    [
      '>=0.13.0',
      null,
      { action: 'install', version: KNOWN_LATEST_BUILDX, reason: 'buildx is not installed' }
    ],
    [
      '>=0.20.0',
      '0.13.1',
      {
        action: 'install',
        version: KNOWN_LATEST_BUILDX,
        reason: 'buildx 0.13.1 does not satisfy >=0.20.0'
      }
    ],
    [
      '^0.19.0',
      '0.13.1',
      { action: 'install', version: '0.19.0', reason: 'buildx 0.13.1 does not satisfy ^0.19.0' }
    ],
    ['0.19.3', '0.19.3', { action: 'keep', version: '0.19.3' }],
    [
      'v0.19.3',
      '0.20.0',
      { action: 'install', version: '0.19.3', reason: 'buildx 0.20.0 does not satisfy v0.19.3' }
    ],
    [
      '0.19.3',
      '0.13.1',
      { action: 'install', version: '0.19.3', reason: 'buildx 0.13.1 does not satisfy 0.19.3' }
    ],
    ['latest', KNOWN_LATEST_BUILDX, { action: 'keep', version: KNOWN_LATEST_BUILDX }],
    [
      'latest',
      '0.13.1',
      {
        action: 'install',
        version: KNOWN_LATEST_BUILDX,
        reason: 'buildx 0.13.1 does not satisfy latest'
      }
    ]
  ])('requires %s, has %s', (required, installed, decision) => {
    expect(decideBuildx(required, installed)).toEqual(decision)
  })
})

describe('buildxUrl', () => {
  it('fills the GitHub release URL by default', () => {
    expect(buildxUrl('', '0.19.3', 'x64')).toBe(
      'https://github.com/docker/buildx/releases/download/v0.19.3/buildx-v0.19.3.linux-amd64'
    )
  })
  it('fills a mirror template', () => {
    expect(buildxUrl('https://mirror.example/buildx/{version}/{arch}', '0.19.3', 'arm64')).toBe(
      'https://mirror.example/buildx/0.19.3/arm64'
    )
  })
  it('names an architecture without releases', () => {
    expect(() => buildxUrl('', '0.19.3', 'mips')).toThrow(
      "No buildx release exists for this runner's architecture (mips)."
    )
  })
})
