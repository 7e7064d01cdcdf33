import { describe, expect, it } from '@jest/globals'
import { signingMode } from '../../src/pipeline/signing.js'
import { signArgs, verifyArgs, verifyCommand } from '../../src/tooling/cosign.js'

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
      verifyCommand('keyless', ref, 'acme/robot/.github/workflows/release.yml@refs/tags/v1', false)
    ).toBe(
      `cosign verify --certificate-identity=https://github.com/acme/robot/.github/workflows/release.yml@refs/tags/v1 --certificate-oidc-issuer=https://token.actions.githubusercontent.com ${ref}`
    )
    expect(verifyCommand('key', ref, '', false)).toBe(
      `cosign verify --key=cosign.pub --insecure-ignore-tlog=true ${ref}`
    )
  })
})
