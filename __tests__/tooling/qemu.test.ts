import { describe, expect, it } from '@jest/globals'
import { binfmtUsable, ensureEmulation } from '../../src/tooling/qemu.js'
import { fakeExec } from '../helpers/fake-exec.js'

const ENTRY =
  'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\n'

describe('binfmtUsable', () => {
  it.each([
    [ENTRY, true],
    [ENTRY.replace('enabled', 'disabled'), false],
    [ENTRY.replace('POCF', 'PO'), false],
    [undefined, false]
  ])('%j -> %j', (entry, usable) => {
    expect(binfmtUsable(entry)).toBe(usable)
  })
})

describe('ensureEmulation', () => {
  it('skips native platforms and reuses registered ones without running docker', async () => {
    const exec = fakeExec()
    const log: string[] = []
    const report = await ensureEmulation(
      ['linux/amd64', 'linux/arm64'],
      'linux/amd64',
      'q',
      exec,
      async p => (p.endsWith('qemu-aarch64') ? ENTRY : undefined),
      m => log.push(m)
    )
    expect(report).toEqual({ native: ['linux/amd64'], found: ['linux/arm64'], installed: [] })
    expect(exec.calls).toEqual([])
    expect(log).toEqual([
      'linux/amd64: native on this runner, no emulation needed',
      'linux/arm64: QEMU already registered (qemu-aarch64)'
    ])
  })

  it('installs what is missing with the qemu image and checks it took', async () => {
    const registered = new Set<string>()
    const exec = fakeExec(() => {
      registered.add('qemu-aarch64')
      registered.add('qemu-riscv64')
      return { code: 0 }
    })
    const report = await ensureEmulation(
      ['linux/arm64', 'linux/riscv64'],
      'linux/amd64',
      'binfmt:pinned',
      exec,
      async p => (registered.has(p.split('/').pop() ?? '') ? ENTRY : undefined),
      () => undefined
    )
    expect(exec.calls.map(c => c.args)).toEqual([
      ['run', '--privileged', '--rm', 'binfmt:pinned', '--install', 'arm64,riscv64']
    ])
    expect(report.installed).toEqual(['linux/arm64', 'linux/riscv64'])
  })

  it('fails with the reason when emulation cannot be had', async () => {
    const exec = fakeExec(() => ({
      code: 125,
      stderr: 'docker: Error response from daemon: privileged mode is disabled.\n'
    }))
    await expect(
      ensureEmulation(
        ['linux/arm64'],
        'linux/amd64',
        'binfmt:pinned',
        exec,
        async () => undefined,
        () => undefined
      )
    ).rejects.toThrow(
      'Cannot emulate linux/arm64: binfmt_misc has no usable qemu-aarch64 and registering it with binfmt:pinned failed (docker: Error response from daemon: privileged mode is disabled.). Run on a runner of that architecture, or allow privileged containers.'
    )
  })
})
