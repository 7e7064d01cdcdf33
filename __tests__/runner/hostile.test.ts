/**
 * Hostile input, through dist/ as the runner runs it: every case ends in one clear error line
 * naming the input, exit 1, no stack trace, and no command run at all (PATH is empty, so any
 * docker call would show as a different error).
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { runAction } from '../../scripts/runner.mjs'

const long = (n: number) => 'a'.repeat(n)
/** A "billion laughs": nested aliases that expand 9^5 times, all inside the one valid key. */
const BOMB = [
  'tests:',
  '  - command: x',
  '    stdout: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...['b', 'c', 'd', 'e'].flatMap((anchor, i) => [
    '  - command: x',
    `    stdout: &${anchor} [${Array(9).fill(`*${'abcd'[i]}`).join(',')}]`
  ])
].join('\n')

// [case, inputs, the input the error must name, a fragment of the message]
const CASES: [string, Record<string, string>, string, string][] = [
  ['tag template with ;', { tags: '{distro};rm -rf /' }, 'tags', 'is not valid'],
  ['tag template with $()', { tags: '{distro}$(id)' }, 'tags', 'is not valid'],
  ['tag template with backticks', { tags: '{distro}`whoami`' }, 'tags', 'is not valid'],
  ['tag template line with a pipe', { tags: '{distro}\n|cat /etc/passwd' }, 'tags', 'is not valid'],
  [
    'tag template reading the environment',
    { tags: '{distro}-{env.SECRET}' },
    'tags',
    'unknown placeholder'
  ],
  ['tag suffix with ;', { 'tag-suffix': '-x;ls' }, 'tag-suffix', 'is not valid'],
  ['tag suffix with $()', { 'tag-suffix': '$(reboot)' }, 'tag-suffix', 'is not valid'],
  ['build arg name with ;', { 'build-args': 'A;B=1' }, 'build-args', 'is not a valid name'],
  ['build arg name with $()', { 'build-args': '$(id)=1' }, 'build-args', 'is not a valid name'],
  [
    'build arg with a control character',
    { 'build-args': 'A=1\u0007' },
    'build-args',
    'control character'
  ],
  [
    'build arg overriding BASE_IMAGE',
    { 'build-args': 'BASE_IMAGE=evil/image' },
    'build-args',
    'use the base-image input'
  ],
  ['Dockerfile up the tree', { file: '../../etc/passwd' }, 'file', 'outside the workspace'],
  ['Dockerfile by absolute path', { file: '/etc/passwd' }, 'file', 'outside the workspace'],
  ['context up the tree', { context: '../..' }, 'context', 'outside the workspace'],
  [
    'context through a link to /etc',
    { context: 'etc-link' },
    'context',
    'leads outside the workspace'
  ],
  ['context that does not exist', { context: 'nowhere' }, 'context', 'does not exist'],
  [
    'Dockerfile through a link to /etc/passwd',
    { file: 'passwd-link' },
    'file',
    'leads outside the workspace'
  ],
  ['Dockerfile that does not exist', { file: 'Nope.dockerfile' }, 'file', 'does not exist'],
  [
    'smoke test file up the tree',
    { 'smoke-test-file': '../../../etc/shadow' },
    'smoke-test-file',
    'outside the workspace'
  ],
  [
    'smoke test file in /proc',
    { 'smoke-test-file': '/proc/self/environ' },
    'smoke-test-file',
    'outside the workspace'
  ],
  [
    'smoke test file through a link out',
    { 'smoke-test-file': 'link-out.yaml' },
    'smoke-test-file',
    'leads outside the workspace'
  ],
  [
    'smoke test file: YAML alias bomb',
    { 'smoke-test-file': 'bomb.yaml' },
    'smoke-test-file',
    'bomb.yaml:5: YAML aliases are not supported (*a); write the value out'
  ],
  [
    'smoke test file: tests is a string',
    { 'smoke-test-file': 'string.yaml' },
    'smoke-test-file',
    '"tests" must be a list of tests'
  ],
  [
    'smoke test file: timeout as text',
    { 'smoke-test-file': 'timeout.yaml' },
    'smoke-test-file',
    '"timeout" must be a whole number'
  ],
  [
    'smoke test file: exit code as a list',
    { 'smoke-test-file': 'exitcode.yaml' },
    'smoke-test-file',
    '"exit-code" must be a whole number'
  ],
  ['distro with ;', { distros: 'humble;reboot' }, 'distros', 'is not a distro name'],
  ['distro with $()', { distros: 'humble$(id)' }, 'distros', 'is not a distro name'],
  ['distro of 5000 characters', { distros: long(5000) }, 'distros', 'is not a distro name'],
  ['distro in unicode', { distros: 'hümble' }, 'distros', 'is not a distro name'],
  ['image with ;', { image: 'acme/robot;rm' }, 'image', 'is not an image name'],
  ['image with $()', { image: 'acme/robot$(id)' }, 'image', 'is not an image name'],
  ['image with backticks', { image: 'acme/`id`' }, 'image', 'is not an image name'],
  [
    'image of 300 characters',
    { image: `acme/${long(300)}` },
    'image',
    'longer than 255 characters'
  ],
  ['image in unicode', { image: 'acme/röbot' }, 'image', 'is not an image name'],
  ['image with a tag and ;', { image: 'acme/robot:latest;ls' }, 'image', 'is not an image name'],
  ['platform with ;', { platforms: 'linux/arm64;id' }, 'platforms', 'unknown platform'],
  ['platform with &&', { platforms: 'linux/amd64 && reboot' }, 'platforms', 'unknown platform'],
  [
    'base image with ;',
    { 'base-image': 'ros:{distro};id' },
    'base-image',
    'is not an image reference'
  ],
  [
    'base image with $()',
    { 'base-image': '$(curl evil)' },
    'base-image',
    'is not an image reference'
  ],
  ['label name with a space', { labels: 'a b=c' }, 'labels', 'is not a valid name'],
  ['label name with $()', { labels: '$(id)=1' }, 'labels', 'is not a valid name'],
  [
    'smoke timeout in exponent form',
    { 'smoke-timeout': '1e9' },
    'smoke-timeout',
    'is not a whole number'
  ],
  ['smoke timeout negative', { 'smoke-timeout': '-1' }, 'smoke-timeout', 'is not a whole number'],
  [
    'max-parallel enormous',
    { 'max-parallel': '9999999999999999999999' },
    'max-parallel',
    'is out of range'
  ],
  ['builder with ;', { builder: 'x;rm -rf /' }, 'builder', 'is not a builder name'],
  ['qemu image with ;', { 'qemu-image': 'evil;sh' }, 'qemu-image', 'is not an image reference'],
  [
    'buildx url to a file',
    { 'buildx-url': 'file:///etc/passwd' },
    'buildx-url',
    'is not an http(s) URL'
  ],
  [
    'buildx url with javascript',
    { 'buildx-url': 'javascript:alert(1)' },
    'buildx-url',
    'is not an http(s) URL'
  ],
  ['network with ;', { network: 'host;id' }, 'network', 'is not valid'],
  [
    'latest distro with ;',
    { 'latest-distro': 'humble;ls' },
    'latest-distro',
    'is not one of the distros'
  ],
  [
    'username without password',
    { username: 'bot' },
    'password',
    'is required when username is set'
  ],
  ['push as yes', { push: 'yes' }, 'push', 'is not a boolean'],
  ['mode with ;', { mode: 'build;id' }, 'mode', 'is not valid'],
  [
    'runner label with $()',
    { runners: 'linux/arm64=$(id)' },
    'runners',
    'is not a runner label list'
  ],
  ['runner platform with ;', { runners: 'linux/arm64;id=x' }, 'runners', 'is not a valid name'],
  ['cache with ;', { cache: 'local;id' }, 'cache', 'is not valid'],
  [
    'cache-ref with a tag and $()',
    { 'cache-ref': 'acme/c:$(id)' },
    'cache-ref',
    'is not a repository name'
  ],
  ['cache-mounts as on', { 'cache-mounts': 'on' }, 'cache-mounts', 'is not a boolean'],
  [
    'cache-mounts-max-size with $()',
    { 'cache-mounts-max-size': '$(id)G' },
    'cache-mounts-max-size',
    'is not a size'
  ],
  ['force as 1', { force: '1' }, 'force', 'is not a boolean'],
  ['username with a newline', { username: 'bot\nroot', password: 'x' }, 'username', 'control'],
  [
    'registry-auth not a list',
    { 'registry-auth': 'registry: ghcr.io' },
    'registry-auth',
    'is not a list'
  ],
  [
    'registry-auth with a registry of $()',
    { 'registry-auth': '- registry: $(id)\n  username: u\n  password: p' },
    'registry-auth',
    'is not a registry host'
  ],
  ['image list with $()', { image: 'acme/robot, ghcr.io/$(id)' }, 'image', 'is not an image name'],
  ['smoke network with ;', { 'smoke-network': 'none;id' }, 'smoke-network', 'use one of'],
  ['ros-checks as maybe', { 'ros-checks': 'maybe' }, 'ros-checks', 'is not a boolean'],
  ['fail-fast with $()', { 'fail-fast': '$(true)' }, 'fail-fast', 'is not a boolean'],
  ['pull as 1', { pull: '1' }, 'pull', 'is not a boolean'],
  ['retry attempts negative', { 'retry-attempts': '-1' }, 'retry-attempts', 'whole number'],
  ['retry delay of a day', { 'retry-max-delay': '86400' }, 'retry-max-delay', 'out of range'],
  ['qemu retries of 10', { 'qemu-retries': '10' }, 'qemu-retries', 'out of range'],
  [
    'emulation warning in hours',
    { 'emulation-warning': '2h' },
    'emulation-warning',
    'whole number'
  ],
  ['dry run with ;', { 'dry-run': 'true;id' }, 'dry-run', 'is not a boolean'],
  ['buildx version with $()', { 'buildx-version': '$(id)' }, 'buildx-version', 'is not a version'],
  ['driver kubernetes', { driver: 'kubernetes' }, 'driver', 'docker, docker-container'],
  ['summary as off', { summary: 'off' }, 'summary', 'is not a boolean'],
  ['buildx sha256 with $()', { 'buildx-sha256': '$(id)' }, 'buildx-sha256', 'is not a sha256'],
  ['provenance as mode=all', { provenance: 'mode=all' }, 'provenance', 'use one of'],
  ['sbom as yes', { sbom: 'yes' }, 'sbom', 'is not a boolean'],
  [
    'sbom generator with ;',
    { sbom: 'true', 'sbom-generator': 'evil;sh' },
    'sbom-generator',
    'is not an image reference'
  ],
  ['sign with $()', { sign: '$(id)' }, 'sign', 'use one of'],
  ['sign by key without a key', { sign: 'key' }, 'cosign-key', 'is required when sign is key'],
  [
    'cosign key that is a command',
    { sign: 'key', 'cosign-key': '$(cat /etc/shadow)' },
    'cosign-key',
    'is not a PEM private key'
  ],
  ['cosign version with $()', { 'cosign-version': '$(id)' }, 'cosign-version', 'is not a version'],
  ['cosign sha256 too short', { 'cosign-sha256': 'abc123' }, 'cosign-sha256', 'is not a sha256']
]

