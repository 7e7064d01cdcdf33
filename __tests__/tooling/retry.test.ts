import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  AMBIGUOUS_LOGIN_ATTEMPTS,
  backoff,
  classify,
  withRetry,
  commandAttempts,
  WHOLE_COMMAND_FACTOR,
  type Operation
} from '../../src/tooling/retry.js'

const fail = (stderr: string, code = 1) => ({ code, stdout: '', stderr })

describe('the README on retries', () => {
  it('gives the same bounds as the code', () => {
    const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ')
    expect(readme).toContain(`is tried at most ${AMBIGUOUS_LOGIN_ATTEMPTS} times in all`)
    expect(readme).toContain('500, 502, 503, 504, 429')
  })
})

describe('classify', () => {
  it.each([
    [
      'build',
      'ERROR: failed to solve: received unexpected HTTP status: 503 Service Unavailable',
      true,
      'server error (5xx)'
    ],
    [
      'build',
      'ERROR: failed to solve: error parsing HTTP 429 response body: invalid character',
      true,
      'rate limited (429)'
    ],
    [
      'build',
      'ERROR: failed to solve: error parsing HTTP 429 response body: unexpected end of JSON input: ""',
      true,
      'rate limited (429)'
    ],
    [
      'build',
      'ERROR: failed to solve: received unexpected HTTP status: 501 Not Implemented',
      false,
      'ERROR: failed to solve: received unexpected HTTP status: 501 Not Implemented'
    ],
    [
      'build',
      'ERROR: failed to solve: write tcp 127.0.0.1:4242->127.0.0.1:5001: write: connection reset by peer',
      true,
      'connection dropped'
    ],
    [
      'login',
      'Get "http://127.0.0.1:5002/v2/": dial tcp 127.0.0.1:5002: connect: connection refused',
      true,
      'connection dropped'
    ],
    ['build', 'ERROR: failed to solve: net/http: TLS handshake timeout', true, 'timed out'],
    [
      'build',
      'ERROR: failed to solve: unauthorized: authentication required',
      false,
      'ERROR: failed to solve: unauthorized: authentication required'
    ],
    [
      'login',
      'Error response from daemon: login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized',
      true,
      'login refused (401): wrong credentials, or a failed registry ping'
    ],
    [
      'login',
      'unauthorized: incorrect username or password',
      false,
      'the registry refused the credentials'
    ],
    [
      'build',
      'ERROR: failed to solve: denied: requested access to the resource is denied',
      false,
      'ERROR: failed to solve: denied: requested access to the resource is denied'
    ],
    [
      'build',
      '#7 0.4 E: Failed to fetch http://deb.debian.org/x 503 Service Unavailable\nERROR: failed to solve: process "/bin/sh -c apt-get update" did not complete successfully: exit code: 100',
      false,
      'ERROR: failed to solve: process "/bin/sh -c apt-get update" did not complete successfully: exit code: 100'
    ],
    [
      'build',
      'ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to create LLB definition: pulling from host 127.0.0.1:41767 failed with status code [manifests humble-ros-base]: 503 Service Unavailable',
      true,
      'server error (5xx)'
    ]
  ])('%s: %s', (op, stderr, transient, reason) => {
    expect(classify(op as Operation, fail(stderr))).toMatchObject({ transient, reason })
  })

  it('after a login of this run, a lost authorization is a registry hiccup', () => {
    expect(
      classify('build', fail('ERROR: failed to solve: unauthorized: authentication required'), true)
    ).toEqual({
      transient: true,
      reason: 'authorization lost (registry ping failed)'
    })
  })

  it('honours a visible Retry-After', () => {
    expect(
      classify('build', fail('ERROR: failed to solve: 429 Too Many Requests; Retry-After: 7'))
    ).toEqual({
      transient: true,
      reason: 'rate limited (429)',
      waitMs: 7000
    })
  })
})

describe('backoff', () => {
  const policy = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 5000 }
  it('doubles, is capped, and jitters between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map(n => backoff(policy, n, () => 1))).toEqual([
      1000, 2000, 4000, 5000, 5000
    ])
    expect([1, 2, 3].map(n => backoff(policy, n, () => 0))).toEqual([500, 1000, 2000])
  })
})

describe('withRetry', () => {
  const policy = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 8000 }

  it('retries transient failures, logging each with its reason, until one works', async () => {
    const answers = [
      fail('ERROR: failed to solve: HTTP 503'),
      fail('ERROR: failed to solve: connection reset by peer'),
      { code: 0, stdout: 'ok', stderr: '' }
    ]
    const waits: number[] = []
    const logs: string[] = []
    const r = await withRetry(
      'build',
      'Building x',
      async () => answers.shift() ?? fail('none left'),
      {
        policy,
        log: m => logs.push(m),
        sleep: async ms => {
          waits.push(ms)
        },
        random: () => 1
      }
    )
    expect(r.code).toBe(0)
    expect(waits).toEqual([1000, 2000])
    expect(logs).toEqual([
      // a build is retried whole: it gets WHOLE_COMMAND_FACTOR times the tries
      'Building x: server error (5xx) (try 1 of 12); retrying in 1.0 s',
      'Building x: connection dropped (try 2 of 12); retrying in 2.0 s'
    ])
  })

  it('stops after the last try and returns its failure: a login after its tries, a build after 3 times as many', async () => {
    for (const [op, expected] of [
      ['login', 4],
      ['build', 4 * WHOLE_COMMAND_FACTOR]
    ] as const) {
      let tries = 0
      const r = await withRetry(
        op,
        'x',
        async () => {
          tries++
          return fail('ERROR: failed to solve: HTTP 502 Bad Gateway')
        },
        { policy, log: () => undefined, sleep: async () => undefined }
      )
      expect([tries, r.code]).toEqual([expected, 1])
    }
    expect(commandAttempts('build', 1)).toBe(1)
  })

  it('never retries a permanent failure or refused credentials', async () => {
    for (const [op, stderr] of [
      ['build', 'ERROR: failed to solve: denied: requested access to the resource is denied'],
      ['login', 'unauthorized: incorrect username or password']
    ] as const) {
      let tries = 0
      await withRetry(
        op,
        'x',
        async () => {
          tries++
          return fail(stderr)
        },
        { policy, log: () => undefined, sleep: async () => undefined }
      )
      expect(tries).toBe(1)
    }
  })

  it('tries an ambiguous 401 at login 3 times in all, not the whole policy', async () => {
    let tries = 0
    const logs: string[] = []
    await withRetry(
      'login',
      'Logging in',
      async () => {
        tries++
        return fail(
          'Error response from daemon: login attempt to http://r/v2/ failed with status: 401 Unauthorized'
        )
      },
      { policy, log: m => logs.push(m), sleep: async () => undefined, random: () => 0 }
    )
    expect(tries).toBe(3)
    expect(logs[0]).toBe(
      'Logging in: login refused (401): wrong credentials, or a failed registry ping (try 1 of 3); retrying in 0.5 s'
    )
  })

  it('stops retrying when the run is cancelled', async () => {
    const cancel = new AbortController()
    let tries = 0
    await withRetry(
      'login',
      'x',
      async () => {
        tries++
        cancel.abort()
        return fail('HTTP 503')
      },
      { policy, log: () => undefined, sleep: async () => undefined, signal: cancel.signal }
    )
    expect(tries).toBe(1)
  })
})
