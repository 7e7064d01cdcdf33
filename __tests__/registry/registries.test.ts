/** Which credentials each registry gets, and reads by image reference, against the fake registry. */
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registries } from '../../src/registry/registries.js'
import type { Fetch } from '../../src/registry/client.js'
import { fakeDocker } from '../helpers/fake-docker.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')

/** A fetch behind Basic auth that records which credentials each host was sent. */
function basicRegistry(inner: Fetch): { fetch: Fetch; sent: Map<string, string> } {
  const sent = new Map<string, string>()
  const fetch: Fetch = async (input, init) => {
    const url = new URL(String(input))
    const auth = new Headers(init?.headers).get('authorization')
    if (auth === null) {
      return new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="r"' } })
    }
    sent.set(url.host, Buffer.from(auth.replace('Basic ', ''), 'base64').toString())
    return inner(input, init)
  }
  return { fetch, sent }
}

describe('Registries', () => {
  const setup = () => {
    const docker = fakeDocker()
    docker.addBase('registry.test/ros:humble-ros-base', ['linux/amd64', 'linux/arm64'])
    docker.addBase('other.test/base:1', ['linux/amd64'])
    const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'rma-registries-'))
    writeFileSync(
      path.join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { 'other.test': { auth: b64('ci:from-config') } } })
    )
    const { fetch, sent } = basicRegistry(docker.fetch)
    const masked: string[] = []
    const registries = new Registries({
      logins: [{ registry: 'registry.test', username: 'me', password: 'input-secret' }],
      sources: {
        dockerConfig,
        readText: async p => {
          try {
            return (await import('node:fs')).readFileSync(p, 'utf8')
          } catch {
            return undefined
          }
        },
        exec: docker
      },
      retry: { policy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, log: () => undefined },
      mask: s => masked.push(s),
      fetch
    })
    return { registries, sent, masked }
  }

  it('uses the action inputs for the image registry and the Docker config for another', async () => {
    const { registries, sent, masked } = setup()
    expect(
      (await registries.platforms('registry.test/ros:humble-ros-base')).map(e => e.platform)
    ).toEqual(['linux/amd64', 'linux/arm64'])
    expect((await registries.platforms('other.test/base:1')).map(e => e.platform)).toEqual([
      'linux/amd64'
    ])
    expect(Object.fromEntries(sent)).toEqual({
      'registry.test': 'me:input-secret',
      'other.test': 'ci:from-config'
    })
    // a secret read from the Docker config is masked; the input was masked by the action already
    expect(masked).toEqual(['from-config'])
  })

  it('reads the platform and labels of a single image, and refuses an index there', async () => {
    const { registries } = setup()
    const index = await registries.require('registry.test/ros:humble-ros-base')
    const entry = JSON.parse(index.body).manifests[1].digest as string
    expect(await registries.config(`registry.test/ros@${entry}`)).toEqual({
      platform: 'linux/arm64',
      labels: {}
    })
    await expect(registries.config('registry.test/ros:humble-ros-base')).rejects.toThrow(
      'registry.test/ros:humble-ros-base is an index, not a single image'
    )
    expect(await registries.manifest('registry.test/ros:nope')).toBeNull()
    await expect(registries.require('registry.test/ros:nope')).rejects.toThrow(
      'registry.test/ros:nope: not found'
    )
  })
})
