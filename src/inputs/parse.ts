/** Pure parsers for the shapes action inputs come in. Each throws InputError naming the input. */
import { InputError, quote } from './errors.js'

/** Items separated by commas and/or newlines, trimmed, empties dropped. */
export function parseList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map(item => item.trim())
    .filter(item => item !== '')
}

/** Non-empty lines, trimmed; lines starting with # are comments. */
export function parseLines(value: string): string[] {
  return value
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'))
}

const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

/** YAML 1.2 core-schema booleans, as @actions/core's getBooleanInput accepts them. */
export function parseBoolean(input: string, value: string, fallback: boolean): boolean {
  const v = value.trim()
  if (v === '') return fallback
  if (TRUE.includes(v)) return true
  if (FALSE.includes(v)) return false
  throw new InputError(input, `${quote(v)} is not a boolean; use true or false`)
}

/** A whole number in [min, max]; empty means fallback. */
export function parseInteger(
  input: string,
  value: string,
  fallback: number,
  min: number,
  max: number
): number {
  const v = value.trim()
  if (v === '') return fallback
  if (!/^\d+$/.test(v)) {
    throw new InputError(
      input,
      `${quote(v)} is not a whole number; use a number from ${min} to ${max}`
    )
  }
  const n = Number(v)
  if (n < min || n > max) {
    throw new InputError(input, `${v} is out of range; use a number from ${min} to ${max}`)
  }
  return n
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 }

/**
 * A size in bytes: a number with an optional unit K, M or G (powers of 1000, as the log writes
 * sizes; `500M`, `500MB` and `500 mb` mean the same), at most `max`; empty means fallback.
 */
export function parseSize(input: string, value: string, fallback: number, max: number): number {
  const v = value.trim()
  if (v === '') return fallback
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(v)
  const bytes = m === null ? NaN : Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()])
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > max) {
    throw new InputError(
      input,
      `${quote(v)} is not a size from 1 byte to ${max / 1e9}G; use a number with K, M or G (powers of 1000), e.g. 500M or 2G`
    )
  }
  return bytes
}

/** One of a fixed set of words; empty means fallback. */
export function parseChoice<T extends string>(
  input: string,
  value: string,
  choices: readonly T[],
  fallback: T
): T {
  const v = value.trim()
  if (v === '') return fallback
  if ((choices as readonly string[]).includes(v)) return v as T
  throw new InputError(input, `${quote(v)} is not valid; use one of: ${choices.join(', ')}`)
}

export interface KeyRule {
  readonly pattern: RegExp
  /** What a valid key is, for the error message */
  readonly valid: string
}

export const BUILD_ARG_KEY: KeyRule = {
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  valid: 'use letters, digits and _ (not starting with a digit)'
}

export const PLATFORM_KEY: KeyRule = {
  pattern: /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/,
  valid: 'use a platform such as linux/arm64'
}

export const LABEL_KEY: KeyRule = {
  pattern: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
  valid: 'use letters, digits and . _ - / (e.g. org.opencontainers.image.vendor)'
}

/** Multiline KEY=VALUE pairs, in order. Keys must follow the rule and be unique. */
export function parseKeyValues(
  input: string,
  value: string,
  rule: KeyRule = BUILD_ARG_KEY
): [string, string][] {
  const pairs: [string, string][] = []
  for (const line of parseLines(value)) {
    const eq = line.indexOf('=')
    if (eq <= 0) {
      throw new InputError(input, `${quote(line)} is not KEY=VALUE; write one KEY=VALUE per line`)
    }
    const key = line.slice(0, eq).trim()
    const val = line.slice(eq + 1).trim()
    if (!rule.pattern.test(key)) {
      throw new InputError(input, `${quote(key)} is not a valid name; ${rule.valid}`)
    }
    if (pairs.some(([k]) => k === key)) {
      throw new InputError(input, `${key} is set twice; set each name once`)
    }
    pairs.push([key, val])
  }
  return pairs
}

/** Values must be printable single-line text (no control characters). */
export function assertPrintable(input: string, value: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new InputError(input, `${quote(value)} contains a control character; use plain text`)
  }
}
