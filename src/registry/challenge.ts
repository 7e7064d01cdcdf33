/**
 * The `WWW-Authenticate` challenge of a registry's 401, as RFC 7235 writes it and Docker Hub,
 * GHCR, ECR, Harbor and registry:2 send it: `Basic realm="..."` or
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`. Pure.
 */

export interface Challenge {
  readonly scheme: 'basic' | 'bearer'
  readonly realm: string
  readonly service?: string
  readonly scope?: string
  /** `insufficient_scope` when a token was sent but does not grant what the request needs */
  readonly error?: string
}

/** The first Basic or Bearer challenge of a header, or null when it has neither. */
export function parseChallenge(header: string | null): Challenge | null {
  if (header === null) return null
  const m = /^\s*(basic|bearer)\b\s*(.*)$/i.exec(header)
  if (!m) return null
  const params: Record<string, string> = {}
  const param = /([a-z_][a-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/giy
  let p: RegExpExecArray | null
  while ((p = param.exec(m[2])) !== null && p[0] !== '') {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]
  }
  const scheme = m[1].toLowerCase() as Challenge['scheme']
  return {
    scheme,
    realm: params.realm ?? '',
    ...(params.service === undefined ? {} : { service: params.service }),
    ...(params.scope === undefined ? {} : { scope: params.scope }),
    ...(params.error === undefined ? {} : { error: params.error })
  }
}

/** The token scope for a repository: `repository:acme/robot:pull` or `...:pull,push`. */
export function repositoryScope(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`
}
