import { describe, expect, it } from '@jest/globals'
import { readConfig } from '../../src/inputs/config.js'
import { planBuild, planMatrix, type PlanContext } from '../../src/plan/planner.js'
import { renderPlan } from '../../src/plan/render.js'
import { source, TODAY } from '../helpers/inputs.js'

const ctx: PlanContext = {
  hostPlatform: 'linux/amd64',
  git: {
    eventName: 'push',
    ref: 'refs/heads/main',
    sha: '0123456789abcdef0123456789abcdef01234567',
    date: '20261123'
  },
  repo: {
    source: 'https://github.com/acme/robot',
    title: 'robot',
    description: '',
    licenses: 'Apache-2.0'
  },
  created: '2026-11-23T12:00:00.000Z',
  runId: '42-1',
  workflowRun: '',
  fileTests: []
}

function plan(values: Record<string, string>, context: Partial<PlanContext> = {}) {
  const { config } = readConfig(source({ image: 'acme/robot', ...values }), { today: TODAY })
  return planBuild(config, { ...ctx, ...context })
}

describe('planBuild', () => {
  it('makes one cell per distro and platform, in input order', () => {
    const p = plan({ distros: 'jazzy, humble' })
    expect(p.cells.map(c => [c.id, c.platform, c.emulated])).toEqual([
      ['jazzy-amd64', 'linux/amd64', false],
      ['jazzy-arm64', 'linux/arm64', true],
      ['humble-amd64', 'linux/amd64', false],
      ['humble-arm64', 'linux/arm64', true]
    ])
    expect(p.manifests).toMatchObject([
      {
        distro: 'jazzy',
        tags: ['acme/robot:jazzy-main', 'acme/robot:jazzy-sha-0123456'],
        cells: ['jazzy-amd64', 'jazzy-arm64']
      },
      {
        distro: 'humble',
        tags: ['acme/robot:humble-main', 'acme/robot:humble-sha-0123456'],
        cells: ['humble-amd64', 'humble-arm64']
      }
    ])
  })

  it('is deterministic', () => {
    const values = { distros: 'humble, jazzy, rolling', 'smoke-tests': 'true' }
    expect(JSON.stringify(plan(values))).toBe(JSON.stringify(plan(values)))
  })

  it('emulates what the runner cannot run natively', () => {
    const p = plan({ distros: 'humble' }, { hostPlatform: 'linux/arm64' })
    expect(p.cells.map(c => c.emulated)).toEqual([true, false])
  })

  it('passes BASE_IMAGE and ROS_DISTRO first, then the user build args with {distro} filled', () => {
    const p = plan({
      distros: 'humble',
      platforms: 'linux/arm64',
      'build-args': 'WS=/ws/{distro}\nJOBS=2',
      'base-image': '127.0.0.1:5000/ros:{distro}-ros-base'
    })
    expect(p.cells[0].buildArgs).toEqual([
      ['BASE_IMAGE', '127.0.0.1:5000/ros:humble-ros-base'],
      ['ROS_DISTRO', 'humble'],
      ['WS', '/ws/humble'],
      ['JOBS', '2']
    ])
    expect(p.cells[0]).toMatchObject({
      baseImage: '127.0.0.1:5000/ros:humble-ros-base',
      localTag: 'ros-multiarch-local/acme/robot:humble-arm64-42-1',
      pushTag: 'acme/robot:humble-main-arm64',
      machines: ['aarch64', 'arm64'],
      rosVersion: 2
    })
  })

  it('has the plain distro tag outside a workflow and no run id in local tags', () => {
    const p = plan(
      { distros: 'humble', platforms: 'linux/amd64' },
      { git: { eventName: '', ref: '', sha: '', date: '20261123' }, runId: '' }
    )
    expect(p.manifests[0].tags).toEqual(['acme/robot:humble'])
    expect(p.cells[0].localTag).toBe('ros-multiarch-local/acme/robot:humble-amd64')
  })

  it.each([
    [
      'ROS 2 with checks',
      { distros: 'jazzy' },
      [
        'architecture is aarch64',
        'ROS environment is jazzy',
        'ros2 CLI answers',
        'ros2 pkg list is not empty',
        'ROS 2 pub/sub round trip'
      ]
    ],
    [
      'ROS 1 with checks',
      { distros: 'noetic' },
      [
        'architecture is aarch64',
        'ROS environment is noetic',
        'rosversion -d answers',
        'ROS 1 roscore pub/echo round trip'
      ]
    ],
    [
      'ros-checks off keeps the architecture check',
      { distros: 'jazzy', 'ros-checks': 'false' },
      ['architecture is aarch64']
    ],
    [
      'distro outside the catalog: environment only',
      { distros: 'melodic', 'base-image': 'acme/ros:{distro}' },
      ['architecture is aarch64', 'ROS environment is melodic']
    ],
    [
      'user lines come after the built-ins',
      {
        distros: 'jazzy',
        'ros-checks': 'false',
        'smoke-tests': 'ros2 --help\ntest -x /usr/bin/app'
      },
      ['architecture is aarch64', 'ros2 --help', 'test -x /usr/bin/app']
    ]
  ])('tests: %s', (_name, values, names) => {
    const cell = plan({ platforms: 'linux/arm64', ...values }).cells[0]
    expect(cell.tests.map(t => t.name)).toEqual(names)
  })

  it('keeps discovery local: ROS_LOCALHOST_ONLY before jazzy, the discovery range after', () => {
    const command = (distro: string) => {
      const test = plan({ distros: distro, platforms: 'linux/amd64' }).cells[0].tests.find(
        t => t.name === 'ROS 2 pub/sub round trip'
      )
      return test?.kind === 'command' ? test.command : ''
    }
    expect(command('humble')).toContain('export ROS_LOCALHOST_ONLY=1')
    expect(command('jazzy')).toContain('export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST')
  })

  it('checks the architecture with an anchored pattern per platform', () => {
    const arch = plan({ distros: 'noetic', platforms: 'linux/arm/v7' }).cells[0].tests[0]
    expect(arch).toMatchObject({ command: 'uname -m', stdout: ['^(armv7l|armv8l)\\s*$'] })
  })
})

