/** Config -> Plan. Pure and deterministic: the same config and context give the same plan. */
import type { Config, DistroRequest, Mode } from '../inputs/config.js'
import type { RosVersion } from '../ros/catalog.js'
import { findPlatform, type PlatformInfo } from '../ros/platforms.js'
import { builtinChecks } from '../smoke/builtin.js'
import { lineTests, type SmokeTest } from '../smoke/types.js'
import { InputError, quote } from '../inputs/errors.js'
import { parseReference } from '../oci/reference.js'
import { Inputs } from '../inputs/names.js'
import { imageLabels, type RepoInfo } from './labels.js'
import { checkDistinct, distroTags, runKind, runVersion, type GitContext } from './tags.js'

export interface Cell {
  /** e.g. humble-arm64 */
  readonly id: string
  readonly distro: string
  readonly rosVersion: RosVersion | null
  readonly platform: string
  /** Short architecture name, e.g. arm64 */
  readonly arch: string
  /** `uname -m` values expected inside the image */
  readonly machines: readonly string[]
  /** True when the runner cannot run this platform natively (QEMU) */
  readonly emulated: boolean
  readonly baseImage: string
  /** In the order they are passed: BASE_IMAGE, ROS_DISTRO, then the user's */
  readonly buildArgs: readonly (readonly [string, string])[]
  /** The tag the built image is loaded under on the runner */
  readonly localTag: string
  /** The arch-specific tag the tested image is pushed under */
  readonly pushTag: string
  /** mode build/merge: the tag a slice stages its tested image under for the merge job */
  readonly stageTag: string
  /**
   * Several registries: the tag the tested image is pushed under in the first one (not its arch
   * tag, which moves only once every registry holds every image)
   */
  readonly holdTag: string
  /** Labels set on the image */
  readonly labels: readonly (readonly [string, string])[]
  readonly tests: readonly SmokeTest[]
}

export interface Manifest {
  readonly distro: string
  /** Full references of the multi-arch index, e.g. acme/robot:humble */
  readonly tags: readonly string[]
  /** Ids of the cells that make up the index, in platform order */
  readonly cells: readonly string[]
  /** The version label of this run (release, branch, nightly-date, ...) */
  readonly version: string
  /** Labels of the images, also set as annotations on the index */
  readonly labels: readonly (readonly [string, string])[]
}

export interface Plan {
  readonly mode: Mode
  readonly image: string
  readonly registry: string
  /** The other names of the image: every one gets the same images and tags, all or nothing */
  readonly mirrors: readonly string[]
  readonly push: boolean
  /** Why push is off although the user asked for it (a pull request) */
  readonly pushBlocked?: string
  /** The kind of run the tags follow: release, prerelease, tag, branch, pull-request, schedule, local */
  readonly run: string
  readonly platforms: readonly string[]
  readonly cells: readonly Cell[]
  readonly manifests: readonly Manifest[]
}

export interface PlanContext {
  /** The platform this runner runs natively, e.g. linux/amd64 */
  readonly hostPlatform: string
  /** GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA and the date */
  readonly git: GitContext
  readonly repo: RepoInfo
  /** RFC 3339 time of the run, for the created label */
  readonly created: string
  /** Tells concurrent runs on one Docker engine apart (GITHUB_RUN_ID etc.) */
  readonly runId: string
  /** GITHUB_RUN_ID: the build slices and the merge job of one workflow run share it */
  readonly workflowRun: string
  /** Tests from smoke-test-file, already parsed */
  readonly fileTests: readonly SmokeTest[]
}

export const LOCAL_REPOSITORY = 'ros-multiarch-local'

export function planBuild(config: Config, ctx: PlanContext): Plan {
  if (config.mode !== 'all' && !/^[0-9]{1,20}$/.test(ctx.workflowRun)) {
    throw new InputError(
      Inputs.Mode,
      `mode ${config.mode} needs GITHUB_RUN_ID (set by GitHub Actions in every job): the build slices and the merge job find each other by it`
    )
  }
  const run = runKind(ctx.git)
  const blocked = config.push && run.kind === 'pull-request'
  const push = config.push && !blocked
  const tagsOf = tagsOfDistros(config, ctx, run, push)
  const version = runVersion(run, ctx.git)
  const userTests = [...lineTests(config.smokeTests, config.smokeTimeout), ...ctx.fileTests]
  const cells: Cell[] = []
  const manifests: Manifest[] = []
  for (const distro of config.distros) {
    const tags = tagsOf.get(distro.name) ?? []
    const labels = imageLabels({
      distro: distro.name,
      rosVersion: distro.info?.rosVersion ?? null,
      version,
      revision: ctx.git.sha,
      created: ctx.created,
      repo: ctx.repo,
      user: config.labels
    })
    const mine = config.platforms.map(platform =>
      cellOf(config, ctx, { distro, platform, tags, labels, userTests })
    )
    cells.push(...mine)
    manifests.push({
      distro: distro.name,
      tags: tags.map(t => `${config.image.name}:${t}`),
      cells: mine.map(c => c.id),
      version,
      labels
    })
  }
  return {
    mode: config.mode,
    image: config.image.name,
    registry: config.image.registry,
    mirrors: config.mirrors.map(m => m.name),
    push,
    ...(blocked ? { pushBlocked: 'a pull request builds and tests, and never pushes' } : {}),
    run: run.kind,
    platforms: config.platforms,
    cells,
    manifests
  }
}

/**
 * Each distro's tags in this kind of run, distinct across distros; a run that pushes needs at
 * least one per distro (one that pushes nothing, a pull request or push off, builds and tests).
 */
