/** Reading a build context for its fingerprint: every entry's path, kind, mode and content hash. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import path from 'node:path'

export interface ContextEntry {
  /** Relative path with / separators */
  readonly path: string
  readonly kind: 'file' | 'dir' | 'symlink'
  /** Executable bit for files */
  readonly executable: boolean
  /** sha256 of a file's content, or a symlink's target */
  readonly content: string
}

/** One hash over a build context's entries, independent of the order they were read in. */
export function hashEntries(entries: readonly ContextEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const h = createHash('sha256')
  for (const e of sorted)
    h.update(`${e.kind}\0${e.path}\0${e.executable ? 'x' : '-'}\0${e.content}\n`)
  return `sha256:${h.digest('hex')}`
}

async function fileHash(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(file, signal === undefined ? {} : { signal }))
    h.update(chunk as Buffer)
  return h.digest('hex')
}

/**
 * The hash of a build context. Everything in the folder counts except `.git`; .dockerignore is
 * not applied (a change to an ignored file makes a rebuild, never a wrong reuse). Stops, with
 * an error, when `signal` aborts (a large context takes a while).
 */
export async function hashContext(root: string, signal?: AbortSignal): Promise<string> {
  const entries: ContextEntry[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const item of await readdir(dir, { withFileTypes: true })) {
      signal?.throwIfAborted()
      const full = path.join(dir, item.name)
      const rel = path.relative(root, full).split(path.sep).join('/')
      if (rel === '.git') continue
      const st = await lstat(full)
      if (st.isSymbolicLink()) {
        entries.push({
          path: rel,
          kind: 'symlink',
          executable: false,
          content: await readlink(full)
        })
      } else if (st.isDirectory()) {
        entries.push({ path: rel, kind: 'dir', executable: false, content: '' })
        await walk(full)
      } else if (st.isFile()) {
        const executable = (st.mode & 0o111) !== 0
        // a file that cannot be read cannot be sent to the builder either: the build will tell
        const content = await fileHash(full, signal).catch(() => {
          signal?.throwIfAborted()
          return 'unreadable'
        })
        entries.push({ path: rel, kind: 'file', executable, content })
      }
    }
  }
  await walk(root)
  return hashEntries(entries)
}
