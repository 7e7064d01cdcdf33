/** A problem with what the user asked for: one line, naming the input and what would be valid. */
export class InputError extends Error {
  readonly input: string

  constructor(input: string, problem: string) {
    super(`Input "${input}": ${problem}`)
    this.name = 'InputError'
    this.input = input
  }
}

/** Quote a user value for an error message, shortened and with control characters made visible. */
export function quote(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}...` : value
  return JSON.stringify(shown)
}
