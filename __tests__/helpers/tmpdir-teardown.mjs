// Jest's global teardown: removes the run's temporary folder (see tmpdir-setup.mjs).
import { rmSync } from 'node:fs'

export default function teardown() {
  const dir = process.env.RMA_JEST_TMPDIR
  if (dir) rmSync(dir, { recursive: true, force: true })
}
