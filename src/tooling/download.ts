/**
 * Verified downloads: a release binary is used only when its sha256 is the expected one, whether
 * it was just downloaded or found in the tool cache (a self-hosted runner's cache outlives runs and
 * can be changed between them). A download that does not match is deleted before anything else
 * sees it.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { errorMessage } from '../text/text.js'

/** The parts of @actions/tool-cache the installers use. */
export interface ToolCache {
  find(tool: string, version: string, arch: string): string
  download(url: string): Promise<string>
  cacheFile(
    source: string,
    target: string,
    tool: string,
    version: string,
    arch: string
  ): Promise<string>
}

/** A sha256 as lowercase hex from text that may be uppercase or start with `sha256:`; else null. */
export function normalizeSha256(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha256:/i, '')
    .toLowerCase()
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null
}

/** The sha256 of a file, read as a stream (release binaries are tens of megabytes). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Downloads `url` with the tool cache and returns the file when its sha256 is `expected`.
 * Otherwise deletes it and throws one line: what, the URL, the sha256 found and the one expected.
 * `what` names the download for messages, e.g. `buildx 0.37.1`.
 */
export async function downloadVerified(
  cache: ToolCache,
  what: string,
  url: string,
  expected: string
): Promise<string> {
  let file: string
  try {
    file = await cache.download(url)
  } catch (error) {
    throw new Error(`Downloading ${what} from ${url} failed: ${errorMessage(error)}`, {
      cause: error
    })
  }
  let found: string
  try {
    found = await sha256File(file)
  } catch (error) {
    await rm(file, { force: true })
    throw new Error(`Reading the download of ${what} from ${url} failed: ${errorMessage(error)}`, {
      cause: error
    })
  }
  if (found !== expected) {
    await rm(file, { force: true })
    throw new Error(
      `Checksum mismatch: ${what} downloaded from ${url} has sha256 ${found}, ` +
        `expected ${expected}; the download was deleted and nothing was installed.`
    )
  }
  return file
}

/**
 * Checks a file found in the tool cache before it is used; throws one line when its sha256 is not
 * `expected` (`dir` is the cache entry to delete to download it again).
 */
export async function verifyCached(
  what: string,
  file: string,
  dir: string,
  expected: string
): Promise<void> {
  let found: string
  try {
    found = await sha256File(file)
  } catch (error) {
    throw new Error(
      `Reading ${what} in the tool cache (${file}) failed: ${errorMessage(error)}; ` +
        `nothing was installed. Delete ${dir} to download it again.`,
      { cause: error }
    )
  }
  if (found !== expected) {
    throw new Error(
      `Checksum mismatch: ${what} in the tool cache (${file}) has sha256 ${found}, expected ` +
        `${expected}; it changed after it was cached, or was cached from another source. Nothing ` +
        `was installed; delete ${dir} to download it again.`
    )
  }
}
