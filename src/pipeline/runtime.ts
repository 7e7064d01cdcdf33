/**
 * The action's view of the runner: inputs, outputs, logs, state and the job summary. The real one
 * (src/runtime.ts) wraps @actions/core; tests hand in their own.
 */
export interface Runtime {
  getInput(name: string): string
  setOutput(name: string, value: string): void
  setSecret(value: string): void
  debug(message: string): void
  info(message: string): void
  warning(message: string): void
  error(message: string, title?: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  /**
   * Where the runtime can show what a running task does now in one line it redraws (a terminal):
   * that line, or null once the task ended. Absent: such lines are logged with info.
   */
  status?(key: string, line: string | null): void
  /** Prints a finished block of log as one collapsed group (safe with concurrent work). */
  block(title: string, body: string): void
  setFailed(message: string): void
  saveState(name: string, value: string): void
  getState(name: string): string
  /** Appends HTML/Markdown to the job summary (no-op outside a runner). */
  writeSummary(text: string): Promise<void>
  readonly env: Readonly<Record<string, string | undefined>>
  now(): Date
  /** os.arch() of this runner */
  readonly hostArch: string
  readonly cpus: number
}
