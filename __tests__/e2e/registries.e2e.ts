/**
 * Publishing to several registries in one run, all or nothing (issue 30), on the test bed: the
 * first registry (127.0.0.1:5000, user rosci) and the mirror registry (127.0.0.1:5003, storage and
 * user of its own), with `image` naming both and `registry-auth` giving the mirror's credentials.
 * Every read of a result goes straight to the registries, never through a fault proxy.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startFaultProxy, type FaultProxy } from './fault-proxy.js'
import {
  blobExists,
  cellsOf,
  expectNoLeftovers,
  expectPassed,
  keptDir,
  manifestOf,
  newDockerConfig,
  primaryRegistry,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo,
  type E2eRun,
  type RegistryAccess
} from './testbed.js'

const MINUTES = 60_000
/** Runs of the fault test (scripts/e2e.sh: 10 on the containerd image store, 3 on the classic). */
const RUNS = Number(process.env.E2E_REGISTRY_FAULT_RUNS ?? 10)
/** Share of requests each of the two proxies fails. */
const FAIL_RATE = Number(process.env.E2E_REGISTRY_FAULT_RATE ?? 0.2)
/**
 * Run n's proxies are seeded with FIRST_SEED + n - 1 (the first registry's) and that plus 1000
 * (the mirror's), so a failing run can be replayed.
 */
const FIRST_SEED = Number(process.env.E2E_REGISTRY_FAULT_SEED ?? 1)

const DISTROS = ['humble', 'jazzy'] as const
/** The tags a run on refs/heads/main publishes per distro: the index tags and the arch tags. */
const indexTagsOf = (distro: string): string[] => [`${distro}-main`, `${distro}-sha-e2e0123`]
const archTagsOf = (distro: string): string[] => [`${distro}-main-amd64`, `${distro}-main-arm64`]
const INDEX_TAGS = DISTROS.flatMap(indexTagsOf)
const PUBLIC_TAGS = DISTROS.flatMap(d => [...indexTagsOf(d), ...archTagsOf(d)]).sort()

/**
 * The tags a user pulls: not cosign's signature tags (`sha256-<hex>.sig`), nor the action's own
 * (`rma-...`: the hold tags of the images pushed to the first registry before the copies).
 */
const isPublic = (tag: string): boolean => !tag.startsWith('sha256-') && !tag.startsWith('rma-')

/** Every tag of a repository with the digest it holds, read straight from the registry. */
async function tagDigests(repo: string, at: RegistryAccess): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const tag of await tagsOf(repo, at)) {
    const m = await manifestOf(repo, tag, at)
    if (m !== null) out[tag] = m.digest
  }
  return out
}

const platformsOf = (m: { manifests?: { platform: { os: string; architecture: string } }[] }) =>
  (m.manifests ?? []).map(e => `${e.platform.os}/${e.platform.architecture}`).sort()

const errorsOf = (r: Pick<E2eRun, 'log'>): string[] =>
  r.log.split('\n').filter(l => l.startsWith('::error'))

/**
 * What the registries hold of one distro of a fresh repository: `both` (every tag of the distro in
 * each registry, the same index digest and arch tag digests everywhere, each index exactly
 * amd64 + arm64, each arch tag the image its index lists), `neither` (no tag of the distro in any
 * registry), or what else ("mixed: ...").
 */
