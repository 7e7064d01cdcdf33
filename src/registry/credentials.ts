/**
 * Where the registry client finds credentials for a registry when the action's `username` and
 * `password` are not for it: the Docker client config an earlier step logged in with
 * (docker/login-action, `docker login`), read the way the docker CLI reads it: a credential
 * helper for that registry (`credHelpers`), else the default store (`credsStore`), else the
 * `auths` entry. No credentials is an answer too: public images are read anonymously.
 */
import { TIMED_OUT_CODE, type Exec } from '../tooling/exec.js'
import { DOCKER_HUB } from '../oci/reference.js'

export interface Credentials {
  readonly username: string
  readonly password: string
  /** Where they came from, for messages (never the secret) */
  readonly source: string
}

export interface CredentialSources {
  /** The Docker client config folder (DOCKER_CONFIG, or ~/.docker) */
  readonly dockerConfig: string
  readonly readText: (path: string) => Promise<string | undefined>
  /** Runs `docker-credential-<helper> get` with the server on stdin */
  readonly exec: Exec
  /** How long a credential helper has to answer (HELPER_TIMEOUT_MS) */
  readonly helperTimeoutMs?: number
}

/** A helper that has not answered in a minute is waiting for something that will not come. */
export const HELPER_TIMEOUT_MS = 60_000

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>
  credHelpers?: Record<string, string>
  credsStore?: string
}

/** Docker Hub's credentials live under its legacy index address. */
const HUB_KEY = 'https://index.docker.io/v1/'

/** The key docker files a registry's credentials under. Pure. */
export function configKey(registry: string): string {
  return registry === DOCKER_HUB ? HUB_KEY : registry
}

/** A config key as the host it names (`https://ghcr.io/v2/` is ghcr.io), as docker matches them. Pure. */
export function keyHost(key: string): string {
  if (key === HUB_KEY) return DOCKER_HUB
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')
}

/** Basic credentials from an `auths` entry. Pure. */
export function authEntry(entry: {
  auth?: string
  username?: string
  password?: string
}): { username: string; password: string } | null {
  if (entry.auth !== undefined && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = text.indexOf(':')
    if (colon <= 0) return null
    return { username: text.slice(0, colon), password: text.slice(colon + 1) }
  }
  if (entry.username && entry.password)
    return { username: entry.username, password: entry.password }
  return null
}

export async function dockerConfigCredentials(
  registry: string,
  src: CredentialSources
): Promise<Credentials | null> {
  const file = `${src.dockerConfig}/config.json`
  const text = await src.readText(file)
  if (text === undefined) return null
  let config: DockerConfigFile
  try {
    config = JSON.parse(text) as DockerConfigFile
  } catch {
    throw new Error(`${file} is not valid JSON: cannot read the credentials for ${registry}`)
  }
  const key = configKey(registry)
  const helper =
    Object.entries(config.credHelpers ?? {}).find(([k]) => keyHost(k) === registry)?.[1] ??
    config.credsStore
  if (helper !== undefined && helper !== '') {
    const timeoutMs = src.helperTimeoutMs ?? HELPER_TIMEOUT_MS
    const r = await src.exec.run(`docker-credential-${helper}`, ['get'], { input: key, timeoutMs })
    if (r.code === TIMED_OUT_CODE) {
      throw new Error(
        `the credential helper docker-credential-${helper} did not answer for ${registry} within ${timeoutMs / 1000} s`
      )
    }
    if (r.code !== 0) {
      if (/credentials not found/i.test(r.stdout + r.stderr)) return null
      throw new Error(
        `the credential helper docker-credential-${helper} failed for ${registry} (exit ${r.code})`
      )
    }
    let answer: { Username?: string; Secret?: string }
    try {
      answer = JSON.parse(r.stdout) as typeof answer
    } catch {
      // never quote what it printed: it may hold the secret
      throw new Error(
        `the credential helper docker-credential-${helper} answered for ${registry} with something that is not JSON`
      )
    }
    // an identity token (Username "<token>") is for docker's own OAuth flow: not used here
    if (!answer.Username || !answer.Secret || answer.Username === '<token>') return null
    return {
      username: answer.Username,
      password: answer.Secret,
      source: `docker-credential-${helper}`
    }
  }
  const entry = Object.entries(config.auths ?? {}).find(([k]) => keyHost(k) === registry)?.[1]
  const basic = entry === undefined ? null : authEntry(entry)
  return basic === null ? null : { ...basic, source: file }
}
