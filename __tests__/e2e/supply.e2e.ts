/**
 * Supply chain on the test bed: provenance attestations made at build time and published with the
 * tested images (the containerd image store keeps them; the classic one cannot, and the action
 * says so), an SBOM asked for where the engine cannot run BuildKit's generator, and each published
 * index signed by key with Debian's cosign 3 and verified, by the action and again here.
 *
 * Runs on the engines with no bridge network (dockerd --bridge=none), where the action says why
 * there is no SBOM: an SBOM made and read back is sbom.e2e.ts, on the sbom engine (a bridge of its
 * own), which scripts/e2e.sh never runs this file on. Not tested: keyless signing (no OIDC token,
 * no Fulcio or Rekor offline).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  cellsOf,
  cosignVerify,
  engineHasBridge,
  expectNoLeftovers,
  expectPassed,
  imagetoolsInspect,
  loggedInDockerConfig,
  manifestOf,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000
const ATTESTATION = 'attestation-manifest'

interface Entry {
  digest: string
  platform: { os: string; architecture: string }
  annotations?: Record<string, string>
}

/** The raw index of a tag, as a registry UI shows it. */
async function indexOf(repo: string, tag: string): Promise<{ digest: string; entries: Entry[] }> {
  const index = await manifestOf(repo, tag)
  if (index === null) throw new Error(`${repo}:${tag} is not in the registry`)
  return {
    digest: index.digest,
    entries: [...(index.manifests ?? []), ...(index.attestations ?? [])] as Entry[]
  }
}

