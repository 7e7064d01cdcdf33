/**
 * A scripted Docker engine and registry behind the Exec seam, for unit tests of the pipeline's
 * phases: the docker and buildx commands the action runs, answered the way the real engines
 * answer them (the containerd image store names an image by its manifest digest, the classic one
 * by its config digest), with an in-memory registry that answers the distribution API's manifest
 * and blob requests (`fetch`). It is a stand-in: the end-to-end tests run the real engines and
 * registry.
 */
import { createHash } from 'node:crypto'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Exec, ExecResult } from '../../src/tooling/exec.js'
import type { Call } from './fake-exec.js'

/** Every fake image has one layer: compressed on the containerd store, a plain tar in a classic save */
const LAYER = 'a fake layer'
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip'
const MEDIA_OCI = 'application/vnd.oci.image.manifest.v1+json'
const sha = (text: string | Buffer): string =>
  `sha256:${createHash('sha256').update(text).digest('hex')}`
const MACHINE: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64' }

interface LocalImage {
  readonly config: string
  readonly manifest: string
  readonly platform: string
}

export interface FakeDockerOptions {
  readonly store?: 'classic' | 'containerd'
  readonly buildx?: string
  readonly driver?: string
  /** An engine before API 1.48: image inspect has no Descriptor (no config digest on containerd's store) */
  readonly noDescriptor?: boolean
  /** Answer a command before the fake engine does (a fault, a failed build, a failed test) */
  readonly override?: (call: Call) => Partial<ExecResult> | undefined
  /** Called for every command, before it is answered (to cancel a run mid-way, say) */
  readonly onCall?: (call: Call) => void
  /** Answer an HTTP request before the fake registry does (a fault, a refusal) */
  readonly http?: (method: string, url: URL) => Response | undefined
  /**
   * Registries of other hosts than registry.test (the engine's) keep blobs and manifests of their
   * own: a digest is found only where it was written (several registries). Default: one store
   */
  readonly separateHosts?: boolean
}

/** The short ID `docker push` names the fake layer by: its blob's digest, or (classic) its diff ID */
export const FAKE_LAYER_ID = (store: 'classic' | 'containerd'): string =>
  (store === 'containerd' ? sha(LAYER) : sha(`diff:${LAYER}`)).slice(7, 19)

export interface FakeDocker extends Exec {
  readonly calls: Call[]
  /** Registry content: reference (name:tag or name@digest) -> manifest JSON */
  readonly registry: Map<string, string>
  /** Image configs by digest: platform and labels */
  readonly configs: Map<
    string,
    { os: string; architecture: string; labels: Record<string, string> }
  >
  /** Commands as argument lists, for assertions */
  commands(): string[][]
  /** Registry requests, as `METHOD host/repo/kind/ref` */
  readonly requests: string[]
  /** The distribution API over `registry` and the configs, for the registry client */
  readonly fetch: typeof fetch
  /** Put a multi-platform base image in the registry (an index of per-platform manifests) */
  addBase(ref: string, platforms: readonly string[]): void
  /**
   * The builder's cache mounts, by id: a cell build whose Dockerfile has `--mount=type=cache,id=X`
   * (with `${TARGETARCH}` substituted) adds a line to X; the helper builds restore and save them
   */
  readonly mounts: Map<string, Buffer>
}

/** An `http` override: the registry denies every upload session (credentials that may only pull). */
export function denyUploads(method: string, url: URL): Response | undefined {
  return method === 'POST' && url.pathname.endsWith('/blobs/uploads/')
    ? new Response(
        '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
        { status: 403 }
      )
    : undefined
}

