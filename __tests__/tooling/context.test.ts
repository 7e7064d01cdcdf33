import { describe, expect, it } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { hashContext, hashEntries } from '../../src/tooling/context.js'

describe('hashEntries / hashContext', () => {
  it('does not depend on the order entries were read in', () => {
    const a = { path: 'a', kind: 'file' as const, executable: false, content: '1' }
    const b = { path: 'b', kind: 'file' as const, executable: false, content: '2' }
    expect(hashEntries([a, b])).toBe(hashEntries([b, a]))
    expect(hashEntries([a, b])).not.toBe(hashEntries([a, { ...b, content: '3' }]))
  })

  it('sees content, new files, modes and symlinks, and ignores .git', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rma-ctx-'))
    mkdirSync(path.join(dir, 'src'))
    writeFileSync(path.join(dir, 'src', 'main.py'), 'print(1)\n')
    const first = await hashContext(dir)
    expect(await hashContext(dir)).toBe(first)

    mkdirSync(path.join(dir, '.git'))
    writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n')
    expect(await hashContext(dir)).toBe(first)

    chmodSync(path.join(dir, 'src', 'main.py'), 0o755)
    const executable = await hashContext(dir)
    expect(executable).not.toBe(first)

    writeFileSync(path.join(dir, 'src', 'main.py'), 'print(2)\n')
    const edited = await hashContext(dir)
    expect(edited).not.toBe(executable)

    symlinkSync('src/main.py', path.join(dir, 'link'))
    expect(await hashContext(dir)).not.toBe(edited)
  })
})
