import { describe, expect, it } from '@jest/globals'
import { damagedEngineState } from '../../src/tooling/engine-state.js'

describe('damagedEngineState', () => {
  it("finds the classic engine's missing committed snapshot (the test bed's CI after a machine stop)", () => {
    const out = [
      '#6 [2/3] COPY ros2-publisher-elsewhere /usr/local/bin/ros2-publisher-elsewhere',
      '#6 ERROR: failed to prepare 0ix9i7o4op6wsz82tv3sf2uvc: open /var/lib/docker/overlay2/5hhkk1ntcswkkyagockwpsu6d/committed: no such file or directory',
      'ERROR: failed to solve: failed to prepare 0ix9i7o4op6wsz82tv3sf2uvc: open /var/lib/docker/overlay2/5hhkk1ntcswkkyagockwpsu6d/committed: no such file or directory'
    ].join('\n')
    expect(damagedEngineState(out)).toBe(
      '#6 ERROR: failed to prepare 0ix9i7o4op6wsz82tv3sf2uvc: open /var/lib/docker/overlay2/5hhkk1ntcswkkyagockwpsu6d/committed: no such file or directory'
    )
  })

  it('finds the cache record without a blob (extract/unlazy requires an applier)', () => {
    expect(
      damagedEngineState(
        '#5 ERROR: extract requires an applier\nERROR: failed to solve: failed to compute cache key: extract requires an applier'
      )
    ).toBe('#5 ERROR: extract requires an applier')
    expect(
      damagedEngineState(
        'ERROR: failed to solve: failed to compute cache key: unlazy requires an applier'
      )
    ).toMatch(/unlazy/)
  })

  it("leaves the Dockerfile's own failures alone, a missing file among them", () => {
    for (const out of [
      '#5 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
      'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: "/missing.txt": not found',
      'cp: cannot open /src/committed: no such file or directory',
      ''
    ]) {
      expect(damagedEngineState(out)).toBeUndefined()
    }
  })
})
