import { describe, expect, it } from '@jest/globals'
import { runPool } from '../../src/pipeline/pool.js'

const tick = () => new Promise(resolve => setTimeout(resolve, 5))

describe('runPool', () => {
  it('never runs more than the limit at once and keeps result order', async () => {
    let running = 0
    let most = 0
    const results = await runPool(
      [1, 2, 3, 4, 5, 6, 7],
      3,
      async n => {
        running++
        most = Math.max(most, running)
        await tick()
        running--
        return n * 10
      },
      () => -1
    )
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70])
    expect(most).toBe(3)
  })

  it('starts nothing after stop(); the rest are skipped', async () => {
    const started: number[] = []
    const results = await runPool(
      [1, 2, 3, 4],
      1,
      async (n, pool) => {
        started.push(n)
        if (n === 2) pool.stop()
        return 'ran'
      },
      () => 'skipped'
    )
    expect(started).toEqual([1, 2])
    expect(results).toEqual(['ran', 'ran', 'skipped', 'skipped'])
  })

  it('a job that throws stops the pool; running jobs end before the error reaches the caller', async () => {
    const ended: number[] = []
    const run = runPool(
      [1, 2, 3, 4],
      2,
      async n => {
        if (n === 1) throw new Error('boom')
        await tick()
        ended.push(n)
        return n
      },
      () => -1
    )
    await expect(run).rejects.toThrow('boom')
    // job 2 was running when job 1 threw: it ended first; 3 and 4 were skipped
    expect(ended).toEqual([2])
  })
})
