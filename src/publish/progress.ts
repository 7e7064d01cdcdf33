/**
 * What each image name (registry) holds of a distro while it is published, which one failed, and
 * what was put back: what a distro's result says of several registries. Pure.
 */
import type { RegistryOutcome } from '../results/results.js'
import { errorMessage } from '../text/text.js'

type RegistryState = RegistryOutcome['state']

/** Tags put back after a failure while tags moved: how many, and those that had nothing before. */
export interface PutBack {
  restored: number
  /** Tags that held nothing before: left on the new index (a registry may not delete a tag) */
  readonly kept: string[]
  /** Tags whose old manifest could not be written back */
  readonly failed: string[]
}

export class Progress {
  private readonly state = new Map<string, RegistryState>()
  failed: string | undefined
  putBack: PutBack | undefined

  constructor(readonly names: readonly string[]) {
    for (const n of names) this.state.set(n, 'nothing')
  }

  set(name: string, state: RegistryState): void {
    this.state.set(name, state)
  }

  get(name: string): RegistryState {
    return this.state.get(name) ?? 'nothing'
  }

  /** The registries whose tags moved (to the tested images). */
  moved(): string[] {
    return this.names.filter(n => ['tags moved', 'published'].includes(this.get(n)))
  }

  outcomes(): RegistryOutcome[] {
    return this.names.map(image => ({
      image,
      state: this.get(image),
      ...(this.failed === image ? { failed: true as const } : {})
    }))
  }

  /** Why the distro is not published: where it failed, and what was left where. */
  reason(error: unknown): string {
    const why = errorMessage(error)
    if (this.names.length === 1) return why
    const moved = this.moved()
    const left = this.names
      .filter(n => !moved.includes(n) && this.get(n) !== 'nothing')
      .map(n => `${n} (${this.get(n)})`)
    return [
      `${this.failed ?? this.names[0]}: ${why}`,
      ...this.putBackText(),
      moved.length === 0
        ? 'no tag moved in any registry'
        : `tags moved in ${moved.join(', ')} (not in the others)`,
      ...(left.length === 0 ? [] : [`written by digest only: ${left.join(', ')}`])
    ].join('; ')
  }

  private putBackText(): string[] {
    const p = this.putBack
    if (p === undefined) return []
    return [
      `${p.restored} moved tag${p.restored === 1 ? '' : 's'} put back`,
      ...(p.kept.length === 0
        ? []
        : [`kept on the new index (they held nothing before): ${p.kept.join(', ')}`]),
      ...(p.failed.length === 0 ? [] : [`could not be put back: ${p.failed.join(', ')}`])
    ]
  }

  /** Run a step for one image name; a failure is that name's. */
  async in<T>(name: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step()
    } catch (error) {
      this.failed ??= name
      throw error
    }
  }
}