function tagsOfDistros(
  config: Config,
  ctx: PlanContext,
  run: ReturnType<typeof runKind>,
  push: boolean
): Map<string, string[]> {
  const tagsOf = new Map<string, string[]>()
  for (const distro of config.distros) {
    const tags = distroTags(run, ctx.git, distro.name, {
      templates: config.tags,
      suffix: config.tagSuffix,
      latestDistro: config.latestDistro
    })
    if (tags.length === 0 && push) {
      throw new InputError(
        Inputs.Tags,
        `no template gives ${distro.name} a tag in a ${run.kind} run (a template is skipped when one of its placeholders is empty); add one that does, e.g. {distro}-{sha}`
      )
    }
    tagsOf.set(distro.name, tags)
  }
  checkDistinct(tagsOf)
  return tagsOf
}

/** One cell: a distro on a platform, its build args, tags, labels and tests. */
function cellOf(
  config: Config,
  ctx: PlanContext,
  c: {
    readonly distro: DistroRequest
    readonly platform: string
    readonly tags: readonly string[]
    readonly labels: Cell['labels']
    readonly userTests: readonly SmokeTest[]
  }
): Cell {
  const { distro, tags } = c
  const name = config.image.name
  const info = findPlatform(c.platform) as PlatformInfo
  const id = `${distro.name}-${info.short}`
  const baseImage = baseImageOf(config.baseImage, distro.name)
  const rosVersion = distro.info?.rosVersion ?? null
  return {
    id,
    distro: distro.name,
    rosVersion,
    platform: info.platform,
    arch: info.short,
    machines: info.machines,
    emulated: info.platform !== ctx.hostPlatform,
    baseImage,
    buildArgs: [
      ['BASE_IMAGE', baseImage],
      ['ROS_DISTRO', distro.name],
      ...config.buildArgs.map(([k, v]) => [k, fillDistro(v, distro.name)] as const)
    ],
    localTag: `${LOCAL_REPOSITORY}/${config.image.path}:${id}${ctx.runId ? `-${ctx.runId}` : ''}`,
    // without tags nothing is pushed (see planBuild); the distro name stands in
    pushTag: `${name}:${archTag(tags[0] ?? distro.name, info.short)}`,
    stageTag: `${name}:${stageTag(ctx.workflowRun, id, config.tagSuffix)}`,
    holdTag: `${name}:${HOLD_PREFIX}-${id}${config.tagSuffix}`.slice(0, name.length + 129),
    labels: c.labels,
    tests: [
      ...builtinChecks({
        distro: distro.name,
        rosVersion,
        platform: info,
        rosChecks: config.rosChecks,
        timeout: config.smokeTimeout
      }),
      ...c.userTests
    ]
  }
}

/** Put a distro into a {distro} template (base-image, build-args). */
export function fillDistro(template: string, distro: string): string {
  return template.replaceAll('{distro}', distro)
}

/** A distro's base image: the base-image template filled, which must be an image reference. */
function baseImageOf(template: string, distro: string): string {
  const filled = fillDistro(template, distro)
  const ref = parseReference(filled)
  if (typeof ref === 'string') {
    throw new InputError(Inputs.BaseImage, `${quote(filled)} is not an image reference: ${ref}`)
  }
  return filled
}

/** Runner labels for each platform's native runner on GitHub-hosted runners. */
export const DEFAULT_RUNNERS: Readonly<Record<string, string>> = {
  'linux/amd64': 'ubuntu-24.04',
  'linux/arm64': 'ubuntu-24.04-arm'
}
const FALLBACK_RUNNER = 'ubuntu-24.04'

export interface MatrixEntry {
  readonly distro: string
  readonly platform: string
  readonly arch: string
  /** For runs-on: one label, or several (a self-hosted runner's labels) */
  readonly runner: string | readonly string[]
}

/**
 * A value for `strategy.matrix: ${{ fromJSON(...) }}`: one include entry per cell, with the label
 * of a runner that runs its platform natively (the runners input first, then GitHub's own).
 */
export function planMatrix(
  plan: Plan,
  runners: readonly (readonly [string, readonly string[]])[] = []
): { include: MatrixEntry[] } {
  const runnerOf = (platform: string): string | readonly string[] => {
    const labels = runners.find(([p]) => p === platform)?.[1]
    if (labels !== undefined) return labels.length === 1 ? labels[0] : labels
    return DEFAULT_RUNNERS[platform] ?? FALLBACK_RUNNER
  }
  return {
    include: plan.cells.map(c => ({
      distro: c.distro,
      platform: c.platform,
      arch: c.arch,
      runner: runnerOf(c.platform)
    }))
  }
}

/** Staging tags start with this; they are named after the workflow run and the cell. */
export const STAGE_PREFIX = 'rma-stage'

/** The tag a build slice stages a cell under: rma-stage-<run id>-<cell id><suffix>. */
export function stageTag(workflowRun: string, cellId: string, suffix: string): string {
  return `${STAGE_PREFIX}-${workflowRun}-${cellId}${suffix}`.slice(0, 128)
}

/**
 * Several registries: a tested image waits in the first one under rma-push-<cell id><suffix>
 * until every registry holds every image; the tag stays (one per cell, overwritten each run).
 */
export const HOLD_PREFIX = 'rma-push'

/** The arch tag of a cell: the distro's first tag and the architecture, within the 128 limit. */
export function archTag(first: string, arch: string): string {
  const suffix = `-${arch}`
  return `${first.slice(0, 128 - suffix.length)}${suffix}`
}
