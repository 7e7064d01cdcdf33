/**
 * Phase 1, set-up: the engine (its version and image store), buildx (kept, or installed), the
 * builder (created for the docker-container driver), QEMU for every foreign platform, the
 * registry login, a check that the credentials may push, and cosign when the run signs. A merge
 * job builds nothing: it gets no builder and no QEMU.
 */
import type { Attestations } from '../plan/settings.js'
import semver from 'semver'
import type { Signer } from '../publish/publish.js'
import { decideBuildx, installBuildx } from '../tooling/buildx.js'
import type { EngineInfo, ImageStore } from '../tooling/docker.js'
import { errorMessage } from '../text/text.js'
import { ensureEmulation } from '../tooling/qemu.js'
import { builderName } from './cleanup.js'
import { cancellableToolCache } from './deps.js'
import type { Run } from './run.js'
import { setUpSigning, signingMode } from './signing.js'

export interface Setup {
  readonly engine: EngineInfo
  /** The builder cells build with ('' for the current one) */
  readonly builder: string
  /** The attestations cells are built with; none when absent */
  readonly attest?: Attestations
  /** Signs each published index; none: not signed */
  readonly signer?: Signer
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

/**
 * The whole set-up: the engine, buildx, and (when this job builds) the builder, the attestations
 * it makes and QEMU; then the registry login, the push access check and signing.
 */
export async function setUp(run: Run): Promise<Setup> {
  const tools = await setUpTools(run)
  if (tools.engine.insecure !== undefined) run.registries.useInsecure(tools.engine.insecure)
  await logIn(run)
  await checkPushAccess(run)
  const mode = signingMode(run.settings, run.plan, run.deps.rt.env)
  if (mode === null) return tools
  return { ...tools, signer: await setUpSigning(mode, run) }
}

/** Engine, buildx, builder, attestations and QEMU, in one log group. */
async function setUpTools(run: Run): Promise<Setup> {
  const { plan, settings, docker, deps: d } = run
  const { rt } = d
  const needsQemu = run.phases.build && plan.cells.some(c => c.emulated)
  return rt.group(`Set up Docker, buildx${needsQemu ? ' and QEMU' : ''}`, async () => {
    const engine = await docker.engine()
    rt.info(
      `Docker engine ${engine.version}, ${engine.store} image store` +
        (engine.store === 'containerd'
          ? ': images are loaded with OCI media types'
          : ': images are Docker v2 (their indexes cannot carry annotations)')
    )
    await ensureBuildx(run)
    if (!run.phases.build) {
      rt.info('mode merge: nothing is built here, so no builder and no QEMU are set up')
      return { engine, builder: settings.build.builder }
    }
    const builder = await ensureBuilder(run)
    const attest = await attestations(run, builder, engine)
    const platforms = (emulated: boolean): string[] => [
      ...new Set(plan.cells.filter(c => c.emulated === emulated).map(c => c.platform))
    ]
    await ensureEmulation(
      [...platforms(false), ...platforms(true)],
      d.hostPlatform,
      settings.tools.qemuImage,
      d.exec,
      d.readText,
      m => rt.info(m)
    )
    return { engine, builder, ...(attest === undefined ? {} : { attest }) }
  })
}

/** The attestations cells are built with, said in the log (and why fewer than asked for). */
async function attestations(
  run: Run,
  builder: string,
  engine: EngineInfo
): Promise<Attestations | undefined> {
  const wanted = run.settings.build.attestations
  const { rt } = run.deps
  // the docker driver runs the SBOM generator on the engine's bridge network, if it has one
  const sbomRuns =
    !wanted.sbom ||
    (await run.docker.builderDriver(builder)) !== 'docker' ||
    (await run.docker.hasNetwork('bridge'))
  const { attest, note } = attestationsFor(
    wanted,
    run.plan.push,
    engine.store,
    sbomRuns,
    engine.version
  )
  if (note !== undefined) (note.warn ? rt.warning : rt.info).call(rt, note.text)
  if (attest !== undefined) rt.info(`Attestations made at build time: ${attestText(attest)}`)
  return attest
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

async function ensureBuildx(run: Run): Promise<void> {
  const d = run.deps
  const wanted = run.settings.tools.buildx
  const decision = decideBuildx(wanted.version, await run.docker.buildxVersion())
  if (decision.action === 'keep') {
    d.rt.info(`buildx ${decision.version} satisfies ${wanted.version}`)
    return
  }
  d.rt.info(`${decision.reason}: installing buildx ${decision.version}`)
  await installBuildx({
    version: decision.version,
    urlTemplate: wanted.url,
    sha256: wanted.sha256,
    nodeArch: d.rt.hostArch,
    dockerConfig: d.dockerConfig,
    exec: d.exec,
    cache: cancellableToolCache(d),
    log: m => d.rt.info(m)
  })
}

/** The builder to use: the configured one, or (docker-container driver) one of this run's own. */
async function ensureBuilder(run: Run): Promise<string> {
  const { build } = run.settings
  const d = run.deps
  if (build.driver !== 'docker-container') {
    d.rt.info(`Using builder ${build.builder || '(current)'}`)
    return build.builder
  }
  if (build.builder !== '') {
    d.rt.warning(
      `builder "${build.builder}" is not used: driver docker-container creates a builder of its own.`
    )
  }
  const builder = builderName(d.runTag)
  // remembered before it exists: a half-created builder is removed too
  d.cleanup.builder = builder
  d.saveCleanup()
  const args = ['buildx', 'create', '--name', builder, '--driver', 'docker-container']
  if (build.network === 'host') args.push('--driver-opt', 'network=host')
  const r = await run.docker.run([...args, '--bootstrap'])
  if (r.code !== 0)
    throw new Error(`Creating the docker-container builder failed: ${r.stderr.trim()}`)
  d.rt.info(`Created builder ${builder} (docker-container driver); the post step removes it`)
  return builder
}

/** Log in to each registry the action is given credentials for (username/password, registry-auth). */
async function logIn(run: Run): Promise<void> {
  const d = run.deps
  for (const { registry, username, password } of run.secrets.logins) {
    await run.docker.login(registry, username, password)
    d.cleanup.logout = [...(d.cleanup.logout ?? []), registry]
    d.saveCleanup()
    d.rt.info(`Logged in to ${registry} as ${username}`)
  }
}

/**
 * Before anything is built: may these credentials push to each repository the image goes to? A
 * pull-only token or a read-only account fails here, with the registry's reason, not after hours
 * of builds.
 */
async function checkPushAccess(run: Run): Promise<void> {
  const { plan, registries, docker } = run
  if (!plan.push) return
  let sent = 0
  // a build slice stages in the first registry only; the merge job publishes to every one
  const names = plan.mode === 'build' ? [plan.image] : [plan.image, ...plan.mirrors]
  for (const name of names) {
    try {
      await registries.checkPush(name)
    } catch (error) {
      throw new Error(
        `Pushing to ${name} is not possible with these credentials, so nothing was built: ${errorMessage(error)}`,
        { cause: error }
      )
    }
    if (await registries.sentCredentials(name)) sent++
    run.log(`Push access to ${name}: granted`)
  }
  // with credentials every registry took, an authorization error later is a registry hiccup
  if (sent === names.length) docker.credentialsAccepted()
}
