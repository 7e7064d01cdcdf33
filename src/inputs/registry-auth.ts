/**
 * registry-auth: credentials for each registry the images go to, as a YAML list in the style of
 * Docker's reusable workflows:
 *
 *   - registry: ghcr.io
 *     username: acme-bot
 *     password: <a token>
 *
 * `registry` defaults to Docker Hub. The input is a secret: its passwords are masked (see
 * registryAuthSecrets) before anything parses it, and no error quotes a password. Pure.
 */
import { parse } from 'yaml'
import { loginRegistry, parseReference } from '../oci/reference.js'
import { InputError, quote } from './errors.js'
import { Inputs } from './names.js'

/** Credentials for one registry (the password is a secret). */
export interface RegistryLogin {
  readonly registry: string
  readonly username: string
  readonly password: string
}

const KEYS = ['registry', 'username', 'password']

/**
 * The registry a registry-auth entry names, as the action logs in to it (Docker Hub's names fold
 * to docker.io); throws a reason when it is not a registry host[:port].
 */
function registryOf(value: string): string {
  const ref = parseReference(`${value}/x`)
  if (typeof ref === 'string' || ref.registry !== value.replace(/\/+$/, '')) {
    throw new Error(`registry ${quote(value)} is not a registry host[:port] (e.g. ghcr.io)`)
  }
  return loginRegistry(ref)
}

/** One entry of the list, checked. */
function entryOf(item: unknown, n: number): RegistryLogin {
  const where = `entry ${n}`
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new Error(`${where} is not a mapping of registry, username and password`)
  }
  const fields = item as Record<string, unknown>
  const unknown = Object.keys(fields).filter(k => !KEYS.includes(k))
  if (unknown.length > 0) {
    throw new Error(`${where} has ${unknown.map(k => quote(k)).join(', ')}; use ${KEYS.join(', ')}`)
  }
  const text = (key: string): string => {
    const v = fields[key]
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new Error(`${where}: ${key} is not a string`)
    }
    return String(v)
  }
  const registry = registryOf(text('registry').trim() || 'docker.io')
  const username = text('username').trim()
  const password = text('password')
  if (username === '') throw new Error(`${where} (${registry}) has no username`)
  if (password === '') throw new Error(`${where} (${registry}) has no password`)
  if (/[\r\n]/.test(username)) throw new Error(`${where} (${registry}): username has a line break`)
  return { registry, username, password }
}

/** Parse registry-auth: one login per registry, none twice. */
export function parseRegistryAuth(value: string): RegistryLogin[] {
  if (value.trim() === '') return []
  let doc: unknown
  try {
    // the YAML parser's messages quote the text: never shown, it holds passwords
    doc = parse(value, { prettyErrors: false })
  } catch {
    throw new InputError(
      Inputs.RegistryAuth,
      'is not valid YAML; give a list of entries with registry, username and password'
    )
  }
  try {
    if (!Array.isArray(doc)) {
      throw new Error(
        'is not a list; give entries like "- registry: ghcr.io" with username and password'
      )
    }
    const logins = doc.map((item, i) => entryOf(item, i + 1))
    const seen = new Set<string>()
    for (const l of logins) {
      if (seen.has(l.registry))
        throw new Error(`names ${l.registry} twice; give one entry per registry`)
      seen.add(l.registry)
    }
    return logins
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError(Inputs.RegistryAuth, (error as Error).message)
  }
}

/**
 * The passwords in a registry-auth value, for masking before it is parsed: each `password:`
 * value as written, and unquoted, even when the rest of the YAML is not valid. Pure.
 */
export function registryAuthSecrets(value: string): string[] {
  const found: string[] = []
  for (const line of value.split(/\r?\n/)) {
    const m = /^\s*(?:-\s*)?["']?password["']?\s*:\s*(.*?)\s*$/.exec(line)
    if (m === null || m[1] === '') continue
    found.push(m[1])
    const inner = /^(["'])(.*)\1$/.exec(m[1])
    if (inner !== null && inner[2] !== '') found.push(inner[2])
  }
  try {
    const doc: unknown = parse(value, { prettyErrors: false })
    if (Array.isArray(doc)) {
      for (const item of doc) {
        const p = (item as { password?: unknown } | null)?.password
        if (typeof p === 'string' || typeof p === 'number') found.push(String(p))
      }
    }
  } catch {
    // not YAML: the lines above are what there is
  }
  return [...new Set(found.filter(s => s !== ''))]
}
