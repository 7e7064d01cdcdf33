#!/usr/bin/env node
/**
 * The test bed's token service, standing in for Docker Hub's auth.docker.io: the registry on
 * 127.0.0.1:5001 answers 401 with a Bearer challenge naming this service, and clients come here
 * with Basic credentials and a scope (`repository:acme/robot:pull,push`). It answers with a JWT
 * signed by the test bed's key (RS256, `kid` in libtrust's key ID format, which distribution 2.8
 * looks the key up by in its root certificate bundle), granting the actions the user may have:
 * `pull,push` for the test bed's user, `pull` only for its pull-only user.
 *
 * Usage: node token-server.mjs LISTEN_ADDR KEY_PEM USERS_JSON ISSUER SERVICE
 * USERS_JSON: {"user": {"sha256": "<hex of the password>", "actions": ["pull", "push"]}}
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { URL, URLSearchParams } from 'node:url'

const [listen, keyFile, usersFile, issuer, service] = process.argv.slice(2)
const key = createPrivateKey(readFileSync(keyFile))
const der = createPublicKey(key).export({ type: 'spki', format: 'der' })

/** libtrust's key ID: base32 of the first 30 bytes of the SHA-256 of the DER public key, in groups of 4. */
function keyId(spki) {
  const bytes = createHash('sha256').update(spki).digest().subarray(0, 30)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const b of bytes) bits += b.toString(2).padStart(8, '0')
  let text = ''
  for (let i = 0; i < bits.length; i += 5) text += alphabet[parseInt(bits.slice(i, i + 5), 2)]
  return text.match(/.{4}/g).join(':')
}
const kid = keyId(der)
const b64url = data => Buffer.from(data).toString('base64url')

function token(subject, access) {
  const now = Math.floor(Date.now() / 1000)
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))
  const claims = b64url(
    JSON.stringify({
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access
    })
  )
  const signature = sign('sha256', Buffer.from(`${header}.${claims}`), key)
  return `${header}.${claims}.${b64url(signature)}`
}

/** The user these credentials name, with the actions it may have; null for wrong ones. */
function user(name, password) {
  if (name === undefined) return { name: '', actions: [] }
  const users = JSON.parse(readFileSync(usersFile, 'utf8'))
  const known = users[name]
  const hash = createHash('sha256').update(password).digest('hex')
  return known !== undefined && known.sha256 === hash ? { name, actions: known.actions } : null
}

/** Basic credentials from a GET's Authorization header: [name, password], or [] for none. */
function basic(authorization) {
  const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '')
  if (m === null) return []
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  return [text.slice(0, colon), text.slice(colon + 1)]
}

/** The request's parameters and credentials: GET with Basic auth, or the OAuth2 POST form. */
async function parse(req, url) {
  if (req.method !== 'POST')
    return { params: url.searchParams, creds: basic(req.headers.authorization) }
  let body = ''
  for await (const chunk of req) body += chunk
  const params = new URLSearchParams(body)
  // grant_type=password, as containerd and BuildKit send it; refresh tokens are not issued here
  if (params.get('grant_type') !== 'password') return { params, creds: null }
  return { params, creds: [params.get('username') ?? '', params.get('password') ?? ''] }
}

let issued = 0
createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', `http://${listen}`)
  if (url.pathname !== '/token') {
    res.writeHead(404).end()
    return
  }
  const { params, creds } = await parse(req, url)
  if (creds === null) {
    res.writeHead(400, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ error: 'unsupported_grant_type' }))
    return
  }
  const who = user(...creds)
  if (who === null) {
    res.writeHead(401, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ details: 'incorrect username or password' }))
    return
  }
  // every requested repository scope, granted as far as the user may
  // OAuth2 forms join several scopes with spaces in one parameter
  const scopes = params.getAll('scope').flatMap(s => s.split(' ').filter(Boolean))
  const access = scopes.flatMap(scope => {
    const [type, name, actions] = scope.split(':')
    if (type !== 'repository' || name === undefined || actions === undefined) return []
    const granted = actions.split(',').filter(a => who.actions.includes(a))
    return granted.length === 0 ? [] : [{ type, name, actions: granted }]
  })
  const t = token(who.name, access)
  issued++
  console.log(
    `token ${issued} for ${who.name || '(anonymous)'}: ${JSON.stringify(access)} (service ${params.get('service')}, ${req.method})`
  )
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(
    JSON.stringify({
      token: t,
      access_token: t,
      expires_in: 300,
      issued_at: new Date().toISOString()
    })
  )
}).listen(Number(listen.split(':')[1]), listen.split(':')[0])
