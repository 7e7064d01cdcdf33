/**
 * Phase 1, set-up: the engine (its version and image store), buildx (kept, or installed), the
 * builder (created for the docker-container driver), QEMU for every foreign platform, and the
 * registry login and a check that the credentials may push. A merge job builds nothing: it gets no builder and no QEMU.
 */
import semver from 'semver'
import type { Attestations, Config } from '../inputs/config.js'
import { loginRegistry } from '../oci/reference.js'
import type { Plan } from '../plan/planner.js'
import type { Registries } from '../registry/registries.js'
import { decideBuildx, installBuildx } from '../tooling/buildx.js'
import type { Docker, EngineInfo, ImageStore } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import { ensureEmulation } from '../tooling/qemu.js'
import { builderName } from './cleanup.js'
import { cancellableToolCache, type PipelineDeps } from './deps.js'

export interface Setup {
  readonly engine: EngineInfo
  /** The builder cells build with ('' for the current one) */
  readonly builder: string
  /** The attestations cells are built with; none when absent */
  readonly attest?: Attestations
}

/** The first Docker whose `docker image inspect --platform` picks one image of an index */
export const ENGINE_WITH_ATTESTATIONS = '28.1.0'

/**
 * The attestations to build with: those asked for, when the images are pushed or staged (nothing
 * else keeps them) and the engine keeps them (the containerd image store loads an image with its
 * attestation manifests; the classic store drops them). Pure.
 */
export function attestationsFor(
  wanted: Attestations,
  push: boolean,
  store: ImageStore,
  /** The builder can run an SBOM generator (not the docker driver of an engine with no bridge) */
  sbomRuns = true,
  /** The engine's version: an image kept with attestations is inspected by platform (28.1+) */
  engineVersion = ENGINE_WITH_ATTESTATIONS
): { attest?: Attestations; note?: { text: string; warn: boolean } } {
  const asked = attestParts(wanted, false)
  if (asked.length === 0 || !push) return {}
  // provenance is on by default: a warning on every run of such an engine would be noise
  const none = (why: string) => ({
    note: { warn: wanted.sbom, text: `${asked.join(' and ')} attestations are not made: ${why}` }
  })
  if (store === 'classic') {
    return none(
      `this engine's classic image store cannot keep them with a loaded image, so the images are published without them. An engine with the containerd image store (Docker 29 installs, Docker Desktop, or "features": {"containerd-snapshotter": true} in daemon.json) keeps them; set provenance: false to silence this.`
    )
  }
  const version = semver.coerce(engineVersion)
  if (version !== null && semver.lt(version, ENGINE_WITH_ATTESTATIONS)) {
    return none(
      `the action tells an image kept with its attestations by platform (docker image inspect --platform), which Docker ${version.version} cannot do (it came with Docker ${ENGINE_WITH_ATTESTATIONS}); the images are published without them. Set provenance: false to silence this.`
    )
  }
  if (wanted.sbom && !sbomRuns) {
    const rest = { ...wanted, sbom: false }
    return {
      ...(rest.provenance === null ? {} : { attest: rest }),
      note: {
        warn: true,
        text: `SBOM attestations are not made: BuildKit runs the SBOM generator on the engine's default bridge network, and this engine has none (dockerd --bridge=none), so the images are published without an SBOM. A builder of the docker-container driver runs it (driver: docker-container).`
      }
    }
  }
  return { attest: wanted }
}

export async function setUp(
  config: Config,
  plan: Plan,
  docker: Docker,
  d: PipelineDeps
): Promise<Setup> {
  const { rt } = d
  const merge = plan.mode === 'merge'
  const needsQemu = !merge && plan.cells.some(c => c.emulated)
  return rt.group(`Set up Docker, buildx${needsQemu ? ' and QEMU' : ''}`, async () => {
    const engine = await docker.engine()
    rt.info(
      `Docker engine ${engine.version}, ${engine.store} image store` +
        (engine.store === 'containerd'
          ? ': images are loaded with OCI media types'
          : ': images are Docker v2 (their indexes cannot carry annotations)')
    )
    await ensureBuildx(config, docker, d)
    if (merge) {
      rt.info('mode merge: nothing is built here, so no builder and no QEMU are set up')
      return { engine, builder: config.builder }
    }
    const builder = await ensureBuilder(config, docker, d)
    // the docker driver runs the SBOM generator on the engine's bridge network, if it has one
    const sbomRuns =
      !config.attestations.sbom ||
      (await docker.builderDriver(builder)) !== 'docker' ||
      (await docker.hasNetwork('bridge'))
    const { attest, note } = attestationsFor(
      config.attestations,
      plan.push,
      engine.store,
      sbomRuns,
      engine.version
    )
    if (note !== undefined) (note.warn ? rt.warning : rt.info).call(rt, note.text)
    if (attest !== undefined) rt.info(`Attestations made at build time: ${attestText(attest)}`)
    const platforms = (emulated: boolean): string[] => [
      ...new Set(plan.cells.filter(c => c.emulated === emulated).map(c => c.platform))
    ]
    await ensureEmulation(
      [...platforms(false), ...platforms(true)],
      d.hostPlatform,
      config.qemuImage,
      d.exec,
      d.readText,
      m => rt.info(m)
    )
    return { engine, builder, ...(attest === undefined ? {} : { attest }) }
  })
}

