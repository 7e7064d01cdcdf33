/**
 * The real run, as a list of phases: set up Docker, buildx and QEMU and log in; prepare (check
 * the bases, fingerprint the cells, find the unchanged ones, restore build caches); build and test
 * the cells, publishing each distro as soon as its cells passed; finish (save caches, results).
 * A merge job collects and publishes the build jobs' slices instead of building.
 */
import type { Config } from '../inputs/config.js'
import type { Plan } from '../plan/planner.js'
import type { Registries } from '../registry/registries.js'
import type { RunResults } from '../results/results.js'
import { runCells } from './cells.js'
import { during, registryClients, registryDocker, type PipelineDeps } from './deps.js'
import { results, saveCaches } from './finish.js'
import { mergeSlices } from './merge.js'
import { prepare } from './prepare.js'
import { ProgressBoard, readmeLink } from './progress.js'
import { Publisher } from './publishing.js'
import { checkPushAccess, logIn, setUp } from './setup.js'
import { setUpSigning, signingMode } from './signing.js'
import type { PublishOptions, Signer } from '../publish/publish.js'

export type { PipelineDeps } from './deps.js'

export async function runPipeline(
  config: Config,
  plan: Plan,
  d: PipelineDeps
): Promise<RunResults> {
  const now = d.now ?? Date.now
  const started = now()
  const seconds = (): number => (now() - started) / 1000
  const docker = registryDocker(config, d)
  const registries = registryClients(config, d)
  const board = progressBoard(config, d)
  const cellOf = (id: string): { id: string; emulated: boolean } => ({
    id,
    emulated: plan.cells.find(c => c.id === id)?.emulated ?? false
  })
  let publishing: PublishOptions = {
    docker,
    exec: d.exec,
    tempDir: d.tempDir,
    registries,
    image: plan.image,
    platforms: plan.platforms,
    log: (m: string) => d.rt.info(m),
    warn: (m: string) => d.rt.warning(m),
    pushing: (id: string, done: boolean) => (done ? board.end(id) : board.phase(cellOf(id), 'push'))
  }

  const { signal } = d
  const signing = signingMode(config, plan, d.rt.env)
  let signer: Signer | undefined
  const setup = await during('set-up', signal, async () => {
    const done = await setUp(config, plan, docker, d)
    if (done.engine.insecure !== undefined) registries.useInsecure(done.engine.insecure)
    await logIn(config, docker, d)
    await checkPushAccess(plan, docker, registries, d)
    if (signing !== null) signer = await setUpSigning(signing, config, plan, registries, d)
    return done
  })
  if (signer !== undefined) publishing = { ...publishing, sign: signer }
  if (plan.mode === 'merge') {
    // a merge publishes as it goes: cancelled, it still reports what it published
    const merged = await mergeSlices(plan, publishing, d.rt)
    logRequests(registries, d)
    return results(plan, merged.cells, merged.published, seconds(), board.timeline())
  }
  const prepared = await during('preflight', signal, () =>
    prepare(config, plan, setup, docker, registries, d)
  )
  const publisher = new Publisher(plan, { ...publishing, bases: prepared.bases }, signal)
  // cancelled from here on, the cells that did not finish say so in the results
  const cells = await runCells(config, plan, prepared, setup, publisher, docker, board, d)
  const published = await publisher.finished()
  await saveCaches(config, prepared, cells, d)
  logRequests(registries, d)
  return results(plan, cells, published, seconds(), board.timeline())
}

function progressBoard(config: Config, d: PipelineDeps): ProgressBoard {
  return new ProgressBoard({
    info: m => d.rt.info(m),
    // a terminal redraws each running cell's line, every second
    ...(d.rt.status === undefined
      ? {}
      : { status: (id: string, line: string | null) => d.rt.status?.(id, line) }),
    warning: m => d.rt.warning(m),
    now: d.now ?? Date.now,
    intervalMs: d.rt.status === undefined ? 60_000 : 1_000,
    emulatedWarnMs: config.emulationWarning * 60_000,
    readme: readmeLink(d.rt.env)
  })
}

/** How much registry work the client did (the builds' base pulls are BuildKit's, not counted). */
function logRequests(registries: Registries, d: PipelineDeps): void {
  const { requests, retries } = registries.stats()
  d.rt.info(
    `Registry client: ${requests} request${requests === 1 ? '' : 's'}, ${retries} retr${retries === 1 ? 'y' : 'ies'} (the builds' base pulls not counted)`
  )
}
