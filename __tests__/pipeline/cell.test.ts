/**
 * One cell against the fake engine: the image the engine loaded must be the one built (by its
 * config digest, however the store names it), of the planned platform, and then it is tested.
 */
import { describe, expect, it } from '@jest/globals'
import { runCell, type CellContext } from '../../src/pipeline/cell.js'
import { registryDocker } from '../../src/pipeline/deps.js'
import type { ImageStore } from '../../src/tooling/docker.js'
import type { FakeDockerOptions } from '../helpers/fake-docker.js'
import { pipelineFixture } from '../helpers/pipeline.js'

function context(store: ImageStore, options: FakeDockerOptions = {}) {
  const f = pipelineFixture({ distros: 'humble' }, { store, ...options })
  const blocks: string[] = []
  const ctx: CellContext = {
    docker: registryDocker(f.config, f.deps),
    running: new Set(),
    file: f.config.file,
    context: f.config.context,
    network: 'host',
    pull: true,
    smokeNetwork: 'none',
    builder: '',
    store,
    caches: new Map(),
    tempDir: f.deps.tempDir,
    runTag: '7',
    logBlock: title => blocks.push(title),
    now: () => 0
  }
  return { f, ctx, blocks }
}

describe('runCell', () => {
  it.each<ImageStore>(['classic', 'containerd'])(
    'on the %s store: builds, checks and tests the image, naming it as the engine does',
    async store => {
      const { f, ctx } = context(store)
      const r = await runCell(f.plan.cells[1], ctx)
      expect(r.status).toBe('passed')
      expect(r.tests.map(t => t.name)).toEqual(['architecture is aarch64'])
      expect(r.localId === r.imageId).toBe(store === 'classic')
      // the test containers ran the image by its name in this engine
      const runs = f.docker.commands().filter(c => c[0] === 'run')
      expect(runs.every(c => c.includes(r.localId ?? ''))).toBe(true)
    }
  )

  it('on the containerd store of an engine before API 1.48 (no config digest reported) it still passes', async () => {
    const { f, ctx } = context('containerd', { noDescriptor: true })
    const r = await runCell(f.plan.cells[0], ctx)
    expect(r.status).toBe('passed')
  })

  it('fails when the engine holds another image under the local tag', async () => {
    const { f, ctx, blocks } = context('classic', {
      override: call =>
        call.args[0] === 'image' && call.args[1] === 'inspect'
          ? {
              stdout: JSON.stringify({
                Id: 'sha256:other',
                Os: 'linux',
                Architecture: 'amd64',
                Size: 1
              })
            }
          : undefined
    })
    const r = await runCell(f.plan.cells[0], ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toMatch(
      / is sha256:other in the engine, not the image just built \(sha256:\w+\)$/
    )
    expect(blocks).toContain('humble-amd64: image check FAILED')
  })

  it('fails when what was built is not the planned platform (an amd64-only base)', async () => {
    const { f, ctx } = context('classic')
    // build arm64 but report amd64, as a build FROM an amd64-only base does
    const build = f.docker.run.bind(f.docker)
    f.docker.run = async (command, args, options) =>
      build(
        command,
        args[1] === 'build' ? args.map(a => (a === 'linux/arm64' ? 'linux/amd64' : a)) : args,
        options
      )
    const r = await runCell(f.plan.cells[1], ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toBe(
      'the built image is linux/amd64, not linux/arm64: its base image has no linux/arm64 variant'
    )
    expect(r.tests).toEqual([])
  })

  it('reports a failed build with its last line, and tests nothing', async () => {
    const { f, ctx } = context('containerd', {
      override: call =>
        call.args[1] === 'build'
          ? {
              code: 1,
              stderr:
                '#5 ERROR: process "/bin/sh -c make" did not complete successfully\nERROR: failed to solve: exit code: 2\n'
            }
          : undefined
    })
    const r = await runCell(f.plan.cells[0], ctx)
    expect(r.status).toBe('failed')
    expect(r.failure).toBe('build failed: ERROR: failed to solve: exit code: 2')
    expect(r.buildLog).toContain('did not complete successfully')
    expect(f.docker.commands().filter(c => c[0] === 'run')).toEqual([])
  })
})