describe('planMatrix', () => {
  it('gives one include entry per cell with its native runner', () => {
    expect(planMatrix(plan({ distros: 'humble' }))).toEqual({
      include: [
        { distro: 'humble', platform: 'linux/amd64', arch: 'amd64', runner: 'ubuntu-24.04' },
        { distro: 'humble', platform: 'linux/arm64', arch: 'arm64', runner: 'ubuntu-24.04-arm' }
      ]
    })
  })
})

describe('renderPlan', () => {
  it('prints a table a person can read', () => {
    expect(renderPlan(plan({ distros: 'humble, noetic' }))).toBe(
      [
        'Plan: 4 cells (2 distros x 2 platforms) for acme/robot, push off',
        '',
        'cell          ROS  platform     expects  run       base image           tests',
        '------------  ---  -----------  -------  --------  -------------------  -----',
        'humble-amd64  2    linux/amd64  x86_64   native    ros:humble-ros-base  5',
        'humble-arm64  2    linux/arm64  aarch64  emulated  ros:humble-ros-base  5',
        'noetic-amd64  1    linux/amd64  x86_64   native    ros:noetic-ros-base  4',
        'noetic-arm64  1    linux/arm64  aarch64  emulated  ros:noetic-ros-base  4',
        '',
        'distro  tags                                                   from cells',
        '------  -----------------------------------------------------  --------------------------',
        'humble  acme/robot:humble-main, acme/robot:humble-sha-0123456  humble-amd64, humble-arm64',
        'noetic  acme/robot:noetic-main, acme/robot:noetic-sha-0123456  noetic-amd64, noetic-arm64'
      ].join('\n')
    )
  })
})

