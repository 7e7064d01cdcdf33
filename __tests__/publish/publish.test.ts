/**
 * Publishing a distro against the fake registry: what it refuses to publish (an image that is not
 * the tested one, an index that does not hold what was pushed), and what it says about annotations.
 */
import { describe, expect, it } from '@jest/globals'
import { attestationEntry, MEDIA, sha256 } from '../../src/oci/manifest.js'
import { annotationsLost, publishDistro, stageCell } from '../../src/publish/publish.js'
import type { FakeDockerOptions } from '../helpers/fake-docker.js'
import {
  buildCells,
  distroOf,
  jobsOf,
  pipelineFixture,
  publishOptions,
  type PipelineFixture
} from '../helpers/pipeline.js'
import type { PublishOptions } from '../../src/publish/publish.js'
import type { CellResult, DistroResult, PushedImage } from '../../src/results/results.js'

/** humble's two cells, built into the fake engine (so that they can be tagged and pushed). */
async function built(options: FakeDockerOptions = {}) {
  const f = pipelineFixture({ distros: 'humble' }, options)
  const results = await buildCells(f)
  const warnings: string[] = []
  const o = publishOptions(f, w => warnings.push(w))
  return { f, results, o, warnings }
}

/** Publish the fixture's humble with these results: the distro's result, and what each cell pushed. */
async function publish(
  f: PipelineFixture,
  results: readonly CellResult[],
  o: PublishOptions
): Promise<{ distro: DistroResult; pushed: Map<string, PushedImage> }> {
  const distro = distroOf(f, results)
  const result = await publishDistro(distro, o)
  const pushed = new Map(
    distro.jobs.flatMap(j => (j.pushed === undefined ? [] : [[j.cell.id, j.pushed] as const]))
  )
  return { distro: result, pushed }
}

/**
 * What skip-unchanged finds for a cell of an index published before: its image's digest, and the
 * emulated seconds its index entry carries (as findUnchanged reads them).
 */
function reusedOf(
  first: Awaited<ReturnType<typeof publish>>,
  r: Awaited<ReturnType<typeof buildCells>>[number]
) {
  return {
    from: 'x',
    digest: first.pushed.get(r.id)?.digest as string,
    ...(r.emulated ? { emulatedSeconds: Math.round(r.buildSeconds + r.testSeconds) } : {})
  }
}

/** Manifest writes in order: the engine's pushes and the client's PUTs, each as its tag or digest. */
const manifestWrites = (f: PipelineFixture): string[] =>
  f.docker.requests.flatMap(r =>
    r.startsWith('PUSH ')
      ? [r.split(':').at(-1) as string]
      : r.startsWith('PUT') && r.includes('/manifests/')
        ? [r.split('/manifests/')[1]]
        : []
  )

