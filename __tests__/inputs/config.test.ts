import { describe, expect, it } from '@jest/globals'
import { readConfig } from '../../src/inputs/config.js'
import { source, TODAY } from '../helpers/inputs.js'

const base = { distros: 'humble, jazzy', image: 'acme/robot' }
const read = (values: Record<string, string>) =>
  readConfig(source({ ...base, ...values }), { today: TODAY })

describe('readConfig: good inputs', () => {
  it('applies the documented defaults', () => {
    const { config, warnings } = read({})
    expect(config).toMatchObject({
      distros: [{ name: 'humble' }, { name: 'jazzy' }],
      platforms: ['linux/amd64', 'linux/arm64'],
      image: { registry: 'docker.io', path: 'acme/robot', name: 'acme/robot' },
      context: '.',
      file: 'Dockerfile',
      buildArgs: [],
      baseImage: 'ros:{distro}-ros-base',
      baseImageSet: false,
      push: false,
      smokeTimeout: 180,
      smokeNetwork: 'none',
      rosChecks: true,
      failFast: false,
      maxParallel: null,
      network: 'default',
      pull: true,
      dryRun: false,
      buildxVersion: '>=0.13.0',
      driver: 'docker',
      qemuImage: 'docker.io/tonistiigi/binfmt:qemu-v10.2.3-68',
      summary: true
    })
    expect(warnings).toEqual([])
  })

  it.each([
    ['acme/robot', 'docker.io', 'acme/robot'],
    ['docker.io/acme/robot', 'docker.io', 'acme/robot'],
    ['127.0.0.1:5000/acme/robot', '127.0.0.1:5000', 'acme/robot'],
    ['ghcr.io/acme/sub/robot', 'ghcr.io', 'acme/sub/robot'],
    ['localhost/robot', 'localhost', 'robot']
  ])('image %s -> registry %s, path %s', (image, registry, path) => {
    expect(read({ image }).config.image).toMatchObject({ registry, path, name: image })
  })

  it.each([
    ['file defaults into the context', { context: 'docker/app' }, 'docker/app/Dockerfile'],
    ['trailing slash', { context: 'docker/' }, 'docker/Dockerfile'],
    ['explicit file wins', { context: 'ctx', file: 'other/Dockerfile.ros' }, 'other/Dockerfile.ros']
  ])('%s', (_name, values, file) => {
    expect(read(values).config.file).toBe(file)
  })

  it('keeps braces other than {distro} in build-arg values', () => {
    expect(read({ 'build-args': 'JSON={"ws": "/ws/{distro}"}' }).config.buildArgs).toEqual([
      ['JSON', '{"ws": "/ws/{distro}"}']
    ])
  })

  it('normalises platform aliases and distro case', () => {
    const { config } = read({ distros: 'Humble', platforms: 'linux/arm64/v8\nlinux/x86_64' })
    expect(config.distros.map(d => d.name)).toEqual(['humble'])
    expect(config.platforms).toEqual(['linux/arm64', 'linux/amd64'])
  })

  it('reads every setting', () => {
    const { config } = read({
      'build-args': 'A=1\nWS=/ws/{distro}',
      push: 'true',
      username: 'bot',
      password: 's3cret',
      'smoke-tests': 'ros2 --help\n\nmy_node --selftest',
      'smoke-timeout': '600',
      'smoke-network': 'host',
      'ros-checks': 'false',
      'fail-fast': 'true',
      'max-parallel': '3',
      network: 'host',
      'dry-run': 'true',
      'buildx-version': '0.19.3',
      builder: 'ros-builder',
      driver: 'docker-container',
      summary: 'false'
    })
    expect(config).toMatchObject({
      buildArgs: [
        ['A', '1'],
        ['WS', '/ws/{distro}']
      ],
      push: true,
      username: 'bot',
      password: 's3cret',
      smokeTests: ['ros2 --help', 'my_node --selftest'],
      smokeTimeout: 600,
      smokeNetwork: 'host',
      rosChecks: false,
      failFast: true,
      maxParallel: 3,
      network: 'host',
      dryRun: true,
      buildxVersion: '0.19.3',
      builder: 'ros-builder',
      driver: 'docker-container',
      summary: false
    })
  })
})

