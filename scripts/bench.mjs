#!/usr/bin/env node
/**
 * Benchmark on the test bed (run `bash scripts/testbed.sh up` and `npm run build` first).
 * Prints figures; asserts nothing.
 *  - on each engine of the test bed (classic: Docker 20.10; containerd: Docker 28.5 with the
 *    containerd image store; classic28: Docker 28.5 with the classic one), the example app (examples/ros-app) as 2 distros x 2 platforms and
 *    5 distros x 2 platforms (linux/amd64 + linux/arm64, arm64 under QEMU), pushed to the test
 *    registry, each
 *      cold: no build cache and nothing published (builder cache pruned, local images removed);
 *      new repository: the build cache warm, nothing published (every build a cache hit, the
 *        tests, pushes and indexes done again);
 *      warm: nothing changed since the last run (warm build cache, images already published);
 *    (a) the action from dist/ as the runner runs it, (b) the same work as plain docker commands
 *    one after another (build + load, the same 6 smoke tests, push, merge); the median of RUNS
 *    alternating runs each, and the ratio a/b;
 *  - on the containerd engine, the build cache: cold runs (builder cache pruned, local images
 *    removed) with cache none, registry and local, after one run that filled the cache, for the
 *    example app and for a synthetic slow RUN step (scripts/bench/slow-step);
 *  - the emulation slowdown: the same commands in the same image natively and under QEMU;
 *  - the wall time of dry runs of every catalog distro x 2 platforms and of 100 cells;
 *  - the size of dist/;
 *  - on the containerd engine, what supply chain adds: 2 distros x 2 platforms, build cache warm,
 *    a new repository per run, with no attestations, provenance mode=min, mode=max, and mode=min
 *    with every index signed by key (Debian's cosign of the test bed) and verified.
 *   RUNS=5 BENCH_ENGINES=containerd node scripts/bench.mjs
 *   BENCH_ONLY=supply node scripts/bench.mjs   (the supply chain rows only)
 *   BENCH_ONLY=sizes node scripts/bench.mjs    (realistic sizes: the example on the ROS 2
 *     lower-layers bases, about 170 MB compressed per platform, 2 x 2, new repository and warm,
 *     on every engine; the push phase per cell and the bytes uploaded, against docker push's)
 *   BENCH_ONLY=mounts [BENCH_ENGINES="containerd classic28"] node scripts/bench.mjs   (cache
 *     mounts carried between runs: the example workspace after a one-file change, on a warm
 *     builder, a fresh one with the mounts restored and a fresh one without them)
 *   BENCH_SHAPES=2 BENCH_MATRIX_ONLY=1 node scripts/bench.mjs   (the 2 x 2 rows only)
 *   BENCH_ONLY=registries [BENCH_ENGINES="containerd classic28"] node scripts/bench.mjs   (several
 *     registries: the example on the lower-layers bases, 2 x 2, build cache warm, a new
 *     repository each run, published to the test registry alone and to it and the mirror
 *     registry (127.0.0.1:5003, a storage of its own); what the second registry adds, and the
 *     bytes copied to it)
 */
import { execFileSync } from 'node:child_process'
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import YAML from 'yaml'
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
const SMALL = ['humble', 'jazzy']
const LARGE = ['humble', 'jazzy', 'kilted', 'lyrical', 'rolling']
const ARCHES = ['amd64', 'arm64']
const SHA = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
const ENGINES = (process.env.BENCH_ENGINES ?? env.TESTBED_ENGINES).split(' ')
let engine = ''

/** Every docker command from here on goes to this engine of the test bed. */
function useEngine(name) {
  engine = name
  process.env.DOCKER_HOST = env[`TESTBED_DOCKER_HOST_${name.toUpperCase()}`]
}

/** A docker client config of a run's own that finds the engine's buildx. */
function dockerConfigDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-bench-'))
  const plugins = env[`TESTBED_CLI_PLUGINS_${engine.toUpperCase()}`]
  if (plugins) {
    mkdirSync(path.join(dir, 'cli-plugins'))
    symlinkSync(path.join(plugins, 'docker-buildx'), path.join(dir, 'cli-plugins', 'docker-buildx'))
  }
  return dir
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const secs = ms => (ms / 1000).toFixed(2)

/** The cells of the last action run (its results output). */
let lastCells = []
/** The main step's stdout of the last viaAction run */
let lastLog = ''