describe('supply chain on the test bed', () => {
  const tb = testbed()
  const signing = {
    sign: 'key',
    'cosign-key': readFileSync(tb.cosign.key, 'utf8'),
    'cosign-password': tb.cosign.password,
    // Debian's cosign 3.1.1 says its version is "devel"
    'cosign-version': '*'
  }
  const env = { PATH: `${path.dirname(tb.cosign.bin)}:${process.env.PATH ?? ''}` }
  const common = {
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    'base-image': `${tb.registry}/ros:{distro}-ros-base`,
    distros: 'humble, jazzy',
    push: 'true'
  }

  it(
    'publishes each distro with provenance per platform, says why there is no SBOM, signs and verifies each index, and reuses both the next time',
    async () => {
      // what this test expects of an engine with the containerd store holds without a bridge only
      if (engineHasBridge()) {
        throw new Error(
          `the ${tb.engine} engine has a bridge network: this file runs on the --bridge=none engines (bash scripts/e2e.sh), the SBOM tests on the sbom engine (bash scripts/e2e.sh sbom)`
        )
      }
      const repo = uniqueRepo('supply')
      const inputs = {
        ...common,
        ...signing,
        image: `${tb.registry}/${repo}`,
        provenance: 'mode=max',
        sbom: 'true',
        'build-args': 'APP_FLAVOUR=release'
      }
      const r = await runE2e(inputs, { env })
      expectPassed(r)
      const sbomWarnings = r.log.split('\n').filter(l => l.startsWith('::warning::SBOM'))
      const config = loggedInDockerConfig()
      const results = cellsOf(r)
      // each distro's index, as the action logged it: its first tag and its digest
      const published = new Map(
        [...r.log.matchAll(/^Published ([^ ,]+)[^\n]* -> (sha256:[0-9a-f]{64})$/gm)].map(m => {
          const tag = m[1].split(':').pop() ?? ''
          return [tag.split('-')[0], { tag, digest: m[2] }]
        })
      )
      expect([...published.keys()].sort()).toEqual(['humble', 'jazzy'])
      const tagOf = (distro: string): string => published.get(distro)?.tag ?? ''
      if (tb.store === 'classic') {
        // nothing to keep them in: said once, published without them
        expect(r.log).toContain(
          "provenance (mode=max) and SBOM attestations are not made: this engine's classic image store cannot keep them"
        )
        const humble = await indexOf(repo, tagOf('humble'))
        expect(humble.entries.map(e => `${e.platform.os}/${e.platform.architecture}`)).toEqual([
          'linux/amd64',
          'linux/arm64'
        ])
        expect(results.every(c => c.pushed?.attestations === undefined)).toBe(true)
      } else {
        // the engine has no bridge network for BuildKit's SBOM generator: said once, provenance kept
        expect(sbomWarnings).toHaveLength(1)
        expect(sbomWarnings[0]).toContain('this engine has none (dockerd --bridge=none)')
        expect(r.log).toContain('Attestations made at build time: provenance (mode=max)')
        for (const distro of ['humble', 'jazzy']) {
          const { entries } = await indexOf(repo, tagOf(distro))
          const images = entries.filter(
            e => e.annotations?.['vnd.docker.reference.type'] !== ATTESTATION
          )
          const attestations = entries.filter(
            e => e.annotations?.['vnd.docker.reference.type'] === ATTESTATION
          )
          // exactly the planned platforms, and one attestation manifest about each image
          expect(images.map(e => `${e.platform.os}/${e.platform.architecture}`)).toEqual([
            'linux/amd64',
            'linux/arm64'
          ])
          expect(attestations.map(a => a.platform)).toEqual([
            { os: 'unknown', architecture: 'unknown' },
            { os: 'unknown', architecture: 'unknown' }
          ])
          expect(attestations.map(a => a.annotations?.['vnd.docker.reference.digest'])).toEqual(
            images.map(i => i.digest)
          )
          // read back per platform as users do; mode=max records the build args
          const provenance = imagetoolsInspect(
            `${tb.registry}/${repo}:${tagOf(distro)}`,
            '{{json .Provenance}}',
            config
          ) as Record<
            string,
            {
              SLSA: {
                buildType: string
                invocation: { parameters: { args: Record<string, string> } }
              }
            }
          >
          expect(Object.keys(provenance).sort()).toEqual(['linux/amd64', 'linux/arm64'])
          for (const p of Object.values(provenance)) {
            expect(p.SLSA.buildType).toBe('https://mobyproject.org/buildkit@v1')
            expect(p.SLSA.invocation.parameters.args['build-arg:ROS_DISTRO']).toBe(distro)
            expect(p.SLSA.invocation.parameters.args['build-arg:APP_FLAVOUR']).toBe('release')
          }
        }
        expect(results.map(c => c.pushed?.attestations)).toEqual([
          ['provenance'],
          ['provenance'],
          ['provenance'],
          ['provenance']
        ])
      }

      // each index signed and verified before its tags moved; a user's verify passes
      for (const { digest } of published.values()) {
        const ref = `${tb.registry}/${repo}@${digest}`
        expect(r.log).toContain(`Signed and verified: ${ref}`)
        expect(r.summary).toContain(
          `cosign verify --key=cosign.pub --insecure-ignore-tlog=true --allow-http-registry ${ref}`
        )
        expect(cosignVerify(ref, config).code).toBe(0)
      }
      // an image of the index is not what was signed
      const arm64 = (await indexOf(repo, tagOf('humble'))).entries[1].digest
      const unsigned = cosignVerify(`${tb.registry}/${repo}@${arm64}`, config)
      expect(unsigned.code).not.toBe(0)
      expect(unsigned.out).toMatch(/no signatures found|no matching signatures/)
      // signatures live beside the index, under cosign's own tags, never under the action's
      const tags = await tagsOf(repo)
      expect(tags.filter(t => t.startsWith('sha256-'))).toHaveLength(2)

      // again, nothing changed: the cells are reused, their attestations carried over, the
      // index already signed
      const again = await runE2e(inputs, { env })
      expectPassed(again)
      for (const [distro, d] of published) {
        expect(again.log).toContain(
          `Already signed and verified: ${tb.registry}/${repo}@${d.digest}`
        )
        expect((await indexOf(repo, tagOf(distro))).digest).toBe(d.digest)
      }
    },
    20 * MINUTES
  )

  it(
    'stops before any build when cosign-key does not open with cosign-password',
    async () => {
      const repo = uniqueRepo('supply-badkey')
      const r = await runE2e(
        {
          ...common,
          ...signing,
          'cosign-password': 'not-the-password',
          image: `${tb.registry}/${repo}`
        },
        { env }
      )
      expect(r.code).toBe(1)
      const errors = r.log.split('\n').filter(l => l.startsWith('::error::'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(
        'Reading the public key of cosign-key (is cosign-password right?) failed'
      )
      expect(r.log).not.toMatch(/build step|Building /)
      expect(await tagsOf(repo)).toEqual([])
    },
    5 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})