describe('readConfig: warnings', () => {
  it.each([
    [
      'an end-of-life distro builds with a warning',
      { distros: 'noetic' },
      ['Distro "noetic" reached end of life on 2025-05-31: it gets no updates or image rebuilds.']
    ],
    [
      'a distro near its end of life (month-only date) gets a notice',
      { distros: 'kilted' },
      ['Distro "kilted" reaches end of life on 2026-11-30 (in 7 days).']
    ],
    [
      'a distro outside the catalog with base-image',
      { distros: 'melodic', 'base-image': 'acme/ros:{distro}' },
      [
        'Distro "melodic" is not in the catalog: building it from base-image; ROS-version checks are limited to the ROS environment.'
      ]
    ],
    [
      'an unsupported platform with base-image',
      { distros: 'humble', platforms: 'linux/arm/v7', 'base-image': 'acme/ros:{distro}-armv7' },
      [
        'humble has no ROS binaries for linux/arm/v7 (it has linux/amd64, linux/arm64); building it anyway from your base-image.'
      ]
    ],
    [
      'one base image for several distros',
      { 'base-image': 'acme/ros-base:latest' },
      [
        'base-image "acme/ros-base:latest" has no {distro}: every distro builds from the same base image.'
      ]
    ]
  ])('%s', (_name, values, warnings) => {
    expect(read(values).warnings).toEqual(warnings)
  })
})

const known =
  'known distros: noetic, humble, iron, jazzy, kilted, lyrical, rolling (others need base-image)'

