/**
 * Each phase of the run on its own, through the fake engine: its typed inputs and outputs, and
 * the failure paths that are hard to reach through a whole run.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildOrder } from '../../src/pipeline/cells.js'
import { cancellable, during, registryClients, registryDocker } from '../../src/pipeline/deps.js'
import { results } from '../../src/pipeline/finish.js'
import { prepare } from '../../src/pipeline/prepare.js'
import { Publisher } from '../../src/pipeline/publishing.js'
import { attestationsFor, logIn, setUp, type Setup } from '../../src/pipeline/setup.js'
import { notRun } from '../../src/results/results.js'
import { denyUploads, fakeDocker } from '../helpers/fake-docker.js'
import { buildCells, pipelineFixture, publishOptions } from '../helpers/pipeline.js'

describe('setUp', () => {
  it('reads the engine, keeps a buildx that satisfies the input, and finds QEMU registered', async () => {
    const f = pipelineFixture({}, { store: 'containerd' })
    const setup = await setUp(f.config, f.plan, registryDocker(f.config, f.deps), f.deps)
    expect(setup).toEqual({
      engine: { version: '28.5.2', store: 'containerd', insecure: { hosts: [], cidrs: [] } },
      builder: '',
      attest: { provenance: 'min', sbom: false, sbomGenerator: '' }
    })
    expect(f.rt.recorded.infos).toEqual([
      'Docker engine 28.5.2, containerd image store: images are loaded with OCI media types',
      'buildx 0.29.1 satisfies >=0.13.0',
      'Using builder (current)',
      'Attestations made at build time: provenance (mode=min)',
      'linux/amd64: native on this runner, no emulation needed',
      'linux/arm64: QEMU already registered (qemu-aarch64)'
    ])
  })

  it('installs buildx when the one there is too old, and stops the download when cancelled', async () => {
    const cancel = new AbortController()
    const f = pipelineFixture(
      { 'buildx-version': '0.29.1' },
      { buildx: '0.13.1', signal: cancel.signal }
    )
    const deps = {
      ...f.deps,
      toolCache: {
        ...f.deps.toolCache,
        // a download that never ends by itself
        download: () => {
          cancel.abort(new Error('cancelled by SIGTERM'))
          return new Promise<string>(() => undefined)
        }
      }
    }
    // the download is abandoned at once; the pipeline's during('set-up') reports the cancellation
    await expect(setUp(f.config, f.plan, registryDocker(f.config, deps), deps)).rejects.toThrow(
      'downloading https://github.com/docker/buildx/releases/download/v0.29.1/buildx-v0.29.1.linux-amd64 was given up: the run was cancelled by SIGTERM'
    )
    expect(f.rt.recorded.infos).toContain(
      'buildx 0.13.1 does not satisfy 0.29.1: installing buildx 0.29.1'
    )
  })

  it('a merge job sets up no builder and no QEMU', async () => {
    const f = pipelineFixture({ mode: 'merge' })
    const setup = await setUp(f.config, f.plan, registryDocker(f.config, f.deps), f.deps)
    expect(setup.builder).toBe('')
    expect(f.docker.commands().some(c => c[1] === 'create' || c.includes('--privileged'))).toBe(
      false
    )
  })

  it('logs in only with a username', async () => {
    const f = pipelineFixture()
    await logIn(f.config, registryDocker(f.config, f.deps), f.deps)
    expect(f.docker.calls).toEqual([])
    expect(f.cleanup.logout).toBeUndefined()
  })
})

describe('prepare', () => {
  /** prepare() with the fixture's engine and registry client */
  const prepareOf = (f: ReturnType<typeof pipelineFixture>, setup: Setup) =>
    prepare(
      f.config,
      f.plan,
      setup,
      registryDocker(f.config, f.deps),
      registryClients(f.config, f.deps),
      f.deps
    )

  const run = async (
    inputs: Record<string, string>,
    setupStore: 'classic' | 'containerd' = 'classic'
  ) => {
    const f = pipelineFixture(inputs)
    const setup = { engine: { version: '28', store: setupStore }, builder: '' }
    return {
      f,
      prepared: prepareOf(f, setup)
    }
  }

  it('fingerprints every cell and reuses none on a first run', async () => {
    const { prepared } = await run({})
    const p = await prepared
    expect([...p.fingerprints.keys()]).toEqual([
      'humble-amd64',
      'humble-arm64',
      'jazzy-amd64',
      'jazzy-arm64'
    ])
    expect(p.reuse.size).toBe(0)
    expect(p.caches.size).toBe(0)
  })

  it('fails before any build when a base lacks a platform, naming it', async () => {
    const f = pipelineFixture({}, { docker: fakeDocker() })
    f.docker.addBase('registry.test/ros:humble-ros-base', ['linux/amd64'])
    f.docker.addBase('registry.test/ros:jazzy-ros-base', ['linux/amd64', 'linux/arm64'])
    const setup = { engine: { version: '28', store: 'classic' as const }, builder: '' }
    await expect(prepareOf(f, setup)).rejects.toThrow(
      'Preflight: base image registry.test/ros:humble-ros-base has linux/amd64 only; missing linux/arm64 (needed by humble-arm64)'
    )
  })

  it('says which Dockerfile it cannot read, as an input error', async () => {
    const { prepared } = await run({ file: 'examples/ros-app/Nope.dockerfile' })
    await expect(prepared).rejects.toThrow(
      'Input "file": cannot read examples/ros-app/Nope.dockerfile; give the Dockerfile\'s path (default <context>/Dockerfile)'
    )
  })

  it('says what is wrong with the Dockerfile, as an input error', async () => {
    const dir = mkdtempSync(path.join(process.cwd(), '.rma-test-'))
    try {
      writeFileSync(path.join(dir, 'Dockerfile'), 'RUN true\n')
      const rel = path.relative(process.cwd(), dir)
      const { prepared } = await run({ context: rel })
      await expect(prepared).rejects.toThrow(
        `Input "file": ${rel}/Dockerfile: Dockerfile has no FROM instruction`
      )
    } finally {
      await import('node:fs/promises').then(fs => fs.rm(dir, { recursive: true, force: true }))
    }
  })

  it('refuses a registry cache on the classic store before anything is built', async () => {
    const { prepared } = await run({ cache: 'registry' })
    await expect(prepared).rejects.toThrow(
      'Input "cache": registry needs a builder that can export'
    )
  })

  it('gives every cell a registry cache on the containerd store', async () => {
    const { prepared } = await run({ cache: 'registry' }, 'containerd')
    const p = await prepared
    expect([...p.caches.values()].map(c => c.args.from[0])).toEqual([
      'type=registry,ref=registry.test/acme/robot:buildcache-acme_robot-humble-amd64',
      'type=registry,ref=registry.test/acme/robot:buildcache-acme_robot-humble-arm64',
      'type=registry,ref=registry.test/acme/robot:buildcache-acme_robot-jazzy-amd64',
      'type=registry,ref=registry.test/acme/robot:buildcache-acme_robot-jazzy-arm64'
    ])
  })

  it('looks for unchanged images only when pushing, pulling and not forced', async () => {
    for (const [inputs, said] of [
      [
        { force: 'true' },
        'force: every cell is rebuilt and retested, even when its published image is unchanged'
      ],
      [
        { pull: 'false' },
        'pull is off: every cell is rebuilt (a local copy of a base may differ from the registry digest a reuse is judged by)'
      ]
    ] as const) {
      const { f, prepared } = await run(inputs)
      await prepared
      expect(f.rt.recorded.infos).toContain(said)
      expect(f.docker.requests.filter(r => r.endsWith('/humble-main'))).toEqual([])
    }
    // and when it does look, it reads the distro's published tags
    const { f, prepared } = await run({})
    await prepared
    expect(f.docker.requests).toContain('GET registry.test/acme/robot/manifests/humble-main')
  })
})

