import { describe, expect, it } from '@jest/globals'
import {
  checkDistinct,
  distroTags,
  runKind,
  runVersion,
  sanitize,
  type GitContext
} from '../../src/plan/tags.js'

const SHA = 'abcdef0123456789abcdef0123456789abcdef01'
const git = (eventName: string, ref: string, sha = SHA): GitContext => ({
  eventName,
  ref,
  sha,
  date: '20261123'
})
const none = { templates: [], suffix: '', latestDistro: '' }

describe('distroTags by kind of run', () => {
  it.each([
    [
      'release',
      git('push', 'refs/tags/v1.2.3'),
      none,
      ['humble-1.2.3', 'humble-1.2', 'humble-1', 'humble']
    ],
    [
      'release without v',
      git('push', 'refs/tags/2.0.1'),
      none,
      ['humble-2.0.1', 'humble-2.0', 'humble-2', 'humble']
    ],
    [
      'release from the release event',
      git('release', 'refs/tags/v1.2.3'),
      none,
      ['humble-1.2.3', 'humble-1.2', 'humble-1', 'humble']
    ],
    [
      '0.x release: no major tag',
      git('push', 'refs/tags/v0.4.1'),
      none,
      ['humble-0.4.1', 'humble-0.4', 'humble']
    ],
    [
      'latest for the latest distro',
      git('push', 'refs/tags/v1.2.3'),
      { ...none, latestDistro: 'humble' },
      ['humble-1.2.3', 'humble-1.2', 'humble-1', 'humble', 'latest']
    ],
    [
      'latest not for another distro',
      git('push', 'refs/tags/v1.2.3'),
      { ...none, latestDistro: 'jazzy' },
      ['humble-1.2.3', 'humble-1.2', 'humble-1', 'humble']
    ],
    [
      'pre-release: only the full version',
      git('push', 'refs/tags/v1.3.0-rc.1'),
      { ...none, latestDistro: 'humble' },
      ['humble-1.3.0-rc.1']
    ],
    ['non-semver tag', git('push', 'refs/tags/nightly/2026'), none, ['humble-nightly-2026']],
    ['branch push', git('push', 'refs/heads/main'), none, ['humble-main', 'humble-sha-abcdef0']],
    [
      'branch with slashes and odd characters',
      git('push', 'refs/heads/feature/Lidar+IMU'),
      none,
      ['humble-feature-Lidar-IMU', 'humble-sha-abcdef0']
    ],
    [
      'manual run on a branch',
      git('workflow_dispatch', 'refs/heads/dev'),
      none,
      ['humble-dev', 'humble-sha-abcdef0']
    ],
    [
      'scheduled run',
      git('schedule', 'refs/heads/main'),
      none,
      ['humble-nightly', 'humble-20261123']
    ],
    ['pull request', git('pull_request', 'refs/pull/42/merge'), none, ['humble-pr-42']],
    ['outside a workflow', git('', '', ''), none, ['humble']],
    [
      'suffix on every tag, latest too',
      git('push', 'refs/tags/v1.2.3'),
      { ...none, suffix: '-cuda', latestDistro: 'humble' },
      ['humble-1.2.3-cuda', 'humble-1.2-cuda', 'humble-1-cuda', 'humble-cuda', 'latest-cuda']
    ],
    [
      'templates replace the defaults',
      git('push', 'refs/tags/v1.2.3'),
      { ...none, templates: ['{distro}-v{major}', 'ros-{distro}-{date}'] },
      ['humble-v1', 'ros-humble-20261123']
    ],
    [
      'templates whose values are missing are skipped',
      git('push', 'refs/heads/main'),
      { ...none, templates: ['{distro}-{version}', '{distro}-{branch}-{sha}'] },
      ['humble-main-abcdef0']
    ],
    [
      'duplicates collapse',
      git('push', 'refs/heads/main'),
      { ...none, templates: ['{distro}', '{distro}'] },
      ['humble']
    ]
  ])('%s', (_name, context, options, tags) => {
    expect(distroTags(runKind(context), context, 'humble', options)).toEqual(tags)
  })

  it('cuts a long branch name so that tags stay within 128 characters', () => {
    const long = git('push', `refs/heads/${'b'.repeat(130)}`)
    expect(distroTags(runKind(long), long, 'humble', none)).toEqual([
      `humble-${'b'.repeat(80)}`,
      'humble-sha-abcdef0'
    ])
  })

  it('rejects a template that makes a tag longer than 128 characters', () => {
    const context = git('push', 'refs/heads/main')
    expect(() =>
      distroTags(runKind(context), context, 'humble', {
        ...none,
        templates: [`{distro}-${'x'.repeat(130)}`]
      })
    ).toThrow(
      `Input "tags": tag "humble-${'x'.repeat(53)}..." is not valid: letters, digits, _ . - only, at most 128 characters, not starting with . or -`
    )
  })

  it('rejects a template that makes an invalid tag', () => {
    const context = git('push', 'refs/heads/main')
    expect(() =>
      distroTags(runKind(context), context, 'humble', { ...none, templates: ['-{distro}'] })
    ).toThrow(
      'Input "tags": tag "-humble" is not valid: letters, digits, _ . - only, at most 128 characters, not starting with . or -'
    )
  })
})

describe('checkDistinct', () => {
  it('refuses a tag two distros would share', () => {
    expect(() =>
      checkDistinct(
        new Map([
          ['humble', ['v1', 'humble-v1']],
          ['jazzy', ['v1']]
        ])
      )
    ).toThrow(
      'Input "tags": tag "v1" would be published for both humble and jazzy; put {distro} in every template'
    )
  })
})

describe('runVersion and sanitize', () => {
  it.each([
    [git('push', 'refs/tags/v1.2.3'), '1.2.3'],
    [git('push', 'refs/heads/main'), 'main'],
    [git('schedule', 'refs/heads/main'), 'nightly-20261123'],
    [git('pull_request', 'refs/pull/7/merge'), 'pr-7'],
    [git('', '', SHA), 'sha-abcdef0'],
    [git('', '', ''), 'local']
  ])('%j -> %s', (context, version) => {
    expect(runVersion(runKind(context), context)).toBe(version)
  })

  it.each([
    ['feature/x', 'feature-x'],
    ['-lead', 'lead'],
    ['a..b', 'a..b'],
    ['trailing/', 'trailing']
  ])('%s -> %s', (name, tag) => {
    expect(sanitize(name)).toBe(tag)
  })
})