// Each bad input and the exact one-line error it gets.
const BAD: [string, Record<string, string>, string][] = [
  [
    'distros missing',
    { distros: '' },
    'Input "distros": is required; list ROS distros, e.g. "humble, jazzy"'
  ],
  [
    'distros only separators',
    { distros: ' ,\n, ' },
    'Input "distros": is required; list ROS distros, e.g. "humble, jazzy"'
  ],
  ['distro misspelt', { distros: 'humbel' }, `Input "distros": unknown distro "humbel"; ${known}`],
  [
    'distro outside the catalog',
    { distros: 'melodic' },
    `Input "distros": unknown distro "melodic"; ${known}`
  ],
  [
    'distro listed twice',
    { distros: 'humble, jazzy, humble' },
    'Input "distros": "humble" is listed twice; list each distro once'
  ],
  [
    'distro twice in other case',
    { distros: 'humble, HUMBLE' },
    'Input "distros": "humble" is listed twice; list each distro once'
  ],
  [
    'distro with a space',
    { distros: 'hum ble' },
    'Input "distros": "hum ble" is not a distro name; use lowercase letters, digits, _ and -'
  ],
  [
    'distro with shell characters',
    { distros: 'humble;rm -rf /' },
    'Input "distros": "humble;rm -rf /" is not a distro name; use lowercase letters, digits, _ and -'
  ],
  [
    'unknown platform',
    { platforms: 'windows/amd64' },
    'Input "platforms": unknown platform "windows/amd64"; use linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x or linux/riscv64'
  ],
  [
    'bare architecture',
    { platforms: 'arm64' },
    'Input "platforms": unknown platform "arm64"; use linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x or linux/riscv64'
  ],
  [
    'platform twice via alias',
    { platforms: 'linux/arm64, linux/arm64/v8' },
    'Input "platforms": linux/arm64 is listed twice; list each platform once'
  ],
  [
    'platform the distro lacks',
    { distros: 'humble', platforms: 'linux/amd64,linux/arm/v7' },
    'Input "platforms": humble has no ROS binaries for linux/arm/v7 (it has linux/amd64, linux/arm64); remove it, or set base-image to a base that has it'
  ],
  [
    'platforms only separators',
    { platforms: ',' },
    'Input "platforms": is empty; list platforms, e.g. "linux/amd64,linux/arm64"'
  ],
  [
    'image missing',
    { image: '' },
    'Input "image": is required; name the image to build, e.g. "acme/robot"'
  ],
  [
    'image in upper case',
    { image: 'Acme/Robot' },
    'Input "image": "Acme/Robot" is not an image name: "Acme/Robot" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
  ],
  [
    'image with a tag',
    { image: 'acme/robot:latest' },
    'Input "image": "acme/robot:latest" has a tag or digest; give the name only (e.g. "acme/robot"), the action makes the tags'
  ],
  [
    'image with a digest',
    { image: `acme/robot@sha256:${'a'.repeat(64)}` },
    `Input "image": "acme/robot@sha256:${'a'.repeat(42)}..." has a tag or digest; give the name only (e.g. "acme/robot"), the action makes the tags`
  ],
  [
    'image with a bad registry',
    { image: 'bad_host:5000/robot' },
    'Input "image": "bad_host:5000/robot" is not an image name: "bad_host:5000" is not a registry host[:port]'
  ],
  [
    'image with whitespace',
    { image: 'acme/my robot' },
    'Input "image": "acme/my robot" is not an image name: it contains whitespace'
  ],
  [
    'image ending in a slash',
    { image: 'acme/' },
    'Input "image": "acme/" is not an image name: "acme/" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
  ],
  [
    'build arg without =',
    { 'build-args': 'FOO' },
    'Input "build-args": "FOO" is not KEY=VALUE; write one KEY=VALUE per line'
  ],
  [
    'build arg with empty name',
    { 'build-args': '=1' },
    'Input "build-args": "=1" is not KEY=VALUE; write one KEY=VALUE per line'
  ],
  [
    'build arg name starting with a digit',
    { 'build-args': '1FOO=x' },
    'Input "build-args": "1FOO" is not a valid name; use letters, digits and _ (not starting with a digit)'
  ],
  [
    'build arg set twice',
    { 'build-args': 'A=1\nA=2' },
    'Input "build-args": A is set twice; set each name once'
  ],
  [
    'build arg ROS_DISTRO',
    { 'build-args': 'ROS_DISTRO=humble' },
    'Input "build-args": ROS_DISTRO is set by the action for each distro; it comes from distros'
  ],
  [
    'build arg BASE_IMAGE',
    { 'build-args': 'BASE_IMAGE=ros:humble' },
    'Input "build-args": BASE_IMAGE is set by the action for each distro; use the base-image input'
  ],
  [
    'build arg with a space in its name',
    { 'build-args': 'MY ARG=1' },
    'Input "build-args": "MY ARG" is not a valid name; use letters, digits and _ (not starting with a digit)'
  ],
  [
    'base-image unknown placeholder',
    { 'base-image': 'ros:{distr}-ros-base' },
    'Input "base-image": unknown placeholder {distr} in "ros:{distr}-ros-base"; use {distro}'
  ],
  [
    'base-image with a newline in a control char',
    { 'base-image': 'ros:{distro}\u0007' },
    'Input "base-image": "ros:{distro}\\u0007" contains a control character; use plain text'
  ],
  [
    'push not a boolean',
    { push: 'yes' },
    'Input "push": "yes" is not a boolean; use true or false'
  ],
  [
    'ros-checks not a boolean',
    { 'ros-checks': 'maybe' },
    'Input "ros-checks": "maybe" is not a boolean; use true or false'
  ],
  [
    'fail-fast as a number',
    { 'fail-fast': '1' },
    'Input "fail-fast": "1" is not a boolean; use true or false'
  ],
  [
    'dry-run as on',
    { 'dry-run': 'on' },
    'Input "dry-run": "on" is not a boolean; use true or false'
  ],
  ['summary as no', { summary: 'no' }, 'Input "summary": "no" is not a boolean; use true or false'],
  [
    'smoke-timeout zero',
    { 'smoke-timeout': '0' },
    'Input "smoke-timeout": 0 is out of range; use a number from 1 to 21600'
  ],
  [
    'smoke-timeout with a unit',
    { 'smoke-timeout': '10m' },
    'Input "smoke-timeout": "10m" is not a whole number; use a number from 1 to 21600'
  ],
  [
    'smoke-timeout too long',
    { 'smoke-timeout': '99999' },
    'Input "smoke-timeout": 99999 is out of range; use a number from 1 to 21600'
  ],
  [
    'max-parallel zero',
    { 'max-parallel': '0' },
    'Input "max-parallel": 0 is out of range; use a number from 1 to 64'
  ],
  [
    'max-parallel negative',
    { 'max-parallel': '-2' },
    'Input "max-parallel": "-2" is not a whole number; use a number from 1 to 64'
  ],
  [
    'network bridge',
    { network: 'bridge' },
    'Input "network": "bridge" is not valid; use one of: default, host, none'
  ],
  [
    'smoke-network unknown',
    { 'smoke-network': 'container:x' },
    'Input "smoke-network": "container:x" is not valid; use one of: default, host, none'
  ],
  [
    'username without password',
    { username: 'bot' },
    'Input "password": is required when username is set'
  ],
  [
    'password without username',
    { password: 'tok' },
    'Input "username": is required when password is set'
  ],
  [
    'buildx-version not a version',
    { 'buildx-version': 'newest' },
    'Input "buildx-version": "newest" is not a version or range; use e.g. 0.19.3, >=0.13.0 or latest'
  ],
  [
    'buildx-version allowing buildx without rawjson progress',
    { 'buildx-version': '>=0.12' },
    'Input "buildx-version": ">=0.12" allows buildx before 0.13.0, which cannot report build progress as data (--progress=rawjson); use 0.13.0 or newer, e.g. >=0.13.0'
  ],
  [
    'qemu-image not a reference',
    { 'qemu-image': 'Tonistiigi/Binfmt' },
    'Input "qemu-image": "Tonistiigi/Binfmt" is not an image reference: "Tonistiigi/Binfmt" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
  ],
  [
    'builder with a space',
    { builder: 'my builder' },
    'Input "builder": "my builder" is not a builder name; use letters, digits, _ . - (as docker buildx ls shows)'
  ],
  [
    'driver unknown',
    { driver: 'kubernetes' },
    'Input "driver": "kubernetes" is not valid; use one of: docker, docker-container'
  ],
  [
    'buildx-url not http',
    { 'buildx-url': 'ftp://mirror/buildx' },
    'Input "buildx-url": "ftp://mirror/buildx" is not an http(s) URL'
  ],
  [
    'context with a control character',
    { context: 'a\u001bb' },
    'Input "context": "a\\u001bb" contains a control character; use plain text'
  ]
]

