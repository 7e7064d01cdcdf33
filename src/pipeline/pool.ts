/** Runs jobs with at most `limit` at once, in the given order; a stop() leaves the rest unstarted. */
export interface Pool {
  /** No job starts after this; running ones finish. */
  stop(): void
  readonly stopped: boolean
}

export async function runPool<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T, pool: Pool) => Promise<R>,
  skipped: (item: T) => R
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const pool = {
    stopped: false,
    stop() {
      pool.stopped = true
    }
  }
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++
      try {
        results[index] = pool.stopped ? skipped(items[index]) : await job(items[index], pool)
      } catch (error) {
        pool.stop()
        throw error
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker())
  // a job that throws stops the pool, but the jobs still running end before the error is thrown:
  // nothing of the run goes on unseen after the caller's clean-up
  const settled = await Promise.allSettled(workers)
  const failed = settled.find(s => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  return results
}