async function distroState(
  repo: string,
  distro: string,
  registries: readonly RegistryAccess[]
): Promise<string> {
  const held = await Promise.all(
    registries.map(async at => {
      const all = await tagDigests(repo, at)
      const mine = Object.keys(all)
        .filter(t => isPublic(t) && t.startsWith(`${distro}-`))
        .sort()
      return { at, all, mine }
    })
  )
  if (held.every(h => h.mine.length === 0)) return 'neither'
  const expected = [...indexTagsOf(distro), ...archTagsOf(distro)].sort()
  const problems: string[] = []
  for (const h of held) {
    if (JSON.stringify(h.mine) !== JSON.stringify(expected)) {
      problems.push(`${h.at.registry} holds [${h.mine.join(', ')}]`)
      continue
    }
    for (const tag of indexTagsOf(distro)) {
      const index = await manifestOf(repo, tag, h.at)
      const platforms = platformsOf(index ?? {})
      if (platforms.join(',') !== 'linux/amd64,linux/arm64') {
        problems.push(`${h.at.registry}/${repo}:${tag} lists ${platforms.join(',') || 'nothing'}`)
      }
      for (const entry of index?.manifests ?? []) {
        const arch = h.all[`${distro}-main-${entry.platform.architecture}`]
        if (arch !== entry.digest) {
          problems.push(
            `${h.at.registry}/${repo}:${distro}-main-${entry.platform.architecture} is ${arch}, not the ${entry.digest} ${tag} lists`
          )
        }
      }
    }
  }
  if (problems.length === 0) {
    for (const tag of expected) {
      const digests = held.map(h => h.all[tag])
      if (new Set(digests).size !== 1) {
        problems.push(`${tag}: ${held.map((h, i) => `${h.at.registry} ${digests[i]}`).join(', ')}`)
      }
    }
  }
  return problems.length === 0 ? 'both' : `mixed: ${problems.join('; ')}`
}

/** A docker client config logged in to each registry (password on stdin), as a user has one. */
function loggedInTo(registries: readonly RegistryAccess[]): string {
  const dir = newDockerConfig()
  for (const at of registries) {
    execFileSync('docker', ['login', at.registry, '-u', at.username, '--password-stdin'], {
      input: at.password,
      env: { ...process.env, DOCKER_CONFIG: dir },
      stdio: ['pipe', 'ignore', 'ignore']
    })
  }
  return dir
}

/** `cosign verify` of a reference as a user runs it: its exit code. */
function cosignVerifies(ref: string, dockerConfig: string): boolean {
  const tb = testbed()
  try {
    execFileSync(
      tb.cosign.bin,
      ['verify', `--key=${tb.cosign.pub}`, '--insecure-ignore-tlog=true', ref],
      { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, stdio: 'ignore' }
    )
    return true
  } catch {
    return false
  }
}

