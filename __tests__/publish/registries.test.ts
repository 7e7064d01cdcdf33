/**
 * Publishing to several registries against the fake engine and two fake registries that keep
 * their own blobs and manifests (registry.test, the engine's, and mirror.test): the order of the
 * writes (everything by digest in every registry, signed, before any tag), what a registry that
 * fails leaves where, and an unchanged distro a registry lacks.
 */
import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { publishDistro } from '../../src/publish/publish.js'
import type { PublishOptions } from '../../src/publish/publish.js'
import type { CellResult } from '../../src/results/results.js'
import type { FakeDockerOptions } from '../helpers/fake-docker.js'
import { buildCells, distroOf, pipelineFixture, publishOptions } from '../helpers/pipeline.js'

const PRIMARY = 'registry.test/acme/robot'
const MIRROR = 'mirror.test/acme/robot'

async function built(options: FakeDockerOptions = {}) {
  const f = pipelineFixture(
    { distros: 'humble', image: `${PRIMARY}, ${MIRROR}` },
    { separateHosts: true, ...options }
  )
  const results = await buildCells(f)
  const signed: { ref: string; at: number }[] = []
  const o: PublishOptions = {
    ...publishOptions(f),
    mirrors: f.plan.mirrors,
    sign: {
      sign: async ref => {
        signed.push({ ref, at: f.docker.requests.length })
        return { verify: `cosign verify ${ref}`, already: false }
      }
    }
  }
  return { f, results, o, signed }
}

/** Writes in order: `PUT host/repo/manifests/ref` and the engine's `PUSH ref`. */
function writes(requests: readonly string[]): string[] {
  return requests.filter(
    r => r.startsWith('PUSH ') || (r.startsWith('PUT ') && r.includes('/manifests/'))
  )
}

/** The distro's index tags in both registries, the first one's first */
const INDEX_TAGS = [PRIMARY, MIRROR].flatMap(n => [`${n}:humble-main`, `${n}:humble-sha-0123456`])

/** An `http` override: mirror.test denies every PUT whose path `refused` picks. */
const mirrorRefuses =
  (refused: (path: string) => boolean) =>
  (method: string, url: URL): Response | undefined =>
    method === 'PUT' && url.host === 'mirror.test' && refused(url.pathname)
      ? new Response('{"errors":[{"code":"DENIED","message":"no"}]}', { status: 403 })
      : undefined

const byDigest = (w: string): boolean => w.includes('/manifests/sha256:')
const isTagWrite = (w: string): boolean => !byDigest(w) && !w.includes(':rma-push-')

