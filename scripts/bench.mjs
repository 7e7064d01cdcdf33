#!/usr/bin/env node
/**
 * Benchmark on the test bed (run `bash scripts/testbed.sh up` and `npm run build` first).
 * Prints figures; asserts nothing.
 *  - the example matrix (2 distros x linux/amd64 + linux/arm64, arm64 under QEMU), pushed to the
 *    test registry: (a) the action from dist/ as the runner runs it, (b) the same work as plain
 *    docker commands one after another (build + load, the same 6 smoke tests, push, merge); the
 *    median of RUNS alternating runs each, with a warm build cache, and the ratio a/b;
 *  - the wall time of dry runs of every catalog distro x 2 platforms and of 100 cells;
 *  - the size of dist/.
 *   RUNS=5 node scripts/bench.mjs
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from './runner.mjs'

const RUNS = Number(process.env.RUNS ?? 3)
const env = Object.fromEntries(
  execFileSync('bash', ['-c', 'source <(bash scripts/testbed.sh env) && env -0'], {
    encoding: 'utf8'
  })
    .split('\0')
    .filter(l => l.startsWith('TESTBED_'))
    .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
)
const REG = env.TESTBED_REGISTRY
const DISTROS = ['humble', 'jazzy']
const ARCHES = ['amd64', 'arm64']
const SHA = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const secs = ms => (ms / 1000).toFixed(2)

async function viaAction(repo) {
  const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'rma-bench-'))
  const started = Date.now()
  const r = await runAction({
    inputs: {
      distros: DISTROS.join(','),
      image: `${REG}/${repo}`,
      'base-image': `${REG}/ros:{distro}-ros-base`,
      context: 'examples/ros-app',
      'smoke-test-file': 'examples/ros-app/smoke.yaml',
      'ros-checks': 'false',
      network: 'host',
      push: 'true',
      username: env.TESTBED_USERNAME,
      password: env.TESTBED_PASSWORD
    },
    env: { DOCKER_CONFIG: dockerConfig, GITHUB_SHA: SHA, GITHUB_RUN_ID: String(process.pid) }
  })
  const ms = Date.now() - started
  if (r.main.code !== 0) throw new Error(`the action failed:\n${r.main.stdout.slice(-3000)}`)
  return ms
}

function docker(args, input) {
  return execFileSync('docker', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })
}

function viaPlainCommands(repo) {
  const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'rma-bench-'))
  process.env.DOCKER_CONFIG = dockerConfig
  const started = Date.now()
  docker(['login', REG, '-u', env.TESTBED_USERNAME, '--password-stdin'], env.TESTBED_PASSWORD)
  for (const distro of DISTROS) {
    const digests = []
    for (const arch of ARCHES) {
      const platform = `linux/${arch}`
      const tag = `${REG}/${repo}:${distro}-${arch}`
      docker([
        'buildx',
        'build',
        '--platform',
        platform,
        '--network',
        'host',
        '--pull',
        '--build-arg',
        `BASE_IMAGE=${REG}/ros:${distro}-ros-base`,
        '--build-arg',
        `ROS_DISTRO=${distro}`,
        '--provenance=false',
        '--load',
        '-t',
        tag,
        'examples/ros-app'
      ])
      const run = cmd =>
        docker(['run', '--rm', '--platform', platform, '--network', 'none', tag, ...cmd])
      run(['uname', '-m'])
      run(['sh', '-c', 'ros_app_hello'])
      run(['sh', '-c', 'cat /etc/ros_app/build-info'])
      run(['sh', '-c', 'echo "ROS_VERSION=$ROS_VERSION"'])
      run(['sh', '-c', 'test -e "$1"', 'sh', '/usr/local/bin/ros_app_hello'])
      run(['sh', '-c', 'printenv "$1"', 'sh', 'ROS_DISTRO'])
      const out = docker(['push', tag])
      digests.push(/digest: (sha256:[a-f0-9]{64})/.exec(out)[1])
    }
    docker([
      'buildx',
      'imagetools',
      'create',
      '-t',
      `${REG}/${repo}:${distro}`,
      '-t',
      `${REG}/${repo}:${distro}-${SHA.slice(0, 7)}`,
      ...digests.map(d => `${REG}/${repo}@${d}`)
    ])
  }
  docker(['logout', REG])
  delete process.env.DOCKER_CONFIG
  return Date.now() - started
}

async function dryRun(distros, extra = {}) {
  const r = await runAction({
    inputs: { distros, image: 'acme/robot', 'dry-run': 'true', ...extra },
    post: false
  })
  if (r.main.code !== 0) throw new Error(r.main.stdout)
  return r.main.ms
}

const a = []
const b = []
await viaAction('bench/action') // warm-up: both ways then share a warm build cache
viaPlainCommands('bench/plain')
for (let i = 0; i < RUNS; i++) {
  a.push(await viaAction('bench/action'))
  b.push(viaPlainCommands('bench/plain'))
}
const all = 'noetic,humble,iron,jazzy,kilted,lyrical,rolling'
const hundred = Array.from({ length: 50 }, (_, i) => `d${String(i).padStart(2, '0')}`).join(',')
const dryAll = []
const dry100 = []
for (let i = 0; i < 5; i++) {
  dryAll.push(await dryRun(all))
  dry100.push(await dryRun(hundred, { 'base-image': 'acme/ros:{distro}' }))
}

console.log(
  `ros-multiarch-action bench: ${os.cpus().length} cores, ${RUNS} runs each, median wall time`
)
console.log('')
console.log('| what | median | runs |')
console.log('| --- | --- | --- |')
console.log(
  `| (a) action, 2 distros x 2 platforms, push, warm cache | ${secs(median(a))} s | ${a.map(secs).join(', ')} |`
)
console.log(
  `| (b) plain docker commands, same work, one after another | ${secs(median(b))} s | ${b.map(secs).join(', ')} |`
)
console.log(`| ratio a/b | ${(median(a) / median(b)).toFixed(2)} | |`)
console.log(
  `| dry run, 7 catalog distros x 2 platforms (14 cells), node start included | ${secs(median(dryAll))} s | ${dryAll.map(secs).join(', ')} |`
)
console.log(
  `| dry run, 100 cells, node start included | ${secs(median(dry100))} s | ${dry100.map(secs).join(', ')} |`
)
console.log(`| dist/index.js | ${(statSync('dist/index.js').size / 1e6).toFixed(2)} MB | |`)
