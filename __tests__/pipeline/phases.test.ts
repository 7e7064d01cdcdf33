/**
 * Each phase of the run on its own, through the fake engine: its typed inputs and outputs, and
 * the failure paths that are hard to reach through a whole run.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildOrder } from '../../src/pipeline/cells.js'
import { cancellable, during } from '../../src/pipeline/deps.js'
import { results } from '../../src/pipeline/finish.js'
import { prepare } from '../../src/pipeline/prepare.js'
import { Publisher } from '../../src/pipeline/publishing.js'
import { openRun } from '../../src/pipeline/run.js'
import { attestationsFor, setUp, type Setup } from '../../src/pipeline/setup.js'
import { notRun } from '../../src/results/results.js'
import { denyUploads, fakeDocker } from '../helpers/fake-docker.js'
import { buildCells, pipelineFixture, publishOptions } from '../helpers/pipeline.js'

describe('setUp', () => {
  it('reads the engine, keeps a buildx that satisfies the input, finds QEMU registered and checks push access', async () => {
    const f = pipelineFixture({}, { store: 'containerd' })
    const setup = await setUp(f.run())
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
      'linux/arm64: QEMU already registered (qemu-aarch64)',
      'Push access to registry.test/acme/robot: granted'
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
    await expect(setUp(openRun(f.input, deps))).rejects.toThrow(
      'downloading https://github.com/docker/buildx/releases/download/v0.29.1/buildx-v0.29.1.linux-amd64 was given up: the run was cancelled by SIGTERM'
    )
    expect(f.rt.recorded.infos).toContain(
      'buildx 0.13.1 does not satisfy 0.29.1: installing buildx 0.29.1'
    )
  })

  it('a merge job sets up no builder and no QEMU', async () => {
    const f = pipelineFixture({ mode: 'merge' })
    const setup = await setUp(f.run())
    expect(setup.builder).toBe('')
    expect(f.docker.commands().some(c => c[1] === 'create' || c.includes('--privileged'))).toBe(
      false
    )
  })

  it('logs in only with a username', async () => {
    const f = pipelineFixture()
    await setUp(f.run())
    expect(f.docker.commands().some(c => c[0] === 'login')).toBe(false)
    expect(f.cleanup.logout).toBeUndefined()
  })
})

describe('prepare', () => {
  /** prepare() of a run of the fixture: the run, its cell records filled in */
  const prepareOf = async (f: ReturnType<typeof pipelineFixture>, setup: Setup) => {
    const run = f.run()
    await prepare(run, setup)
    return run
  }

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
    const { jobs } = await prepared
    expect(jobs.filter(j => j.fingerprint !== undefined).map(j => j.cell.id)).toEqual([
      'humble-amd64',
      'humble-arm64',
      'jazzy-amd64',
      'jazzy-arm64'
    ])
    // each built from its distro's base, at its platform's digest
    expect(jobs.map(j => j.bases.map(b => b.image))).toEqual([
      ['registry.test/ros:humble-ros-base'],
      ['registry.test/ros:humble-ros-base'],
      ['registry.test/ros:jazzy-ros-base'],
      ['registry.test/ros:jazzy-ros-base']
    ])
    expect(new Set(jobs.map(j => j.bases[0].digest)).size).toBe(4)
    expect(jobs.filter(j => j.reuse !== undefined || j.cache !== undefined)).toEqual([])
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
    const { jobs } = await prepared
    expect(jobs.map(j => j.cache?.args.from[0])).toEqual([
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
  it('leaves reused cells out and puts emulated ones first', () => {
    const run = pipelineFixture().run()
    run.jobs[3].reuse = { from: 't', digest: 'sha256:1' }
    expect(buildOrder(run.jobs).map(j => j.cell.id)).toEqual([
      'humble-arm64',
      'humble-amd64',
      'jazzy-amd64'
    ])
  })
})

describe('Publisher', () => {
  const options = publishOptions

  it('publishes nothing for a distro after the run was cancelled', async () => {
    const f = pipelineFixture()
    const run = f.run()
    const cancel = new AbortController()
    cancel.abort(new Error('cancelled by SIGTERM'))
    const p = new Publisher(run, options(f), { signal: cancel.signal })
    const [humble] = run.distros
    for (const job of humble.jobs) {
      job.result = notRun(job.cell, {
        status: 'unchanged',
        reused: { from: 'x', digest: 'sha256:1' }
      })
    }
    p.distroDone(humble)
    await p.finished()
    expect(humble.result).toEqual({
      distro: 'humble',
      status: 'failed',
      tags: [],
      reason: 'not published: the run was cancelled'
    })
    expect(f.docker.calls).toEqual([])
  })

  it('reports a failed staging as publish failed, with the reason', async () => {
    // the engine's push fails, and the registry client may not upload either
    const f = pipelineFixture(
      { mode: 'build', distros: 'humble' },
      {
        http: denyUploads,
        override: call =>
          call.args[0] === 'push'
            ? { code: 1, stderr: 'denied: requested access to the resource is denied' }
            : undefined
      }
    )
    const run = f.run()
    const results = await buildCells(f)
    for (const [i, job] of run.jobs.entries()) job.result = results[i]
    const p = new Publisher(run, options(f))
    p.distroDone(run.distros[0])
    await p.finished()
    expect(run.distros[0].result).toEqual({
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
    const run = f.run()
    const [job] = run.jobs
    job.result = notRun(job.cell, { status: 'passed' })
    job.pushed = { tag: 'x:jazzy-amd64', digest: 'sha256:2' }
    run.distros[0].result = { distro: 'jazzy', status: 'published', tags: ['t'] }
    const r = results(run, 12.345)
    expect(r.cells[0].pushed).toEqual({ tag: 'x:jazzy-amd64', digest: 'sha256:2' })
    expect(r.distros).toEqual([{ distro: 'jazzy', status: 'published', tags: ['t'] }])
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