describe('planBuild: tags', () => {
  it('refuses a plan that pushes where no template gives a distro a tag', () => {
    expect(() => plan({ distros: 'humble', tags: '{distro}-{version}', push: 'true' })).toThrow(
      'Input "tags": no template gives humble a tag in a branch run (a template is skipped when one of its placeholders is empty); add one that does, e.g. {distro}-{sha}'
    )
  })

  const pullRequest: Partial<PlanContext> = {
    git: { eventName: 'pull_request', ref: 'refs/pull/7/merge', sha: '', date: '20261123' }
  }
  const schedule: Partial<PlanContext> = {
    git: { eventName: 'schedule', ref: 'refs/heads/main', sha: '', date: '20261123' }
  }

  it('builds and tests a pull request whose custom tags have no value in it (it never pushes)', () => {
    const p = plan({ distros: 'humble', tags: '{distro}-{version}', push: 'true' }, pullRequest)
    expect(p.push).toBe(false)
    expect(p.cells.map(c => c.id)).toEqual(['humble-amd64', 'humble-arm64'])
    expect(p.manifests[0].tags).toEqual([])
  })

  it('builds and tests a scheduled run without push whose custom tags have no value', () => {
    const p = plan({ distros: 'humble', tags: '{distro}-{version}' }, schedule)
    expect(p.manifests[0].tags).toEqual([])
  })

  it('refuses a scheduled run that pushes when no template gives a distro a tag', () => {
    expect(() =>
      plan({ distros: 'humble', tags: '{distro}-{version}', push: 'true' }, schedule)
    ).toThrow('Input "tags": no template gives humble a tag in a schedule run')
  })

  it('refuses a base image that is not a reference once the distro is filled in', () => {
    expect(() => plan({ distros: 'humble', 'base-image': 'ros:{distro}:base' })).toThrow(
      'Input "base-image": "ros:humble:base" is not an image reference: "ros:humble" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
    )
  })

  it('takes the pull request number from the event payload', () => {
    const p = plan(
      { distros: 'humble', push: 'true' },
      {
        git: {
          eventName: 'pull_request_target',
          ref: 'refs/heads/main',
          sha: '',
          date: '20261123',
          prNumber: '17'
        }
      }
    )
    expect(p.manifests[0].tags).toEqual(['acme/robot:humble-pr-17'])
    expect([p.push, p.pushBlocked]).toEqual([
      false,
      'a pull request builds and tests, and never pushes'
    ])
  })
})

describe('planBuild: modes', () => {
  it('names a staging tag per cell after the workflow run (and the tag suffix)', () => {
    const p = plan(
      { distros: 'humble', mode: 'build', push: 'true', 'tag-suffix': '-cuda' },
      { workflowRun: '123456' }
    )
    expect(p.mode).toBe('build')
    expect(p.cells.map(c => c.stageTag)).toEqual([
      'acme/robot:rma-stage-123456-humble-amd64-cuda',
      'acme/robot:rma-stage-123456-humble-arm64-cuda'
    ])
  })

  it.each(['build', 'merge'])('refuses mode %s without GITHUB_RUN_ID', mode => {
    expect(() => plan({ distros: 'humble', mode, push: 'true' })).toThrow(
      `Input "mode": mode ${mode} needs GITHUB_RUN_ID (set by GitHub Actions in every job): the build slices and the merge job find each other by it`
    )
  })

  it('says in the plan what a build slice does', () => {
    const p = plan({ distros: 'humble', mode: 'build', push: 'true' }, { workflowRun: '7' })
    expect(renderPlan(p)).toContain(
      'mode build: each tested cell is pushed under a staging tag only (e.g. acme/robot:rma-stage-7-humble-amd64)'
    )
  })
})

describe('planMatrix: runners', () => {
  it('maps platforms to the runners input, one label or several', () => {
    const { config } = readConfig(
      source({
        image: 'acme/robot',
        distros: 'humble',
        platforms: 'linux/amd64,linux/arm64,linux/arm/v7',
        'base-image': 'acme/ros:{distro}',
        runners: 'linux/arm64=self-hosted,jetson\nlinux/amd64=big-runner'
      }),
      { today: TODAY }
    )
    const m = planMatrix(planBuild(config, ctx), config.runners)
    expect(m.include.map(e => [e.platform, e.runner])).toEqual([
      ['linux/amd64', 'big-runner'],
      ['linux/arm64', ['self-hosted', 'jetson']],
      ['linux/arm/v7', 'ubuntu-24.04']
    ])
  })
})