describe('several registries', () => {
  it('writes every image and the index by digest in both, signs both, then tags both', async () => {
    const { f, results, o, signed } = await built()
    expect(f.plan.mirrors).toEqual([MIRROR])
    const distro = distroOf(f, results)
    const r = await publishDistro(distro, o)
    expect(r).toMatchObject({ status: 'published' })
    const w = writes(f.docker.requests)
    const firstTag = w.findIndex(isTagWrite)
    expect(firstTag).toBeGreaterThan(0)
    // the engine pushed the tested images under their hold tags, not their arch tags
    const pushes = f.docker.requests.filter(q => q.startsWith('PUSH '))
    expect(pushes.map(p => p.split(':').at(-1))).toEqual([
      'rma-push-humble-amd64',
      'rma-push-humble-arm64'
    ])
    // nothing but writes by digest (and the hold tags) before the first tag
    expect(w.slice(0, firstTag).every(x => byDigest(x) || x.includes(':rma-push-'))).toBe(true)
    expect(w.slice(0, firstTag).some(x => x.startsWith('PUT mirror.test/'))).toBe(true)
    // and no write by digest after it
    expect(w.slice(firstTag).filter(byDigest)).toEqual([])
    // both indexes signed, before any tag moved
    expect(signed.map(s => s.ref)).toEqual([`${PRIMARY}@${r.digest}`, `${MIRROR}@${r.digest}`])
    const tagAt = f.docker.requests.indexOf(w[firstTag])
    expect(signed.every(s => s.at <= tagAt)).toBe(true)
    // the same bytes under every tag of both registries
    for (const name of [PRIMARY, MIRROR]) {
      for (const tag of ['humble-main', 'humble-sha-0123456', 'humble-main-amd64']) {
        expect(f.docker.registry.has(`${name}:${tag}`)).toBe(true)
      }
      expect(f.docker.registry.get(`${name}:humble-main`)).toBe(
        f.docker.registry.get(`${PRIMARY}:humble-main`)
      )
    }
    expect(r.tags).toEqual(INDEX_TAGS)
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'published' },
      { image: MIRROR, state: 'published' }
    ])
    // each cell names its arch tag in both registries
    expect(distro.jobs[0].pushed).toMatchObject({
      tag: `${PRIMARY}:humble-main-amd64`,
      mirrorTags: [`${MIRROR}:humble-main-amd64`]
    })
  })

  it('a registry that refuses manifests: no tag moves in any registry, and the result says where', async () => {
    const { f, results, o } = await built({
      http: mirrorRefuses(path => path.includes('/manifests/'))
    })
    const r = await publishDistro(distroOf(f, results), o)
    expect(r.status).toBe('publish failed')
    expect(r.tags).toEqual([])
    expect(r.reason).toMatch(/^mirror\.test\/acme\/robot: .*; no tag moved in any registry; /)
    expect(r.reason).toContain(`written by digest only: ${PRIMARY} (index by digest)`)
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'index by digest' },
      { image: MIRROR, state: 'nothing', failed: true }
    ])
    expect(writes(f.docker.requests).filter(isTagWrite)).toEqual([])
    // the mirror holds the blobs it was given, and no manifest of the distro
    expect([...f.docker.registry.keys()].filter(k => k.startsWith('mirror.test/'))).toEqual([])
  })

  it('a registry that fails while tags move: the result names the registries whose tags moved', async () => {
    const { f, results, o } = await built({
      http: mirrorRefuses(path => path.endsWith('/humble-main'))
    })
    const r = await publishDistro(distroOf(f, results), o)
    expect(r.status).toBe('publish failed')
    expect(r.reason).toMatch(/^mirror\.test\/acme\/robot: .*; tags moved in /)
    expect(r.tags).toEqual(INDEX_TAGS)
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'tags moved' },
      { image: MIRROR, state: 'tags moved', failed: true }
    ])
  })

  it('a registry that fails while tags move: every tag moved in any registry is put back', async () => {
    let refuse = false
    const first = await built({
      http: mirrorRefuses(path => refuse && path.endsWith('/humble-main'))
    })
    expect((await publishDistro(distroOf(first.f, first.results), first.o)).status).toBe(
      'published'
    )
    const tags = [PRIMARY, MIRROR].flatMap(n =>
      ['humble-main', 'humble-sha-0123456', 'humble-main-amd64', 'humble-main-arm64'].map(
        t => `${n}:${t}`
      )
    )
    const held = (): string[] => tags.map(t => digestOf(first.f, t))
    const v1 = held()
    // a second run: other images (another label) under the same tags; the mirror refuses humble-main
    const second = pipelineFixture(
      { distros: 'humble', image: `${PRIMARY}, ${MIRROR}`, labels: 'run=2' },
      { docker: first.f.docker }
    )
    const results = await buildCells(second)
    refuse = true
    const r = await publishDistro(distroOf(second, results), {
      ...publishOptions(second),
      mirrors: second.plan.mirrors
    })
    expect(r.status).toBe('publish failed')
    // 4 in the first registry (2 arch tags, 2 index tags), the mirror's 2 arch tags
    expect(r.reason).toMatch(
      /^mirror\.test\/acme\/robot: .*; 6 moved tags put back; no tag moved in any registry; /
    )
    expect(held()).toEqual(v1)
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'index by digest' },
      { image: MIRROR, state: 'index by digest', failed: true }
    ])
  })

  it('a mirror whose HEAD names the index it lacks gets it: unchanged is read from the bytes', async () => {
    const lie: { digest?: string } = {}
    const first = await built({
      // the mirror answers HEAD of any tag with the digest of the first registry's index, which it lacks
      http: (method, url) =>
        lie.digest !== undefined &&
        method === 'HEAD' &&
        url.host === 'mirror.test' &&
        /\/manifests\/(?!sha256:)/.test(url.pathname)
          ? new Response(null, { status: 200, headers: { 'Docker-Content-Digest': lie.digest } })
          : undefined
    })
    const one = await publishDistro(distroOf(first.f, first.results), { ...first.o, mirrors: [] })
    expect(one.status).toBe('published')
    const jobs = distroOf(first.f, first.results).jobs
    const reused: CellResult[] = first.results.map((res, i) => ({
      ...res,
      reused: { from: 'x', digest: digestOf(first.f, jobs[i].cell.pushTag) }
    }))
    lie.digest = one.digest
    const r = await publishDistro(distroOf(first.f, reused), first.o)
    expect(r).toMatchObject({ status: 'published', digest: one.digest })
    expect(r.unchanged).toBeUndefined()
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'unchanged' },
      { image: MIRROR, state: 'published' }
    ])
    expect(first.f.docker.registry.get(`${MIRROR}:humble-main`)).toBe(
      first.f.docker.registry.get(`${PRIMARY}:humble-main`)
    )
  })

  it('an unchanged distro a registry lacks is copied there by digest, nothing rebuilt or pushed', async () => {
    const first = await built()
    const one = await publishDistro(distroOf(first.f, first.results), {
      ...first.o,
      mirrors: []
    })
    expect(one.status).toBe('published')
    // the same images, found unchanged in the first registry
    const jobs = distroOf(first.f, first.results).jobs
    const reused: CellResult[] = first.results.map((res, i) => ({
      ...res,
      reused: { from: 'x', digest: digestOf(first.f, jobs[i].cell.pushTag) }
    }))
    const before = first.f.docker.requests.length
    const r = await publishDistro(distroOf(first.f, reused), first.o)
    expect(r).toMatchObject({ status: 'published', digest: one.digest })
    expect(r.unchanged).toBeUndefined()
    expect(r.registries).toEqual([
      { image: PRIMARY, state: 'unchanged' },
      { image: MIRROR, state: 'published' }
    ])
    const later = writes(first.f.docker.requests.slice(before))
    // nothing pushed by the engine, nothing written in the first registry
    expect(later.filter(w => w.startsWith('PUSH ') || w.startsWith(`PUT ${PRIMARY}`))).toEqual([])
    expect(first.f.docker.registry.get(`${MIRROR}:humble-main`)).toBe(
      first.f.docker.registry.get(`${PRIMARY}:humble-main`)
    )
    // a third run: unchanged everywhere
    const third = await publishDistro(distroOf(first.f, reused), first.o)
    expect(third).toMatchObject({ status: 'published', unchanged: true, digest: one.digest })
  })
})

function digestOf(f: ReturnType<typeof pipelineFixture>, ref: string): string {
  const body = f.docker.registry.get(ref)
  if (body === undefined) throw new Error(`${ref} is not in the fake registry`)
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}
