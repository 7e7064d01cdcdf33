/**
 * The one table of the action's input, output and state names. action.yml and the README follow
 * it, and code spells an input name only through it (a unit test checks action.yml against it).
 */
export const Inputs = {
  Mode: 'mode',
  Distros: 'distros',
  Platforms: 'platforms',
  Image: 'image',
  Context: 'context',
  File: 'file',
  BuildArgs: 'build-args',
  BaseImage: 'base-image',
  Tags: 'tags',
  TagSuffix: 'tag-suffix',
  LatestDistro: 'latest-distro',
  Labels: 'labels',
  Push: 'push',
  Username: 'username',
  Password: 'password',
  RegistryAuth: 'registry-auth',
  SmokeTests: 'smoke-tests',
  SmokeTestFile: 'smoke-test-file',
  SmokeTimeout: 'smoke-timeout',
  SmokeNetwork: 'smoke-network',
  RosChecks: 'ros-checks',
  FailFast: 'fail-fast',
  MaxParallel: 'max-parallel',
  Runners: 'runners',
  Network: 'network',
  Pull: 'pull',
  Cache: 'cache',
  CacheRef: 'cache-ref',
  CacheMounts: 'cache-mounts',
  CacheMountsMaxSize: 'cache-mounts-max-size',
  RetryAttempts: 'retry-attempts',
  RetryMaxDelay: 'retry-max-delay',
  QemuRetries: 'qemu-retries',
  EmulationWarning: 'emulation-warning',
  DryRun: 'dry-run',
  Force: 'force',
  BuildxVersion: 'buildx-version',
  BuildxUrl: 'buildx-url',
  BuildxSha256: 'buildx-sha256',
  Provenance: 'provenance',
  Sbom: 'sbom',
  SbomGenerator: 'sbom-generator',
  Sign: 'sign',
  CosignKey: 'cosign-key',
  CosignPassword: 'cosign-password',
  CosignVersion: 'cosign-version',
  CosignSha256: 'cosign-sha256',
  Builder: 'builder',
  Driver: 'driver',
  QemuImage: 'qemu-image',
  Summary: 'summary'
} as const

export type InputName = (typeof Inputs)[keyof typeof Inputs]

/**
 * Inputs that are secrets: masked before anything is printed, never saved, and never taken from
 * a command line or a workflow file by the CLI.
 */
export const SECRET_INPUTS = [
  Inputs.Password,
  Inputs.RegistryAuth,
  Inputs.CosignKey,
  Inputs.CosignPassword
] as const

export const Outputs = {
  Plan: 'plan',
  Matrix: 'matrix',
  Tags: 'tags',
  Results: 'results',
  Digests: 'digests',
  Metadata: 'metadata'
} as const

/** Post-step state keys. Values are JSON; a secret is never saved. */
export const States = {
  IsPost: 'isPost',
  Cleanup: 'cleanup'
} as const