describe('publishDistro', () => {
  it('pushes each tested image, publishes one index of exactly those, and reads it back', async () => {
    const { f, results, o } = await built()
    const p = await publish(f, results, o)
    expect(p.distro.status).toBe('published')
    expect([...p.pushed.keys()]).toEqual(['humble-amd64', 'humble-arm64'])
    expect(p.distro.digest).toMatch(/^sha256:/)
  })

  it('the registry client refuses to push when the engine holds no image with the tested config', async () => {
    const { f, results, o } = await built()
    const wrong = results.map(r => ({ ...r, configDigest: 'sha256:not-the-tested-config' }))
    const p = await publish(f, wrong, { ...o, enginePush: false })
    expect(p.distro).toMatchObject({ status: 'publish failed', tags: [] })
    // the engine holds no image with the tested config: nothing is uploaded
    expect(p.distro.reason).toBe('the saved image has no config sha256:not-the-tested-config')
    // no index was written
    expect(f.docker.requests.filter(r => r.startsWith('PUT'))).toEqual([])
  })

  it('refuses a cell that did not pass', async () => {
    const { f, results, o } = await built()
    const p = await publish(f, [results[0], { ...results[1], status: 'failed' }], o)
    expect(p.distro.reason).toBe('cell humble-arm64 did not pass')
  })

  it('says so when the index read back does not hold what was pushed', async () => {
    // another run publishes over the tag right after this one wrote it
    const other = `sha256:${'0'.repeat(64)}`
    const { f, results, o } = await built({
      http: (method, url) =>
        method === 'HEAD' && url.pathname.endsWith('/manifests/humble-main')
          ? new Response(null, { status: 200, headers: { 'Docker-Content-Digest': other } })
          : undefined
    })
    const p = await publish(f, results, o)
    expect(p.distro).toMatchObject({ status: 'publish failed' })
    expect(p.distro.reason).toBe(
      `registry.test/acme/robot:humble-main holds ${other}, not the index just written (another run published over it?)`
    )
    // the tags may have moved by then: the result says so
    expect(p.distro.tags).toEqual(f.plan.manifests[0].tags)
  })

  it('warns about lost annotations on the classic store only', async () => {
    const classic = await built()
    await publish(classic.f, classic.results, classic.o)
    expect(classic.warnings).toHaveLength(1)
    const containerd = await built({ store: 'containerd' })
    await publish(containerd.f, containerd.results, containerd.o)
    expect(containerd.warnings).toEqual([])
  })
})

describe('the engine pushes', () => {
  it.each(['classic', 'containerd'] as const)(
    'on the %s store: under the arch tag, counted, the engine left with the names it had',
    async store => {
      const { f, results, o } = await built({ store })
      const logs: string[] = []
      const p = await publish(f, results, { ...o, log: m => logs.push(m) })
      expect(p.distro.status).toBe('published')
      expect(f.docker.requests.filter(r => r.startsWith('PUSH '))).toEqual(
        f.plan.cells.map(c => `PUSH ${c.pushTag}`)
      )
      // each pushed image is counted by what the engine said of its one layer (mounted from the
      // base's repository at first)
      const transfer = p.pushed.get('humble-amd64')?.transfer
      expect(transfer).toMatchObject({ by: 'engine', layers: 1, uploaded: 0 })
      expect((transfer?.mounted ?? 0) + (transfer?.skipped ?? 0)).toBeGreaterThan(0)
      expect(logs.filter(l => l.startsWith('Pushed '))[0]).toMatch(
        /^Pushed registry\.test\/acme\/robot:humble-main-amd64 \(linux\/amd64\) sha256:[0-9a-f]{64} by the engine: 1 layers, /
      )
      // the arch tags were put on for the push and taken off after
      const untagged = f.docker.commands().filter(c => c[0] === 'image' && c[1] === 'rm')
      expect(untagged.map(c => c[2])).toEqual(f.plan.cells.map(c => c.pushTag))
    }
  )

  it("gives a developer's own local tag back to the image it named", async () => {
    const { f, results, o } = await built()
    const [amd64] = f.plan.cells
    // the developer's own build under the arch tag's name
    await f.docker.run('docker', ['tag', f.plan.cells[1].localTag, amd64.pushTag])
    const theirs = (
      await f.docker.run('docker', ['image', 'inspect', '--format', '{{.Id}}', amd64.pushTag])
    ).stdout
    const p = await publish(f, results, o)
    expect(p.distro.status).toBe('published')
    const now = (
      await f.docker.run('docker', ['image', 'inspect', '--format', '{{.Id}}', amd64.pushTag])
    ).stdout
    expect(now).toBe(theirs)
  })

  it('falls back to the registry client when the engine fails, or begins its own retries', async () => {
    for (const answer of [
      { code: 1, stderr: 'received unexpected HTTP status: 500 Internal Server Error' },
      { code: 0, stdout: 'abc: Retrying in 5 seconds\n' }
    ]) {
      const { f, results, o } = await built({
        override: call => (call.args[0] === 'push' ? answer : undefined)
      })
      const logs: string[] = []
      const p = await publish(f, results, { ...o, log: m => logs.push(m) })
      expect(p.distro.status).toBe('published')
      expect(p.pushed.get('humble-amd64')?.transfer?.by).toBe('client')
      expect(logs.some(l => /the registry client pushes it instead$/.test(l))).toBe(true)
    }
  })

  it('fails the distro when the registry holds another image under the digest the engine reported', async () => {
    const other = JSON.stringify({ schemaVersion: 2, config: { digest: sha256('another config') } })
    let pushed = false
    const { f, results, o } = await built({
      onCall: call => {
        if (call.args[0] === 'push') pushed = true
      },
      http: (method, url) =>
        pushed && method === 'GET' && /\/manifests\/sha256:/.test(url.pathname)
          ? new Response(other, { status: 200 })
          : undefined
    })
    const p = await publish(f, results, o)
    expect(p.distro.status).toBe('publish failed')
    expect(p.distro.reason).toMatch(/answered with sha256:[0-9a-f]{64}$/)
    // no distro tag moved
    for (const t of f.plan.manifests[0].tags) expect(f.docker.registry.get(t)).toBeUndefined()
  })
})

