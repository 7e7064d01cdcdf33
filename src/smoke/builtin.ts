/**
 * The action's own smoke checks. The architecture check always runs; the ROS checks follow the
 * distro's ROS version (see ../shared facts: ros2 doctor is unreliable in containers, so it is
 * not used; discovery is kept on the container's loopback).
 */
import type { RosVersion } from '../ros/catalog.js'
import type { PlatformInfo } from '../ros/platforms.js'
import { commandTest, type CommandTest, type EnvTest, type SmokeTest } from './types.js'

export const SMOKE_TOPIC = '/ros_multiarch_smoke'
export const SMOKE_MESSAGE = 'ros-multiarch-ping'

function anchored(values: readonly string[]): string {
  return `^(${values.map(v => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})\\s*$`
}

export function architectureCheck(platform: PlatformInfo, timeout: number): CommandTest {
  return commandTest({
    name: `architecture is ${platform.machines[0]}`,
    source: 'built-in',
    timeout,
    command: 'uname -m',
    stdout: [anchored(platform.machines)]
  })
}

function rosEnvironmentCheck(distro: string, timeout: number): EnvTest {
  return {
    kind: 'env',
    name: `ROS environment is ${distro}`,
    source: 'built-in',
    timeout,
    variable: 'ROS_DISTRO',
    matches: anchored([distro])
  }
}

/** Distros before Jazzy only know ROS_LOCALHOST_ONLY; Jazzy and later use the discovery range. */
const LOCALHOST_ONLY_DISTROS = ['humble', 'iron']

function ros2Checks(distro: string, timeout: number): CommandTest[] {
  const discovery = LOCALHOST_ONLY_DISTROS.includes(distro)
    ? 'export ROS_LOCALHOST_ONLY=1'
    : 'export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST'
  const roundTrip = [
    discovery,
    `ros2 topic pub -r 2 ${SMOKE_TOPIC} std_msgs/msg/String "{data: ${SMOKE_MESSAGE}}" >/dev/null 2>&1 &`,
    'pub=$!',
    `ros2 topic echo --once ${SMOKE_TOPIC} std_msgs/msg/String`,
    'status=$?',
    'kill $pub 2>/dev/null',
    'exit $status'
  ].join('\n')
  return [
    commandTest({ name: 'ros2 CLI answers', source: 'built-in', timeout, command: 'ros2 --help' }),
    commandTest({
      name: 'ros2 pkg list is not empty',
      source: 'built-in',
      timeout,
      command: 'ros2 pkg list',
      stdout: ['\\S']
    }),
    commandTest({
      name: 'ROS 2 pub/sub round trip',
      source: 'built-in',
      timeout,
      command: roundTrip,
      stdout: [SMOKE_MESSAGE]
    })
  ]
}

function ros1Checks(timeout: number): CommandTest[] {
  const roundTrip = [
    'export ROS_MASTER_URI=http://127.0.0.1:11311 ROS_HOSTNAME=127.0.0.1',
    'roscore >/tmp/ros_multiarch_roscore.log 2>&1 &',
    'core=$!',
    'tries=0',
    'until rostopic list >/dev/null 2>&1; do',
    '  tries=$((tries + 1))',
    '  if [ $tries -gt 600 ]; then cat /tmp/ros_multiarch_roscore.log >&2; exit 1; fi',
    '  sleep 1',
    'done',
    `rostopic pub -r 2 ${SMOKE_TOPIC} std_msgs/String "data: ${SMOKE_MESSAGE}" >/dev/null 2>&1 &`,
    'pub=$!',
    `rostopic echo -n 1 ${SMOKE_TOPIC}`,
    'status=$?',
    'kill $pub $core 2>/dev/null',
    'exit $status'
  ].join('\n')
  return [
    commandTest({
      name: 'rosversion -d answers',
      source: 'built-in',
      timeout,
      command: 'rosversion -d',
      stdout: ['\\S']
    }),
    commandTest({
      name: 'ROS 1 roscore pub/echo round trip',
      source: 'built-in',
      timeout,
      command: roundTrip,
      stdout: [SMOKE_MESSAGE]
    })
  ]
}

export interface BuiltinOptions {
  readonly distro: string
  readonly rosVersion: RosVersion | null
  readonly platform: PlatformInfo
  readonly rosChecks: boolean
  readonly timeout: number
}

export function builtinChecks(o: BuiltinOptions): SmokeTest[] {
  const checks: SmokeTest[] = [architectureCheck(o.platform, o.timeout)]
  if (!o.rosChecks) return checks
  checks.push(rosEnvironmentCheck(o.distro, o.timeout))
  if (o.rosVersion === 2) checks.push(...ros2Checks(o.distro, o.timeout))
  if (o.rosVersion === 1) checks.push(...ros1Checks(o.timeout))
  return checks
}
