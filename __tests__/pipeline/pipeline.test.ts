/**
 * The whole run through its phases, against the fake engine and registry (the end-to-end tests
 * run the real ones): what is built, tested, pushed and published, on each image store, and what
 * happens on failure, fail-fast, push off, reuse, the build/merge modes and cancellation.
 */
import { describe, expect, it } from '@jest/globals'
import { runPipeline } from '../../src/pipeline/pipeline.js'
import { denyUploads } from '../helpers/fake-docker.js'
import { pipelineFixture } from '../helpers/pipeline.js'

const statuses = (r: { cells: readonly { id: string; status: string }[] }) =>
  r.cells.map(c => `${c.id} ${c.status}`)

describe('runPipeline', () => {
  it('classic store: builds with --load, tests, pushes arch tags and publishes each distro', async () => {
    const f = pipelineFixture()
    const r = await runPipeline(f.input, f.deps)
    expect(statuses(r)).toEqual([
      'humble-amd64 passed',
      'humble-arm64 passed',
      'jazzy-amd64 passed',
      'jazzy-arm64 passed'
    ])
    expect(r.distros.map(d => [d.distro, d.status])).toEqual([
      ['humble', 'published'],
      ['jazzy', 'published']
    ])
    const builds = f.docker.commands().filter(c => c[1] === 'build')
    expect(builds).toHaveLength(4)
    for (const b of builds) expect(b).toContain('--load')
    // emulated cells start first
    expect(builds[0]).toContain('linux/arm64')
    for (const c of r.cells) {
      expect(c.localId).toBe(c.imageId)
      expect(c.pushed?.tag).toBe(`registry.test/acme/robot:${c.distro}-main-${c.id.split('-')[1]}`)
    }
    const index = JSON.parse(f.docker.registry.get('registry.test/acme/robot:humble-main') ?? '{}')
    expect(index.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(
      r.cells
        .filter(c => c.distro === 'humble')
        .map(c => c.pushed?.digest)
        .sort()
    )
    expect(f.rt.recorded.warnings.filter(w => w.includes('Docker manifest list'))).toHaveLength(2)
    expect(f.rt.recorded.infos).toContain(
      'Docker engine 28.5.2, classic image store: images are Docker v2 (their indexes cannot carry annotations)'
    )
  })

  it('containerd store: loads OCI, names images by manifest digest, annotates the index', async () => {
    const f = pipelineFixture({}, { store: 'containerd' })
    const r = await runPipeline(f.input, f.deps)
    expect(statuses(r).every(s => s.endsWith('passed'))).toBe(true)
    for (const b of f.docker.commands().filter(c => c[1] === 'build')) {
      expect(b).toContain('type=docker,oci-mediatypes=true')
      expect(b).not.toContain('--load')
    }
    for (const c of r.cells) {
      expect(c.localId).not.toBe(c.imageId)
      expect(c.localId).toMatch(/^sha256:/)
    }
    const index = JSON.parse(f.docker.registry.get('registry.test/acme/robot:jazzy-main') ?? '{}')
    expect(index.annotations['io.ros-multiarch.ros.distro']).toBe('jazzy')
    expect(f.rt.recorded.warnings).toEqual([])
  })

  it('a failed arm64 test publishes nothing for its distro, and the other distro is published', async () => {
    const f = pipelineFixture(
      { 'smoke-tests': 'false-on-humble-arm64' },
      {
        override: call =>
          call.args[0] === 'run' &&
          call.args.includes('linux/arm64') &&
          call.args[call.args.indexOf('--name') + 1].includes('-humble-arm64-') &&
          call.args.includes('false-on-humble-arm64')
            ? { code: 1, stderr: 'no\n' }
            : undefined
      }
    )
    const r = await runPipeline(f.input, f.deps)
    expect(statuses(r)).toContain('humble-arm64 failed')
    expect(r.distros[0]).toMatchObject({
      distro: 'humble',
      status: 'failed',
      reason: 'not published: humble-arm64 failed'
    })
    expect(r.distros[1].status).toBe('published')
    expect(f.docker.registry.has('registry.test/acme/robot:humble-main')).toBe(false)
    expect(f.docker.commands().filter(c => c[0] === 'push' && c[1].includes('humble'))).toEqual([])
  })

  it('fail-fast starts no cell after the first failure', async () => {
    const f = pipelineFixture(
      { 'fail-fast': 'true', 'max-parallel': '1' },
      {
        override: call =>
          call.args[1] === 'build' ? { code: 1, stderr: 'ERROR: boom\n' } : undefined
      }
    )
    const r = await runPipeline(f.input, f.deps)
    expect(r.cells.filter(c => c.status === 'failed')).toHaveLength(1)
    expect(r.cells.filter(c => c.status === 'cancelled').map(c => c.failure)).toEqual([
      'cancelled by fail-fast after an earlier failure',
      'cancelled by fail-fast after an earlier failure',
      'cancelled by fail-fast after an earlier failure'
    ])
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
  })

  it('with push off it builds and tests, and pushes nothing', async () => {
    const f = pipelineFixture({ push: 'false' })
    const r = await runPipeline(f.input, f.deps)
    expect(r.distros.map(d => d.status)).toEqual(['tested', 'tested'])
    expect(f.docker.commands().filter(c => ['push', 'login'].includes(c[0]))).toEqual([])
    expect(f.docker.commands().some(c => c.includes('create'))).toBe(false)
  })

  it('records emulated times in the index; the next run projects from them and warns past 5 h', async () => {
    const first = pipelineFixture({}, { store: 'containerd' })
    await runPipeline(first.input, first.deps)
    const tag = 'registry.test/acme/robot:humble-main'
    const index = JSON.parse(first.docker.registry.get(tag) ?? '{}') as {
      manifests: { platform: { architecture: string }; annotations?: Record<string, string> }[]
    }
    const arm = index.manifests.find(m => m.platform.architecture === 'arm64')
    const amd = index.manifests.find(m => m.platform.architecture === 'amd64')
    expect(arm?.annotations?.['io.ros-multiarch.emulated.seconds']).toMatch(/^\d+$/)
    expect(amd?.annotations).toBeUndefined()
    // stand-in for a previous run of hours: the same index, the arm64 entry saying 5 h 30 min
    if (arm?.annotations) arm.annotations['io.ros-multiarch.emulated.seconds'] = '19800'
    first.docker.registry.set(tag, JSON.stringify(index))
    // a changed input: every cell is built again
    const second = pipelineFixture({ 'build-args': 'CHANGED=1' }, { docker: first.docker })
    await runPipeline(second.input, second.deps)
    const warnings = second.rt.recorded.warnings.filter(w => w.startsWith('Projected'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^Projected emulated time of this run: about 5h30m00s \(their last builds under emulation: humble-arm64 5h30m00s, jazzy-arm64 \d+s; max-parallel \d+\), beyond 5 hours\. GitHub-hosted jobs stop after 6 hours\./
    )
  })

  it('a second run with the same inputs reuses every image and pushes nothing', async () => {
    const first = pipelineFixture()
    await runPipeline(first.input, first.deps)
    const second = pipelineFixture({}, { docker: first.docker })
    const before = first.docker.calls.length
    const r = await runPipeline(second.input, second.deps)
    expect(statuses(r)).toEqual([
      'humble-amd64 unchanged',
      'humble-arm64 unchanged',
      'jazzy-amd64 unchanged',
      'jazzy-arm64 unchanged'
    ])
    expect(r.distros.every(d => d.status === 'published' && d.unchanged === true)).toBe(true)
    const later = first.docker.calls.slice(before).map(c => c.args[0] + ' ' + c.args[1])
    expect(later.filter(c => c.startsWith('buildx build') || c.startsWith('push'))).toEqual([])
  })

  it('mode build stages each slice; mode merge publishes the staged slices', async () => {
    const build = pipelineFixture({ mode: 'build' })
    const staged = await runPipeline(build.input, build.deps)
    expect(staged.distros.map(d => d.status)).toEqual(['staged', 'staged'])
    expect(staged.cells[0].pushed?.tag).toBe('registry.test/acme/robot:rma-stage-7-humble-amd64')
    expect(build.docker.registry.has('registry.test/acme/robot:humble-main')).toBe(false)

    const merge = pipelineFixture({ mode: 'merge' }, { docker: build.docker })
    const before = build.docker.calls.length
    const merged = await runPipeline(merge.input, merge.deps)
    expect(merged.distros.map(d => d.status)).toEqual(['published', 'published'])
    expect(merged.cells.map(c => c.reused?.from)).toEqual(merge.plan.cells.map(c => c.stageTag))
    const later = build.docker.calls.slice(before).map(c => c.args.slice(0, 2).join(' '))
    expect(later).not.toContain('buildx build')
    expect(merge.rt.recorded.infos).toContain(
      'mode merge: nothing is built here, so no builder and no QEMU are set up'
    )
  })

  it('a merge with a slice missing publishes nothing for that distro', async () => {
    const build = pipelineFixture({ mode: 'build', distros: 'jazzy' })
    await runPipeline(build.input, build.deps)
    const merge = pipelineFixture({ mode: 'merge' }, { docker: build.docker })
    const r = await runPipeline(merge.input, merge.deps)
    expect(r.distros[0]).toMatchObject({ distro: 'humble', status: 'failed' })
    expect(r.cells[0].failure).toMatch(
      /^slice missing: .*rma-stage-7-humble-amd64 is not in the registry/
    )
    expect(r.distros[1].status).toBe('published')
  })

  it('the docker-container driver creates a builder of its own and records it for the post step', async () => {
    const f = pipelineFixture({ driver: 'docker-container' })
    await runPipeline(f.input, f.deps)
    expect(f.cleanup.builder).toBe('rma-7-1-abc123')
    expect(f.docker.commands()).toContainEqual([
      'buildx',
      'create',
      '--name',
      'rma-7-1-abc123',
      '--driver',
      'docker-container',
      '--bootstrap'
    ])
    for (const b of f.docker.commands().filter(c => c[1] === 'build')) {
      expect(b.slice(2, 4)).toEqual(['--builder', 'rma-7-1-abc123'])
    }
    expect(f.cleanup.logout).toBeUndefined()
  })

  it('logs in with the credentials, on stdin, and records the logout', async () => {
    const f = pipelineFixture({ username: 'bot', password: 's3cret' })
    await runPipeline(f.input, f.deps)
    const login = f.docker.calls.find(c => c.args[0] === 'login')
    expect(login?.args).toEqual(['login', 'registry.test', '--username', 'bot', '--password-stdin'])
    expect(login?.options?.input).toBe('s3cret')
    expect(f.cleanup.logout).toEqual(['registry.test'])
  })

  it('several registries: logs in to each, checks push access to each, publishes to each', async () => {
    const f = pipelineFixture(
      {
        image: 'registry.test/acme/robot, mirror.test/acme/robot',
        username: 'bot',
        password: 's3cret',
        'registry-auth': '- registry: mirror.test\n  username: mbot\n  password: m1rror-s3cret'
      },
      { separateHosts: true }
    )
    const results = await runPipeline(f.input, f.deps)
    const logins = f.docker.calls.filter(c => c.args[0] === 'login')
    expect(logins.map(c => [c.args[1], c.args[3], c.options?.input])).toEqual([
      ['registry.test', 'bot', 's3cret'],
      ['mirror.test', 'mbot', 'm1rror-s3cret']
    ])
    expect(f.cleanup.logout).toEqual(['registry.test', 'mirror.test'])
    // the push access check (an upload session opened) in both, before any build
    const firstBuild = f.docker.calls.findIndex(c => c.args[1] === 'build')
    expect(firstBuild).toBeGreaterThan(0)
    const checks = f.docker.requests.filter(r => r.startsWith('POST ') && r.endsWith('/uploads/'))
    expect(checks.slice(0, 2)).toEqual([
      'POST registry.test/acme/robot/blobs/uploads/',
      'POST mirror.test/acme/robot/blobs/uploads/'
    ])
    for (const d of results.distros) {
      expect(d.status).toBe('published')
      expect(d.tags.filter(t => t.startsWith('mirror.test/'))).toHaveLength(d.tags.length / 2)
    }
  })

  it('several registries: one that refuses pushes fails the set-up before any build', async () => {
    const f = pipelineFixture(
      { image: 'registry.test/acme/robot, mirror.test/acme/robot' },
      {
        separateHosts: true,
        http: (method, url) => (url.host === 'mirror.test' ? denyUploads(method, url) : undefined)
      }
    )
    await expect(runPipeline(f.input, f.deps)).rejects.toThrow(
      /^Pushing to mirror\.test\/acme\/robot is not possible with these credentials, so nothing was built: /
    )
    expect(f.docker.calls.filter(c => c.args[1] === 'build')).toEqual([])
  })

  it("credentials that may not push fail the set-up with the registry's reason, before any build", async () => {
    const f = pipelineFixture(
      {},
      {
        http: denyUploads
      }
    )
    await expect(runPipeline(f.input, f.deps)).rejects.toThrow(
      'Pushing to registry.test/acme/robot is not possible with these credentials, so nothing was built: Checking push access to registry.test/acme/robot: the registry denies it (HTTP 403: DENIED: requested access to the resource is denied)'
    )
    expect(f.docker.commands().filter(c => c[1] === 'build')).toEqual([])
    // without push, nothing is checked
    const off = pipelineFixture({ push: 'false' })
    await runPipeline(off.input, off.deps)
    expect(off.docker.requests.filter(r => r.includes('/blobs/uploads/'))).toEqual([])
  })

  it('a cancellation during set-up is reported as a cancellation, not as the command it stopped', async () => {
    const cancel = new AbortController()
    const f = pipelineFixture(
      {},
      {
        signal: cancel.signal,
        override: call => {
          if (call.args[0] !== 'info') return undefined
          cancel.abort(new Error('cancelled by SIGTERM'))
          return { code: 130, stderr: 'cancelled' }
        }
      }
    )
    await expect(runPipeline(f.input, f.deps)).rejects.toThrow(
      'The run was cancelled by SIGTERM during set-up; nothing was published.'
    )
    expect(f.docker.commands().filter(c => c[1] === 'build')).toEqual([])
  })

  it('a cancellation during preflight stops before any build', async () => {
    const cancel = new AbortController()
    const f = pipelineFixture(
      {},
      {
        signal: cancel.signal,
        http: (_method, url) => {
          // the preflight's first read: a base image's manifest
          if (url.pathname.includes('/manifests/')) cancel.abort(new Error('cancelled by SIGINT'))
          return undefined
        }
      }
    )
    await expect(runPipeline(f.input, f.deps)).rejects.toThrow(
      'The run was cancelled by SIGINT during preflight; nothing was published.'
    )
    expect(f.docker.commands().filter(c => c[1] === 'build')).toEqual([])
  })

  it('a cancellation while cells build stops the rest and publishes nothing more', async () => {
    const cancel = new AbortController()
    const f = pipelineFixture(
      { 'max-parallel': '1' },
      {
        signal: cancel.signal,
        onCall: call => {
          if (call.args[1] === 'build') cancel.abort(new Error('cancelled by SIGTERM'))
        }
      }
    )
    const r = await runPipeline(f.input, f.deps)
    expect(r.cells.map(c => c.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled'])
    expect(f.docker.commands().filter(c => c[1] === 'build')).toHaveLength(1)
    expect(f.docker.commands().filter(c => c[0] === 'push')).toEqual([])
    expect(f.rt.recorded.warnings[0]).toMatch(/^Cancelling: stopping \d+ running container/)
  })
})
