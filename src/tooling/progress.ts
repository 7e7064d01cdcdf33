/**
 * BuildKit's progress read as data. `docker buildx build --progress=rawjson` writes BuildKit's
 * SolveStatus objects to stderr (buildx 0.13 indented over many lines, later ones one per line),
 * then, when the build fails, a few lines of plain text. Each object carries vertices (the steps,
 * with start, end, cached and error), their log chunks (base64) and statuses (transfers).
 *
 * This module keeps the steps and their logs, says which Dockerfile step runs now, how long each
 * took, and renders the log as buildx's plain progress would (`#N [stage i/n] RUN ...`,
 * `#N 0.123 output`, `#N DONE 1.2s`), each step's lines together. Pure: fed text, asked questions.
 */

import { StringDecoder } from 'node:string_decoder'

/** A Dockerfile instruction as BuildKit names its vertex: `[stage 5/9] RUN colcon build`. */
export interface DockerfileStep {
  /** The stage's name (`builder`, `stage-1`), absent in a one-stage build */
  readonly stage?: string
  readonly index: number
  readonly total: number
  readonly instruction: string
}

/** How long a Dockerfile step took (a cached step takes no time). */
export interface StepTime {
  /** `5/9`, or `builder 5/9` in a multi-stage build */
  readonly step: string
  readonly instruction: string
  readonly seconds: number
  readonly cached: boolean
}

interface Vertex {
  /** Numbered as it starts (or comes from the cache), as the plain printer numbers its steps */
  number: number
  name: string
  started?: number
  completed?: number
  cached: boolean
  error?: string
  /** Finished log lines, each with its time (ms): the last MAX_LINES of them */
  lines: { at: number; text: string }[]
  /** Lines dropped from the start, to keep memory bounded over hours of output */
  dropped: number
  /** A log line not finished yet, per stream */
  readonly partial: Map<number, { at: number; text: string }>
  /** Per stream: a UTF-8 character can be split between two log messages */
  readonly decoders: Map<number, StringDecoder>
}

interface RawVertex {
  digest?: string
  name?: string
  started?: string
  completed?: string
  cached?: boolean
  error?: string
}
interface RawLog {
  vertex?: string
  stream?: number
  data?: string
  timestamp?: string
}
interface RawStatus {
  vertexes?: RawVertex[] | null
  logs?: RawLog[] | null
  warnings?: { short?: string }[] | null
}

/** Log lines kept per step: its last ones (a compile under QEMU can print for hours) */
export const MAX_LINES = 10_000

const STEP = /^\[(?:(.+) )?(\d+)\/(\d+)\] (.*)$/s

/** The Dockerfile step a vertex name stands for, or undefined (`[internal] ...`, exporting). */
export function parseStep(name: string): DockerfileStep | undefined {
  const m = STEP.exec(name)
  if (m === null) return undefined
  return {
    ...(m[1] === undefined ? {} : { stage: m[1] }),
    index: Number(m[2]),
    total: Number(m[3]),
    // a digest is kept to 12 hex digits, as docker shows image IDs
    instruction: m[4]
      .replace(/\s+/g, ' ')
      .replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}/g, '@sha256:$1…')
      .trim()
  }
}

/** `5/9` or `builder 5/9`. */
export function stepLabel(s: DockerfileStep): string {
  return `${s.stage === undefined ? '' : `${s.stage} `}${s.index}/${s.total}`
}

const decode = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8')

const time = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const t = Date.parse(text)
  return Number.isNaN(t) ? undefined : t
}

export class BuildProgress {
  private readonly vertices = new Map<string, Vertex>()
  /** Lines of plain text between or after the objects (buildx's final error) */
  private readonly plain: string[] = []
  private object = ''
  private line = ''
  private depth = 0
  private inString = false
  private escaped = false
  private numbered = 0
  /** What was said to have started: Dockerfile steps, then BuildKit's own work (exporting) */
  private readonly announced = new Set<string>()

