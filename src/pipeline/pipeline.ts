/**
 * The real run, as a list of phases over one Run context and one record per cell (see run.ts):
 * set up Docker, buildx and QEMU and log in; prepare (check the bases, fingerprint the cells,
 * find the unchanged ones, restore build caches); build and test the cells, publishing each
 * distro as soon as its cells passed; finish (save caches, results). Which phases run is the
 * job's mode's (Phases): a merge job collects and publishes the build jobs' slices instead of
 * building.
 */
import type { PublishOptions } from '../publish/publish.js'
import type { RunResults } from '../results/results.js'
import { runCells } from './cells.js'
import { during, type PipelineDeps } from './deps.js'
import { results, saveCaches } from './finish.js'
import { mergeSlices } from './merge.js'
import { prepare } from './prepare.js'
import { Publisher } from './publishing.js'
import { openRun, type Run, type RunInput } from './run.js'
import { setUp, type Setup } from './setup.js'

export type { PipelineDeps } from './deps.js'
export type { RunInput } from './run.js'

export async function runPipeline(input: RunInput, d: PipelineDeps): Promise<RunResults> {
  const run = openRun(input, d)
  const started = run.now()
  const seconds = (): number => (run.now() - started) / 1000
  const setup = await during('set-up', d.signal, () => setUp(run))
  const publishing = publishOptions(run, setup)
  if (!run.phases.build) {
    // a merge publishes as it goes: cancelled, it still reports what it published
    await mergeSlices(run, publishing)
  } else {
    const mounts = await during('preflight', d.signal, () => prepare(run, setup))
    const publisher = new Publisher(run, publishing, {
      ...(d.signal === undefined ? {} : { signal: d.signal })
    })
    // cancelled from here on, the cells that did not finish say so in the results
    await runCells(run, setup, publisher)
    await publisher.finished()
    await saveCaches(run, mounts)
  }
  logRequests(run)
  return results(run, seconds())
}

/** What publishing is handed: the engine and registry client, and where it reports. */
function publishOptions(run: Run, setup: Setup): PublishOptions {
  const d = run.deps
  const cellOf = (id: string): { id: string; emulated: boolean } => ({
    id,
    emulated: run.plan.cells.find(c => c.id === id)?.emulated ?? false
  })
  return {
    docker: run.docker,
    exec: d.exec,
    tempDir: d.tempDir,
    registries: run.registries,
    image: run.plan.image,
    mirrors: run.plan.mirrors,
    platforms: run.plan.platforms,
    log: run.log,
    warn: run.warn,
    pushing: (id: string, done: boolean) =>
      done ? run.board.end(id) : run.board.phase(cellOf(id), 'push'),
    ...(setup.signer === undefined ? {} : { sign: setup.signer })
  }
}

/** How much registry work the client did (the builds' base pulls are BuildKit's, not counted). */
function logRequests(run: Run): void {
  const { requests, retries } = run.registries.stats()
  run.log(
    `Registry client: ${requests} request${requests === 1 ? '' : 's'}, ${retries} retr${retries === 1 ? 'y' : 'ies'} (the builds' base pulls not counted)`
  )
}
