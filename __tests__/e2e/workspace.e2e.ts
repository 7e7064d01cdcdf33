/**
 * A real ROS workload on the test bed: the C++ colcon workspace of examples/ros2-workspace,
 * compiled for linux/amd64 and (under QEMU) linux/arm64 on the ros:<distro>-lower-layers bases
 * (ROS 2's lower layers from Debian 13, with a ros2 CLI stand-in over Cyclone DDS), with the
 * built-in ROS 2 checks on: the ros2 CLI, ros2 pkg list and the topic pub/echo round trip run for
 * real over DDS on each container's loopback (--network none).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  cellsOf,
  expectDefaultAttestations,
  expectNoLeftovers,
  expectPassed,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000

const BUILTIN_ROS2 = (machine: string, distro: string): [string, string][] => [
  [`architecture is ${machine}`, 'passed'],
  [`ROS environment is ${distro}`, 'passed'],
  ['ros2 CLI answers', 'passed'],
  ['ros2 pkg list is not empty', 'passed'],
  ['ROS 2 pub/sub round trip', 'passed']
]

describe('a compiled ROS 2 workspace with the built-in ROS 2 checks', () => {
  const tb = testbed()

  it(
    'jazzy x amd64/arm64: colcon compiles the workspace on each platform, every check passes over DDS, one index is published',
    async () => {
      const repo = uniqueRepo('workspace')
      // a real compile: no build step (nor ccache entry) left by an earlier run on this engine
      execFileSync('docker', ['builder', 'prune', '-af'], { stdio: 'ignore' })
      const r = await runE2e({
        context: 'examples/ros2-workspace',
        'smoke-test-file': 'examples/ros2-workspace/smoke.yaml',
        distros: 'jazzy',
        image: `${tb.registry}/${repo}`,
        'base-image': tb.lowerBase,
        push: 'true'
      })
      expectPassed(r)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status, c.emulated])).toEqual([
        ['jazzy-amd64', 'passed', false],
        ['jazzy-arm64', 'passed', true]
      ])
      for (const [cell, machine] of [
        [cells[0], 'x86_64'],
        [cells[1], 'aarch64']
      ] as const) {
        expect(cell.tests.map(t => [t.name, t.status])).toEqual([
          ...BUILTIN_ROS2(machine, 'jazzy'),
          ['robot_math self-test passes on this CPU', 'passed'],
          ['programs are compiled for this CPU', 'passed'],
          ['workspace packages are in the ament index', 'passed'],
          ['status_publisher reaches ros2 topic echo over DDS', 'passed']
        ])
        const test = (name: string) => cell.tests.find(t => t.name === name)?.output ?? ''
        // the built-in round trip's subscriber printed the message its publisher sent, with the
        // discovery setting Jazzy reads
        expect(test('ROS 2 pub/sub round trip')).toContain('data: ros-multiarch-ping')
        expect(test('ROS 2 pub/sub round trip')).toContain(
          'discovery LOCALHOST from ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST'
        )
        // the compiled program's message, received by the ros2 CLI in the same container
        expect(test('status_publisher reaches ros2 topic echo over DDS')).toMatch(
          new RegExp(`data: robot_status: ${machine} jazzy path=\\d+`)
        )
        // compilation is what the build spends its time on
        expect(cell.slowestSteps?.[0]?.instruction).toMatch(/colcon build/)
      }
      console.log(
        `workspace build on the ${tb.engine} engine: ${cells.map(c => `${c.id} ${c.buildSeconds.toFixed(1)} s (colcon step ${c.slowestSteps?.[0]?.seconds.toFixed(1)} s)`).join(', ')}`
      )
      const index = await manifestOf(repo, 'jazzy-main')
      expect(
        (index?.manifests ?? []).map(m => `${m.platform.os}/${m.platform.architecture}`).sort()
      ).toEqual(['linux/amd64', 'linux/arm64'])
      expectDefaultAttestations(index)
      // an OCI index on every engine: the arm64 image says how long its emulated build and
      // tests took
      const arm64 = index?.manifests?.find(m => m.platform.architecture === 'arm64')
      expect(Number(arm64?.annotations?.['io.ros-multiarch.emulated.seconds'])).toBeGreaterThan(0)
    },
    60 * MINUTES
  )

  it(
    'humble x amd64/arm64: the built-in checks pass with the discovery setting Humble reads (ROS_LOCALHOST_ONLY)',
    async () => {
      const repo = uniqueRepo('humble-checks')
      const r = await runE2e({
        context: '__tests__/fixtures/ros2-publisher-elsewhere',
        'build-args': 'PUBLISHER_DOMAIN_OFFSET=0',
        distros: 'humble',
        image: `${tb.registry}/${repo}`,
        'base-image': tb.lowerBase,
        push: 'true'
      })
      expectPassed(r)
      const cells = cellsOf(r)
      for (const [cell, machine] of [
        [cells[0], 'x86_64'],
        [cells[1], 'aarch64']
      ] as const) {
        expect(cell.tests.map(t => [t.name, t.status])).toEqual(BUILTIN_ROS2(machine, 'humble'))
        expect(cell.tests[4].output).toContain('data: ros-multiarch-ping')
        expect(cell.tests[4].output).toContain('discovery LOCALHOST from ROS_LOCALHOST_ONLY=1')
      }
      expect(await tagsOf(repo)).toContain('humble-main')
    },
    20 * MINUTES
  )

  it(
    'humble and jazzy: the round trip fails at its timeout when the publisher is in another DDS domain, under emulation too; nothing is pushed',
    async () => {
      const repo = uniqueRepo('other-domain')
      const r = await runE2e({
        context: '__tests__/fixtures/ros2-publisher-elsewhere',
        distros: tb.lowerDistros.join(','),
        image: `${tb.registry}/${repo}`,
        'base-image': tb.lowerBase,
        'smoke-timeout': '20',
        push: 'true'
      })
      expect(r.code).not.toBe(0)
      const cells = cellsOf(r)
      expect(cells.map(c => [c.id, c.status])).toEqual(
        tb.lowerDistros.flatMap(d => [
          [`${d}-amd64`, 'failed'],
          [`${d}-arm64`, 'failed']
        ])
      )
      for (const cell of cells) {
        const [distro, arch] = cell.id.split('-')
        const machine = arch === 'amd64' ? 'x86_64' : 'aarch64'
        // everything else of ROS 2 answers; only the round trip cannot complete
        expect(cell.tests.map(t => [t.name, t.status])).toEqual([
          ...BUILTIN_ROS2(machine, distro).slice(0, 4),
          ['ROS 2 pub/sub round trip', 'timed out']
        ])
        const roundTrip = cell.tests[4]
        expect(roundTrip.reason).toBe('killed after its 20 s timeout')
        expect(roundTrip.output).not.toContain('ros-multiarch-ping')
      }
      expect(r.log).toMatch(/::error[^\n]*ROS 2 pub\/sub round trip/)
      expect(await tagsOf(repo)).toEqual([])
    },
    30 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