/** A manifest in the test registry, by reference (for the bytes a push uploaded). */
async function registryManifest(repo, ref) {
  const auth = Buffer.from(`${env.TESTBED_USERNAME}:${env.TESTBED_PASSWORD}`).toString('base64')
  const res = await globalThis.fetch(`http://${REG}/v2/${repo}/manifests/${ref}`, {
    headers: {
      Authorization: `Basic ${auth}`,
      Accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
    }
  })
  return res.json()
}

async function viaAction(repo, distros, extra = {}, extraEnv = {}, cwd = undefined) {
  const dockerConfig = dockerConfigDir()
  const started = Date.now()
  const r = await runAction({
    ...(cwd === undefined ? {} : { cwd }),
    inputs: {
      distros: distros.join(','),
      image: `${REG}/${repo}`,
      'base-image': `${REG}/ros:{distro}-ros-base`,
      context: 'examples/ros-app',
      'smoke-test-file': 'examples/ros-app/smoke.yaml',
      'ros-checks': 'false',
      network: 'host',
      push: 'true',
      username: env.TESTBED_USERNAME,
      password: env.TESTBED_PASSWORD,
      ...extra
    },
    env: {
      DOCKER_CONFIG: dockerConfig,
      GITHUB_SHA: SHA,
      GITHUB_RUN_ID: String(process.pid),
      ...extraEnv
    }
  })
  const ms = Date.now() - started
  if (r.main.code !== 0) throw new Error(`the action failed:\n${r.main.stdout.slice(-3000)}`)
  lastCells = JSON.parse(r.outputs.results)
  lastLog = r.main.stdout
  return ms
}

function docker(args, input) {
  return execFileSync('docker', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })
}

/** The example app as plain commands: its base, build arguments and smoke tests (as run). */
const ROS_APP = {
  context: 'examples/ros-app',
  base: distro => `${REG}/ros:${distro}-ros-base`,
  buildArgs: [],
  tests: [
    ['uname', '-m'],
    ['sh', '-c', 'ros_app_hello'],
    ['sh', '-c', 'cat /etc/ros_app/build-info'],
    ['sh', '-c', 'echo "ROS_VERSION=$ROS_VERSION"'],
    ['sh', '-c', 'test -e "$1"', 'sh', '/usr/local/bin/ros_app_hello'],
    ['sh', '-c', 'printenv "$1"', 'sh', 'ROS_DISTRO']
  ]
}

/**
 * The same work as the action, one docker command after another: per distro and platform build
 * and load, run each smoke test in a container of its own, push; then one index per distro.
 * Returns the wall time, and each build's own time by platform.
 */
function plainRun(repo, distros, project = ROS_APP) {
  const dockerConfig = dockerConfigDir()
  process.env.DOCKER_CONFIG = dockerConfig
  const started = Date.now()
  const builds = {}
  const pushes = []
  docker(['login', REG, '-u', env.TESTBED_USERNAME, '--password-stdin'], env.TESTBED_PASSWORD)
  for (const distro of distros) {
    const digests = []
    for (const arch of ARCHES) {
      const platform = `linux/${arch}`
      const tag = `${REG}/${repo}:${distro}-${arch}`
      const buildStarted = Date.now()
      docker([
        'buildx',
        'build',
        '--platform',
        platform,
        '--network',
        'host',
        '--pull',
        '--build-arg',
        `BASE_IMAGE=${project.base(distro)}`,
        '--build-arg',
        `ROS_DISTRO=${distro}`,
        ...project.buildArgs.flatMap(a => ['--build-arg', a]),
        '--provenance=false',
        '--load',
        '-t',
        tag,
        project.context
      ])
      builds[arch] = (builds[arch] ?? 0) + Date.now() - buildStarted
      for (const cmd of project.tests)
        docker(['run', '--rm', '--platform', platform, '--network', 'none', tag, ...cmd])
      const pushStarted = Date.now()
      const out = docker(['push', tag])
      pushes.push({ ms: Date.now() - pushStarted, out, repo, tag })
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
  return { ms: Date.now() - started, builds, pushes }
}

/** Bytes a `docker push` uploaded: the sizes of the layers it says it pushed. */
async function pushedBytes(push) {
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.out)[1]
  const manifest = await registryManifest(push.repo, digest)
  const ids = [...push.out.matchAll(/^([0-9a-f]{12}): Pushed/gm)].map(m => m[1])
  // docker names a layer by its blob digest (containerd store) or by its diff ID (classic store)
  const local = JSON.parse(
    docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', push.tag])
  )
  return manifest.layers.reduce((n, l, i) => {
    const named = [l.digest, local[i] ?? ''].map(d => d.slice(7, 19))
    return n + (named.some(id => ids.includes(id)) ? l.size : 0)
  }, 0)
}

const viaPlainCommands = (repo, distros) => plainRun(repo, distros).ms

async function dryRun(distros, extra = {}) {
  const r = await runAction({
    inputs: { distros, image: 'acme/robot', 'dry-run': 'true', ...extra },
    post: false
  })
  if (r.main.code !== 0) throw new Error(r.main.stdout)
  return r.main.ms
}

/** Cold: no build cache, no image of an earlier run in the engine (bases stay in the registry). */
function coldReset() {
  const images = docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])
    .split('\n')
    .filter(r => r.startsWith(`${REG}/bench/`) || r.startsWith('ros-multiarch-local/'))
  for (let i = 0; i < images.length; i += 50)
    docker(['image', 'rm', '-f', ...images.slice(i, i + 50)])
  docker(['builder', 'prune', '-af'])
}

