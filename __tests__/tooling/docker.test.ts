import { describe, expect, it } from '@jest/globals'
import {
  attestArgs,
  buildCommand,
  parseEngineInfo,
  parsePush,
  runCommand
} from '../../src/tooling/docker.js'

describe('parseEngineInfo', () => {
  // DriverStatus as Docker 28.5.2 reports it with features.containerd-snapshotter on
  const containerd = {
    ServerVersion: '28.5.2+dfsg4',
    Driver: 'overlayfs',
    DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']]
  }
  // ... and as Docker 20.10 reports it (classic store, overlay2 graph driver)
  const classic = {
    ServerVersion: '20.10.24+dfsg1',
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', 'extfs'],
      ['Supports d_type', 'true'],
      ['Native Overlay Diff', 'true']
    ]
  }

  it('tells the containerd image store from the classic one', () => {
    expect(parseEngineInfo(JSON.stringify(containerd))).toMatchObject({
      version: '28.5.2+dfsg4',
      store: 'containerd'
    })
    expect(parseEngineInfo(JSON.stringify(classic))).toMatchObject({
      version: '20.10.24+dfsg1',
      store: 'classic'
    })
  })

  it('reads the registries the engine reaches insecurely (daemon.json insecure-registries)', () => {
    const info = {
      ...classic,
      RegistryConfig: {
        InsecureRegistryCIDRs: ['10.1.0.0/16', '127.0.0.0/8', '::1/128'],
        IndexConfigs: {
          'docker.io': { Name: 'docker.io', Secure: true },
          'registry.lan:5000': { Name: 'registry.lan:5000', Secure: false }
        }
      }
    }
    expect(parseEngineInfo(JSON.stringify(info)).insecure).toEqual({
      hosts: ['registry.lan:5000'],
      cidrs: ['10.1.0.0/16', '127.0.0.0/8']
    })
  })

  it('does not take a storage driver named like containerd for the image store', () => {
    const tricky = {
      ...classic,
      DriverStatus: [['Backing Filesystem', 'io.containerd.snapshotter']]
    }
    expect(parseEngineInfo(JSON.stringify(tricky)).store).toBe('classic')
    expect(parseEngineInfo(JSON.stringify({ ...classic, DriverStatus: null })).store).toBe(
      'classic'
    )
  })

  it('says why when the engine did not answer', () => {
    expect(() =>
      parseEngineInfo(
        JSON.stringify({ ServerErrors: ['Cannot connect to the Docker daemon at unix:///x.sock'] })
      )
    ).toThrow(
      'the Docker engine did not answer: Cannot connect to the Docker daemon at unix:///x.sock'
    )
  })
})

describe('buildCommand', () => {
  it('builds one platform, loads it, no attestations, context after --', () => {
    expect(
      buildCommand({
        platform: 'linux/arm64',
        file: 'examples/ros-app/Dockerfile',
        context: 'examples/ros-app',
        tag: 'ros-multiarch-local/acme/robot:humble-arm64',
        buildArgs: [
          ['BASE_IMAGE', 'ros:humble-ros-base'],
          ['ROS_DISTRO', 'humble']
        ],
        network: 'host',
        pull: true,
        builder: '',
        iidFile: '/tmp/x.iid'
      })
    ).toEqual([
      'buildx',
      'build',
      '--platform',
      'linux/arm64',
      '--file',
      'examples/ros-app/Dockerfile',
      '--tag',
      'ros-multiarch-local/acme/robot:humble-arm64',
      '--build-arg',
      'BASE_IMAGE=ros:humble-ros-base',
      '--build-arg',
      'ROS_DISTRO=humble',
      '--network',
      'host',
      '--pull',
      '--provenance=false',
      '--sbom=false',
      '--load',
      '--progress=rawjson',
      '--iidfile',
      '/tmp/x.iid',
      '--',
      'examples/ros-app'
    ])
  })

  it('loads with OCI media types when asked (containerd image store), else with --load', () => {
    const request = {
      platform: 'linux/arm64',
      file: 'Dockerfile',
      context: '.',
      tag: 't',
      buildArgs: [],
      network: 'host',
      pull: true,
      builder: '',
      iidFile: '/tmp/x.iid'
    }
    const oci = buildCommand({ ...request, oci: true })
    expect(oci).toContain('type=docker,oci-mediatypes=true')
    expect(oci[oci.indexOf('type=docker,oci-mediatypes=true') - 1]).toBe('--output')
    expect(oci).not.toContain('--load')
    expect(buildCommand({ ...request, oci: false })).toContain('--load')
    expect(buildCommand({ ...request, oci: false })).not.toContain('--output')
  })

  it('names the builder and leaves the default network alone', () => {
    const args = buildCommand({
      platform: 'linux/amd64',
      file: 'Dockerfile',
      context: '.',
      tag: 't',
      buildArgs: [],
      network: 'default',
      pull: false,
      builder: 'ci',
      iidFile: 'i'
    })
    expect(args.slice(0, 4)).toEqual(['buildx', 'build', '--builder', 'ci'])
    expect(args).not.toContain('--network')
    expect(args).not.toContain('--pull')
  })
})

describe('attestArgs', () => {
  it.each([
    [undefined, ['--provenance=false', '--sbom=false']],
    [
      { provenance: 'min', sbom: false, sbomGenerator: '' },
      ['--provenance=mode=min', '--sbom=false']
    ],
    [
      { provenance: 'max', sbom: true, sbomGenerator: '' },
      ['--provenance=mode=max', '--sbom=true']
    ],
    [
      { provenance: null, sbom: true, sbomGenerator: 'reg/scanner:1' },
      ['--provenance=false', '--sbom=generator=reg/scanner:1']
    ]
  ] as const)('%j', (attest, args) => {
    expect(attestArgs(attest)).toEqual(args)
  })
})

describe('runCommand', () => {
  it('keeps user text as separate arguments after the image', () => {
    expect(
      runCommand({
        name: 'c1',
        image: 'sha256:abc',
        platform: 'linux/arm64',
        network: 'none',
        command: ['sh', '-c', 'echo $(id); rm -rf /']
      })
    ).toEqual([
      'run',
      '--rm',
      '--name',
      'c1',
      '--platform',
      'linux/arm64',
      '--pull',
      'never',
      '--network',
      'none',
      '--',
      'sha256:abc',
      'sh',
      '-c',
      'echo $(id); rm -rf /'
    ])
  })
})

describe('parsePush', () => {
  it('reads what docker push did with each layer, the digest, and whether the engine began retrying', () => {
    const out = [
      'The push refers to repository [127.0.0.1:5000/exp/app]',
      'c51b870142bc: Preparing',
      'ed7bde009f22: Mounted from ros',
      'c6fb915f3866: Layer already exists',
      'c51b870142bc: Pushed',
      't: digest: sha256:1b4f5289629b5cc9a190bdc636229b58e6401dee43ee92a0b565fdabae636093 size: 1567'
    ].join('\n')
    expect(parsePush(out)).toEqual({
      layers: new Map([
        ['ed7bde009f22', 'mounted'],
        ['c6fb915f3866', 'exists'],
        ['c51b870142bc', 'pushed']
      ]),
      digest: 'sha256:1b4f5289629b5cc9a190bdc636229b58e6401dee43ee92a0b565fdabae636093',
      retrying: false
    })
    expect(parsePush('c51b870142bc: Retrying in 5 seconds\n').retrying).toBe(true)
    expect(parsePush('').digest).toBeUndefined()
  })
})