describe('buildOrder', () => {
  it('leaves reused cells out, puts emulated ones first, and labels each with its fingerprint', () => {
    const f = pipelineFixture()
    const fingerprints = new Map(
      f.plan.cells.map(c => [c.id, { baseDigest: `b-${c.id}`, inputsHash: 'h' }])
    )
    const reuse = new Map([['jazzy-arm64', { from: 't', digest: 'sha256:1' }]])
    const order = buildOrder(f.plan.cells, { fingerprints, reuse })
    expect(order.map(c => c.id)).toEqual(['humble-arm64', 'humble-amd64', 'jazzy-amd64'])
    expect(order[0].labels.slice(-2)).toEqual([
      ['io.ros-multiarch.base.digest', 'b-humble-arm64'],
      ['io.ros-multiarch.inputs.hash', 'h']
    ])
  })
})

describe('Publisher', () => {
  const options = publishOptions

  it('publishes nothing for a distro after the run was cancelled', async () => {
    const f = pipelineFixture()
    const cancel = new AbortController()
    cancel.abort(new Error('cancelled by SIGTERM'))
    const p = new Publisher(f.plan, options(f), cancel.signal)
    const cells = f.plan.cells.filter(c => c.distro === 'humble')
    p.distroDone(
      f.plan.manifests[0],
      cells.map(c => notRun(c, { status: 'unchanged', reused: { from: 'x', digest: 'sha256:1' } }))
    )
    const out = await p.finished()
    expect(out.distros.get('humble')).toEqual({
      distro: 'humble',
      status: 'failed',
      tags: [],
      reason: 'not published: the run was cancelled'
    })
    expect(f.docker.calls).toEqual([])
  })

  it('reports a failed staging as publish failed, with the reason', async () => {
    const f = pipelineFixture(
      { mode: 'build', distros: 'humble' },
      {
        http: denyUploads
      }
    )
    const p = new Publisher(f.plan, options(f))
    p.distroDone(f.plan.manifests[0], await buildCells(f))
    const out = await p.finished()
    expect(out.distros.get('humble')).toEqual({
      distro: 'humble',
      status: 'publish failed',
      tags: [],
      reason:
        'staging failed: Starting an upload of registry.test/acme/robot@sha256:a40b8ffb43ce14efd77cadd6707d03cfc58d5ed9749202e1d12c5f2fd6cf50ca: the registry denies it (HTTP 403: DENIED: requested access to the resource is denied)'
    })
  })
})

