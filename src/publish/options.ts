/** What publishing is handed: the engine, the registry client, and where it reports. */
import type { Registries } from '../registry/registries.js'
import type { Docker } from '../tooling/docker.js'
import type { Exec } from '../tooling/exec.js'

export interface PublishOptions {
  readonly docker: Docker
  /** For unpacking saved images (tar) */
  readonly exec: Exec
  readonly registries: Registries
  /** Where saved images are unpacked while they are pushed */
  readonly tempDir: string
  /** The first image name: tested images are pushed there */
  readonly image: string
  /** The other image names: each gets copies by digest, then the same tags, all or nothing */
  readonly mirrors?: readonly string[]
  readonly platforms: readonly string[]
  readonly log: (message: string) => void
  readonly warn: (message: string) => void
  /** Told when a cell's image starts and ends being pushed (the run's timeline) */
  readonly pushing?: (cellId: string, done: boolean) => void
  /**
   * The engine pushes a tested image itself (`docker push`), reading and sending only what the
   * registry lacks; the registry client pushes it when the engine cannot. False: the client only
   */
  readonly enginePush?: boolean
  /**
   * Signs an index in the repository (image@digest) and verifies the signature, before any tag
   * moves to it; none: not signed
   */
  readonly sign?: Signer
}

/** Signs `image@digest` and checks the signature; throws when either fails. */
export interface Signer {
  /** Signed (or, with `reuse`, found signed already) and verified: how a user verifies it */
  sign(ref: string, reuse: boolean): Promise<SignOutcome>
}

export interface SignOutcome {
  /** The command a user runs to verify the published index */
  readonly verify: string
  /** The index was already signed (an unchanged index): nothing new was signed */
  readonly already: boolean
}
