#!/usr/bin/env node
/**
 * Runs the bundled action (dist/) the way the GitHub Actions runner does: every input of action.yml
 * as an INPUT_<NAME> variable (hyphens kept, defaults filled in), GITHUB_OUTPUT, GITHUB_STATE and
 * GITHUB_STEP_SUMMARY files in a temporary folder, the main step and then the post step with the
 * state the main step saved. Used by the tests and by `npm run example`. The steps run on the Node
 * named by ACTION_NODE (the test bed's Node 24, the runtime action.yml declares), else on the Node
 * running this script.
 *
 *   node scripts/runner.mjs [--input NAME=VALUE]... [--env NAME=VALUE]... [--cwd DIR] [--no-post]
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Parse a GITHUB_OUTPUT / GITHUB_STATE file (name<<delimiter blocks, or name=value lines).
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseCommandFile(text) {
  /** @type {Record<string, string>} */
  const values = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const body = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i])
      values[heredoc[1]] = body.join('\n')
    } else if (lines[i].includes('=')) {
      const eq = lines[i].indexOf('=')
      values[lines[i].slice(0, eq)] = lines[i].slice(eq + 1)
    }
  }
  return values
}

/** The inputs of action.yml with their defaults, as the runner computes them. */
export function inputEnv(inputs, actionDir = ROOT) {
  const action = parse(readFileSync(path.join(actionDir, 'action.yml'), 'utf8'))
  const env = {}
  for (const [name, spec] of Object.entries(action.inputs)) {
    const value = name in inputs ? inputs[name] : (spec.default ?? '')
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value)
  }
  for (const name of Object.keys(inputs)) {
    if (!(name in action.inputs)) throw new Error(`action.yml has no input named "${name}"`)
  }
  return env
}

function baseEnv() {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(INPUT_|STATE_|GITHUB_|RUNNER_)/.test(k)) continue
    env[k] = v
  }
  return env
}

/**
 * @param {{when: RegExp, delayMs: number, signal: NodeJS.Signals} | undefined} cancel
 *   send `signal` to the step `delayMs` after its output first matches `when` (a cancelled workflow)
 */
function runStep(node, entry, env, cwd, echo, cancel) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(node, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    let stdout = ''
    let stderr = ''
    // each stdout line with the time it arrived (ms after the step started), as the runner
    // stamps its log lines
    const lines = []
    let partial = ''
    let armed = cancel !== undefined
    child.stdout.on('data', d => {
      stdout += d
      const parts = (partial + d).split('\n')
      partial = parts.pop() ?? ''
      for (const text of parts) lines.push({ at: Date.now() - started, text })
      if (echo) process.stdout.write(d)
      if (armed && cancel && cancel.when.test(stdout)) {
        armed = false
        setTimeout(() => child.kill(cancel.signal), cancel.delayMs)
      }
    })
    child.stderr.on('data', d => {
      stderr += d
      if (echo) process.stderr.write(d)
    })
    child.on('close', (code, signal) => {
      if (partial !== '') lines.push({ at: Date.now() - started, text: partial })
      resolve({ code: code ?? 128, signal, stdout, stderr, lines, ms: Date.now() - started })
    })
  })
}

/** @type {Map<string, string>} */
const nodeVersions = new Map()

/**
 * The Node the steps run on (ACTION_NODE, else this script's), and its version as it says it.
 * @returns {{path: string, version: string}}
 */
export function actionNode() {
  const node = process.env.ACTION_NODE || process.execPath
  let version = nodeVersions.get(node)
  if (version === undefined) {
    version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
    nodeVersions.set(node, version)
  }
  return { path: node, version }
}

/**
 * Run the action's main step, then its post step, on actionNode().
 * @param {{inputs?: Record<string,string>, env?: Record<string,string>, cwd?: string,
 *   actionDir?: string, dir?: string, post?: boolean, echo?: boolean,
 *   cancel?: {when: RegExp, delayMs: number, signal: NodeJS.Signals}}} options
 */
export async function runAction(options = {}) {
  const actionDir = options.actionDir ?? ROOT
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'rma-runner-'))
  const files = {
    output: path.join(dir, 'github_output'),
    state: path.join(dir, 'github_state'),
    summary: path.join(dir, 'step_summary.md'),
    env: path.join(dir, 'github_env'),
    path: path.join(dir, 'github_path')
  }
  for (const f of Object.values(files)) writeFileSync(f, '')
  const temp = path.join(dir, 'runner_temp')
  const toolCache = path.join(dir, 'tool_cache')
  mkdirSync(temp, { recursive: true })
  mkdirSync(toolCache, { recursive: true })
  const cwd = options.cwd ?? process.cwd()
  const env = {
    ...baseEnv(),
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: os.arch() === 'arm64' ? 'ARM64' : 'X64',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: toolCache,
    GITHUB_WORKSPACE: cwd,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    ...(options.env ?? {}),
    ...inputEnv(options.inputs ?? {}, actionDir)
  }
  const entry = path.join(actionDir, 'dist', 'index.js')
  const node = actionNode()
  const main = await runStep(node.path, entry, env, cwd, options.echo, options.cancel)
  let post
  if (options.post !== false) {
    const stateEnv = {}
    for (const [k, v] of Object.entries(parseCommandFile(readFileSync(files.state, 'utf8')))) {
      stateEnv[`STATE_${k}`] = v
    }
    post = await runStep(node.path, entry, { ...env, ...stateEnv }, cwd, options.echo)
  }
  return {
    node,
    main,
    post,
    dir,
    files,
    outputs: parseCommandFile(readFileSync(files.output, 'utf8')),
    state: parseCommandFile(readFileSync(files.state, 'utf8')),
    summary: readFileSync(files.summary, 'utf8')
  }
}

function pairs(args, flag) {
  const out = {}
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== flag) continue
    const value = args[++i] ?? ''
    const eq = value.indexOf('=')
    if (eq <= 0) throw new Error(`${flag} takes NAME=VALUE, got "${value}"`)
    out[value.slice(0, eq)] = value.slice(eq + 1).replace(/\\n/g, '\n')
  }
  return out
}

async function cli(args) {
  const cwdAt = args.indexOf('--cwd')
  const result = await runAction({
    inputs: pairs(args, '--input'),
    env: pairs(args, '--env'),
    cwd: cwdAt >= 0 ? path.resolve(args[cwdAt + 1]) : process.cwd(),
    post: !args.includes('--no-post'),
    echo: true
  })
  console.log('\n--- ros-multiarch-action, run as the Actions runner runs it ---')
  console.log(`node: ${result.node.version} (${result.node.path})`)
  console.log(`main step: exit ${result.main.code} in ${(result.main.ms / 1000).toFixed(1)} s`)
  if (result.post)
    console.log(`post step: exit ${result.post.code} in ${(result.post.ms / 1000).toFixed(1)} s`)
  console.log(`outputs (GITHUB_OUTPUT): ${result.files.output}`)
  for (const [k, v] of Object.entries(result.outputs)) {
    const line = v.replace(/\n/g, ' ')
    console.log(`  ${k} = ${line.length > 160 ? `${line.slice(0, 157)}...` : line}`)
  }
  console.log(`job summary (GITHUB_STEP_SUMMARY): ${result.files.summary}`)
  process.exitCode = result.main.code !== 0 ? result.main.code : (result.post?.code ?? 0)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await cli(process.argv.slice(2))
}
