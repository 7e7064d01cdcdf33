/**
 * Path inputs checked where they really lead: readConfig checks them by their text alone (pure),
 * so a link in the workspace (`ctx -> /etc`) passes it; here the file system says where a path
 * ends up, before anything reads it. The one module under inputs/ that does I/O.
 */
import { realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { InputError, quote } from './errors.js'
import type { InputName } from './names.js'

/** What a path input must name: the build context is a folder, the others are files. */
export type PathKind = 'file' | 'folder'

/** Whether `target` is `root` or lies below it (both absolute, normalized). Pure. */
export function isInside(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

/**
 * The real path of a path input (relative to the working directory, as the build and the reads
 * take it), which must be a `kind` inside the real workspace; an InputError naming the input when
 * it leads outside, does not exist or is not a `kind`.
 */
export async function realPathInside(
  input: InputName,
  value: string,
  workspace: string,
  kind: PathKind
): Promise<string> {
  const root = await realpath(workspace)
  let real: string
  try {
    real = await realpath(path.resolve(value))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`
    throw new InputError(input, `${quote(value)} ${problem}; give a ${kind} inside the workspace`)
  }
  if (!isInside(root, real)) {
    throw new InputError(
      input,
      `${quote(value)} leads outside the workspace; give a path inside it`
    )
  }
  const info = await stat(real)
  if (kind === 'folder' ? !info.isDirectory() : !info.isFile()) {
    throw new InputError(
      input,
      `${quote(value)} is not a ${kind}; give a ${kind} inside the workspace`
    )
  }
  return real
}
