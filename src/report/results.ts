/** What a run did, cell by cell and distro by distro: the `results` output and the summary's source. */
import type { TestResult } from '../smoke/runner.js'

export type CellStatus = 'passed' | 'failed' | 'cancelled'

export interface CellResult {
  readonly id: string
  readonly distro: string
  readonly platform: string
  readonly emulated: boolean
  readonly status: CellStatus
  /** One line: what went wrong first */
  readonly failure?: string
  readonly buildSeconds: number
  readonly testSeconds: number
  /** The tested image's ID (sha256 of its config) */
  readonly imageId?: string
  readonly size?: number
  readonly tests: readonly TestResult[]
  /** End of the build output when the build failed */
  readonly buildLog?: string
  /** Where the tested image went: the arch tag and the per-platform manifest digest */
  readonly pushed?: { readonly tag: string; readonly digest: string }
}

export type DistroStatus = 'published' | 'tested' | 'failed' | 'publish failed'

export interface DistroResult {
  readonly distro: string
  readonly status: DistroStatus
  /** Tags published (empty unless published) */
  readonly tags: readonly string[]
  /** Digest of the published index */
  readonly digest?: string
  readonly reason?: string
}

export interface RunResults {
  readonly cells: readonly CellResult[]
  readonly distros: readonly DistroResult[]
  readonly seconds: number
}

export function failedCells(results: RunResults): CellResult[] {
  return results.cells.filter(c => c.status !== 'passed')
}