/**
 * Inputs with no hostile form: the value is run as shell commands by design, in the image, or is
 * a secret handed on as it is (in the environment, never on a command line).
 */
const FREE_TEXT = ['smoke-tests', 'cosign-password']

describe('hostile input', () => {
  let workspace = ''

  beforeAll(() => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'rma-hostile-'))
    mkdirSync(path.join(workspace, 'sub'))
    symlinkSync('/etc/passwd', path.join(workspace, 'link-out.yaml'))
    symlinkSync('/etc', path.join(workspace, 'etc-link'))
    symlinkSync('/etc/passwd', path.join(workspace, 'passwd-link'))
    writeFileSync(path.join(workspace, 'bomb.yaml'), BOMB)
    writeFileSync(path.join(workspace, 'string.yaml'), 'tests: "yes"\n')
    writeFileSync(
      path.join(workspace, 'timeout.yaml'),
      'tests:\n  - command: "true"\n    timeout: "10"\n'
    )
    writeFileSync(
      path.join(workspace, 'exitcode.yaml'),
      'tests:\n  - command: "true"\n    exit-code: [0, 1]\n'
    )
    writeFileSync(path.join(workspace, 'Dockerfile'), 'FROM ros:humble-ros-base\n')
  })

  it('has a case for every input of action.yml but those run as commands by design', () => {
    const action = parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }
    const covered = new Set(CASES.map(c => c[2]))
    const missing = Object.keys(action.inputs).filter(
      name => !covered.has(name) && !FREE_TEXT.includes(name)
    )
    expect(missing).toEqual([])
  })

  it.each(CASES)('%s', async (_name, inputs, input, fragment) => {
    const r = await runAction({
      cwd: workspace,
      inputs: { distros: 'humble', image: 'acme/robot', push: 'true', ...inputs },
      env: { PATH: '' },
      post: false
    })
    expect(r.main.code).toBe(1)
    const lines = r.main.stdout
      .split('\n')
      .filter((l: string) => l !== '' && !l.startsWith('::add-mask::'))
    const errors = lines.filter((l: string) => l.startsWith('::error::'))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`^::error::Input "${input}": `))
    expect(errors[0]).toContain(fragment)
    expect(errors[0].length).toBeLessThan(400)
    expect(r.main.stdout + r.main.stderr).not.toMatch(/^\s+at /m)
    expect(r.main.stderr).toBe('')
  })
})
