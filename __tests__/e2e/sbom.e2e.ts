/**
 * SBOM attestations made, published and read back (issue 31), on the test bed's sbom engine: Docker
 * 28.5 with the containerd image store and a bridge network of its own (198.51.100.0/24, inside a
 * network namespace with no link to the host), where BuildKit can run an SBOM generator. The
 * generator is the test bed's stand-in for BuildKit's default one (docker/buildkit-syft-scanner,
 * which cannot be pulled here): an SPDX 2.3 document of the image's dpkg database. So the bases
 * are the Debian-built lower-layers ones (the busybox ros-base stand-ins have no dpkg database).
 *
 * Runs on the sbom engine only (bash scripts/e2e.sh sbom); the action's warning for an engine that
 * cannot run the generator is tested on the --bridge=none engines (supply.e2e.ts).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  cellsOf,
  cosignVerify,
  engineHasBridge,
  expectNoLeftovers,
  expectPassed,
  imagetoolsInspect,
  jsonBlobOf,
  loggedInDockerConfig,
  manifestOf,
  runE2e,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000
const SPDX = 'https://spdx.dev/Document'
const SLSA = 'https://slsa.dev/provenance/'
/**
 * Debian packages of the lower-layers bases (scripts/testbed/lib/bases.sh, LOWER_PACKAGES, and
 * Debian's own), each built for the image's architecture (not `all`)
 */
const IN_THE_BASE = ['cmake', 'g++', 'libc6']
/** The stand-in's own creator line (scripts/testbed/images/sbom-standin/spdx.awk) */
const STANDIN = 'Tool: ros-multiarch-testbed-sbom-standin-1'

interface Statement<P> {
  _type: string
  predicateType: string
  subject: { name: string; digest: { sha256: string } }[]
  predicate: P
}

interface SpdxPackage {
  name: string
  SPDXID: string
  versionInfo?: string
  externalRefs?: { referenceType: string; referenceLocator: string }[]
}

interface Spdx {
  spdxVersion: string
  dataLicense: string
  SPDXID: string
  creationInfo: { creators: string[]; comment?: string }
  packages: SpdxPackage[]
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[]
}

interface Provenance {
  buildType: string
  invocation: { parameters: { args: Record<string, string> } }
}

/** The machine's architecture as `uname -m` says it: where BuildKit runs the generator. */
const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()

