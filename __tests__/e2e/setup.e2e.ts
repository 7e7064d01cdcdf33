/**
 * Set-up on the test bed: buildx older than required is replaced by a release downloaded with
 * @actions/tool-cache from a mirror (buildx-url), checked against its sha256 before it runs,
 * which then builds for real; a mirror serving other bytes is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { expectNoLeftovers, runE2e, testbed, uniqueRepo, expectPassed } from './testbed.js'

const SYSTEM_BUILDX = '/usr/libexec/docker/cli-plugins/docker-buildx'
/** A stand-in for an old buildx: a valid Docker CLI plugin that reports v0.9.0 and can do nothing. */
const OLD_BUILDX = `#!/bin/sh
if [ "$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"e2e","Version":"v0.9.0","ShortDescription":"old buildx"}'
  exit 0
fi
echo "github.com/docker/buildx v0.9.0 e2e-old"
[ "$2" = version ] && exit 0
echo "this old buildx cannot build" >&2
exit 1
`

describe('buildx set-up', () => {
  let server: Server
  let mirror = ''
  const requests: string[] = []

  beforeAll(async () => {
    const binary = readFileSync(SYSTEM_BUILDX)
    server = createServer((req, res) => {
      requests.push(req.url ?? '')
      if (req.url === '/buildx/v0.13.1/buildx-v0.13.1.linux-amd64') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
        res.end(binary)
      } else if (req.url === '/tampered/v0.13.1/buildx-v0.13.1.linux-amd64') {
        // the same release with one byte more: what a compromised mirror could serve
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
        res.end(Buffer.concat([binary, Buffer.from('\n')]))
      } else {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/buildx/v{version}/buildx-v{version}.linux-{arch}`
  })

  /** A docker config whose buildx is the old stand-in; its plugin path. */
  function oldBuildx(): { dockerConfig: string; plugin: string } {
    const dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'rma-e2e-docker-'))
    mkdirSync(path.join(dockerConfig, 'cli-plugins'))
    const plugin = path.join(dockerConfig, 'cli-plugins', 'docker-buildx')
    writeFileSync(plugin, OLD_BUILDX)
    chmodSync(plugin, 0o755)
    return { dockerConfig, plugin }
  }
  // Debian builds buildx itself: its binary is not the release's, so this test pins its checksum
  const debianSha256 = (): string =>
    createHash('sha256').update(readFileSync(SYSTEM_BUILDX)).digest('hex')
  const inputs = () => {
    const tb = testbed()
    return {
      distros: 'jazzy',
      platforms: 'linux/amd64',
      image: `${tb.registry}/${uniqueRepo('buildx-install')}`,
      'base-image': `${tb.registry}/ros:{distro}-ros-base`,
      context: 'examples/ros-app',
      'ros-checks': 'false',
      'buildx-version': '0.13.1',
      'buildx-sha256': debianSha256()
    }
  }

  afterAll(async () => {
    await new Promise<void>(resolve => server.close(() => resolve()))
    expectNoLeftovers()
  })

  it(
    'replaces a buildx older than buildx-version with the mirror release and builds with it',
    async () => {
      const { dockerConfig, plugin } = oldBuildx()
      const r = await runE2e({ ...inputs(), 'buildx-url': mirror }, { dockerConfig })
      expect(r.log).toContain('buildx 0.9.0 does not satisfy 0.13.1: installing buildx 0.13.1')
      expect(r.log).toContain(
        `Downloading buildx 0.13.1 from ${mirror.replaceAll('{version}', '0.13.1').replace('{arch}', 'amd64')}`
      )
      expect(r.log).toContain(`buildx 0.13.1: sha256 ${debianSha256()} verified (buildx-sha256)`)
      expect(requests).toEqual(['/buildx/v0.13.1/buildx-v0.13.1.linux-amd64'])
      expect(readFileSync(plugin).equals(readFileSync(SYSTEM_BUILDX))).toBe(true)
      expectPassed(r)
      expect(r.summary).toContain('1 of 1 cells passed')
    },
    10 * 60_000
  )

  it(
    'refuses a download that is not the pinned binary, before it runs, and installs nothing',
    async () => {
      const { dockerConfig, plugin } = oldBuildx()
      const r = await runE2e(
        { ...inputs(), 'buildx-url': mirror.replace('/buildx/', '/tampered/') },
        { dockerConfig }
      )
      expect(r.code).toBe(1)
      const errors = r.log.split('\n').filter(l => l.startsWith('::error::'))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(
        `::error::Checksum mismatch: buildx 0.13.1 downloaded from ${mirror.replace('/buildx/', '/tampered/').replaceAll('{version}', '0.13.1').replace('{arch}', 'amd64')} has sha256 `
      )
      expect(errors[0]).toContain(
        `, expected ${debianSha256()}; the download was deleted and nothing was installed.`
      )
      // the old plugin is still there, untouched
      expect(readFileSync(plugin, 'utf8')).toBe(OLD_BUILDX)
      expect(r.log).not.toContain('cells passed')
    },
    5 * 60_000
  )
})
