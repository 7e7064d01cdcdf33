/**
 * What a cell's image is made from, recorded on the image as labels: the digests of its base
 * images and a hash of everything else that goes into the build and its tests. A later run that
 * computes the same two values for a cell finds the published image already made from exactly
 * these inputs (and tested, since only tested images are pushed) and reuses it. Pure.
 */
import { sha256 } from '../oci/manifest.js'
import type { Cell } from './planner.js'
import { LABEL_NAMESPACE } from './labels.js'

export const BASE_DIGEST_LABEL = `${LABEL_NAMESPACE}.base.digest`
export const INPUTS_HASH_LABEL = `${LABEL_NAMESPACE}.inputs.hash`
/** Bumped whenever the action changes how it builds or tests, so older images are rebuilt. */
export const FINGERPRINT_VERSION = 1

export interface BaseDigest {
  readonly image: string
  /** The platform's manifest digest in its registry, or local:<image id> for a local-only base */
  readonly digest: string
}

export interface FingerprintInputs {
  /** The Dockerfile's text */
  readonly dockerfile: string
  /** The hash of the build context's files (see hashContext) */
  readonly contextHash: string
  /** The user's labels (the run's own labels, such as created, change every run and are left out) */
  readonly userLabels: readonly (readonly [string, string])[]
  /** Network of the RUN steps, and of the smoke tests */
  readonly network: string
  readonly smokeNetwork: string
  /** The attestations made with the image (provenance mode, SBOM generator); none when absent */
  readonly attestations?: string
}

export interface Fingerprint {
  readonly baseDigest: string
  readonly inputsHash: string
}

/** The label value for a cell's bases: `image@digest` for each, in Dockerfile order. */
export function baseDigestValue(bases: readonly BaseDigest[]): string {
  return bases.map(b => `${b.image}@${b.digest}`).join(',')
}

export function fingerprint(
  cell: Pick<Cell, 'platform' | 'buildArgs' | 'tests'>,
  bases: readonly BaseDigest[],
  inputs: FingerprintInputs
): Fingerprint {
  const hashed = JSON.stringify({
    version: FINGERPRINT_VERSION,
    platform: cell.platform,
    dockerfile: inputs.dockerfile,
    context: inputs.contextHash,
    buildArgs: cell.buildArgs,
    labels: inputs.userLabels,
    network: inputs.network,
    smokeNetwork: inputs.smokeNetwork,
    // a changed test must run: the published image was tested with the old ones
    tests: cell.tests,
    // turning attestations on rebuilds once: the published image has none to carry over
    ...(inputs.attestations === undefined ? {} : { attestations: inputs.attestations })
  })
  return { baseDigest: baseDigestValue(bases), inputsHash: sha256(hashed) }
}

export function fingerprintLabels(fp: Fingerprint): [string, string][] {
  return [
    [BASE_DIGEST_LABEL, fp.baseDigest],
    [INPUTS_HASH_LABEL, fp.inputsHash]
  ]
}

/** Why an image's labels do not match a fingerprint, or null when they do. */
export function mismatch(labels: Readonly<Record<string, string>>, fp: Fingerprint): string | null {
  const base = labels[BASE_DIGEST_LABEL]
  const inputs = labels[INPUTS_HASH_LABEL]
  if (base === undefined || inputs === undefined) return 'it has no build fingerprint labels'
  if (base !== fp.baseDigest) return 'its base image changed'
  if (inputs !== fp.inputsHash) return 'its build inputs changed'
  return null
}