/** `provenance (mode=min)`, then `SBOM`, with its generator when `generator`. Pure. */
function attestParts(a: Attestations, generator: boolean): string[] {
  const sbom = generator ? `SBOM (${a.sbomGenerator || "BuildKit's default generator"})` : 'SBOM'
  return [
    ...(a.provenance === null ? [] : [`provenance (mode=${a.provenance})`]),
    ...(a.sbom ? [sbom] : [])
  ]
}

/** `provenance (mode=min), SBOM (generator IMAGE)`. Pure. */
export function attestText(a: Attestations): string {
  return attestParts(a, true).join(', ')
}

async function ensureBuildx(config: Config, docker: Docker, d: PipelineDeps): Promise<void> {
  const decision = decideBuildx(config.buildxVersion, await docker.buildxVersion())
  if (decision.action === 'keep') {
    d.rt.info(`buildx ${decision.version} satisfies ${config.buildxVersion}`)
    return
  }
  d.rt.info(`${decision.reason}: installing buildx ${decision.version}`)
  await installBuildx({
    version: decision.version,
    urlTemplate: config.buildxUrl,
    sha256: config.buildxSha256,
    nodeArch: d.rt.hostArch,
    dockerConfig: d.dockerConfig,
    exec: d.exec,
    cache: cancellableToolCache(d),
    log: m => d.rt.info(m)
  })
}

/** The builder to use: the configured one, or (docker-container driver) one of this run's own. */
async function ensureBuilder(config: Config, docker: Docker, d: PipelineDeps): Promise<string> {
  if (config.driver !== 'docker-container') {
    d.rt.info(`Using builder ${config.builder || '(current)'}`)
    return config.builder
  }
  if (config.builder !== '') {
    d.rt.warning(
      `builder "${config.builder}" is not used: driver docker-container creates a builder of its own.`
    )
  }
  const builder = builderName(d.runTag)
  // remembered before it exists: a half-created builder is removed too
  d.cleanup.builder = builder
  d.saveCleanup()
  const args = ['buildx', 'create', '--name', builder, '--driver', 'docker-container']
  if (config.network === 'host') args.push('--driver-opt', 'network=host')
  const r = await docker.run([...args, '--bootstrap'])
  if (r.code !== 0)
    throw new Error(`Creating the docker-container builder failed: ${r.stderr.trim()}`)
  d.rt.info(`Created builder ${builder} (docker-container driver); the post step removes it`)
  return builder
}

/** Log in to the image's registry with the username and password inputs (none: skipped). */
export async function logIn(config: Config, docker: Docker, d: PipelineDeps): Promise<void> {
  if (config.username === '') return
  const registry = loginRegistry(config.image)
  await docker.login(registry, config.username, config.password)
  d.cleanup.logout = registry
  d.saveCleanup()
  d.rt.info(`Logged in to ${registry} as ${config.username}`)
}

/**
 * Before anything is built: may these credentials push to the image's repository? A pull-only
 * token or a read-only account fails here, with the registry's reason, not after hours of builds.
 */
export async function checkPushAccess(
  plan: Plan,
  docker: Docker,
  registries: Registries,
  d: PipelineDeps
): Promise<void> {
  if (!plan.push) return
  try {
    await registries.checkPush(plan.image)
  } catch (error) {
    throw new Error(
      `Pushing to ${plan.image} is not possible with these credentials, so nothing was built: ${errorMessage(error)}`,
      { cause: error }
    )
  }
  // with credentials it took, an authorization error later is a registry hiccup
  if (await registries.sentCredentials(plan.image)) docker.credentialsAccepted()
  d.rt.info(`Push access to ${plan.image}: granted`)
}
