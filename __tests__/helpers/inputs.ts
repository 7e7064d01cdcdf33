/** An input source for readConfig from a plain object, as the runner would hand inputs over. */
import type { InputSource } from '../../src/inputs/config.js'

export function source(values: Record<string, string>): InputSource {
  return name => values[name] ?? ''
}

export const TODAY = '2026-11-23'