describe('SBOM attestations on an engine with a bridge of its own', () => {
  const tb = testbed()
  const env = { PATH: `${path.dirname(tb.cosign.bin)}:${process.env.PATH ?? ''}` }

  it(
    'publishes 2 distros x 2 platforms with an SPDX document and a provenance statement per platform, signed, with exactly the planned platforms',
    async () => {
      // where it runs: the sbom engine, which has the bridge BuildKit runs the generator on, on a
      // documentation range; and the generator stand-in in the registry
      if (tb.engine !== tb.sbom.engine) {
        throw new Error(
          `sbom.e2e.ts runs on the ${tb.sbom.engine} engine only (bash scripts/e2e.sh ${tb.sbom.engine}), not on ${tb.engine}`
        )
      }
      expect(engineHasBridge()).toBe(true)
      const subnet = execFileSync(
        'docker',
        ['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'bridge'],
        { encoding: 'utf8' }
      ).trim()
      expect(subnet).toBe(tb.sbom.subnet)
      const generator = tb.sbom.generator
      const at = generator.indexOf('/')
      const [genRepo, genTag] = generator.slice(at + 1).split(':')
      expect(generator.slice(0, at)).toBe(tb.registry)
      expect(await manifestOf(genRepo, genTag)).not.toBeNull()

      const repo = uniqueRepo('sbom')
      const distros = tb.lowerDistros.slice(0, 2)
      expect(distros).toHaveLength(2)
      const r = await runE2e(
        {
          context: 'examples/ros-app',
          'smoke-test-file': 'examples/ros-app/smoke.yaml',
          'ros-checks': 'false',
          'base-image': tb.lowerBase,
          distros: distros.join(', '),
          push: 'true',
          image: `${tb.registry}/${repo}`,
          sbom: 'true',
          'sbom-generator': generator,
          provenance: 'mode=max',
          sign: 'key',
          'cosign-key': readFileSync(tb.cosign.key, 'utf8'),
          'cosign-password': tb.cosign.password,
          // Debian's cosign 3.1.1 says its version is "devel"
          'cosign-version': '*'
        },
        { env }
      )
      expectPassed(r)
      // the engine runs the generator: no warning about it, both attestations asked for are made
      expect(r.log.split('\n').filter(l => l.startsWith('::warning::'))).toEqual([])
      expect(r.log).toContain(
        `Attestations made at build time: provenance (mode=max), SBOM (${generator})`
      )
      const planned = (JSON.parse(r.outputs.plan) as { platforms: string[] }).platforms
      expect(planned).toEqual(['linux/amd64', 'linux/arm64'])
      expect(cellsOf(r).map(c => [...(c.pushed?.attestations ?? [])].sort())).toEqual(
        planned.flatMap(() => distros.map(() => ['provenance', 'sbom']))
      )
      // each distro's index, as the action logged it: its first tag and its digest
      const published = new Map(
        [...r.log.matchAll(/^Published ([^ ,]+)[^\n]* -> (sha256:[0-9a-f]{64})$/gm)].map(m => {
          const tag = m[1].split(':').pop() ?? ''
          return [tag.split('-')[0], { tag, digest: m[2] }]
        })
      )
      expect([...published.keys()].sort()).toEqual([...distros].sort())
      const config = loggedInDockerConfig()

      for (const [distro, { tag, digest }] of published) {
        // read back from the registry: the index, still exactly the planned platforms (signing
        // added nothing to it), and an attestation manifest about each image
        const index = await manifestOf(repo, tag)
        expect(index?.digest).toBe(digest)
        const images = index?.manifests ?? []
        expect(images.map(m => `${m.platform.os}/${m.platform.architecture}`)).toEqual(planned)
        const attestations = index?.attestations ?? []
        expect(attestations.map(a => a.annotations?.['vnd.docker.reference.digest'])).toEqual(
          images.map(i => i.digest)
        )
        for (const [i, image] of images.entries()) {
          const arch = image.platform.architecture
          const manifest = await manifestOf(repo, attestations[i].digest)
          const layers = manifest?.layers ?? []
          const types = layers.map(l => l.annotations?.['in-toto.io/predicate-type'] ?? '')
          expect(types.filter(t => t === SPDX)).toHaveLength(1)
          expect(types.filter(t => t.startsWith(SLSA))).toHaveLength(1)
          const statements = await Promise.all(
            layers.map(async l => jsonBlobOf<Statement<unknown>>(repo, l.digest))
          )
          // each statement is about this platform's image
          for (const s of statements) {
            expect(s._type).toMatch(/^https:\/\/in-toto\.io\/Statement\//)
            expect(s.subject.map(x => `sha256:${x.digest.sha256}`)).toEqual([image.digest])
          }
          // the SBOM: an SPDX 2.3 document by the stand-in, run on the machine's own platform,
          // listing the base's Debian packages of this platform's architecture
          const sbom = statements.find(s => s.predicateType === SPDX) as Statement<Spdx>
          const doc = sbom.predicate
          expect(doc.spdxVersion).toBe('SPDX-2.3')
          expect(doc.dataLicense).toBe('CC0-1.0')
          expect(doc.SPDXID).toBe('SPDXRef-DOCUMENT')
          expect(doc.creationInfo.creators).toContain(STANDIN)
          expect(doc.creationInfo.comment).toContain(`ran on ${machine}`)
          expect(doc.relationships).toContainEqual(
            expect.objectContaining({
              spdxElementId: 'SPDXRef-DOCUMENT',
              relationshipType: 'DESCRIBES'
            })
          )
          const byName = new Map(doc.packages.map(p => [p.name, p]))
          for (const name of IN_THE_BASE) {
            const p = byName.get(name)
            expect({ name, listed: p !== undefined }).toEqual({ name, listed: true })
            expect(p?.versionInfo).toMatch(/^\d/)
            const purl = p?.externalRefs?.find(e => e.referenceType === 'purl')?.referenceLocator
            expect(purl).toMatch(
              new RegExp(
                `^pkg:deb/debian/${name.replace(/[+.]/g, '\\$&')}@[^?]+\\?arch=${arch}(&|$)`
              )
            )
          }
          // the provenance: mode=max records the build args
          const provenance = statements.find(s =>
            s.predicateType.startsWith(SLSA)
          ) as Statement<Provenance>
          expect(provenance.predicate.buildType).toBe('https://mobyproject.org/buildkit@v1')
          expect(provenance.predicate.invocation.parameters.args['build-arg:ROS_DISTRO']).toBe(
            distro
          )
        }
        // as a user reads it: buildx finds an SPDX document per platform
        const sboms = imagetoolsInspect(
          `${tb.registry}/${repo}@${digest}`,
          '{{json .SBOM}}',
          config
        )
        expect(Object.keys(sboms).sort()).toEqual(planned)
        for (const s of Object.values(sboms) as { SPDX: Spdx }[]) {
          expect(s.SPDX.packages.map(p => p.name)).toEqual(expect.arrayContaining(IN_THE_BASE))
        }
        // signed and verified by the action before its tags moved; a user's verify passes
        const ref = `${tb.registry}/${repo}@${digest}`
        expect(r.log).toContain(`Signed and verified: ${ref}`)
        const verified = cosignVerify(ref, config)
        expect({ code: verified.code, out: verified.code === 0 ? '' : verified.out }).toEqual({
          code: 0,
          out: ''
        })
      }
    },
    15 * MINUTES
  )

  afterAll(() => expectNoLeftovers())
})