describe('stageCell', () => {
  it('stages a tested image by pushing it, and a reused one as that very manifest', async () => {
    const { f, results, o } = await built()
    const jobs = jobsOf(f, results)
    const pushed = await stageCell(jobs[1], o)
    expect(f.docker.registry.has(f.plan.cells[1].stageTag)).toBe(true)
    const reused = { ...results[0], reused: { from: 'x', digest: pushed.digest } }
    const staged = await stageCell({ ...jobs[0], result: reused }, o)
    expect(staged).toEqual({ tag: f.plan.cells[0].stageTag, digest: pushed.digest })
    // the same bytes, so the same digest: no index wrapping it
    expect(f.docker.registry.get(f.plan.cells[0].stageTag)).toBe(
      f.docker.registry.get(f.plan.cells[1].stageTag)
    )
  })
})

describe('annotationsLost', () => {
  it('says why for a Docker manifest list, and otherwise that the registry dropped them', () => {
    expect(
      annotationsLost(
        'r/x:t',
        JSON.stringify({ mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' })
      )
    ).toMatch(
      /^r\/x:t is a Docker manifest list, which cannot hold annotations: its images are Docker v2 manifests/
    )
    expect(
      annotationsLost(
        'r/x:t',
        JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json' })
      )
    ).toBe(
      'r/x:t was published without its annotations (the registry dropped them). The metadata is on every image as labels.'
    )
  })
})

describe('reused images', () => {
  it('points the arch tag at the very manifest of a reused image, and leaves one that holds it', async () => {
    const { f, results, o } = await built({ store: 'containerd' })
    const first = await publish(f, results, o)
    expect(first.distro.status).toBe('published')
    // another repository state: the arch tags are gone, the images are still there
    const [amd64, arm64] = f.plan.cells
    const digest = first.pushed.get(amd64.id)?.digest as string
    f.docker.registry.delete(amd64.pushTag)
    const reused = results.map(r => ({
      ...r,
      status: 'unchanged' as const,
      reused: reusedOf(first, r)
    }))
    const before = f.docker.requests.length
    const second = await publish(f, reused, o)
    expect(second.distro).toMatchObject({ status: 'published', unchanged: true })
    const writes = f.docker.requests.slice(before).filter(r => r.startsWith('PUT'))
    expect(writes).toEqual([
      `PUT registry.test/acme/robot/manifests/${amd64.pushTag.split(':')[1]}`
    ])
    expect(f.docker.registry.get(amd64.pushTag)).toBe(
      f.docker.registry.get(`registry.test/acme/robot@${digest}`)
    )
    expect(second.pushed.get(arm64.id)?.tag).toBe(arm64.pushTag)
  })

  it('writes the index by digest before any tag, then every tag', async () => {
    const { f, results, o } = await built()
    const p = await publish(f, results, o)
    const tag = (ref: string) => ref.split(':')[1]
    expect(manifestWrites(f)).toEqual([
      ...f.plan.cells.map(c => tag(c.pushTag)),
      p.distro.digest,
      ...f.plan.manifests[0].tags.map(tag)
    ])
  })
})

describe('signing', () => {
  it('signs the index after it is in the repository by digest and before any of its tags moves', async () => {
    const { f, results, o } = await built()
    const signed: { ref: string; reuse: boolean; writesBefore: string[] }[] = []
    const sign = {
      async sign(ref: string, reuse: boolean) {
        signed.push({ ref, reuse, writesBefore: manifestWrites(f) })
        return { verify: `cosign verify ${ref}`, already: false }
      }
    }
    const p = await publish(f, results, { ...o, sign })
    expect(p.distro).toMatchObject({
      status: 'published',
      signature: { verify: `cosign verify registry.test/acme/robot@${p.distro.digest}` }
    })
    const tag = (ref: string) => ref.split(':')[1]
    expect(signed).toEqual([
      {
        ref: `registry.test/acme/robot@${p.distro.digest}`,
        reuse: false,
        writesBefore: [...f.plan.cells.map(c => tag(c.pushTag)), p.distro.digest]
      }
    ])
  })

  it('leaves the distro tags where they were when signing fails', async () => {
    const { f, results, o } = await built()
    const sign = {
      async sign(): Promise<never> {
        throw new Error(
          'the signature of acme/robot@sha256:x does not verify: no matching signatures'
        )
      }
    }
    const p = await publish(f, results, { ...o, sign })
    expect(p.distro).toMatchObject({
      status: 'publish failed',
      tags: [],
      reason: 'the signature of acme/robot@sha256:x does not verify: no matching signatures'
    })
    for (const t of f.plan.manifests[0].tags) expect(f.docker.registry.get(t)).toBeUndefined()
  })

  it('checks an unchanged index is signed, signing it only when it is not', async () => {
    const { f, results, o } = await built({ store: 'containerd' })
    const first = await publish(f, results, o)
    const reused = results.map(r => ({
      ...r,
      status: 'unchanged' as const,
      reused: reusedOf(first, r)
    }))
    const calls: boolean[] = []
    const sign = {
      async sign(_ref: string, reuse: boolean) {
        calls.push(reuse)
        return { verify: 'v', already: true }
      }
    }
    const again = await publish(f, reused, { ...o, sign })
    expect(again.distro).toMatchObject({ unchanged: true, signature: { verify: 'v' } })
    expect(calls).toEqual([true])
  })
})

describe('an unchanged index: what gets signed', () => {
  /** humble published once, then every cell reused; `lie` turns the registry's lies on. */
  async function republish(
    lie: (method: string, url: URL, published: string) => Response | undefined
  ) {
    let published: string | undefined = undefined
    const { f, results, o } = await built({
      store: 'containerd',
      http: (method, url) => (published === undefined ? undefined : lie(method, url, published))
    })
    const first = await publish(f, results, o)
    expect(first.distro.status).toBe('published')
    const reused = results.map(r => ({
      ...r,
      status: 'unchanged' as const,
      reused: reusedOf(first, r)
    }))
    const signed: string[] = []
    const sign = {
      async sign(ref: string) {
        signed.push(ref)
        return { verify: `cosign verify ${ref}`, already: true }
      }
    }
    published = f.docker.registry.get(f.plan.manifests[0].tags[0]) as string
    const again = await publish(f, reused, { ...o, sign })
    return { first, again, signed, f }
  }
  const forged = sha256('an index the action never read')
  // the distro tags, not the arch tags
  const isTag = (url: URL) => /\/manifests\/humble-(main|sha-[0-9a-f]+)$/.test(url.pathname)

  it('signs the digest of the bytes it read, not the digest a HEAD names', async () => {
    const { first, again, signed } = await republish((method, url) =>
      method === 'HEAD' && isTag(url)
        ? new Response(null, { status: 200, headers: { 'Docker-Content-Digest': forged } })
        : undefined
    )
    expect(again.distro).toMatchObject({ unchanged: true, digest: first.distro.digest })
    expect(signed).toEqual([`registry.test/acme/robot@${first.distro.digest}`])
  })

  it('publishes and signs its own index over one that holds the same images with other platforms, sizes or annotations', async () => {
    let hostile: string | undefined
    let written = false
    const { first, again, signed, f } = await republish((method, url, published) => {
      if (!isTag(url) || written) return undefined
      if (method === 'PUT') {
        written = true
        return undefined
      }
      // the same two images, but amd64 and arm64 swapped, a size of 1, an annotation of its own
      const doc = JSON.parse(published) as {
        manifests: { platform: unknown; size: number }[]
        annotations: Record<string, string>
      }
      const [a, b] = doc.manifests
      ;[a.platform, b.platform] = [b.platform, a.platform]
      a.size = 1
      doc.annotations['org.opencontainers.image.source'] = 'https://evil.example/x'
      hostile = JSON.stringify(doc)
      return new Response(method === 'HEAD' ? null : hostile, {
        status: 200,
        headers: { 'Docker-Content-Digest': sha256(hostile) }
      })
    })
    expect(hostile).toBeDefined()
    expect(again.distro).toMatchObject({ status: 'published', digest: first.distro.digest })
    expect(again.distro.unchanged).toBeUndefined()
    expect(signed).toEqual([`registry.test/acme/robot@${first.distro.digest}`])
    for (const tag of f.plan.manifests[0].tags) {
      expect(sha256(f.docker.registry.get(tag) as string)).toBe(first.distro.digest)
    }
  })

  it('fails, signing nothing, when the index read comes with a digest header that is not its own', async () => {
    const { again, signed } = await republish((method, url) =>
      method === 'GET' && isTag(url)
        ? new Response(
            JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }),
            { status: 200, headers: { 'Docker-Content-Digest': forged } }
          )
        : undefined
    )
    expect(again.distro.status).toBe('publish failed')
    expect(again.distro.reason).toMatch(
      new RegExp(
        `: the registry says it is ${forged}, but the bytes it sent are sha256:[0-9a-f]{64}$`
      )
    )
    expect(signed).toEqual([])
  })
})

