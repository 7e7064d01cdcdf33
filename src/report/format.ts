/**
 * How the job summary writes its numbers: one format per kind of number, across the whole page
 * (heading, table, timeline, slowest steps), so that the figures can be compared at a glance.
 */
import { formatDuration } from '../results/results.js'
import { formatBytes } from '../text/text.js'

/** A duration, as the log's progress lines write it too: `3.1s`, `7m22s`, `1h06m40s`. */
export function duration(seconds: number): string {
  return formatDuration(seconds)
}

/** An image size: `1.23 GB`, `456.7 MB`, `12 kB`; '' when unknown. */
export function formatSize(bytes: number | undefined): string {
  return bytes === undefined ? '' : formatBytes(bytes)
}

/** Hex digits of a digest shown in a table: as many as `docker images` shows of an image ID. */
const DIGEST_SHOWN = 12

/** `sha256:0123456789ab`: a digest short enough for a table cell (the full one goes below it). */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':')
  return digest.slice(0, colon + 1 + DIGEST_SHOWN)
}
