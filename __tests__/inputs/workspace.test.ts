/** Path inputs checked where they really lead, against a workspace of real folders and links. */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError, quote } from '../../src/inputs/errors.js'
import { Inputs } from '../../src/inputs/names.js'
import { realPathInside } from '../../src/inputs/workspace.js'

describe('realPathInside', () => {
  let workspace = ''
  /** A path in the workspace, as a path input gives it (absolute here: the test's cwd is not it) */
  const at = (name: string): string => path.join(workspace, name)

  beforeAll(() => {
    // the workspace itself reached through a link, as on runners with a linked work folder
    const real = mkdtempSync(path.join(os.tmpdir(), 'rma-workspace-'))
    workspace = `${real}-link`
    symlinkSync(real, workspace)
    mkdirSync(at('app'))
    writeFileSync(at('app/Dockerfile'), 'FROM ros:humble-ros-base\n')
    symlinkSync('app', at('app-link'))
    symlinkSync('/etc', at('etc-link'))
    symlinkSync('/etc/passwd', at('passwd-link'))
    symlinkSync('../..', at('app/up-link'))
  })

  it('gives the real path of a folder or file inside the workspace, also through a link in it', async () => {
    const real = realpathSync(workspace)
    await expect(realPathInside(Inputs.Context, at('app'), workspace, 'folder')).resolves.toBe(
      path.join(real, 'app')
    )
    await expect(realPathInside(Inputs.Context, at('app-link'), workspace, 'folder')).resolves.toBe(
      path.join(real, 'app')
    )
    await expect(
      realPathInside(Inputs.File, at('app-link/Dockerfile'), workspace, 'file')
    ).resolves.toBe(path.join(real, 'app/Dockerfile'))
    await expect(realPathInside(Inputs.Context, workspace, workspace, 'folder')).resolves.toBe(real)
  })

  it.each([
    [Inputs.Context, 'etc-link', 'folder', 'leads outside the workspace; give a path inside it'],
    [Inputs.Context, 'app/up-link', 'folder', 'leads outside the workspace; give a path inside it'],
    [Inputs.File, 'passwd-link', 'file', 'leads outside the workspace; give a path inside it'],
    [
      Inputs.SmokeTestFile,
      'etc-link/passwd',
      'file',
      'leads outside the workspace; give a path inside it'
    ],
    [Inputs.Context, 'nowhere', 'folder', 'does not exist; give a folder inside the workspace'],
    [
      Inputs.File,
      'app/Nope.dockerfile',
      'file',
      'does not exist; give a file inside the workspace'
    ],
    [
      Inputs.Context,
      'app/Dockerfile',
      'folder',
      'is not a folder; give a folder inside the workspace'
    ],
    [Inputs.File, 'app', 'file', 'is not a file; give a file inside the workspace']
  ] as const)('%s %s: refused', async (input, name, kind, problem) => {
    const refused = realPathInside(input, at(name), workspace, kind)
    await expect(refused).rejects.toThrow(InputError)
    await expect(refused).rejects.toThrow(`Input "${input}": ${quote(at(name))} ${problem}`)
  })
})
