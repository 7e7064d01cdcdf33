/** What an engine push cost, from what docker said of each layer, and the note the log prints. */
import { describe, expect, it } from '@jest/globals'
import { engineTransfer } from '../../src/publish/engine-push.js'
import { transferNote } from '../../src/publish/push.js'

const hex = (c: string) => c.repeat(64)
const MANIFEST = JSON.stringify({
  layers: [
    { digest: `sha256:${hex('a')}`, size: 170_000_000 },
    { digest: `sha256:${hex('b')}`, size: 4_000 },
    { digest: `sha256:${hex('c')}`, size: 1_200 }
  ]
})

describe('engineTransfer', () => {
  it('counts layers named by their blob digest (the containerd store): nothing compressed', () => {
    const said = new Map([
      [hex('a').slice(0, 12), 'mounted'],
      [hex('b').slice(0, 12), 'exists'],
      [hex('c').slice(0, 12), 'pushed']
    ] as const)
    expect(engineTransfer(MANIFEST, [], said)).toEqual({
      by: 'engine',
      layers: 3,
      read: 1_200,
      compressed: 0,
      uploaded: 1_200,
      mounted: 170_000_000,
      skipped: 4_000
    })
  })

  it('counts layers named by their uncompressed digest (the classic store): what it uploaded it compressed', () => {
    const diffIds = ['d', 'e', 'f'].map(c => `sha256:${hex(c)}`)
    const said = new Map([
      [hex('d').slice(0, 12), 'mounted'],
      [hex('e').slice(0, 12), 'mounted'],
      [hex('f').slice(0, 12), 'pushed']
    ] as const)
    expect(engineTransfer(MANIFEST, diffIds, said)).toMatchObject({
      read: 1_200,
      compressed: 1_200,
      uploaded: 1_200,
      mounted: 170_004_000
    })
  })
})

describe('transferNote', () => {
  it('says who pushed and the bytes of each kind', () => {
    expect(
      transferNote({
        by: 'engine',
        layers: 3,
        read: 1_200,
        compressed: 0,
        uploaded: 1_200,
        mounted: 170_000_000,
        skipped: 4_000
      })
    ).toBe(
      'by the engine: 3 layers, 1 kB uploaded, 170.0 MB mounted, 4 kB already there; read 1 kB'
    )
  })
})
