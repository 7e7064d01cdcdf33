/**
 * The action against the test bed's token-auth registry (distribution 2.8 answering with a Bearer
 * challenge, tokens from the test bed's token service, as Docker Hub works): publishing and
 * reusing with the action's credentials, with credentials an earlier step left in the Docker
 * config (a credential helper), and with a pull-only account, which must fail before any build.
 * The registry shares its storage with the htpasswd one, which the checks read through.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  cellsOf,
  expectNoLeftovers,
  manifestOf,
  newDockerConfig,
  runE2e,
  tagsOf,
  testbed,
  uniqueRepo
} from './testbed.js'

const MINUTES = 60_000

describe('a registry with token auth', () => {
  const tb = testbed()
  const common = {
    context: 'examples/ros-app',
    'smoke-test-file': 'examples/ros-app/smoke.yaml',
    'ros-checks': 'false',
    // the bases come through the token registry too: the builds' pulls use tokens
    'base-image': `${tb.tokenRegistry}/ros:{distro}-ros-base`,
    push: 'true'
  }
  /** Exit code and error lines together, so that a failure shows why. */
  const outcome = (r: { code: number; log: string }) => ({
    code: r.code,
    errors: r.log.split('\n').filter(l => l.startsWith('::error'))
  })
  const passed = { code: 0, errors: [] }
  const platformsOf = async (repo: string, tag: string) =>
    ((await manifestOf(repo, tag))?.manifests ?? [])
      .map(m => `${m.platform.os}/${m.platform.architecture}`)
      .sort()

  it(
    'publishes the 2 x 2 example with tokens, arch tags on the very images, and a second run reuses it all',
    async () => {
      const repo = uniqueRepo('token')
      const image = `${tb.tokenRegistry}/${repo}`
      const r = await runE2e({ ...common, distros: 'humble, jazzy', image })
      expect(outcome(r)).toEqual(passed)
      expect(r.log).toContain(`Push access to ${image}: granted`)
      for (const distro of ['humble', 'jazzy']) {
        expect(await platformsOf(repo, `${distro}-main`)).toEqual(['linux/amd64', 'linux/arm64'])
        for (const entry of (await manifestOf(repo, `${distro}-main`))?.manifests ?? []) {
          const arch = await manifestOf(repo, `${distro}-main-${entry.platform.architecture}`)
          expect(arch?.digest).toBe(entry.digest)
        }
      }
      const again = await runE2e({ ...common, distros: 'humble, jazzy', image })
      expect(outcome(again)).toEqual(passed)
      expect(again.log).toMatch(/humble: .*already hold this index|already hold this index/)
      expect(cellsOf(again).map(c => c.status)).toEqual(Array(4).fill('unchanged'))
      console.log(
        `token registry: first run ${r.seconds} s, unchanged run ${again.seconds} s; ${/Registry client: [^\n]*/.exec(again.log)?.[0]}`
      )
    },
    15 * MINUTES
  )

  it(
    'uses the credentials an earlier step left in the Docker config (a credential helper), with no username input',
    async () => {
      const repo = uniqueRepo('token-helper')
      const image = `${tb.tokenRegistry}/${repo}`
      // a credential helper as docker/login-action leaves one configured (credsStore)
      const bin = mkdtempSync(path.join(os.tmpdir(), 'rma-helper-'))
      const secrets = path.join(bin, 'secrets.json')
      writeFileSync(
        secrets,
        JSON.stringify({ ServerURL: tb.tokenRegistry, Username: tb.username, Secret: tb.password }),
        { mode: 0o600 }
      )
      const helper = path.join(bin, 'docker-credential-rmatest')
      writeFileSync(
        helper,
        `#!/bin/sh\nread -r server\n[ "$1" = get ] && [ "$server" = "${tb.tokenRegistry}" ] && exec cat "${secrets}"\necho "credentials not found in native keychain"\nexit 1\n`
      )
      chmodSync(helper, 0o755)
      const dockerConfig = newDockerConfig()
      writeFileSync(
        path.join(dockerConfig, 'config.json'),
        JSON.stringify({ credsStore: 'rmatest' })
      )
      const r = await runE2e(
        { ...common, distros: 'humble', image, username: '', password: '' },
        { dockerConfig, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } }
      )
      expect(outcome(r)).toEqual(passed)
      expect(r.log).not.toContain('Logged in to')
      expect(await platformsOf(repo, 'humble-main')).toEqual(['linux/amd64', 'linux/arm64'])
    },
    15 * MINUTES
  )

  it(
    'a pull-only account fails before any build with the reason, without retrying, and pushes nothing',
    async () => {
      const repo = uniqueRepo('token-pull-only')
      const image = `${tb.tokenRegistry}/${repo}`
      const r = await runE2e({
        ...common,
        distros: 'humble',
        image,
        username: tb.pullUsername,
        password: tb.pullPassword
      })
      expect(r.code).toBe(1)
      const error = r.log.split('\n').find(l => l.startsWith('::error')) ?? ''
      expect(error).toContain(
        `Pushing to ${image} is not possible with these credentials, so nothing was built`
      )
      expect(error).toContain(`are not allowed to push to ${repo}`)
      expect(r.log).not.toMatch(/retrying in/)
      expect(r.log).not.toMatch(/: build \((native|emulated)\)/)
      expect(await tagsOf(repo)).toEqual([])
      console.log(`pull-only account: failed after ${r.seconds} s: ${error}`)
    },
    10 * MINUTES
  )

  afterAll(expectNoLeftovers)
})
