/**
 * Text for people: one-line errors from whatever was thrown, the last line or the end of some
 * output, a cut marked with an ellipsis, and text from elsewhere (a registry, a container) made
 * safe for one log line. The lowest layer: pure, imports nothing.
 */

/** What was thrown, as one line a user can act on (errors can be anything in JavaScript). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  try {
    return `Unexpected error: ${JSON.stringify(error)}`
  } catch {
    return `Unexpected error: ${String(error)}`
  }
}

/** The last non-empty line of some output, for one-line error messages. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map(l => l.trim())
    .filter(l => l !== '')
  return lines.length === 0 ? 'no output' : lines[lines.length - 1]
}

/** The end of some output, at most `max` characters, cut at a line start where possible. */
export function tail(text: string, max = 3000): string {
  if (text.length <= max) return text
  const cut = text.slice(text.length - max)
  const nl = cut.indexOf('\n')
  return nl >= 0 && nl < 200 ? cut.slice(nl + 1) : cut
}

/** Text cut to at most `max` characters, the cut marked with an ellipsis. */
export function ellipsis(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * Text from a registry, made safe for one log line: control characters (a new line among them)
 * escaped as JSON escapes them, and cut at `max` characters. Pure.
 */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, c => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 1)}…`
}

/** A number of bytes as people read it: `1.23 GB`, `456.7 MB`, `12 kB`, `0 kB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  return `${(bytes / 1e3).toFixed(0)} kB`
}