  /**
   * Takes the next piece of stderr. Returns true when a Dockerfile step started in it (or the
   * step running now changed), so a caller can say so at once.
   */
  feed(chunk: string): boolean {
    for (const ch of chunk) {
      if (this.depth === 0) {
        if (ch === '{' && this.line.trim() === '') {
          this.line = ''
          this.object = ch
          this.depth = 1
        } else if (ch === '\n') {
          this.endPlainLine()
        } else {
          this.line += ch
        }
        continue
      }
      this.object += ch
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (ch === '\\') this.escaped = true
        else if (ch === '"') this.inString = false
      } else if (ch === '"') this.inString = true
      else if (ch === '{') this.depth++
      else if (ch === '}' && --this.depth === 0) this.endObject()
    }
    // a step BuildKit reports started again (a FROM resolved, then pulled) is no new step, nor
    // an older step still running when a shorter one after it ended
    const now = this.current()
    if (now === undefined || this.announced.has(now.name)) return false
    this.announced.add(now.name)
    return true
  }

  private endPlainLine(): void {
    if (this.line.trim() !== '') this.plain.push(this.line.trimEnd())
    this.line = ''
  }

  private endObject(): void {
    const text = this.object
    this.object = ''
    let status: RawStatus
    try {
      status = JSON.parse(text) as RawStatus
    } catch {
      for (const l of text.split('\n')) if (l.trim() !== '') this.plain.push(l.trimEnd())
      return
    }
    for (const v of status.vertexes ?? []) this.vertex(v)
    for (const l of status.logs ?? []) this.log(l)
    // a warning's text is bytes in BuildKit's status, so base64 in JSON
    for (const w of status.warnings ?? []) {
      if (w.short !== undefined) this.plain.push(`WARNING: ${decode(w.short).trim()}`)
    }
  }

  private vertex(raw: RawVertex): void {
    if (raw.digest === undefined) return
    let v = this.vertices.get(raw.digest)
    if (v === undefined) {
      v = {
        number: 0,
        name: raw.name ?? '',
        cached: false,
        lines: [],
        dropped: 0,
        partial: new Map(),
        decoders: new Map()
      }
      this.vertices.set(raw.digest, v)
    }
    if (raw.name) v.name = raw.name
    const started = time(raw.started)
    // a vertex can start again (a FROM resolved, then pulled): its time counts from the first
    if (started !== undefined && v.started === undefined) v.started = started
    v.completed = time(raw.completed)
    if (raw.cached === true) v.cached = true
    if (raw.error) v.error = raw.error
    if (v.number === 0 && (v.started !== undefined || v.cached)) v.number = ++this.numbered
  }

  /** The vertices that started, in the order they did */
  private begun(): Vertex[] {
    return [...this.vertices.values()].filter(v => v.number > 0).sort((a, b) => a.number - b.number)
  }

  private log(raw: RawLog): void {
    const v = raw.vertex === undefined ? undefined : this.vertices.get(raw.vertex)
    if (v === undefined || raw.data === undefined) return
    const at = time(raw.timestamp) ?? v.started ?? 0
    const stream = raw.stream ?? 1
    let decoder = v.decoders.get(stream)
    if (decoder === undefined) v.decoders.set(stream, (decoder = new StringDecoder('utf8')))
    const text = decoder.write(Buffer.from(raw.data, 'base64'))
    const parts = text.split(/\r?\n/)
    const open = v.partial.get(stream)
    parts[0] = (open?.text ?? '') + parts[0]
    const first = open?.at ?? at
    for (let i = 0; i < parts.length - 1; i++) {
      v.lines.push({ at: i === 0 ? first : at, text: parts[i] })
    }
    if (v.lines.length > 2 * MAX_LINES) {
      v.dropped += v.lines.length - MAX_LINES
      v.lines = v.lines.slice(-MAX_LINES)
    }
    const rest = parts[parts.length - 1]
    if (rest === '') v.partial.delete(stream)
    else v.partial.set(stream, { at: parts.length === 1 ? first : at, text: rest })
  }

  private steps(): { v: Vertex; step: DockerfileStep }[] {
    const out: { v: Vertex; step: DockerfileStep }[] = []
    for (const v of this.begun()) {
      const step = parseStep(v.name)
      if (step !== undefined) out.push({ v, step })
    }
    return out
  }

  /**
   * What runs now: the Dockerfile step started last of those not finished; when none runs,
   * BuildKit's own work after the steps (exporting the image, loading it into the engine).
   */
  current(): { name: string; started: number; step?: DockerfileStep } | undefined {
    let found: Vertex | undefined
    let other: Vertex | undefined
    for (const v of this.begun()) {
      if (v.started === undefined || v.completed !== undefined || v.cached) continue
      const later = (than: Vertex | undefined): boolean =>
        than === undefined || (than.started ?? 0) <= (v.started ?? 0)
      if (parseStep(v.name) !== undefined) {
        if (later(found)) found = v
      } else if (!v.name.startsWith('[') && later(other)) other = v
    }
    const v = found ?? (this.steps().length > 0 ? other : undefined)
    if (v === undefined) return undefined
    const step = parseStep(v.name)
    return { name: v.name, started: v.started ?? 0, ...(step === undefined ? {} : { step }) }
  }

  /** Each Dockerfile step that ran or came from the cache, in order of appearance. */
  stepTimes(): StepTime[] {
    return this.steps().map(({ v, step }) => ({
      step: stepLabel(step),
      instruction: step.instruction,
      seconds:
        v.cached || v.started === undefined || v.completed === undefined
          ? 0
          : Math.round((v.completed - v.started) / 100) / 10,
      cached: v.cached
    }))
  }

  /**
   * The step that failed: its name, error and every line of its output. Steps cancelled because
   * another failed are not it; of several failures, the one that ended first.
   */
  failure(): { step: string; error: string; output: string[] } | undefined {
    const failed = this.begun()
      .filter(v => v.error !== undefined && !/cancel/i.test(v.error))
      .sort((a, b) => (a.completed ?? Infinity) - (b.completed ?? Infinity))
    const v = failed[0]
    if (v === undefined) return undefined
    const output = [...v.lines, ...v.partial.values()].map(l => l.text)
    return { step: v.name, error: v.error ?? '', output }
  }

  /** The log as buildx's plain progress shows it, each step's lines together. */
  render(): string {
    const out: string[] = []
    for (const v of this.begun()) {
      out.push(`#${v.number} ${v.name}`)
      if (v.dropped > 0) out.push(`#${v.number} (${v.dropped} earlier lines not kept)`)
      for (const l of [...v.lines, ...v.partial.values()]) {
        const offset = Math.max(0, (l.at - (v.started ?? l.at)) / 1000)
        out.push(`#${v.number} ${offset.toFixed(3)} ${l.text}`)
      }
      if (v.error !== undefined) out.push(`#${v.number} ERROR: ${v.error}`)
      else if (v.cached) out.push(`#${v.number} CACHED`)
      else if (v.completed !== undefined && v.started !== undefined) {
        out.push(`#${v.number} DONE ${((v.completed - v.started) / 1000).toFixed(1)}s`)
      }
      out.push('')
    }
    // text still open: a line, or a `{` that began no object of BuildKit's
    const open = [this.object, this.line].filter(t => t.trim() !== '').map(t => t.trimEnd())
    const tailText = [...this.plain, ...open]
    return [...out, ...tailText].join('\n').trim()
  }
}