const stamp = Date.now().toString(36)
const row = (what, a, b) =>
  console.log(
    `| ${what} | ${secs(median(a))} s | ${secs(median(b))} s | ${(median(a) / median(b)).toFixed(2)} | ${a.map(secs).join(', ')}; ${b.map(secs).join(', ')} |`
  )
console.log(
  `ros-multiarch-action bench: ${os.cpus().length} cores, ${RUNS} runs each, median wall time`
)
if (!process.env.BENCH_ONLY) {
  console.log('')
  console.log('| engine, what | (a) action | (b) plain commands | a/b | runs (a; b) |')
  console.log('| --- | --- | --- | --- | --- |')
}
for (const name of process.env.BENCH_ONLY ? [] : ENGINES) {
  useEngine(name)
  const shapes = (process.env.BENCH_SHAPES ?? '2,5').split(',').map(Number)
  for (const distros of [SMALL, LARGE].filter(d => shapes.includes(d.length))) {
    const shape = `${engine}: ${distros.length} distros x 2 platforms`
    const id = `${engine}-${stamp}-${distros.length}`
    // cold: a fresh repository per run, the builder cache pruned before each
    const coldA = []
    const coldB = []
    for (let i = 0; i < RUNS; i++) {
      coldReset()
      coldA.push(await viaAction(`bench/a-cold-${id}-${i}`, distros))
      coldReset()
      coldB.push(viaPlainCommands(`bench/b-cold-${id}-${i}`, distros))
    }
    row(`${shape}, cold`, coldA, coldB)
    // a new repository each run, the build cache warm from the cold runs
    const newA = []
    const newB = []
    for (let i = 0; i < RUNS; i++) {
      newA.push(await viaAction(`bench/a-new-${id}-${i}`, distros))
      newB.push(viaPlainCommands(`bench/b-new-${id}-${i}`, distros))
    }
    row(`${shape}, new repository, build cache warm`, newA, newB)
    // warm: the same repository each run; the first (unmeasured) run publishes
    const warmA = []
    const warmB = []
    await viaAction(`bench/a-warm-${id}`, distros)
    viaPlainCommands(`bench/b-warm-${id}`, distros)
    for (let i = 0; i < RUNS; i++) {
      warmA.push(await viaAction(`bench/a-warm-${id}`, distros))
      warmB.push(viaPlainCommands(`bench/b-warm-${id}`, distros))
    }
    row(`${shape}, warm (nothing changed)`, warmA, warmB)
  }
}

if (process.env.BENCH_MATRIX_ONLY === '1') process.exit(0)

/**
 * Realistic sizes: the example on the lower-layers bases (about 170 MB compressed per platform),
 * 2 distros x 2 platforms, a new repository each run with the build cache warm, and warm; on
 * each engine: the action against the plain commands, the push phase per cell against docker
 * push's, and the bytes uploaded.
 */