describe('readConfig: bad inputs', () => {
  it('has at least 30 cases', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(30)
  })

  it.each(BAD)('%s', (_name, values, message) => {
    expect(() => read(values)).toThrow(message)
    try {
      read(values)
    } catch (error) {
      expect((error as Error).message).toBe(message)
      expect((error as Error).message).not.toContain('\n')
    }
  })
})

describe('readConfig: tag and label inputs', () => {
  it.each([
    [
      { tags: '{distro}-{verison}' },
      'Input "tags": unknown placeholder {verison} in "{distro}-{verison}"; use {distro}, {version}, {major}, {minor}, {patch}, {branch}, {sha}, {date}'
    ],
    [
      { 'tag-suffix': '+cuda' },
      'Input "tag-suffix": "+cuda" is not valid; use letters, digits, _ . - (e.g. -cuda)'
    ],
    [
      { 'latest-distro': 'rolling' },
      'Input "latest-distro": "rolling" is not one of the distros being built (humble, jazzy)'
    ],
    [
      { labels: 'bad key=1' },
      'Input "labels": "bad key" is not a valid name; use letters, digits and . _ - / (e.g. org.opencontainers.image.vendor)'
    ],
    [{ labels: 'a=1\na=2' }, 'Input "labels": a is set twice; set each name once'],
    [{ mode: 'slice' }, 'Input "mode": "slice" is not valid; use one of: all, build, merge'],
    [
      { runners: 'linux/mips=box' },
      'Input "runners": unknown platform "linux/mips"; use linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x or linux/riscv64'
    ],
    [
      { runners: 'arm64=box' },
      'Input "runners": "arm64" is not a valid name; use a platform such as linux/arm64'
    ],
    [
      { runners: 'linux/arm64=self hosted' },
      'Input "runners": "self hosted" is not a runner label list for linux/arm64; use labels of letters, digits, _ . -, separated by commas (e.g. linux/arm64=self-hosted,jetson)'
    ],
    [{ force: 'maybe' }, 'Input "force": "maybe" is not a boolean; use true or false'],
    [{ cache: 's3' }, 'Input "cache": "s3" is not valid; use one of: none, gha, registry, local'],
    [
      { 'cache-ref': 'acme/cache:latest' },
      'Input "cache-ref": "acme/cache:latest" is not a repository name; give one without tag, e.g. "acme/robot-cache" (each cell gets its own buildcache-<cell> tag)'
    ]
  ])('%j', (values, message) => {
    expect(() => read(values)).toThrow(message)
  })

  it('reads templates, suffix, latest distro and labels', () => {
    const { config } = read({
      tags: '{distro}-{version}\n{distro}',
      'tag-suffix': '-cuda',
      'latest-distro': 'Jazzy',
      labels: 'org.opencontainers.image.vendor=Acme'
    })
    expect(config).toMatchObject({
      tags: ['{distro}-{version}', '{distro}'],
      tagSuffix: '-cuda',
      latestDistro: 'jazzy',
      labels: [['org.opencontainers.image.vendor', 'Acme']]
    })
  })
})

