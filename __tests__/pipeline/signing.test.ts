import { describe, expect, it } from '@jest/globals'
import { signingMode } from '../../src/pipeline/signing.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Cosign, signArgs, verifyArgs, verifyCommand } from '../../src/tooling/cosign.js'
import { fakeExec } from '../helpers/fake-exec.js'

describe('signingMode', () => {
  const push = { push: true, mode: 'all' } as const
  const oidc = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example' }

  it('signs where indexes are published: mode all or merge, pushing', () => {
    expect(signingMode({ sign: 'key' }, push, {})).toBe('key')
    expect(signingMode({ sign: 'keyless' }, { push: true, mode: 'merge' }, oidc)).toBe('keyless')
    expect(signingMode({ sign: 'key' }, { push: true, mode: 'build' }, {})).toBeNull()
    expect(signingMode({ sign: 'key' }, { push: false, mode: 'all' }, {})).toBeNull()
    expect(signingMode({ sign: 'false' }, push, oidc)).toBeNull()
  })

  it('refuses keyless without an OIDC token, in one line, before anything runs', () => {
    expect(() => signingMode({ sign: 'keyless' }, push, {})).toThrow(
      /^Input "sign": keyless signing needs GitHub's OIDC token, .*permissions: id-token: write.*Nothing was built\.$/
    )
  })
})

describe('cosign arguments', () => {
  const ref = 'ghcr.io/acme/robot@sha256:abc'
  const files = { config: '/t/signing-config.json', root: '/t/trusted-root.json' }

  it('signs by key from the environment, offline, never the key itself in argv', () => {
    const args = signArgs('key', ref, files, false)
    expect(args).toEqual([
      'sign',
      '--yes',
      '--key=env://COSIGN_PRIVATE_KEY',
      '--signing-config=/t/signing-config.json',
      '--trusted-root=/t/trusted-root.json',
      '--',
      ref
    ])
  })

  it('signs keyless with cosign defaults, and allows plain HTTP only when asked', () => {
    expect(signArgs('keyless', ref, files, true)).toEqual([
      'sign',
      '--yes',
      '--allow-http-registry',
      '--',
      ref
    ])
  })

  it('verifies by the public key without a log, or by the workflow identity', () => {
    expect(verifyArgs('key', ref, { pub: '/t/cosign.pub' }, false)).toEqual([
      'verify',
      '--key=/t/cosign.pub',
      '--insecure-ignore-tlog=true',
      '--',
      ref
    ])
    expect(
      verifyCommand(
        'keyless',
        ref,
        { server: 'https://github.com', repository: 'acme/robot' },
        false
      )
    ).toBe(
      `cosign verify --certificate-identity-regexp=^https://github\\.com/ --certificate-github-workflow-repository=acme/robot --certificate-oidc-issuer=https://token.actions.githubusercontent.com ${ref}`
    )
    expect(verifyCommand('key', ref, undefined, false)).toBe(
      `cosign verify --key=cosign.pub --insecure-ignore-tlog=true ${ref}`
    )
  })
})

describe('Cosign', () => {
  const KEY =
    '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nsecretline1234\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----'

  it('hands the key and its password to cosign in its environment only, never in its arguments', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-cosign-'))
    const exec = fakeExec(call =>
      call.args[0] === 'public-key'
        ? { stdout: '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n' }
        : {}
    )
    const cosign = new Cosign(exec, {
      mode: 'key',
      bin: '/opt/cosign',
      dockerConfig: '/home/u/.docker',
      key: KEY,
      password: 'pw-9f8e',
      dir
    })
    await cosign.prepare()
    await cosign.sign('r.test/acme/robot@sha256:abc', false)
    expect((await cosign.verify('r.test/acme/robot@sha256:abc', false)).ok).toBe(true)
    expect(cosign.publicKey).toBe('-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----')
    expect(readFileSync(path.join(dir, 'cosign.pub'), 'utf8')).toContain('abc')
    expect(exec.calls.map(c => c.args[0])).toEqual([
      'public-key',
      'signing-config',
      'trusted-root',
      'sign',
      'verify'
    ])
    for (const call of exec.calls) {
      expect(call.command).toBe('/opt/cosign')
      expect(call.args.join(' ')).not.toMatch(/secretline|pw-9f8e/)
      expect(call.options?.env).toMatchObject({
        DOCKER_CONFIG: '/home/u/.docker',
        COSIGN_PRIVATE_KEY: KEY,
        COSIGN_PASSWORD: 'pw-9f8e'
      })
    }
  })

  it('says why a signature does not verify', async () => {
    const exec = fakeExec(() => ({
      code: 1,
      stderr: 'Error: no matching signatures: x\nmain.go:74: error during command execution'
    }))
    const cosign = new Cosign(exec, {
      mode: 'keyless',
      bin: 'cosign',
      dockerConfig: '/d',
      dir: '/tmp'
    })
    expect(await cosign.verify('r/x@sha256:1', false)).toEqual({
      ok: false,
      why: 'no matching signatures: x'
    })
  })
})