if (process.env.BENCH_ONLY === 'sizes') {
  const LOWER = { ...ROS_APP, base: d => env.TESTBED_ROS2_LOWER_BASE.replace('{distro}', d) }
  const lowerInputs = { 'base-image': env.TESTBED_ROS2_LOWER_BASE }
  const distros = env.TESTBED_ROS2_LOWER_DISTROS.split(' ')
  const mb = n => `${(n / 1e6).toFixed(1)} MB`
  console.log('')
  console.log(
    '| engine, run | (a) action | (b) plain commands | a/b | push per cell: action / docker push (medians) | uploaded per run: action / docker push |'
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const name of ENGINES) {
    useEngine(name)
    const id = `${engine}-${stamp}`
    // warm the build cache (unmeasured)
    await viaAction(`bench/s-prime-${id}`, distros, lowerInputs)
    plainRun(`bench/s-primeb-${id}`, distros, LOWER)
    for (const kind of ['new repository, build cache warm', 'warm (nothing changed)']) {
      const a = []
      const b = []
      const pushA = []
      const pushB = []
      let upA = 0
      let upB = 0
      if (kind.startsWith('warm')) {
        await viaAction(`bench/s-a-warm-${id}`, distros, lowerInputs)
        plainRun(`bench/s-b-warm-${id}`, distros, LOWER)
      }
      for (let i = 0; i < RUNS; i++) {
        const repoA = kind.startsWith('warm') ? `bench/s-a-warm-${id}` : `bench/s-a-new-${id}-${i}`
        const repoB = kind.startsWith('warm') ? `bench/s-b-warm-${id}` : `bench/s-b-new-${id}-${i}`
        a.push(await viaAction(repoA, distros, lowerInputs))
        for (const c of lastCells) {
          const push = (c.phases ?? []).filter(p => p.phase === 'push')
          pushA.push(push.reduce((n, p) => n + p.seconds * 1000, 0))
          upA += c.pushed?.transfer?.uploaded ?? 0
        }
        const plain = plainRun(repoB, distros, LOWER)
        b.push(plain.ms)
        for (const p of plain.pushes) {
          pushB.push(p.ms)
          upB += await pushedBytes(p)
        }
      }
      console.log(
        `| ${engine}: ${distros.length} distros x 2 platforms, lower-layers bases, ${kind} | ${secs(median(a))} s | ${secs(median(b))} s | ${(median(a) / median(b)).toFixed(2)} | ${secs(median(pushA))} s / ${secs(median(pushB))} s | ${mb(upA / RUNS)} / ${mb(upB / RUNS)} |`
      )
    }
  }
  process.exit(0)
}

/**
 * Several registries (BENCH_ONLY=registries): what publishing to a second registry adds to a run
 * at realistic sizes, on each engine; the second registry gets every blob uploaded (it shares
 * nothing with the first), downloaded from the first by the action's registry client.
 */
if (process.env.BENCH_ONLY === 'registries') {
  const lower = { 'base-image': env.TESTBED_ROS2_LOWER_BASE }
  const distros = env.TESTBED_ROS2_LOWER_DISTROS.split(' ')
  const mirror = env.TESTBED_MIRROR_REGISTRY
  const auth = [
    `- registry: ${mirror}`,
    `  username: ${env.TESTBED_MIRROR_USERNAME}`,
    `  password: ${JSON.stringify(env.TESTBED_MIRROR_PASSWORD)}`
  ].join('\n')
  console.log('')
  console.log(
    '| engine: 2 x 2, lower-layers bases, build cache warm, new repository | one registry | two registries | added | copied to the second per run | runs (one / two) |'
  )
  console.log('| --- | --- | --- | --- | --- | --- |')
  for (const name of ENGINES) {
    useEngine(name)
    const id = `${engine}-${stamp}`
    await viaAction(`bench/r-prime-${id}`, distros, lower)
    const one = []
    const two = []
    let copied = 0
    for (let i = 0; i < RUNS; i++) {
      one.push(await viaAction(`bench/r-one-${id}-${i}`, distros, lower))
      const repo = `bench/r-two-${id}-${i}`
      two.push(
        await viaAction(repo, distros, {
          ...lower,
          image: `${REG}/${repo}, ${mirror}/${repo}`,
          'registry-auth': auth
        })
      )
      for (const m of lastLog.matchAll(
        /Copied \S+ by digest: .*? blobs uploaded \(([\d.]+) (kB|MB|GB|B)\)/g
      )) {
        copied += Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2]]
      }
    }
    const added = median(two) - median(one)
    console.log(
      `| ${engine} | ${secs(median(one))} s | ${secs(median(two))} s | +${secs(added)} s | ${(copied / RUNS / 1e6).toFixed(1)} MB | ${one.map(secs).join(', ')} / ${two.map(secs).join(', ')} |`
    )
  }
  process.exit(0)
}

/**
 * What attestations and signing add to a run, on the containerd engine (the one that keeps
 * attestations): 2 distros x 2 platforms, the build cache warm, a new repository per run, force.
 */