describe('attestations of reused images', () => {
  it('lists a reused image’s attestation manifests in the new index, after the images', async () => {
    const { f, results, o } = await built({ store: 'containerd' })
    const first = await publish(f, results, o)
    const about = first.pushed.get(f.plan.cells[0].id)?.digest as string
    // an attestation manifest in the repository, about the amd64 image
    const attestation = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: 'sha256:c',
        size: 2
      },
      layers: []
    })
    const digest = await o.registries.put(
      `${o.image}@${sha256(attestation)}`,
      'application/vnd.oci.image.manifest.v1+json',
      attestation
    )
    const entry = attestationEntry(
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: attestation.length },
      about
    )
    const reused = results.map((r, i) => ({
      ...r,
      status: 'unchanged' as const,
      reused: {
        from: 'x',
        digest: first.pushed.get(r.id)?.digest as string,
        ...(i === 0 ? { attestations: [entry] } : {})
      }
    }))
    const p = await publish(f, reused, o)
    expect(p.distro.status).toBe('published')
    const index = JSON.parse(f.docker.registry.get(f.plan.manifests[0].tags[0]) as string) as {
      manifests: {
        digest: string
        platform: { os: string }
        annotations?: Record<string, string>
      }[]
    }
    expect(index.manifests.map(m => m.platform.os)).toEqual(['linux', 'linux', 'unknown'])
    expect(index.manifests[2]).toMatchObject({
      digest,
      annotations: { 'vnd.docker.reference.digest': about }
    })
  })
})