describe('publishing to several registries', () => {
  const tb = testbed()
  const primary = primaryRegistry()
  const mirror = tb.mirror
  const targetOf = (at: RegistryAccess) => {
    const [host, port] = at.registry.split(':')
    return { host, port: Number(port) }
  }

  /**
   * The 2 x 2 example published under two names: `primaryAddress` and `mirrorAddress` are where
   * the action reaches each registry (the registry itself, or a proxy in front of it); the
   * username and password inputs (runE2e's) are the first registry's, registry-auth the mirror's.
   */
  const inputs = (repo: string, primaryAddress: string, mirrorAddress: string) => ({
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    distros: DISTROS.join(', '),
    image: `${primaryAddress}/${repo}, ${mirrorAddress}/${repo}`,
    'base-image': `${primaryAddress}/ros:{distro}-ros-base`,
    'registry-auth': [
      `- registry: ${mirrorAddress}`,
      `  username: ${mirror.username}`,
      // a YAML double-quoted scalar
      `  password: ${JSON.stringify(mirror.password)}`
    ].join('\n'),
    push: 'true'
  })

  it(
    'a signed 2 x 2 run publishes the same indexes, images, attestations, tags and signatures to both registries',
    async () => {
      const started = Date.now()
      const repo = uniqueRepo('registries')
      const r = await runE2e(
        {
          ...inputs(repo, primary.registry, mirror.registry),
          sign: 'key',
          'cosign-key': readFileSync(tb.cosign.key, 'utf8'),
          'cosign-password': tb.cosign.password,
          // Debian's cosign 3.1.1 says its version is "devel"
          'cosign-version': '*'
        },
        { env: { PATH: `${path.dirname(tb.cosign.bin)}:${process.env.PATH ?? ''}` } }
      )
      expectPassed(r)
      const images = [primary, mirror].map(at => `${at.registry}/${repo}`)

      // the same tags in both
      const held = {
        primary: await tagDigests(repo, primary),
        mirror: await tagDigests(repo, mirror)
      }
      expect(Object.keys(held.primary).filter(isPublic).sort()).toEqual(PUBLIC_TAGS)
      expect(Object.keys(held.mirror).filter(isPublic).sort()).toEqual(PUBLIC_TAGS)
      // on the same manifests: the index tags, and the arch tags
      for (const tag of PUBLIC_TAGS) {
        expect({ tag, digest: held.mirror[tag] }).toEqual({ tag, digest: held.primary[tag] })
      }

      const config = loggedInTo([primary, mirror])
      const indexDigests = new Set<string>()
      for (const tag of INDEX_TAGS) {
        const distro = tag.split('-')[0]
        for (const at of [primary, mirror]) {
          const index = await manifestOf(repo, tag, at)
          expect(index).not.toBeNull()
          if (index === null) continue
          indexDigests.add(index.digest)
          // exactly the planned platforms, each arch tag on the image its index lists
          expect(platformsOf(index)).toEqual(['linux/amd64', 'linux/arm64'])
          for (const entry of index.manifests ?? []) {
            expect(held.primary[`${distro}-main-${entry.platform.architecture}`]).toBe(entry.digest)
            // every image, its config and layers, in this registry by digest
            const image = await manifestOf(repo, entry.digest, at)
            expect(image).not.toBeNull()
            const body = image as unknown as {
              config: { digest: string }
              layers: { digest: string }[]
            }
            for (const { digest } of [body.config, ...body.layers]) {
              const where = `${at.registry}/${repo}@${digest}`
              expect({ where, held: await blobExists(repo, digest, at) }).toEqual({
                where,
                held: true
              })
            }
          }
          // one attestation manifest about each image where the engine keeps them, copied too
          const about = (index.attestations ?? []).map(
            a => a.annotations?.['vnd.docker.reference.digest']
          )
          expect(about).toEqual(
            tb.store === 'containerd' ? (index.manifests ?? []).map(m => m.digest) : []
          )
          for (const a of index.attestations ?? []) {
            expect((await manifestOf(repo, a.digest, at))?.digest).toBe(a.digest)
          }
          // signed in each registry: cosign's tag beside the index (`sha256-<hex>`, the OCI
          // referrers tag scheme cosign 3 uses on a registry without the referrers API, or the
          // older `sha256-<hex>.sig`), and a user's verify passes against that registry
          const ref = `${at.registry}/${repo}@${index.digest}`
          const sigTag = index.digest.replace(':', '-')
          const signatureTags = Object.keys(at === primary ? held.primary : held.mirror).filter(
            t => t === sigTag || t === `${sigTag}.sig`
          )
          expect({ ref, signatureTags: signatureTags.length }).toEqual({ ref, signatureTags: 1 })
          expect({ ref, verified: cosignVerifies(ref, config) }).toEqual({ ref, verified: true })
        }
      }
      // two distros: two indexes, each under its two tags, the same in both registries
      expect(indexDigests.size).toBe(2)

      // the outputs list every registry's tags and digests
      expect(r.outputs.tags.split('\n').sort()).toEqual(
        images.flatMap(image => INDEX_TAGS.map(t => `${image}:${t}`)).sort()
      )
      const digests = JSON.parse(r.outputs.digests) as Record<string, string>
      for (const image of images) {
        for (const tag of INDEX_TAGS) expect(digests[`${image}:${tag}`]).toBe(held.primary[tag])
      }
      console.log(
        `two registries, signed 2 x 2 on the ${tb.engine} engine: ${((Date.now() - started) / 1000).toFixed(1)} s (the action: ${r.seconds.toFixed(1)} s)`
      )
    },
    20 * MINUTES
  )

  /** A first run into `repo`, published to both: what each registry's tags then hold. */
  async function firstRun(repo: string) {
    const first = await runE2e(inputs(repo, primary.registry, mirror.registry))
    expectPassed(first)
    const before = {
      primary: await tagDigests(repo, primary),
      mirror: await tagDigests(repo, mirror)
    }
    return { first, before }
  }

  /**
   * A second run into `repo` with other images (a label of its own, so another index), the
   * mirror behind a proxy that refuses the requests `refuses` picks and passes the rest.
   */
  async function secondRunRefused(
    repo: string,
    refuses: (method: string, url: string) => boolean
  ): Promise<{ r: E2eRun; proxy: FaultProxy }> {
    const proxy = await startFaultProxy(targetOf(mirror), { mode: 'flaky', failRate: 0, refuses })
    try {
      const r = await runE2e({
        ...inputs(repo, primary.registry, proxy.address),
        labels: 'e2e.registries.run=second',
        // the refusal is for good: fewer and shorter tries change nothing but the wait
        'retry-attempts': '3',
        'retry-max-delay': '1'
      })
      return { r, proxy }
    } finally {
      await proxy.close()
    }
  }

  it(
    'with the mirror refusing every manifest write after its blobs are in, the run fails naming the mirror, and no tag moves in either registry',
    async () => {
      const started = Date.now()
      const repo = uniqueRepo('registries-refused')
      const { first, before } = await firstRun(repo)
      for (const distro of DISTROS) {
        expect(await distroState(repo, distro, [primary, mirror])).toBe('both')
      }
      const firstManifests = new Set(Object.values(before.primary))

      // the mirror behind a proxy that refuses every manifest PUT (images, attestations, index,
      // tags) and passes everything else: the blob uploads go in
      const { r, proxy } = await secondRunRefused(
        repo,
        (method, url) => method === 'PUT' && url.includes('/manifests/')
      )
      const errors = errorsOf(r)
      console.log(
        `mirror refusing manifest writes: failed after ${r.seconds.toFixed(1)} s; ${proxy.stats.refused} requests refused (first: ${proxy.stats.refusedRequests.slice(0, 3).join(', ')}); errors:\n${errors.join('\n')}`
      )
      expect(r.code).toBe(1)
      expect(proxy.stats.refused).toBeGreaterThan(0)
      // the failure names the registry that failed (the mirror, as the run reached it)
      expect(errors.join('\n')).toContain(proxy.address)
      expect(r.outputs.tags ?? '').toBe('')

      // this run made other images: each pushed to the first registry, none the first run's
      const cells = cellsOf(r)
      const pushed = cells.map(c => c.pushed?.digest)
      expect(
        cells
          .filter(c => c.pushed === undefined || firstManifests.has(c.pushed.digest))
          .map(c => `${c.id}: ${c.pushed?.digest ?? 'not pushed'}`)
      ).toEqual([])
      // and the mirror took blobs of them before refusing their manifests
      const newConfigs: string[] = []
      for (const digest of pushed) {
        const image = await manifestOf(repo, digest ?? '', primary)
        if (image?.config) newConfigs.push(image.config.digest)
      }
      expect(newConfigs).toHaveLength(DISTROS.length * 2)
      const inMirror = await Promise.all(newConfigs.map(d => blobExists(repo, d, mirror)))
      expect(inMirror.some(Boolean)).toBe(true)

      // read straight from the registries: every tag where the first run left it
      const after = {
        primary: await tagDigests(repo, primary),
        mirror: await tagDigests(repo, mirror)
      }
      // (the action's own rma- tags aside: a hold tag names the image of the run that pushed it)
      for (const [tag, digest] of Object.entries(before.primary)) {
        if (tag.startsWith('rma-')) continue
        expect({ tag, digest: after.primary[tag] }).toEqual({ tag, digest })
      }
      // in the first registry, nothing new but the hold tags of the images pushed there
      expect(
        Object.keys(after.primary).filter(t => !(t in before.primary) && !t.startsWith('rma-push-'))
      ).toEqual([])
      // in the mirror not a tag more or moved: the new manifests by digest at most
      expect(after.mirror).toEqual(before.mirror)
      console.log(
        `mirror refusing manifest writes on the ${tb.engine} engine: ${((Date.now() - started) / 1000).toFixed(1)} s in all (first run ${first.seconds.toFixed(1)} s)`
      )
    },
    20 * MINUTES
  )

  it(
    'with the mirror refusing tag writes only (it took everything by digest), every tag moved in the first registry is put back',
    async () => {
      const repo = uniqueRepo('registries-putback')
      const { before } = await firstRun(repo)
      // the mirror behind a proxy that refuses manifest PUTs by tag and passes those by digest
      const { r, proxy } = await secondRunRefused(
        repo,
        (method, url) => method === 'PUT' && /\/manifests\/(?!sha256:)/.test(url)
      )
      const errors = errorsOf(r)
      console.log(
        `mirror refusing tag writes: failed after ${r.seconds.toFixed(1)} s; ${proxy.stats.refused} requests refused; errors:\n${errors.join('\n')}`
      )
      expect(r.code).toBe(1)
      expect(proxy.stats.refused).toBeGreaterThan(0)
      // the first registry's tags had moved: the failure says they were put back
      expect(errors.join('\n')).toMatch(/moved tags? put back/)
      expect(r.outputs.tags ?? '').toBe('')
      const after = {
        primary: await tagDigests(repo, primary),
        mirror: await tagDigests(repo, mirror)
      }
      // read straight from the registries: every tag (but the action's rma- tags) as before
      const publicTags = (all: Record<string, string>) =>
        Object.fromEntries(Object.entries(all).filter(([t]) => !t.startsWith('rma-')))
      expect(publicTags(after.primary)).toEqual(publicTags(before.primary))
      expect(after.mirror).toEqual(before.mirror)
    },
    20 * MINUTES
  )

  it(
    `with ${FAIL_RATE * 100}% of requests failing on both registries, each of ${RUNS} runs publishes each distro to both registries or to neither`,
    async () => {
      const counts = { both: 0, neither: 0, mixed: 0 }
      const mixed: string[] = []
      const failedRuns: string[] = []
      const inconsistent: string[] = []
      let requests = 0
      let faults = 0
      for (let run = 1; run <= RUNS; run++) {
        const seed = FIRST_SEED + run - 1
        const proxies = await Promise.all([
          startFaultProxy(targetOf(primary), { mode: 'flaky', failRate: FAIL_RATE, seed }),
          startFaultProxy(targetOf(mirror), {
            mode: 'flaky',
            failRate: FAIL_RATE,
            seed: seed + 1000
          })
        ])
        const repo = uniqueRepo(`registries-flaky-${run}`)
        let r: E2eRun
        try {
          r = await runE2e({
            // the image names, the base image and both logins through the proxies
            ...inputs(repo, proxies[0].address, proxies[1].address),
            // The proxies draw each request's fault at random, whatever the time: a longer wait
            // before a retry changes nothing but the run's length. The tries (the default 8) are
            // what this test is about, and they are left as they are.
            'retry-max-delay': '2'
          })
        } finally {
          await Promise.all(proxies.map(p => p.close()))
        }
        for (const p of proxies) {
          requests += p.stats.requests
          faults += Object.values(p.stats.faults).reduce((a, b) => a + b, 0)
        }
        const states: string[] = []
        for (const distro of DISTROS) {
          const state = await distroState(repo, distro, [primary, mirror])
          states.push(`${distro} ${state.startsWith('mixed') ? 'mixed' : state}`)
          if (state === 'both') counts.both++
          else if (state === 'neither') counts.neither++
          else {
            counts.mixed++
            mixed.push(`run ${run} (seeds ${seed}, ${seed + 1000}) ${distro}: ${state}`)
          }
          // a run that passed published every distro everywhere
          if (r.code === 0 && state !== 'both') {
            inconsistent.push(`run ${run} passed, but ${distro} is ${state}`)
          }
        }
        if (r.code !== 0 || states.some(s => !s.endsWith('both'))) {
          const kept = path.join(keptDir(), `rma-registries-fault-run-${tb.engine}-${run}.log`)
          writeFileSync(kept, r.log)
          if (r.code !== 0) {
            failedRuns.push(`run ${run} (exit ${r.code}; log: ${kept}): ${errorsOf(r).join(' | ')}`)
          }
        }
        console.log(
          `registries fault run ${run}/${RUNS} (seeds ${seed}, ${seed + 1000}): exit ${r.code} in ${r.seconds.toFixed(1)} s; ${states.join(', ')}`
        )
      }
      console.log(
        `registries fault runs at ${FAIL_RATE * 100}% on both registries, ${tb.engine} engine: ${RUNS} runs x ${DISTROS.length} distros: both ${counts.both}, neither ${counts.neither}, mixed ${counts.mixed}; ${RUNS - failedRuns.length}/${RUNS} runs passed; ${requests} requests through the proxies, ${faults} failed by them${failedRuns.length > 0 ? `\nfailed runs:\n${failedRuns.join('\n')}` : ''}`
      )
      expect(mixed).toEqual([])
      expect(counts.mixed).toBe(0)
      expect(inconsistent).toEqual([])
      // the faults did not just stop every run before it published anything
      expect(counts.both).toBeGreaterThan(0)
    },
    Math.max(RUNS, 1) * 6 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
