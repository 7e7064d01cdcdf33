/**
 * The build cache input on the test bed. The test bed has no moby/buildkit image (no pulls), so a
 * docker-container builder cannot start here: what runs for real is the check that refuses a
 * cache the builder cannot export, before anything is built or pushed.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { expectNoLeftovers, runE2e, tagsOf, testbed, uniqueRepo } from './testbed.js'

describe('build cache on the test bed', () => {
  const tb = testbed()

  it.each(['registry', 'local'])(
    'cache %s with the docker driver fails before any build, saying what to set',
    async cache => {
      const repo = uniqueRepo(`cache-${cache}`)
      const r = await runE2e({
        distros: 'humble',
        image: `${tb.registry}/${repo}`,
        'base-image': `${tb.registry}/ros:{distro}-ros-base`,
        context: 'examples/ros-app',
        'ros-checks': 'false',
        push: 'true',
        cache
      })
      expect(r.code).toBe(1)
      const errors = r.log.split('\n').filter(l => l.startsWith('::error'))
      expect(errors).toEqual([
        `::error::Input "cache": ${cache} needs a builder that can export a build cache, and builder (current) uses the docker driver on the classic image store, which cannot; set driver: docker-container`
      ])
      expect(r.log).not.toMatch(/: build \(/)
      expect(await tagsOf(repo)).toEqual([])
    },
    5 * 60_000
  )

  afterAll(() => expectNoLeftovers())
})
