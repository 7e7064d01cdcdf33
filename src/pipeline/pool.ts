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
      results[index] = pool.stopped ? skipped(items[index]) : await job(items[index], pool)
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker())
  await Promise.all(workers)
  return results
}