if (ENGINES.includes('containerd') && [undefined, 'supply'].includes(process.env.BENCH_ONLY)) {
  useEngine('containerd')
  const signing = {
    sign: 'key',
    'cosign-key': readFileSync(env.TESTBED_COSIGN_KEY, 'utf8'),
    'cosign-password': env.TESTBED_COSIGN_PASSWORD,
    'cosign-version': '*'
  }
  const withCosign = { PATH: `${path.dirname(env.TESTBED_COSIGN)}:${process.env.PATH}` }
  const variants = [
    ['no attestations, not signed', { provenance: 'false' }],
    ['provenance mode=min', { provenance: 'mode=min' }],
    ['provenance mode=max', { provenance: 'mode=max' }],
    ['provenance mode=min, signed by key and verified', { provenance: 'mode=min', ...signing }]
  ]
  await viaAction(`bench/supply-warmup-${stamp}`, SMALL, { provenance: 'mode=max' })
  const times = variants.map(() => [])
  for (let i = 0; i < RUNS; i++) {
    for (const [v, [, inputs]] of variants.entries()) {
      const repo = `bench/supply-${v}-${stamp}-${i}`
      times[v].push(await viaAction(repo, SMALL, { ...inputs, force: 'true' }, withCosign))
    }
  }
  console.log('')
  console.log(
    '| containerd engine: 2 distros x 2 platforms, build cache warm, new repository | median | added | runs |'
  )
  console.log('| --- | --- | --- | --- |')
  for (const [v, [what]] of variants.entries()) {
    const added = median(times[v]) - median(times[0])
    console.log(
      `| ${what} | ${secs(median(times[v]))} s | ${v === 0 ? '' : `${added >= 0 ? '+' : ''}${secs(added)} s`} | ${times[v].map(secs).join(', ')} |`
    )
  }
}

/**
 * The real workload: examples/ros2-workspace (2 colcon packages of C++) on the lower-layers bases,
 * jazzy x 2 platforms, containerd engine, with the built-in ROS 2 checks. WS_RUNS runs each
 * (default 1: each cold run compiles under QEMU for minutes).
 */
if (ENGINES.includes('containerd') && [undefined, 'workspace'].includes(process.env.BENCH_ONLY)) {
  useEngine('containerd')
  await benchWorkspace(Number(process.env.WS_RUNS ?? 1))
}
/**
 * Cache mounts carried between runs (BENCH_ONLY=mounts): the example workspace, jazzy x
 * linux/amd64 + linux/arm64, one file changed before each measured run, cache registry, on each
 * engine of BENCH_ENGINES (default containerd): the warm builder (today's README figures: the
 * builder kept its ccache mount), a fresh builder with the mounts restored, and a fresh builder
 * without them (cache-mounts: false). Fresh: builder pruned, local images removed, as on a new
 * GitHub-hosted runner. The restore and save costs come from the results.
 */
if (process.env.BENCH_ONLY === 'mounts') {
  for (const engine of (process.env.BENCH_ENGINES ?? 'containerd').split(' ')) {
    useEngine(engine)
    await benchMounts(engine, Number(process.env.WS_RUNS ?? 1))
  }
}
if (process.env.BENCH_ONLY) process.exit(0)

/**
 * The build cache on the containerd engine: cold runs (builder cache pruned, local images
 * removed; force, since nothing changed) with no cache, and with a registry or local cache that
 * one unmeasured run filled. One distro x 2 platforms.
 */
if (ENGINES.includes('containerd')) {
  useEngine('containerd')
  const contexts = [
    ['example app', { context: 'examples/ros-app' }],
    [
      'synthetic slow RUN step (1M-iteration shell loop)',
      { context: 'scripts/bench/slow-step', 'smoke-test-file': '' }
    ]
  ]
  const runnerTemp = mkdtempSync(path.join(os.tmpdir(), 'rma-bench-temp-'))
  console.log('')
  console.log(
    '| containerd engine: cold build, humble x 2 platforms | cache none | cache registry | cache local | runs (none; registry; local) |'
  )
  console.log('| --- | --- | --- | --- | --- |')
  for (const [what, inputs] of contexts) {
    const times = {}
    for (const cache of ['none', 'registry', 'local']) {
      const repo = `bench/cache-${cache}-${stamp}-${what.length}`
      const extraEnv = { RUNNER_TEMP: runnerTemp }
      const run = () => viaAction(repo, ['humble'], { ...inputs, cache, force: 'true' }, extraEnv)
      coldReset()
      await run() // fills the cache (and publishes)
      times[cache] = []
      for (let i = 0; i < RUNS; i++) {
        coldReset()
        times[cache].push(await run())
      }
    }
    const m = c => `${secs(median(times[c]))} s`
    console.log(
      `| ${what} | ${m('none')} | ${m('registry')} | ${m('local')} | ${['none', 'registry', 'local'].map(c => times[c].map(secs).join(', ')).join('; ')} |`
    )
  }
}

