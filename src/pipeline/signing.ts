/**
 * sign: each published index is signed with cosign by digest, before any tag moves to it, and its
 * signature verified at once. Everything that can fail without a registry fails before the first
 * build: keyless without GitHub's OIDC token, a key whose password is wrong, no cosign to be had.
 */
import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { Inputs } from '../inputs/names.js'
import type { Plan } from '../plan/planner.js'
import { phasesOf, type RunSettings } from '../plan/settings.js'
import type { Signer } from '../publish/publish.js'
import {
  Cosign,
  decideCosign,
  installCosign,
  installedCosign,
  verifyCommand,
  type SignMode
} from '../tooling/cosign.js'
import { cancellableToolCache } from './deps.js'
import type { Run } from './run.js'

/**
 * Whether this job signs, and how. Throws, before anything runs, when keyless signing has no
 * OIDC token to sign with. Pure.
 */
export function signingMode(
  settings: Pick<RunSettings, 'sign'>,
  plan: Pick<Plan, 'push' | 'mode'>,
  env: Readonly<Record<string, string | undefined>>
): SignMode | null {
  // a build job stages; the merge job (or a mode all job) publishes, and signs
  if (settings.sign === 'false' || !plan.push || !phasesOf(plan.mode).sign) return null
  if (settings.sign === 'keyless' && !env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new Error(
      `Input "${Inputs.Sign}": keyless signing needs GitHub's OIDC token, which this job has none of; give the job "permissions: id-token: write" (a pull request from a fork never gets one), or sign with a key (sign: key). Nothing was built.`
    )
  }
  return settings.sign
}

/** cosign installed (or kept) and ready to sign; the Signer publishing signs each index with. */
export async function setUpSigning(mode: SignMode, run: Run): Promise<Signer> {
  const d = run.deps
  const { rt } = d
  const wanted = run.settings.tools.cosign
  const installed = await installedCosign(d.exec)
  const decision = decideCosign(wanted.version, installed)
  let bin = 'cosign'
  const major = decision.action === 'keep' ? semver.coerce(decision.version)?.major : undefined
  if (major !== undefined && major < 3) {
    throw new Error(
      `cosign ${decision.version} is installed and satisfies cosign-version ${wanted.version}, but signing needs cosign 3 (its offline signing configuration); require >=3.0.0. Nothing was built.`
    )
  }
  if (decision.action === 'keep') {
    rt.info(
      decision.version === 'unknown'
        ? `Using the installed cosign, which does not say its version (cosign-version: ${wanted.version})`
        : `cosign ${decision.version} satisfies ${wanted.version}`
    )
  } else {
    rt.info(`${decision.reason}: installing cosign ${decision.version}`)
    bin = await installCosign({
      version: decision.version,
      nodeArch: rt.hostArch,
      sha256: wanted.sha256,
      cache: cancellableToolCache(d),
      exec: d.exec,
      log: m => rt.info(m)
    })
  }
  const signer = {
    server: (rt.env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    repository: rt.env.GITHUB_REPOSITORY ?? ''
  }
  const cosign = new Cosign(d.exec, {
    mode,
    bin,
    dockerConfig: d.dockerConfig,
    key: run.secrets.cosignKey,
    password: run.secrets.cosignPassword,
    signer,
    dir: await mkdtemp(path.join(d.tempDir, 'cosign-'))
  })
  await cosign.prepare()
  rt.info(
    mode === 'key'
      ? `Signing by key with cosign; its public key:\n${cosign.publicKey}`
      : `Signing keyless with cosign as a workflow of ${signer.repository || 'this repository'} (Fulcio certificate, Rekor log entry)`
  )
  return {
    async sign(ref, reuse) {
      // each image name's own registry (several registries: not all need be over plain HTTP)
      const http = run.registries.plainHttp(ref.split('@')[0])
      const verify = verifyCommand(mode, ref, signer, http)
      // an unchanged index signed by an earlier run keeps that signature
      if (reuse && (await cosign.verify(ref, http)).ok) return { verify, already: true }
      await cosign.sign(ref, http)
      const checked = await cosign.verify(ref, http)
      if (!checked.ok) {
        throw new Error(`the signature of ${ref} does not verify: ${checked.why}`)
      }
      return { verify, already: false }
    }
  }
}
