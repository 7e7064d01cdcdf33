/**
 * cosign: find the installed cosign's version, keep it when it satisfies the required range,
 * otherwise install a pinned release with @actions/tool-cache, checked against its sha256 whether
 * downloaded or cached, and check that it runs and reports that version. Then sign an index by
 * digest and verify the signature, by key or keyless.
 *
 * By key, nothing leaves the runner but the signature pushed beside the index: no transparency
 * log upload (a private project's digests stay private), so a signature is verified with the
 * public key and --insecure-ignore-tlog. The private key and its password go to cosign in its
 * environment (--key env://...), never on its command line. Keyless uses cosign's defaults:
 * Fulcio certifies the workflow's identity from GitHub's OIDC token, Rekor logs the signature.
 * The signing commands are cosign 3's (signing-config, trusted-root), hence the default range.
 */
import { Inputs } from '../inputs/names.js'
import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { DEFAULT_COSIGN_VERSION } from '../inputs/config.js'
import semver from 'semver'
import type { ToolCache } from './download.js'
import { check, type Exec, type ExecResult } from './exec.js'
import { lastLine } from '../text/text.js'
import {
  decideTool,
  newestPinned,
  pinnedVersions,
  releaseFile,
  type ToolDecision
} from './releases.js'

/** The cosign versions accepted when the workflow does not say */
export const DEFAULT_COSIGN_RANGE = DEFAULT_COSIGN_VERSION
/** The newest cosign release this version of the action pins */
export const KNOWN_LATEST_COSIGN = newestPinned('cosign')

/**
 * The version in `cosign version` output: its `GitVersion:` line (`v3.1.3` from a release,
 * `3.1.1` from Debian's build), else a line that is only a version. Null when there is none.
 */
export function parseCosignVersion(output: string): string | null {
  const line =
    /^\s*GitVersion:\s*(\S+)/m.exec(output)?.[1] ??
    /^\s*(v?\d+\.\d+\.\d+\S*)\s*$/m.exec(output)?.[1]
  if (line === undefined) return null
  return semver.valid(semver.clean(line) ?? '') ?? semver.coerce(line)?.version ?? null
}

/**
 * The cosign `command` runs: null when it is not installed or does not run; its version, or
 * null for a build that does not say (Debian's prints `GitVersion: devel`).
 */
export async function installedCosign(
  exec: Exec,
  command = 'cosign'
): Promise<{ version: string | null } | null> {
  const r = await exec.run(command, ['version'])
  if (r.code !== 0) return null
  return { version: parseCosignVersion(`${r.stdout}\n${r.stderr}`) }
}

/**
 * What to do about cosign, given the required range (or version, or `latest`) and the installed
 * one. `*` keeps any cosign that runs, also one that does not say its version. Pure.
 */
export function decideCosign(
  required: string,
  installed: { version: string | null } | null
): ToolDecision {
  const range = required || DEFAULT_COSIGN_RANGE
  if (range.trim() === '*' && installed !== null) {
    return { action: 'keep', version: installed.version ?? 'unknown' }
  }
  const decision = decideTool('cosign', range, installed?.version ?? null, pinnedVersions('cosign'))
  if (decision.action === 'install' && installed !== null && installed.version === null) {
    return {
      ...decision,
      reason: `the installed cosign does not say its version (cosign-version: "*" would keep it)`
    }
  }
  return decision
}

export interface CosignInstallOptions {
  readonly version: string
  /** Node's os.arch() of the runner */
  readonly nodeArch: string
  /** The sha256 of the file at the URL; empty or absent: the pinned one */
  readonly sha256?: string
  readonly cache: ToolCache
  readonly exec: Exec
  readonly log: (message: string) => void
}

