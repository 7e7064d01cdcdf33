/**
 * Blobs and files on disk: a file as the source of an upload, and a download written to a file
 * (a blob may be several GB: BuildKit cache mounts stored as artifact layers), never into memory.
 * A download goes to `<file>.part-<random>` beside the file, hashed on the way, stopped past its
 * limit, and renamed to the file only when its sha256 is the blob's digest; whatever fails, the
 * partial file is deleted. A failure of the disk (not of the registry) is a RegistryError too,
 * with the answer's status, so that the request is not retried for it.
 */
import { createHash, randomBytes } from 'node:crypto'
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { errorMessage } from '../text/text.js'
import type { BlobSource, BodySink } from './client.js'
import { declaredLength, RegistryError } from './http.js'

/** Bytes gathered before one write to the file (chunks from the network are often 16 KiB). */
const WRITE_BATCH = 1024 * 1024

/** Bytes read from a file per chunk of an upload. */
const READ_CHUNK = 1024 * 1024

/**
 * A file as a blob to upload: its size now, and a stream of its bytes for each try, which opens
 * the file only when first read (a try that never reads leaves no descriptor open). A file that
 * changes its length after this is an error of the stream, never a blob of another size.
 */
export async function fileBlob(path: string): Promise<BlobSource> {
  const { size } = await stat(path)
  return { size, open: () => fileStream(path, size) }
}

function fileStream(path: string, size: number): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined
  let sent = 0
  const close = async (): Promise<void> => {
    await handle?.close().catch(() => undefined)
    handle = undefined
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          handle ??= await open(path, 'r')
          const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - sent + 1))
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
          sent += bytesRead
          if (sent > size || (bytesRead === 0 && sent < size)) {
            throw new Error(`${path} changed its length while it was read (${size} bytes before)`)
          }
          if (bytesRead === 0) {
            await close()
            controller.close()
          } else controller.enqueue(chunk.subarray(0, bytesRead))
        } catch (error) {
          await close()
          throw error
        }
      },
      cancel: close
    },
    // pulled only when read: the file is not opened before
    { highWaterMark: 0 }
  )
}

/**
 * Where a blob's download goes: `file`, through a partial file of its own for each try. After a
 * download, `written` is the blob's size.
 */
export class BlobFile implements BodySink {
  written = 0

  constructor(
    private readonly file: string,
    private readonly digest: string,
    readonly maxBytes: number
  ) {}

  async take(res: Response, what: string): Promise<void> {
    const declared = declaredLength(res.headers)
    if (declared !== undefined && declared > this.maxBytes) {
      await res.body?.cancel().catch(() => undefined)
      throw this.tooLarge(what, res.status, ` (its Content-Length says ${declared})`)
    }
    const part = `${this.file}.part-${randomBytes(8).toString('hex')}`
    try {
      const got = await this.copy(res, part, what)
      if (got.digest !== this.digest) {
        throw new RegistryError(`${what}: the blob has other content (${got.digest})`, res.status)
      }
      await onDisk(what, `renaming ${part} to ${this.file}`, res.status, () =>
        rename(part, this.file)
      )
      this.written = got.size
    } catch (error) {
      await rm(part, { force: true }).catch(() => undefined)
      throw error
    }
  }

  /** An answer's body into a new file, hashed; an error as soon as it passes maxBytes. */
  private async copy(
    res: Response,
    part: string,
    what: string
  ): Promise<{ size: number; digest: string }> {
    const hash = createHash('sha256')
    let size = 0
    const handle = await onDisk(what, `creating ${part}`, res.status, () => open(part, 'wx'))
    let batch: Uint8Array[] = []
    let batched = 0
    const flush = async (): Promise<void> => {
      const data = Buffer.concat(batch, batched)
      batch = []
      batched = 0
      await onDisk(what, `writing ${part}`, res.status, () => writeAll(handle, data))
    }
    try {
      // a body that fails (a dropped connection, the time limit) throws as it is: a retry
      for await (const chunk of res.body ?? []) {
        size += chunk.length
        // the stream is cancelled as the loop is left: the rest is never read
        if (size > this.maxBytes) throw this.tooLarge(what, res.status)
        hash.update(chunk)
        batch.push(chunk)
        batched += chunk.length
        if (batched >= WRITE_BATCH) await flush()
      }
      await flush()
    } catch (error) {
      await handle.close().catch(() => undefined)
      throw error
    }
    await onDisk(what, `writing ${part}`, res.status, () => handle.close())
    return { size, digest: `sha256:${hash.digest('hex')}` }
  }

  private tooLarge(what: string, status: number, detail = ''): RegistryError {
    return new RegistryError(
      `${what}: the blob is larger than the limit of ${this.maxBytes} bytes${detail}`,
      status
    )
  }
}

/** All of `data` written at the file's position (a write may take less than it is given). */
async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length;) {
    const { bytesWritten } = await handle.write(data, at, data.length - at, null)
    if (bytesWritten === 0) throw new Error('nothing was written')
    at += bytesWritten
  }
}

/** Something done on the disk, its failure a RegistryError that says what failed. */
async function onDisk<T>(
  what: string,
  doing: string,
  status: number,
  act: () => Promise<T>
): Promise<T> {
  try {
    return await act()
  } catch (error) {
    // the file system's errors, whatever realm made them (a test's VM)
    const message = (error as { message?: unknown } | null)?.message
    const why = typeof message === 'string' ? message : errorMessage(error)
    throw new RegistryError(`${what}: ${doing} failed: ${why}`, status)
  }
}
