/** The real Exec: child processes, stopped at their time limit. */
import { describe, expect, it } from '@jest/globals'
import { CANCELLED_CODE, processExecutor, TIMED_OUT_CODE } from '../../src/tooling/exec.js'

/** How long a promise takes, in milliseconds, with what it gave. */
async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const started = Date.now()
  const value = await p
  return [value, Date.now() - started]
}

describe('processExecutor', () => {
  it('runs a command with its input, and gives what it printed', async () => {
    const r = await processExecutor().run('cat', [], { input: 'hello', timeoutMs: 5000 })
    expect(r).toEqual({ code: 0, stdout: 'hello', stderr: '' })
  })

  it('stops a command at its time limit: a failure that says so', async () => {
    const exec = processExecutor(undefined, { killAfterMs: 5000 })
    const [r, ms] = await timed(exec.run('sleep', ['30'], { timeoutMs: 100 }))
    expect(r.code).toBe(TIMED_OUT_CODE)
    expect(r.stderr).toContain('timed out after 0.1 s')
    expect(ms).toBeLessThan(2000)
  }, 10_000)

  it('kills a command that ignores SIGTERM, also when a child of it holds its output open', async () => {
    const exec = processExecutor(undefined, { killAfterMs: 200 })
    const [r, ms] = await timed(
      exec.run('sh', ['-c', 'trap "" TERM; echo started; sleep 3; echo late'], { timeoutMs: 100 })
    )
    expect(r.code).toBe(TIMED_OUT_CODE)
    expect(r.stdout).toBe('started\n')
    expect(r.stderr).toContain('timed out after 0.1 s')
    expect(ms).toBeLessThan(2000)
  }, 10_000)

  it("takes the executor's default limit when a command gives none; Infinity is no limit", async () => {
    const exec = processExecutor(undefined, { timeoutMs: 100, killAfterMs: 200 })
    const [stopped, ms] = await timed(exec.run('sleep', ['30']))
    expect(stopped.code).toBe(TIMED_OUT_CODE)
    expect(ms).toBeLessThan(2000)
    const r = await exec.run('sh', ['-c', 'sleep 0.4; echo done'], { timeoutMs: Infinity })
    expect(r).toEqual({ code: 0, stdout: 'done\n', stderr: '' })
  }, 10_000)
})

describe('a command stopped on its own', () => {
  it('sees stdout as it comes, and stops when its own signal aborts', async () => {
    const exec = processExecutor()
    const stop = new AbortController()
    const seen: string[] = []
    const started = Date.now()
    const r = await exec.run('sh', ['-c', 'echo first; sleep 30; echo never'], {
      stop: stop.signal,
      onStdout: chunk => {
        seen.push(chunk)
        if (chunk.includes('first')) stop.abort()
      }
    })
    expect(seen.join('')).toContain('first')
    expect(r.code).toBe(CANCELLED_CODE)
    expect(r.stdout).not.toContain('never')
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})