describe('results', () => {
  it('lists cells and distros in plan order, with what each pushed', () => {
    const f = pipelineFixture({ distros: 'jazzy', platforms: 'linux/amd64' })
    const cell = f.plan.cells[0]
    const r = results(
      f.plan,
      new Map([[cell.id, notRun(cell, { status: 'passed' })]]),
      {
        distros: new Map([['jazzy', { distro: 'jazzy', status: 'published', tags: ['t'] }]]),
        pushed: new Map([[cell.id, { tag: 'x:jazzy-amd64', digest: 'sha256:2' }]])
      },
      12.345
    )
    expect(r.cells[0].pushed).toEqual({ tag: 'x:jazzy-amd64', digest: 'sha256:2' })
    expect(r.seconds).toBe(12.3)
  })
})

describe('cancellation helpers', () => {
  it('cancellable settles when the run is cancelled, and passes results through otherwise', async () => {
    const cancel = new AbortController()
    const never = new Promise<string>(() => undefined)
    const waiting = cancellable(never, cancel.signal, 'a cache restore')
    cancel.abort(new Error('cancelled by SIGINT'))
    await expect(waiting).rejects.toThrow(
      'a cache restore was given up: the run was cancelled by SIGINT'
    )
    await expect(
      cancellable(Promise.resolve('ok'), new AbortController().signal, 'x')
    ).resolves.toBe('ok')
    await expect(
      cancellable(Promise.reject(new Error('no')), new AbortController().signal, 'x')
    ).rejects.toThrow('no')
  })

  it('during turns a phase that failed because of the cancellation into the cancellation', async () => {
    const cancel = new AbortController()
    cancel.abort(new Error('cancelled by SIGTERM'))
    await expect(
      during('set-up', cancel.signal, async () => {
        throw new Error('Reaching the Docker engine failed (exit 130): cancelled')
      })
    ).rejects.toThrow('The run was cancelled by SIGTERM during set-up; nothing was published.')
    await expect(during('set-up', undefined, async () => 1)).resolves.toBe(1)
    await expect(
      during('set-up', undefined, async () => {
        throw new Error('real')
      })
    ).rejects.toThrow('real')
  })

  it('hashing a context stops when the run is cancelled', async () => {
    const { hashContext } = await import('../../src/tooling/context.js')
    const cancel = new AbortController()
    cancel.abort(new Error('cancelled'))
    await expect(hashContext(os.tmpdir(), cancel.signal)).rejects.toThrow('cancelled')
  })
})

describe('attestationsFor', () => {
  const min = { provenance: 'min', sbom: false, sbomGenerator: '' } as const
  const both = { provenance: 'max', sbom: true, sbomGenerator: 'g:1' } as const
  const none = { provenance: null, sbom: false, sbomGenerator: '' } as const

  it('builds with what was asked when the images are pushed and the engine keeps attestations', () => {
    expect(attestationsFor(both, true, 'containerd')).toEqual({ attest: both })
  })

  it('makes none when nothing is pushed, or none was asked', () => {
    expect(attestationsFor(both, false, 'containerd')).toEqual({})
    expect(attestationsFor(none, true, 'classic')).toEqual({})
  })

  it('says so on the classic image store: a line for the default provenance, a warning for an SBOM', () => {
    const quiet = attestationsFor(min, true, 'classic')
    expect(quiet.attest).toBeUndefined()
    expect(quiet.note?.warn).toBe(false)
    expect(quiet.note?.text).toMatch(
      /^provenance \(mode=min\) attestations are not made: this engine's classic image store/
    )
    const old = attestationsFor(min, true, 'containerd', true, '28.0.4')
    expect(old.attest).toBeUndefined()
    expect(old.note?.text).toMatch(
      /which Docker 28\.0\.4 cannot do \(it came with Docker 28\.1\.0\)/
    )
    const loud = attestationsFor(both, true, 'classic')
    expect(loud.note?.warn).toBe(true)
    expect(loud.note?.text).toMatch(/^provenance \(mode=max\) and SBOM attestations are not made/)
  })

  it('keeps provenance when only the SBOM generator cannot run (no bridge network)', () => {
    const r = attestationsFor(both, true, 'containerd', false, '28.5.2+dfsg4')
    expect(r.attest).toEqual({ ...both, sbom: false })
    expect(r.note).toEqual({
      warn: true,
      text: expect.stringContaining('SBOM attestations are not made')
    })
    const sbomOnly = attestationsFor({ ...both, provenance: null }, true, 'containerd', false)
    expect(sbomOnly.attest).toBeUndefined()
  })
})
