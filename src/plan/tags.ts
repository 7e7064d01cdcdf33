/**
 * Release tags from the GitHub context: what kind of run this is (release, pre-release, branch,
 * schedule, pull request) and the tags each distro gets for it. Pure.
 */
import semver from 'semver'
import { InputError, quote } from '../inputs/errors.js'
import { Inputs } from '../inputs/names.js'
import { TAG } from '../oci/reference.js'

export interface GitContext {
  /** GITHUB_EVENT_NAME; empty outside a workflow */
  readonly eventName: string
  /** GITHUB_REF, e.g. refs/tags/v1.2.3, refs/heads/main, refs/pull/7/merge */
  readonly ref: string
  /** GITHUB_SHA; empty outside a workflow */
  readonly sha: string
  /** The run's date, YYYYMMDD (UTC) */
  readonly date: string
  /** The pull request number from the event payload, when there is one */
  readonly prNumber?: string
}

export type RunKind =
  | { kind: 'release'; version: string; major: string; minor: string; patch: string }
  | { kind: 'prerelease'; version: string; major: string; minor: string; patch: string }
  | { kind: 'tag'; name: string }
  | { kind: 'branch'; name: string }
  | { kind: 'pull-request'; number: string }
  | { kind: 'schedule' }
  | { kind: 'local' }

const PR_EVENTS = ['pull_request', 'pull_request_target']

/** The version a run publishes, for the version label: the release, the branch, the date... */
export function runVersion(run: RunKind, git: GitContext): string {
  switch (run.kind) {
    case 'release':
    case 'prerelease':
      return run.version
    case 'tag':
    case 'branch':
      return run.name
    case 'pull-request':
      return `pr-${run.number}`
    case 'schedule':
      return `nightly-${git.date}`
    case 'local':
      return git.sha === '' ? 'local' : `sha-${git.sha.slice(0, 7)}`
  }
}

/** What kind of run the GitHub context describes. */
export function runKind(git: GitContext): RunKind {
  if (PR_EVENTS.includes(git.eventName)) {
    const number = git.prNumber ?? /^refs\/pull\/(\d+)\//.exec(git.ref)?.[1] ?? '0'
    return { kind: 'pull-request', number }
  }
  if (git.eventName === 'schedule') return { kind: 'schedule' }
  if (git.ref.startsWith('refs/tags/')) {
    const name = git.ref.slice('refs/tags/'.length)
    const v = semver.parse(name.replace(/^v/, ''))
    if (v === null) return { kind: 'tag', name }
    const parts = {
      version: v.version,
      major: `${v.major}`,
      minor: `${v.minor}`,
      patch: `${v.patch}`
    }
    return v.prerelease.length > 0
      ? { kind: 'prerelease', ...parts }
      : { kind: 'release', ...parts }
  }
  if (git.ref.startsWith('refs/heads/'))
    return { kind: 'branch', name: git.ref.slice('refs/heads/'.length) }
  return { kind: 'local' }
}

/** A ref name as tag text: characters a tag cannot hold become -, no leading . or -. */
export function sanitize(name: string): string {
  return name
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
}

/** The tag templates each kind of run gets by default. */
export function defaultTemplates(run: RunKind): string[] {
  switch (run.kind) {
    case 'release':
      return [
        '{distro}-{version}',
        '{distro}-{major}.{minor}',
        // 0.x releases promise nothing across minors: no {distro}-0 tag
        ...(run.major === '0' ? [] : ['{distro}-{major}']),
        '{distro}'
      ]
    case 'prerelease':
      return ['{distro}-{version}']
    case 'tag':
      return ['{distro}-{ref}']
    case 'branch':
      return ['{distro}-{branch}', '{distro}-sha-{sha}']
    case 'pull-request':
      return ['{distro}-pr-{pr}']
    case 'schedule':
      return ['{distro}-nightly', '{distro}-{date}']
    case 'local':
      return ['{distro}']
  }
}

/** The value of each template variable in this run; empty when the run has none. */
export function variables(run: RunKind, git: GitContext, distro: string): Record<string, string> {
  const semverParts =
    run.kind === 'release' || run.kind === 'prerelease'
      ? { version: run.version, major: run.major, minor: run.minor, patch: run.patch }
      : { version: '', major: '', minor: '', patch: '' }
  return {
    distro,
    ...semverParts,
    // long ref names are cut so that a tag (and its arch tag) stays within 128 characters
    branch: run.kind === 'branch' ? sanitize(run.name).slice(0, 80) : '',
    sha: git.sha.slice(0, 7),
    date: git.date,
    ref: run.kind === 'tag' ? sanitize(run.name).slice(0, 80) : '',
    pr: run.kind === 'pull-request' ? run.number : ''
  }
}

export interface TagOptions {
  /** User templates (the tags input); empty means the defaults of the run's kind */
  readonly templates: readonly string[]
  readonly suffix: string
  /** The distro that also gets `latest` on a final release */
  readonly latestDistro: string
}

/**
 * The tags (without image name) of one distro in this run. A template whose variables have no
 * value in this kind of run (e.g. {version} on a branch push) is left out.
 */
export function distroTags(run: RunKind, git: GitContext, distro: string, o: TagOptions): string[] {
  const vars = variables(run, git, distro)
  const tags: string[] = []
  const templates = o.templates.length > 0 ? o.templates : defaultTemplates(run)
  for (const template of templates) {
    let empty = false
    const tag = template.replace(/\{([^{}]*)\}/g, (_m, name: string) => {
      const value = vars[name] ?? ''
      if (value === '') empty = true
      return value
    })
    if (!empty) tags.push(tag + o.suffix)
  }
  if (run.kind === 'release' && o.latestDistro === distro) tags.push(`latest${o.suffix}`)
  for (const tag of tags) {
    if (!TAG.test(tag)) {
      const source = o.templates.length > 0 || o.suffix === '' ? Inputs.Tags : Inputs.TagSuffix
      throw new InputError(
        source,
        `tag ${quote(tag)} is not valid: letters, digits, _ . - only, at most 128 characters, not starting with . or -`
      )
    }
  }
  return [...new Set(tags)]
}

/** Tags shared by two distros would publish one over the other: refuse them. */
export function checkDistinct(perDistro: ReadonlyMap<string, readonly string[]>): void {
  const owner = new Map<string, string>()
  for (const [distro, tags] of perDistro) {
    for (const tag of tags) {
      const other = owner.get(tag)
      if (other !== undefined) {
        throw new InputError(
          Inputs.Tags,
          `tag "${tag}" would be published for both ${other} and ${distro}; put {distro} in every template`
        )
      }
      owner.set(tag, distro)
    }
  }
}
