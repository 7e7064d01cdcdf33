/**
 * registry-auth and several image names: parsing, what is refused (each with a one-line error that
 * never quotes a password), and which parts of the secret are masked.
 */
import { describe, expect, it } from '@jest/globals'
import { secretParts } from '../../src/action.js'
import { readConfig } from '../../src/inputs/config.js'
import { parseRegistryAuth, registryAuthSecrets } from '../../src/inputs/registry-auth.js'
import { settingsOf, secretsOf } from '../../src/plan/settings.js'
import { source, TODAY } from '../helpers/inputs.js'

const read = (values: Record<string, string>) =>
  readConfig(source({ distros: 'humble', image: 'acme/robot', ...values }), { today: TODAY })

const AUTH = [
  '- registry: ghcr.io',
  '  username: acme-bot',
  '  password: ghp_secretToken123',
  '- username: hubuser',
  "  password: 'hub secret: with colon'"
].join('\n')

describe('parseRegistryAuth', () => {
  it('reads one login per registry, Docker Hub by default', () => {
    expect(parseRegistryAuth(AUTH)).toEqual([
      { registry: 'ghcr.io', username: 'acme-bot', password: 'ghp_secretToken123' },
      { registry: 'docker.io', username: 'hubuser', password: 'hub secret: with colon' }
    ])
    expect(parseRegistryAuth('')).toEqual([])
    expect(parseRegistryAuth('  \n')).toEqual([])
  })

  it("folds Docker Hub's names, and takes a registry with a port", () => {
    const logins = parseRegistryAuth(
      '- registry: index.docker.io\n  username: a\n  password: b\n- registry: 127.0.0.1:5003\n  username: c\n  password: d'
    )
    expect(logins.map(l => l.registry)).toEqual(['docker.io', '127.0.0.1:5003'])
  })

  it.each([
    ['not YAML', '- registry: [ghcr.io\n  password: p4ssw0rd-x', 'is not valid YAML'],
    ['not a list', 'registry: ghcr.io\nusername: u\npassword: p4ssw0rd-x', 'is not a list'],
    ['an entry that is text', '- ghcr.io', 'entry 1 is not a mapping'],
    [
      'no username',
      '- registry: ghcr.io\n  password: p4ssw0rd-x',
      'entry 1 (ghcr.io) has no username'
    ],
    ['no password', '- registry: ghcr.io\n  username: u', 'entry 1 (ghcr.io) has no password'],
    [
      'a path',
      '- registry: ghcr.io/acme\n  username: u\n  password: p4ssw0rd-x',
      'is not a registry host'
    ],
    [
      'a URL',
      '- registry: https://ghcr.io\n  username: u\n  password: p4ssw0rd-x',
      'is not a registry host'
    ],
    ['an unknown key', '- registry: ghcr.io\n  user: u\n  password: p4ssw0rd-x', 'has "user"'],
    [
      'a registry twice',
      '- username: a\n  password: p4ssw0rd-x\n- registry: docker.io\n  username: b\n  password: p4ssw0rd-y',
      'names docker.io twice'
    ]
  ])('refuses %s, naming the input, never the password', (_name, value, fragment) => {
    let message = ''
    try {
      parseRegistryAuth(value)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/^Input "registry-auth": /)
    expect(message).toContain(fragment)
    expect(message).not.toContain('p4ssw0rd')
    expect(message).not.toContain('\n')
  })
})

describe('registryAuthSecrets: what is masked', () => {
  it('every password, as written and unquoted', () => {
    expect(registryAuthSecrets(AUTH)).toEqual([
      'ghp_secretToken123',
      "'hub secret: with colon'",
      'hub secret: with colon'
    ])
  })

  it('the passwords of a value that is not valid YAML too', () => {
    expect(registryAuthSecrets('- registry: [x\n  password: s3cr3t-token')).toEqual([
      's3cr3t-token'
    ])
  })

  it('the whole input and each password are registered before anything parses it', () => {
    const parts = secretParts(AUTH, 'registry-auth')
    expect(parts[0]).toBe(AUTH)
    expect(parts).toContain('ghp_secretToken123')
    expect(parts).toContain('hub secret: with colon')
  })
})

describe('several image names and their credentials', () => {
  it('the first name is the primary one, the others mirrors', () => {
    const { config } = read({ image: 'acme/robot,\nghcr.io/acme/robot' })
    expect(config.image.name).toBe('acme/robot')
    expect(config.mirrors.map(m => m.name)).toEqual(['ghcr.io/acme/robot'])
  })

  it('username and password are for the first registry; registry-auth adds the others', () => {
    const { config } = read({
      image: 'acme/robot, ghcr.io/acme/robot',
      username: 'hubuser',
      password: 'hub-pass',
      'registry-auth': '- registry: ghcr.io\n  username: bot\n  password: gh-token'
    })
    expect(settingsOf(config).logins).toEqual([
      { registry: 'docker.io', username: 'hubuser' },
      { registry: 'ghcr.io', username: 'bot' }
    ])
    expect(secretsOf(config).logins.map(l => l.password)).toEqual(['hub-pass', 'gh-token'])
    // the settings (which are logged and saved) hold no password
    expect(JSON.stringify(settingsOf(config))).not.toContain('gh-token')
  })

  it.each([
    [{ image: 'acme/robot, docker.io/acme/robot' }, 'image', 'are the same repository'],
    [{ image: 'acme/robot, ghcr.io/acme/robot:v1' }, 'image', 'has a tag or digest'],
    [{ image: 'acme/robot, GHCR.io/Acme' }, 'image', 'is not an image name'],
    [
      {
        username: 'u',
        password: 'p',
        'registry-auth': '- registry: docker.io\n  username: u2\n  password: p2'
      },
      'registry-auth',
      'names docker.io, which username and password are for already'
    ]
  ])('refuses %j', (values, input, fragment) => {
    expect(() => read(values)).toThrow(`Input "${input}": `)
    expect(() => read(values)).toThrow(fragment)
  })
})