/** Installs cosign `version` into the tool cache; returns the absolute path of the binary. */
export async function installCosign(o: CosignInstallOptions): Promise<string> {
  const what = `cosign ${o.version}`
  const bin = await releaseFile({
    tool: 'cosign',
    cacheName: 'cosign',
    version: o.version,
    nodeArch: o.nodeArch,
    urlTemplate: '',
    sha256: o.sha256,
    input: Inputs.CosignSha256,
    cache: o.cache,
    log: o.log
  })
  await chmod(bin, 0o755)
  const r = await check(o.exec, `Running the installed ${what}`, bin, ['version'])
  const got = parseCosignVersion(`${r.stdout}\n${r.stderr}`)
  if (got !== o.version) {
    throw new Error(
      `The installed cosign reports ${got ?? 'no version'} where ${o.version} was installed ` +
        `(${bin}).`
    )
  }
  return bin
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** What went wrong, from cosign's output: its `Error:` line (it ends with a line of its own). Pure. */
export function cosignError(r: Pick<ExecResult, 'stdout' | 'stderr' | 'code'>): string {
  const lines = `${r.stderr}\n${r.stdout}`.split('\n').map(l => l.trim())
  const error = lines.filter(l => l.startsWith('Error: ')).pop()
  return error?.slice('Error: '.length) ?? (lastLine(r.stderr || r.stdout) || `exit code ${r.code}`)
}

/** GitHub's OIDC issuer: the certificate of a keyless signature made in a workflow names it */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com'
/** The environment variable the private key is handed to cosign in */
const KEY_VAR = 'COSIGN_PRIVATE_KEY'

export type SignMode = 'key' | 'keyless'

/**
 * Whose keyless signature verifies: a workflow run in `repository` (owner/name) on `server`.
 * The certificate names the workflow file that ran (a reusable workflow's own, not the caller's),
 * so the workflow is matched by the server only, and the repository by its own extension.
 */
export interface KeylessSigner {
  readonly server: string
  readonly repository: string
}

export interface CosignSetup {
  readonly mode: SignMode
  /** The cosign binary */
  readonly bin: string
  /** Where the registry credentials are (config.json, as docker login writes it) */
  readonly dockerConfig: string
  /** key: the private key (PEM) and its password; secrets, handed on in the environment */
  readonly key?: string
  readonly password?: string
  /** keyless: who may have signed: a workflow run in this repository, on this server */
  readonly signer?: KeylessSigner
  /** A private folder for the public key and the offline signing configuration */
  readonly dir: string
}

/** `cosign sign` arguments for `ref` (image@digest). Pure. */
export function signArgs(
  mode: SignMode,
  ref: string,
  files: { config: string; root: string },
  http: boolean
): string[] {
  const args = ['sign', '--yes']
  if (mode === 'key') {
    // a signing configuration and trusted root without services: no Rekor, no TUF download
    args.push(
      `--key=env://${KEY_VAR}`,
      `--signing-config=${files.config}`,
      `--trusted-root=${files.root}`
    )
  }
  if (http) args.push('--allow-http-registry')
  return [...args, '--', ref]
}

/** `cosign verify` arguments, as the action runs them (`pub`: the public key file). Pure. */
export function verifyArgs(
  mode: SignMode,
  ref: string,
  identity: { pub?: string; signer?: KeylessSigner },
  http: boolean
): string[] {
  const args = ['verify']
  if (mode === 'key') {
    args.push(`--key=${identity.pub ?? 'cosign.pub'}`, '--insecure-ignore-tlog=true')
  } else {
    args.push(
      `--certificate-identity-regexp=^${escapeRegExp(identity.signer?.server ?? 'https://github.com')}/`,
      `--certificate-github-workflow-repository=${identity.signer?.repository ?? ''}`,
      `--certificate-oidc-issuer=${GITHUB_OIDC_ISSUER}`
    )
  }
  if (http) args.push('--allow-http-registry')
  return [...args, '--', ref]
}

/** The verify command a user runs (with the public key saved as cosign.pub). Pure. */
export function verifyCommand(
  mode: SignMode,
  ref: string,
  signer: KeylessSigner | undefined,
  http: boolean
): string {
  return [
    'cosign',
    ...verifyArgs(mode, ref, { pub: 'cosign.pub', ...(signer ? { signer } : {}) }, http)
  ]
    .filter(a => a !== '--')
    .join(' ')
}

/** Signs and verifies with one cosign, key or keyless. */
export class Cosign {
  private files = { config: '', root: '', pub: '' }
  /** The public key (key mode), once prepared */
  publicKey = ''

  constructor(
    private readonly exec: Exec,
    private readonly o: CosignSetup
  ) {}

  private env(): Record<string, string> {
    return {
      DOCKER_CONFIG: this.o.dockerConfig,
      ...(this.o.mode === 'key'
        ? { [KEY_VAR]: this.o.key ?? '', COSIGN_PASSWORD: this.o.password ?? '' }
        : {})
    }
  }

  private async run(what: string, args: readonly string[]): Promise<ExecResult> {
    const r = await this.exec.run(this.o.bin, args, { env: this.env() })
    if (r.code !== 0) throw new Error(`${what} failed: ${cosignError(r)}`)
    return r
  }

  /**
   * Before any build: key mode reads the public key out of the private one (a wrong password or
   * a key that is not cosign's fails here) and writes the offline signing configuration.
   */
  async prepare(): Promise<void> {
    if (this.o.mode !== 'key') return
    const r = await this.run('Reading the public key of cosign-key (is cosign-password right?)', [
      'public-key',
      `--key=env://${KEY_VAR}`
    ])
    this.publicKey = r.stdout.trim()
    this.files = {
      config: path.join(this.o.dir, 'signing-config.json'),
      root: path.join(this.o.dir, 'trusted-root.json'),
      pub: path.join(this.o.dir, 'cosign.pub')
    }
    await writeFile(this.files.pub, `${this.publicKey}\n`, { mode: 0o600 })
    await this.run('Writing an offline signing configuration', [
      'signing-config',
      'create',
      `--out=${this.files.config}`
    ])
    await this.run('Writing an offline trusted root', [
      'trusted-root',
      'create',
      `--out=${this.files.root}`
    ])
  }

  async sign(ref: string, http: boolean): Promise<void> {
    await this.run(`Signing ${ref} with cosign`, signArgs(this.o.mode, ref, this.files, http))
  }

  /** Whether the signature of `ref` verifies; the reason when not. */
  async verify(ref: string, http: boolean): Promise<{ ok: boolean; why: string }> {
    const args = verifyArgs(
      this.o.mode,
      ref,
      { pub: this.files.pub, ...(this.o.signer ? { signer: this.o.signer } : {}) },
      http
    )
    const r = await this.exec.run(this.o.bin, args, { env: this.env() })
    return { ok: r.code === 0, why: cosignError(r) }
  }
}