export function fakeDocker(o: FakeDockerOptions = {}): FakeDocker {
  const store = o.store ?? 'classic'
  const calls: Call[] = []
  const registry = new Map<string, string>()
  const configs: FakeDocker['configs'] = new Map()
  const local = new Map<string, LocalImage>()
  const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' })
  const fail = (stderr: string): ExecResult => ({ code: 1, stdout: '', stderr })
  const repoOf = (ref: string): string => ref.replace(/@.*$/, '').replace(/:[^:/]+$/, '')

  /** An image manifest as this store pushes it: OCI on containerd's, Docker v2 on the classic */
  const manifestOf = (config: string): string =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType:
        store === 'containerd'
          ? 'application/vnd.oci.image.manifest.v1+json'
          : 'application/vnd.docker.distribution.manifest.v2+json',
      config: { digest: config, size: blobs.get(config)?.length ?? 0 },
      layers: [{ mediaType: LAYER_TYPE, digest: sha(LAYER), size: LAYER.length }]
    })

  const blobs = new Map<string, string | Buffer>([[sha(LAYER), LAYER]])
  const putManifest = (repo: string, platform: string, labels: Record<string, string>) => {
    const [os, architecture] = platform.split('/')
    const blob = JSON.stringify({ os, architecture, config: { Labels: labels }, n: configs.size })
    const config = sha(blob)
    blobs.set(config, blob)
    configs.set(config, { os, architecture, labels })
    const body = manifestOf(config)
    registry.set(`${repo}@${sha(body)}`, body)
    return { config, manifest: sha(body), body }
  }

  const lookup = (ref: string): string | undefined => {
    const body = registry.get(ref)
    if (body !== undefined) return body
    // a digest of any repository's manifest is readable through the same registry here
    const at = ref.indexOf('@')
    if (at < 0) return undefined
    const host = ref.slice(0, ref.indexOf('/'))
    for (const [k, v] of registry) {
      if (o.separateHosts === true && !k.startsWith(`${host}/`)) continue
      if (k.endsWith(ref.slice(at))) return v
    }
    return undefined
  }
  /** What a manifest refers to that the host lacks (as a registry checks a PUT), if anything */
  const missingOf = (host: string, repo: string, text: string): string | undefined => {
    const doc = JSON.parse(text) as {
      config?: { digest: string }
      layers?: { digest: string }[]
      manifests?: { digest: string }[]
    }
    const blobRefs = [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]
    const gone = blobRefs.find(b => !blobsOf(host).has(b.digest))
    if (gone !== undefined) return gone.digest
    return doc.manifests?.find(m => lookup(`${host}/${repo}@${m.digest}`) === undefined)?.digest
  }
  /** The blobs a registry host holds: the engine's registry.test shares the engine's */
  const hostBlobs = new Map<string, Map<string, string | Buffer>>()
  const blobsOf = (host: string): Map<string, string | Buffer> => {
    if (o.separateHosts !== true || host === 'registry.test') return blobs
    let own = hostBlobs.get(host)
    if (own === undefined) hostBlobs.set(host, (own = new Map()))
    return own
  }

  const mounts = new Map<string, Buffer>()
  /** A cell build adds to each cache mount its Dockerfile names */
  const useMounts = (file: string, platform: string): void => {
    if (!existsSync(file)) return
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/--mount=type=cache,id=([^,\s]+)/g)) {
      const id = m[1].replace('${TARGETARCH}', platform.split('/')[1])
      const line = Buffer.from(`an object built for ${platform}\n`)
      mounts.set(id, Buffer.concat([mounts.get(id) ?? Buffer.alloc(0), line]))
    }
  }
  /** A helper build (--output type=local): the restore or save of cache mounts */
  const helperBuild = (args: readonly string[], dest: string): ExecResult => {
    const dockerfile = readFileSync(args[args.indexOf('--file') + 1], 'utf8')
    const context = args[args.length - 1]
    mkdirSync(dest, { recursive: true })
    for (const [, id, i] of dockerfile.matchAll(/type=cache,id=([^,\s]+),target=\/rma\/(\d+)/g)) {
      if (dockerfile.includes(' AS save')) {
        // contents over the cap (`head -c`) are dropped and du's size written instead
        const cap = Number(/head -c (\d+)/.exec(dockerfile)?.[1] ?? Infinity)
        const bytes = mounts.get(id) ?? Buffer.alloc(0)
        if (bytes.length >= cap)
          writeFileSync(path.join(dest, `${i}.over`), `${Math.ceil(bytes.length / 1024)}\n`)
        else writeFileSync(path.join(dest, `${i}.tar`), bytes)
        continue
      }
      const tar = path.join(context, `${i}.tar`)
      const has = (mounts.get(id)?.length ?? 0) > 0
      if (existsSync(tar) && !has) mounts.set(id, readFileSync(tar))
      const probe = has ? 'full' : 'empty'
      writeFileSync(path.join(dest, i), !existsSync(tar) ? probe : has ? 'kept' : 'restored')
    }
    return ok('#1 [internal] load build definition\n#1 DONE 0.0s\n')
  }

  const answer = (args: readonly string[]): ExecResult => {
    const [a, b, c] = args
    const output = args.includes('--output') ? args[args.indexOf('--output') + 1] : ''
    if (a === 'buildx' && b === 'build' && output.startsWith('type=local,dest=')) {
      return helperBuild(args, output.slice('type=local,dest='.length))
    }
    if (a === 'info') {
      const driverStatus =
        store === 'containerd'
          ? [['driver-type', 'io.containerd.snapshotter.v1']]
          : [['Backing Filesystem', 'extfs']]
      return ok(JSON.stringify({ ServerVersion: '28.5.2', DriverStatus: driverStatus }))
    }
    if (a === 'buildx' && b === 'version') {
      return ok(`github.com/docker/buildx v${o.buildx ?? '0.29.1'} abc\n`)
    }
    if (a === 'buildx' && b === 'inspect') {
      return ok(`Name: default\nDriver: ${o.driver ?? 'docker'}\n`)
    }
    if (a === 'buildx' && b === 'build') {
      const flag = (name: string): string => args[args.indexOf(name) + 1]
      const platform = flag('--platform')
      const labels = Object.fromEntries(
        args
          .flatMap((x, i) => (x === '--label' ? [args[i + 1]] : []))
          .map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
      )
      useMounts(flag('--file'), platform)
      const built = putManifest('local', platform, labels)
      const tag = flag('--tag')
      local.set(tag, { config: built.config, manifest: built.manifest, platform })
      writeFileSync(flag('--iidfile'), `${built.config}\n`)
      return ok('#1 [1/2] FROM base\n#1 DONE 0.1s\n')
    }
    if (a === 'image' && b === 'inspect') {
      const ref = args[args.length - 1]
      const image =
        local.get(ref) ??
        [...local.values()].find(i => (store === 'containerd' ? i.manifest : i.config) === ref)
      if (image === undefined)
        return fail(`Error response from daemon: No such image: ${args.at(-1)}`)
      const [os, architecture] = image.platform.split('/')
      const id = store === 'containerd' ? image.manifest : image.config
      const format = args[args.indexOf('--format') + 1]
      if (format === '{{.Id}}') return ok(`${id}\n`)
      if (format === '{{json .RootFS.Layers}}') return ok(`["${sha(`diff:${LAYER}`)}"]\n`)
      return ok(
        JSON.stringify({
          Id: id,
          Os: os,
          Architecture: architecture,
          Size: 1000,
          ...(store === 'containerd' && o.noDescriptor !== true
            ? { Descriptor: { annotations: { 'config.digest': image.config } } }
            : {})
        })
      )
    }
    if (a === 'run' && args.includes('--privileged')) return ok()
    if (a === 'run') {
      const platform = args[args.indexOf('--platform') + 1]
      const command = args.slice(args.indexOf('--') + 2).join(' ')
      if (command.includes('uname -m')) return ok(`${MACHINE[platform.split('/')[1]]}\n`)
      return ok()
    }
    if (a === 'tag') {
      // an image ID is the config digest on the classic store, the manifest digest on containerd's
      const source =
        local.get(b) ??
        [...local.values()].find(i => (store === 'containerd' ? i.manifest : i.config) === b)
      if (source === undefined) return fail(`Error response from daemon: No such image: ${b}`)
      local.set(c, source)
      return ok()
    }
    if (a === 'image' && b === 'rm') {
      return local.delete(c) ? ok(`Untagged: ${c}\n`) : fail(`Error: No such image: ${c}`)
    }
    if (a === 'push') {
      // the engine's push: the image's manifest under the tag, its layer mounted from the
      // repository that has it, or found, as docker prints it
      const image = local.get(b)
      if (image === undefined) return fail(`An image does not exist locally with the tag: ${b}`)
      const repo = repoOf(b)
      const tag = b.slice(repo.length + 1)
      const body = manifestOf(image.config)
      const had = [...registry.keys()].some(
        k => k.startsWith(`${repo}@`) || k.startsWith(`${repo}:`)
      )
      registry.set(b, body)
      registry.set(`${repo}@${sha(body)}`, body)
      requests.push(`PUSH ${b}`)
      const layer = `${FAKE_LAYER_ID(store)}: ${had ? 'Layer already exists' : 'Mounted from ros'}`
      return ok(
        `The push refers to repository [${repo}]\n${layer}\n${tag}: digest: ${sha(body)} size: ${body.length}\n`
      )
    }
    if (a === 'save') {
      // docker save --output FILE REF: an OCI layout on containerd's store, the legacy format on the classic one
      const [file, ref] = [args[2], args[3]]
      const image =
        local.get(ref) ??
        [...local.values()].find(i => (store === 'containerd' ? i.manifest : i.config) === ref)
      if (image === undefined) return fail(`Error response from daemon: No such image: ${ref}`)
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-fake-save-'))
      const config = blobs.get(image.config) as string
      const put = (name: string, text: string) => {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
        writeFileSync(path.join(dir, name), text)
      }
      if (store === 'containerd') {
        const body = manifestOf(image.config)
        for (const text of [body, config, LAYER]) put(`blobs/sha256/${sha(text).slice(7)}`, text)
        put(
          'index.json',
          JSON.stringify({
            schemaVersion: 2,
            manifests: [{ mediaType: MEDIA_OCI, digest: sha(body), size: body.length }]
          })
        )
      } else {
        put(`${image.config.slice(7)}.json`, config)
        put('l1/layer.tar', LAYER)
        put(
          'manifest.json',
          JSON.stringify([{ Config: `${image.config.slice(7)}.json`, Layers: ['l1/layer.tar'] }])
        )
      }
      execFileSync('tar', ['-cf', file, '-C', dir, '.'])
      rmSync(dir, { recursive: true })
      return ok()
    }
    // login, logout, ps, rm, kill, buildx create/rm
    return ok()
  }

  const requests: string[] = []
  const respond = (
    status: number,
    body: string | Buffer = '',
    headers: Record<string, string> = {}
  ): Response =>
    new Response(status === 204 || body.length === 0 ? null : body, { status, headers })
  const serve = (method: string, url: URL, body: Buffer | undefined): Response => {
    const upload = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname)
    if (upload !== null) {
      // the push access check: an upload session opened and cancelled
      requests.push(`${method} ${url.host}/${upload[1]}/blobs/uploads/${upload[2]}`)
      const forced = o.http?.(method, url)
      if (forced !== undefined) return forced
      const mount = url.searchParams.get('mount')
      if (method === 'POST' && mount !== null && blobsOf(url.host).has(mount)) return respond(201)
      if (method === 'POST') {
        return respond(202, '', { Location: `/v2/${upload[1]}/blobs/uploads/session-1` })
      }
      if (method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? ''
        const bytes = body ?? Buffer.alloc(0)
        if (sha(bytes) !== digest) return respond(400, '{"errors":[{"code":"DIGEST_INVALID"}]}')
        blobsOf(url.host).set(digest, bytes)
        return respond(201, '', { 'Docker-Content-Digest': digest })
      }
      return respond(204)
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname)
    if (m === null) return respond(404)
    const [, repo, kind, ref] = m
    requests.push(`${method} ${url.host}/${repo}/${kind}/${ref}`)
    const forced = o.http?.(method, url)
    if (forced !== undefined) return forced
    if (kind === 'blobs') {
      const blob = blobsOf(url.host).get(ref)
      if (blob === undefined) return respond(404, '{"errors":[{"code":"BLOB_UNKNOWN"}]}')
      return respond(200, method === 'HEAD' ? '' : blob)
    }
    const key = `${url.host}/${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`
    if (method === 'PUT') {
      const text = body?.toString('utf8') ?? ''
      const missing = o.separateHosts === true ? missingOf(url.host, repo, text) : undefined
      if (missing !== undefined) {
        return respond(400, `{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","detail":"${missing}"}]}`)
      }
      registry.set(key, text)
      registry.set(`${url.host}/${repo}@${sha(text)}`, text)
      return respond(201, '', { 'Docker-Content-Digest': sha(text) })
    }
    const found = lookup(key)
    if (found === undefined) return respond(404, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
    const headers = {
      'Content-Type': (JSON.parse(found) as { mediaType: string }).mediaType,
      'Docker-Content-Digest': sha(found)
    }
    return respond(200, method === 'HEAD' ? '' : found, headers)
  }

  const fake: FakeDocker = {
    calls,
    registry,
    mounts,
    configs,
    requests,
    fetch: async (input, init) => {
      const url = new URL(String(input))
      const body =
        init?.body === undefined || init.body === null
          ? undefined
          : Buffer.from(await new Response(init.body).arrayBuffer())
      return serve(init?.method ?? 'GET', url, body)
    },
    commands: () => calls.map(call => [...call.args]),
    addBase(ref, platforms) {
      const repo = repoOf(ref)
      const manifests = platforms.map(p => {
        const m = putManifest(repo, p, {})
        const [os, architecture] = p.split('/')
        return { digest: m.manifest, platform: { os, architecture } }
      })
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests
      })
      registry.set(ref, index)
      registry.set(`${repo}@${sha(index)}`, index)
    },
    async run(command, args, options) {
      const call = { command, args, options }
      calls.push(call)
      o.onCall?.(call)
      const forced = o.override?.(call)
      if (forced !== undefined) return { code: 0, stdout: '', stderr: '', ...forced }
      if (command === 'tar') {
        // unpacking a saved image: the real tar
        const r = spawnSync('tar', args, { encoding: 'utf8' })
        return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr }
      }
      return answer(args)
    }
  }
  return fake
}
