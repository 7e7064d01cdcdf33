/** What skip-unchanged takes of a published index entry's annotations. */
import { describe, expect, it } from '@jest/globals'
import { EMULATED_SECONDS } from '../../src/plan/labels.js'
import { emulatedSeconds } from '../../src/pipeline/unchanged.js'

describe('emulatedSeconds', () => {
  const entry = (value: string) => ({
    platform: 'linux/arm64',
    digest: 'sha256:a',
    annotations: { [EMULATED_SECONDS]: value }
  })

  it('reads whole and decimal seconds', () => {
    expect(emulatedSeconds(entry('441'))).toBe(441)
    expect(emulatedSeconds(entry('441.8'))).toBe(441.8)
  })

  it('takes nothing that is not a plain number of at most 9 digits (400 nines would be Infinity)', () => {
    for (const bad of ['9'.repeat(400), '1e9', '-1', 'NaN', '', '12 ', '1.2345']) {
      expect(emulatedSeconds(entry(bad))).toBeUndefined()
    }
    expect(emulatedSeconds({ platform: 'linux/arm64', digest: 'sha256:a' })).toBeUndefined()
  })
})
