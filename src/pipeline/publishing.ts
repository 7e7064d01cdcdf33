/**
 * Phase 4, publish: each distro is published (mode all) or staged (mode build) as soon as all its
 * cells finished, while other cells still build; a distro with a cell that did not pass publishes
 * nothing. The cells phase reports finished distros; finished() waits for all the pushing. What
 * each distro ended as is its record's `result`, what each cell pushed its record's `pushed`.
 */
import { publishDistro, stageCell, type PublishOptions } from '../publish/publish.js'
import { cellOk, type CellResult, type DistroResult } from '../results/results.js'
import { errorMessage } from '../text/text.js'
import type { DistroJob, Run } from './run.js'

export class Publisher {
  private readonly work: Promise<void>[] = []

  /**
   * @param how.signal once aborted, no distro starts publishing
   * @param how.unfit how a cell that keeps its distro unpublished is named in the reason
   */
  constructor(
    private readonly run: Pick<Run, 'plan' | 'phases'>,
    private readonly o: PublishOptions,
    private readonly how: {
      readonly signal?: AbortSignal
      readonly unfit?: (r: CellResult) => string
    } = {}
  ) {}

  /** All cells of a distro finished (each job has its result): publish, stage, or say why not. */
  distroDone(distro: DistroJob): void {
    const results = distro.jobs.flatMap(j => (j.result === undefined ? [] : [j.result]))
    const name = distro.manifest.distro
    const bad = results.filter(r => !cellOk(r.status))
    if (results.length < distro.jobs.length) {
      const reason = 'not published: a cell of it did not end'
      distro.result = { distro: name, status: 'failed', tags: [], reason }
      return
    }
    if (bad.length > 0) {
      const unfit = this.how.unfit ?? ((r: CellResult) => `${r.id} ${r.status}`)
      const why = bad.map(unfit).join(', ')
      distro.result = { distro: name, status: 'failed', tags: [], reason: `not published: ${why}` }
      return
    }
    if (!this.run.plan.push) {
      distro.result = { distro: name, status: 'tested', tags: [] }
      return
    }
    if (this.how.signal?.aborted) {
      const reason = 'not published: the run was cancelled'
      distro.result = { distro: name, status: 'failed', tags: [], reason }
      return
    }
    const publishing =
      this.run.phases.outcome === 'stage'
        ? stageDistro(distro, this.o)
        : publishDistro(distro, this.o)
    this.work.push(
      publishing.then(result => {
        distro.result = result
      })
    )
  }

  /** Once all publishing is done. */
  async finished(): Promise<void> {
    await Promise.all(this.work)
  }
}

/** mode build: stage every cell of a distro that passed here; the merge job publishes them. */
export async function stageDistro(distro: DistroJob, o: PublishOptions): Promise<DistroResult> {
  const name = distro.manifest.distro
  try {
    const staged: string[] = []
    for (const job of distro.jobs) staged.push((await stageCell(job, o)).tag)
    return { distro: name, status: 'staged', tags: staged }
  } catch (error) {
    const reason = `staging failed: ${errorMessage(error)}`
    return { distro: name, status: 'publish failed', tags: [], reason }
  }
}