/** The colcon step's seconds per architecture, from the results' slowest steps */
function colcon(cells) {
  return Object.fromEntries(
    cells.map(c => [
      c.platform.replace('linux/', ''),
      (c.slowestSteps ?? []).find(s => s.instruction.includes('colcon build'))?.seconds ?? NaN
    ])
  )
}

/**
 * A workspace (the runner's working directory) holding a copy of the example as ws/, with one
 * real code change in one file (a function added): the action takes contexts inside its
 * workspace only.
 */
function changedCopy(tag, context = 'examples/ros2-workspace') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-bench-ws-'))
  cpSync(context, path.join(dir, 'ws'), { recursive: true })
  appendFileSync(
    path.join(dir, 'ws/src/robot_math/src/trajectory.cpp'),
    `\nnamespace robot_math\n{\ndouble bench_change_${tag}(double t) {return 2 * t;}\n}  // namespace robot_math\n`
  )
  return dir
}
async function benchWorkspace(runs) {
  const context = 'examples/ros2-workspace'
  const base = env.TESTBED_ROS2_LOWER_BASE
  const distros = ['jazzy']
  const inputs = (dir, extra = {}) => ({
    context: dir,
    'smoke-test-file': `${dir}/smoke.yaml`,
    'base-image': base,
    'ros-checks': 'true',
    ...extra
  })
  // the built-in checks for jazzy and the example's own smoke tests, as plain docker run commands
  const roundTrip = [
    'export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST',
    'ros2 topic pub -r 2 /ros_multiarch_smoke std_msgs/msg/String "{data: ros-multiarch-ping}" >/dev/null 2>&1 &',
    'pub=$!',
    'ros2 topic echo --once /ros_multiarch_smoke std_msgs/msg/String',
    'status=$?',
    'kill $pub 2>/dev/null',
    'exit $status'
  ].join('\n')
  const plain = {
    context,
    base: distro => base.replace('{distro}', distro),
    buildArgs: [],
    tests: [
      ['uname', '-m'],
      ['sh', '-c', 'printenv "$1"', 'sh', 'ROS_DISTRO'],
      ['sh', '-c', 'ros2 --help'],
      ['sh', '-c', 'ros2 pkg list'],
      ['sh', '-c', roundTrip],
      ...YAML.parse(readFileSync(`${context}/smoke.yaml`, 'utf8')).tests.map(t => [
        'sh',
        '-c',
        t.command
      ])
    ]
  }
  const s = xs => `${secs(median(xs))} s`
  const all = xs => xs.map(secs).join(', ')
  const stepsOf = list => list.map(c => `${c.amd64.toFixed(1)} / ${c.arm64.toFixed(1)}`).join('; ')
  // each row as soon as it is measured
  console.log('')
  console.log(
    '| real workload: examples/ros2-workspace (2 colcon packages, 13 C++ files), jazzy x linux/amd64 + linux/arm64, containerd engine, built-in ROS 2 checks on | median | runs |'
  )
  console.log('| --- | --- | --- |')
  const id = `ws-${stamp}`
  const coldA = []
  const coldB = []
  const steps = { amd64: [], arm64: [] }
  const plainBuilds = { amd64: [], arm64: [] }
  for (let i = 0; i < runs; i++) {
    coldReset()
    coldA.push(await viaAction(`bench/${id}-a-cold-${i}`, distros, inputs(context)))
    for (const [arch, t] of Object.entries(colcon(lastCells))) steps[arch].push(t * 1000)
    coldReset()
    const b = plainRun(`bench/${id}-b-cold-${i}`, distros, plain)
    coldB.push(b.ms)
    for (const arch of ARCHES) plainBuilds[arch].push(b.builds[arch])
  }
  console.log(
    `| docker build, cold, one platform at a time (plain commands): native linux/amd64 / emulated linux/arm64 | ${s(plainBuilds.amd64)} / ${s(plainBuilds.arm64)} = ${(median(plainBuilds.arm64) / median(plainBuilds.amd64)).toFixed(1)}x | ${all(plainBuilds.amd64)}; ${all(plainBuilds.arm64)} |`
  )
  console.log(
    `| colcon build step in the action's cold run (both platforms at once, sharing the cores): linux/amd64 / linux/arm64 | ${s(steps.amd64)} / ${s(steps.arm64)} | ${all(steps.amd64)}; ${all(steps.arm64)} |`
  )
  console.log(
    `| cold (no build cache, no ccache): action / plain commands | ${s(coldA)} / ${s(coldB)} = ${(median(coldA) / median(coldB)).toFixed(2)} | ${all(coldA)}; ${all(coldB)} |`
  )
  const warmA = []
  const warmB = []
  await viaAction(`bench/${id}-a-warm`, distros, inputs(context))
  plainRun(`bench/${id}-b-warm`, distros, plain)
  for (let i = 0; i < Math.max(runs, 3); i++) {
    warmA.push(await viaAction(`bench/${id}-a-warm`, distros, inputs(context)))
    warmB.push(plainRun(`bench/${id}-b-warm`, distros, plain).ms)
  }
  console.log(
    `| warm (nothing changed): action / plain commands | ${s(warmA)} / ${s(warmB)} = ${(median(warmA) / median(warmB)).toFixed(2)} | ${all(warmA)}; ${all(warmB)} |`
  )
  // one-file change: the build cache holds the unchanged workspace (and ccache its objects)
  for (const [variant, buildArgs, what] of [
    ['ccache', 'CCACHE=true', "build cache + ccache in a cache mount (the example's default)"],
    ['layers', 'CCACHE=false', 'build cache, ccache off (CCACHE=false)']
  ]) {
    const times = []
    const colconSteps = []
    for (let i = 0; i < runs; i++) {
      const dir = changedCopy(`${variant}_${i}`)
      try {
        times.push(
          await viaAction(
            `bench/${id}-change-${variant}-${i}`,
            distros,
            inputs('ws', { 'build-args': buildArgs }),
            {},
            dir
          )
        )
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      colconSteps.push(colcon(lastCells))
    }
    console.log(
      `| one-file change (trajectory.cpp), ${what}: action; colcon step amd64 / arm64 | ${s(times)} | ${all(times)}; colcon ${stepsOf(colconSteps)} s |`
    )
  }
}

async function benchMounts(engine, runs) {
  const repo = `bench/mounts-${engine}-${stamp}`
  const inputs = extra => ({
    context: 'ws',
    'smoke-test-file': 'ws/smoke.yaml',
    'base-image': env.TESTBED_ROS2_LOWER_BASE,
    'ros-checks': 'true',
    cache: 'registry',
    force: 'true',
    ...extra
  })
  let n = 0
  const changedRun = async extra => {
    const dir = changedCopy(`mounts_${engine}_${n++}`)
    try {
      const ms = await viaAction(repo, ['jazzy'], inputs(extra), {}, dir)
      return { ms, cells: lastCells }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const mountsOf = cells => cells.flatMap(c => (c.mounts ?? []).map(m => ({ cell: c.id, ...m })))
  const costs = cells =>
    mountsOf(cells)
      .map(
        m =>
          `${m.cell}: restore ${m.restore.outcome} ${m.restore.bytes === undefined ? '' : `${(m.restore.bytes / 1e6).toFixed(1)} MB `}${m.restore.seconds ?? 0} s, save ${m.save?.outcome ?? '-'} ${m.save?.seconds ?? 0} s`
      )
      .join('; ')
  const steps = cells => {
    const c = colcon(cells)
    return `${c.amd64.toFixed(1)} / ${c.arm64.toFixed(1)}`
  }
  console.log('')
  console.log(
    `| cache mounts, ${engine} engine: examples/ros2-workspace, jazzy x amd64/arm64, one file changed, cache registry | whole run | colcon step amd64 / arm64 | restore and save (from the results) |`
  )
  console.log('| --- | --- | --- | --- |')
  coldReset()
  const fill = await changedRun({})
  console.log(
    `| first run, fresh builder, nothing saved yet (fills the mounts) | ${secs(fill.ms)} s | ${steps(fill.cells)} | ${costs(fill.cells)} |`
  )
  const rows = { warm: [], restored: [], without: [] }
  for (let i = 0; i < runs; i++) {
    rows.warm.push(await changedRun({ 'cache-mounts': 'false' }))
    coldReset()
    rows.restored.push(await changedRun({}))
    coldReset()
    rows.without.push(await changedRun({ 'cache-mounts': 'false' }))
    // the next warm run starts from a builder that holds the mounts again
    await changedRun({})
  }
  const line = (what, list) =>
    console.log(
      `| ${what} | ${secs(median(list.map(r => r.ms)))} s (${list.map(r => secs(r.ms)).join(', ')}) | ${list.map(r => steps(r.cells)).join('; ')} | ${list.map(r => costs(r.cells) || '-').join(' / ')} |`
    )
  line(
    "warm builder, its ccache mount kept (today's README figures; cache-mounts: false)",
    rows.warm
  )
  line('fresh builder, mounts restored', rows.restored)
  line('fresh builder, without the restore (cache-mounts: false)', rows.without)
  const m = key => median(rows[key].map(r => r.ms))
  console.log(
    `| fresh with the restore / warm builder; / fresh without it | ${(m('restored') / m('warm')).toFixed(2)}x; ${(m('restored') / m('without')).toFixed(2)}x | | |`
  )
}

/** The same command natively and under QEMU: the slowdown emulation costs (median of 5). */
function emulationSlowdown(images, command) {
  const time = platform => {
    const t = Date.now()
    docker([
      'run',
      '--rm',
      '--pull',
      'never',
      '--platform',
      platform,
      '--network',
      'none',
      images[platform],
      ...command
    ])
    return Date.now() - t
  }
  const native = []
  const emulated = []
  for (let i = 0; i < 6; i++) {
    native.push(time('linux/amd64'))
    emulated.push(time('linux/arm64'))
  }
  // the first of each warms the page cache
  return { native: median(native.slice(1)), emulated: median(emulated.slice(1)) }
}
/** Pull each platform of a tag by digest (a local tag holds one platform only). */
function pullPlatforms(ref) {
  process.env.DOCKER_CONFIG = dockerConfigDir()
  docker(['login', REG, '-u', env.TESTBED_USERNAME, '--password-stdin'], env.TESTBED_PASSWORD)
  const index = JSON.parse(docker(['buildx', 'imagetools', 'inspect', '--raw', ref]))
  const images = {}
  for (const m of index.manifests) {
    const platform = `${m.platform.os}/${m.platform.architecture}`
    const byDigest = `${ref.replace(/:[^:/]+$/, '')}@${m.digest}`
    docker(['pull', '--platform', platform, byDigest])
    images[platform] = byDigest
  }
  docker(['logout', REG])
  delete process.env.DOCKER_CONFIG
  return images
}
// the example app's own smoke test, then a shell loop, in the images the last warm runs built
// (on the first engine benched)
useEngine(ENGINES[0])
const app = {
  'linux/amd64': `${REG}/bench/b-warm-${engine}-${stamp}-${LARGE.length}:humble-amd64`,
  'linux/arm64': `${REG}/bench/b-warm-${engine}-${stamp}-${LARGE.length}:humble-arm64`
}
const hello = emulationSlowdown(app, [
  'sh',
  '-c',
  'for i in 1 2 3 4 5 6 7 8 9 10; do ros_app_hello; done'
])
const loop = emulationSlowdown(app, [
  'sh',
  '-c',
  'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
])
const ros1 = env.TESTBED_ROS1_BASE
  ? emulationSlowdown(pullPlatforms(env.TESTBED_ROS1_BASE), [
      'bash',
      '-c',
      'for i in 1 2 3; do python3 -c "import rospy, rosgraph, roslib"; done; rosversion -d'
    ])
  : null

const all = 'noetic,humble,iron,jazzy,kilted,lyrical,rolling'
const hundred = Array.from({ length: 50 }, (_, i) => `d${String(i).padStart(2, '0')}`).join(',')
const dryAll = []
const dry100 = []
for (let i = 0; i < 5; i++) {
  dryAll.push(await dryRun(all))
  dry100.push(await dryRun(hundred, { 'base-image': 'acme/ros:{distro}' }))
}

console.log('')
console.log('| what | median | runs |')
console.log('| --- | --- | --- |')
const slow = (what, r) =>
  console.log(
    `| ${what}: native / under QEMU | ${secs(r.native)} s / ${secs(r.emulated)} s = ${(r.emulated / r.native).toFixed(1)}x | 5 each |`
  )
slow('example smoke test (ros_app_hello x 10, one container)', hello)
slow('busybox shell loop, 300k iterations', loop)
if (ros1 !== null) slow('ROS 1 (Debian): 3 x python3 import rospy + rosversion', ros1)
console.log(
  `| dry run, 7 catalog distros x 2 platforms (14 cells), node start included | ${secs(median(dryAll))} s | ${dryAll.map(secs).join(', ')} |`
)
console.log(
  `| dry run, 100 cells, node start included | ${secs(median(dry100))} s | ${dry100.map(secs).join(', ')} |`
)
const chunks = readdirSync('dist').filter(f => f.endsWith('.js') && f !== 'index.js')
const chunkBytes = chunks.reduce((n, f) => n + statSync(path.join('dist', f)).size, 0)
console.log(
  `| dist/: index.js loaded at start / chunks loaded on demand (@actions/cache, cache: local only) | ${(statSync('dist/index.js').size / 1e6).toFixed(2)} MB / ${(chunkBytes / 1e6).toFixed(2)} MB | |`
)
