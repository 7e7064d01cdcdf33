/**
 * Cancellation: SIGINT in the middle of a run (as a cancelled workflow sends it) stops builds and
 * test containers, publishes nothing more, and after the post step nothing of the run is left.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { expectNoLeftovers, runE2e, tagsOf, testbed, uniqueRepo } from './testbed.js'

function lines(command: string, args: string[]): string[] {
  try {
    return execFileSync(command, args, { encoding: 'utf8' })
      .split('\n')
      .filter(l => l.trim() !== '')
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

describe('cancellation', () => {
  const tb = testbed()

  it(
    'SIGINT mid-run stops everything; after the post step, zero leftovers',
    async () => {
      const repo = uniqueRepo('cancel')
      const r = await runE2e(
        {
          context: 'examples/ros-app',
          'ros-checks': 'false',
          distros: 'humble, jazzy',
          image: `${tb.registry}/${repo}`,
          'base-image': `${tb.registry}/ros:{distro}-ros-base`,
          'smoke-tests': 'sleep 120',
          'smoke-timeout': '300',
          push: 'true'
        },
        { cancel: { when: /Running 4 cells/, delayMs: 5000, signal: 'SIGINT' } }
      )
      expect(r.code).toBe(1)
      expect(r.seconds).toBeLessThan(60)
      expect(r.log).toMatch(/Cancelling: stopping \d+ running container\(s\)/)
      expect(r.log).toMatch(/::error::The run was cancelled by SIGINT: 4 of 4 cells did not finish/)

      const leftovers = {
        containers: lines('docker', [
          'ps',
          '--all',
          '--filter',
          'name=rma-',
          '--format',
          '{{.Names}}'
        ]),
        processes: lines('pgrep', ['-f', 'ros-multiarch-local/e2e/cancel']),
        images: lines('docker', [
          'images',
          '--format',
          '{{.Repository}}:{{.Tag}}',
          `ros-multiarch-local/${repo}`
        ]),
        tempDirs: existsSync(r.runnerTemp)
          ? readdirSync(r.runnerTemp).filter(d => d.startsWith('ros-multiarch-'))
          : [],
        logins: Object.keys(
          (
            JSON.parse(readFileSync(path.join(r.dockerConfig, 'config.json'), 'utf8')) as {
              auths?: object
            }
          ).auths ?? {}
        ),
        tags: await tagsOf(repo)
      }
      console.log(`leftovers after a cancelled run: ${JSON.stringify(leftovers)}`)
      expect(leftovers).toEqual({
        containers: [],
        processes: [],
        images: [],
        tempDirs: [],
        logins: [],
        tags: []
      })
    },
    10 * 60_000
  )

  afterAll(expectNoLeftovers)
})
