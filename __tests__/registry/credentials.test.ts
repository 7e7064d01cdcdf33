/** Credentials from the Docker client config, read as the docker CLI reads them. */
import { afterAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseChallenge } from '../../src/registry/challenge.js'
import { dockerConfigCredentials, keyHost } from '../../src/registry/credentials.js'
import { processExecutor, type Exec } from '../../src/tooling/exec.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')

function sources(config: unknown, helper: Record<string, string> = {}) {
  const calls: string[] = []
  const exec: Exec = {
    run: async (command, _args, options) => {
      calls.push(`${command} ${options?.input ?? ''}`)
      const answer = helper[command]
      return answer === undefined
        ? { code: 1, stdout: 'credentials not found in native keychain', stderr: '' }
        : { code: 0, stdout: answer, stderr: '' }
    }
  }
  return {
    calls,
    src: {
      dockerConfig: '/cfg',
      readText: async (p: string) =>
        p === '/cfg/config.json' && config !== undefined ? JSON.stringify(config) : undefined,
      exec
    }
  }
}

describe('dockerConfigCredentials', () => {
  it('reads an auths entry, Docker Hub under its legacy index address', async () => {
    const { src } = sources({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:secret') },
        'ghcr.io': { auth: b64('gh:tok:en') }
      }
    })
    expect(await dockerConfigCredentials('docker.io', src)).toEqual({
      username: 'hub',
      password: 'secret',
      source: '/cfg/config.json'
    })
    expect((await dockerConfigCredentials('ghcr.io', src))?.password).toBe('tok:en')
    expect(await dockerConfigCredentials('quay.io', src)).toBeNull()
  })

  it("asks the registry's credential helper first, then the default store", async () => {
    const answer = JSON.stringify({ ServerURL: 'x', Username: 'aws', Secret: 'ecr-token' })
    const { src, calls } = sources(
      {
        credHelpers: { '1234.dkr.ecr.eu-west-1.amazonaws.com': 'ecr-login' },
        credsStore: 'pass',
        auths: { 'ghcr.io': { auth: b64('stale:x') } }
      },
      { 'docker-credential-ecr-login': answer }
    )
    expect(await dockerConfigCredentials('1234.dkr.ecr.eu-west-1.amazonaws.com', src)).toEqual({
      username: 'aws',
      password: 'ecr-token',
      source: 'docker-credential-ecr-login'
    })
    // the store has nothing for ghcr.io: as docker does, the auths entry is not used then
    expect(await dockerConfigCredentials('ghcr.io', src)).toBeNull()
    expect(calls).toEqual([
      'docker-credential-ecr-login 1234.dkr.ecr.eu-west-1.amazonaws.com',
      'docker-credential-pass ghcr.io'
    ])
  })

  it('leaves identity tokens to docker, and says when a helper fails', async () => {
    const token = JSON.stringify({ Username: '<token>', Secret: 'refresh' })
    const { src } = sources({ credsStore: 'desktop' }, { 'docker-credential-desktop': token })
    expect(await dockerConfigCredentials('docker.io', src)).toBeNull()
    const broken = sources({ credsStore: 'broken' })
    broken.src.exec = { run: async () => ({ code: 2, stdout: '', stderr: 'boom' }) }
    await expect(dockerConfigCredentials('ghcr.io', broken.src)).rejects.toThrow(
      'the credential helper docker-credential-broken failed for ghcr.io (exit 2)'
    )
  })

  describe('with a helper that never answers', () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'cred-helper-'))
    afterAll(() => rmSync(bin, { recursive: true, force: true }))

    it('stops it at its time limit and says which helper, never what it printed', async () => {
      // prints the start of an answer (a secret), then hangs
      const helper = path.join(bin, 'docker-credential-stuck')
      writeFileSync(helper, '#!/bin/sh\necho \'{"Username":"u","Secret":"s3cr3t\'\nexec sleep 30\n')
      chmodSync(helper, 0o755)
      const real = processExecutor()
      const exec: Exec = {
        run: (command, args, options) =>
          real.run(command, args, {
            ...options,
            env: { ...options?.env, PATH: `${bin}:${process.env.PATH ?? ''}` }
          })
      }
      const src = { ...sources({ credsStore: 'stuck' }).src, exec, helperTimeoutMs: 200 }
      const started = Date.now()
      await expect(dockerConfigCredentials('ghcr.io', src)).rejects.toThrow(
        new Error(
          'the credential helper docker-credential-stuck did not answer for ghcr.io within 0.2 s'
        )
      )
      expect(Date.now() - started).toBeLessThan(2000)
    }, 10_000)
  })

  it('has nothing without a config file', async () => {
    expect(await dockerConfigCredentials('ghcr.io', sources(undefined).src)).toBeNull()
  })

  it('matches keys written with a scheme or path', () => {
    expect(keyHost('https://ghcr.io/v2/')).toBe('ghcr.io')
    expect(keyHost('https://index.docker.io/v1/')).toBe('docker.io')
    expect(keyHost('127.0.0.1:5000')).toBe('127.0.0.1:5000')
  })
})

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges with quoted parameters', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ros:pull",error="insufficient_scope"'
      )
    ).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/ros:pull',
      error: 'insufficient_scope'
    })
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      realm: 'Registry Realm'
    })
    expect(parseChallenge('Negotiate abc')).toBeNull()
    expect(parseChallenge(null)).toBeNull()
  })
})