describe('readConfig: supply chain inputs', () => {
  const KEY =
    '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnsibmFtZSI6InNjcnlwdCJ9\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n'

  it('makes provenance mode=min by default, no SBOM, and signs nothing', () => {
    const { config } = read({})
    expect(config.attestations).toEqual({ provenance: 'min', sbom: false, sbomGenerator: '' })
    expect(config).toMatchObject({
      sign: 'false',
      cosignKey: '',
      cosignPassword: '',
      cosignVersion: '>=3.0.0',
      cosignSha256: '',
      buildxSha256: ''
    })
  })

  it.each([
    ['true', 'min'],
    ['mode=min', 'min'],
    ['mode=max', 'max'],
    ['false', null]
  ])('reads provenance %s', (value, provenance) => {
    expect(read({ provenance: value }).config.attestations.provenance).toBe(provenance)
  })

  it('reads the SBOM generator and the checksums (sha256: and upper case allowed)', () => {
    const hex = 'AB'.repeat(32)
    const { config } = read({
      sbom: 'true',
      'sbom-generator': 'registry.example/scanner:1',
      'buildx-sha256': `sha256:${hex}`,
      'cosign-sha256': hex
    })
    expect(config.attestations).toEqual({
      provenance: 'min',
      sbom: true,
      sbomGenerator: 'registry.example/scanner:1'
    })
    expect(config.buildxSha256).toBe('ab'.repeat(32))
    expect(config.cosignSha256).toBe('ab'.repeat(32))
  })

  it('keeps the key and its password for sign: key only, and says so otherwise', () => {
    const byKey = read({ sign: 'key', 'cosign-key': KEY, 'cosign-password': 'pw', push: 'true' })
    expect(byKey.config).toMatchObject({ sign: 'key', cosignKey: KEY.trim(), cosignPassword: 'pw' })
    expect(byKey.warnings).toEqual([])
    const keyless = read({ sign: 'keyless', 'cosign-key': KEY, push: 'true' })
    expect(keyless.config).toMatchObject({ sign: 'keyless', cosignKey: '', cosignPassword: '' })
    expect(keyless.warnings).toEqual([
      'cosign-key and cosign-password are used by sign: key only; sign is keyless.'
    ])
  })

  it('warns that nothing is signed when nothing is pushed', () => {
    expect(read({ sign: 'keyless' }).warnings).toEqual([
      'sign: keyless signs what is published; with push: false nothing is.'
    ])
  })

  it('never quotes a bad key back', () => {
    expect(() => read({ sign: 'key', 'cosign-key': 'hunter2-secret' })).toThrow(
      'Input "cosign-key": is not a PEM private key'
    )
    try {
      read({ sign: 'key', 'cosign-key': 'hunter2-secret' })
    } catch (error) {
      expect(String(error)).not.toContain('hunter2')
    }
  })

  it('refuses a cosign-version that allows cosign before 3, and takes * for any installed one', () => {
    expect(() => read({ 'cosign-version': '>=2.4.0' })).toThrow(
      'Input "cosign-version": ">=2.4.0" allows cosign before 3.0.0, which has no offline signing configuration; use 3.0.0 or newer, e.g. >=3.0.0'
    )
    expect(read({ 'cosign-version': '*' }).config.cosignVersion).toBe('*')
  })

  it('leaves a cosign-key alone when nothing is signed with it', () => {
    expect(read({ 'cosign-key': 'not a key' }).warnings).toEqual([
      'cosign-key and cosign-password are used by sign: key only; sign is false.'
    ])
  })
})
