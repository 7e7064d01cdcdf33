// Jest's global setup: every test's temporary files go under one folder of this run (TMPDIR,
// which os.tmpdir() reads and the workers inherit); tmpdir-teardown.mjs removes it when the run
// ends, so the tests' mkdtemp folders no longer pile up in /tmp run after run. What a test keeps
// for a person to read after the run (a failed run's log) goes to RMA_TEST_KEEP, the temporary
// folder the run started with.
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export default function setup() {
  process.env.RMA_TEST_KEEP ??= os.tmpdir()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-jest-'))
  process.env.RMA_JEST_TMPDIR = dir
  process.env.TMPDIR = dir
}
