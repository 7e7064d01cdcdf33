/** The summary's number formats: durations, sizes and digests, each written one way. */
import { describe, expect, it } from '@jest/globals'
import { duration, formatSize, shortDigest } from '../../src/report/format.js'

describe('format', () => {
  it.each([
    [3.14, '3.1s'],
    [62.4, '1m02s'],
    [441.8, '7m22s'],
    [4000, '1h06m40s']
  ])('writes %d seconds as %s', (seconds, text) => expect(duration(seconds)).toBe(text))

  it.each([
    [undefined, ''],
    [12_345, '12 kB'],
    [456_700_000, '456.7 MB'],
    [1_234_567_890, '1.23 GB']
  ])('writes %p bytes as %p', (bytes, text) => expect(formatSize(bytes)).toBe(text))

  it('keeps the algorithm and 12 hex digits of a digest', () => {
    expect(shortDigest(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('sha256:0123456789ab')
    expect(shortDigest(`sha512:${'f'.repeat(128)}`)).toBe(`sha512:${'f'.repeat(12)}`)
  })
})
