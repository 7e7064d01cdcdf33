/**
 * Phase 4, publish: each distro is published (mode all) or staged (mode build) as soon as all its
 * cells finished, while other cells still build; a distro with a cell that did not pass publishes
 * nothing. The cells phase reports finished distros; finished() waits for all the pushing.
 */
import type { Cell, Manifest, Plan } from '../plan/planner.js'
import {
  publishDistro,
  stageCell,
  type PublishOptions,
  type Published,
  type PushedImage
} from '../publish/publish.js'
import { cellOk, type CellResult, type DistroResult } from '../results/results.js'
import { errorMessage } from '../text/text.js'

export interface PublishOutcome {
  /** Per distro: published, staged, tested (push off), failed or publish failed */
  readonly distros: ReadonlyMap<string, DistroResult>
  /** Per cell id: the tag and digest its tested image was pushed under */
  readonly pushed: ReadonlyMap<string, PushedImage>
}

export class Publisher {
  private readonly distros = new Map<string, DistroResult>()
  private readonly pushed = new Map<string, PushedImage>()
  private readonly work: Promise<void>[] = []

  /**
   * @param signal once aborted, no distro starts publishing
   * @param unfit how a cell that keeps its distro unpublished is named in the reason
   */
  constructor(
    private readonly plan: Plan,
    private readonly o: PublishOptions,
    private readonly signal?: AbortSignal,
    private readonly unfit: (r: CellResult) => string = r => `${r.id} ${r.status}`
  ) {}

  /** All cells of a distro finished, with these results (in the manifest's cell order). */
  distroDone(manifest: Manifest, results: readonly CellResult[]): void {
    const { distro } = manifest
    const bad = results.filter(r => !cellOk(r.status))
    if (bad.length > 0) {
      const why = bad.map(this.unfit).join(', ')
      this.distros.set(distro, {
        distro,
        status: 'failed',
        tags: [],
        reason: `not published: ${why}`
      })
      return
    }
    if (!this.plan.push) {
      this.distros.set(distro, { distro, status: 'tested', tags: [] })
      return
    }
    if (this.signal?.aborted) {
      const reason = 'not published: the run was cancelled'
      this.distros.set(distro, { distro, status: 'failed', tags: [], reason })
      return
    }
    const cells = manifest.cells.map(id => this.plan.cells.find(c => c.id === id) as Cell)
    const publishing =
      this.plan.mode === 'build'
        ? stageDistro(cells, results, this.o)
        : publishDistro(manifest, cells, results, this.o)
    this.work.push(
      publishing.then(p => {
        this.distros.set(distro, p.distro)
        for (const [id, image] of p.pushed) this.pushed.set(id, image)
      })
    )
  }

  /** Every distro's outcome, once all publishing is done. */
  async finished(): Promise<PublishOutcome> {
    await Promise.all(this.work)
    return { distros: this.distros, pushed: this.pushed }
  }
}

/** mode build: stage every cell of a distro that passed here; the merge job publishes them. */
export async function stageDistro(
  cells: readonly Cell[],
  results: readonly CellResult[],
  o: PublishOptions
): Promise<Published> {
  const pushed = new Map<string, PushedImage>()
  const distro = cells[0].distro
  try {
    for (const cell of cells) {
      const result = results.find(r => r.id === cell.id) as CellResult
      pushed.set(cell.id, await stageCell(cell, result, o))
    }
    const tags = [...pushed.values()].map(p => p.tag)
    return { distro: { distro, status: 'staged', tags }, pushed }
  } catch (error) {
    const reason = `staging failed: ${errorMessage(error)}`
    return { distro: { distro, status: 'publish failed', tags: [], reason }, pushed }
  }
}
