import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  configInputs,
  helpText,
  inputSpecs,
  isThisAction,
  parseArgs,
  runInputs,
  UsageError,
  workflowInputs
} from '../../src/inputs/args.js'

const specs = inputSpecs(readFileSync('action.yml', 'utf8'))
const args = (...argv: string[]) => parseArgs(argv, specs)

describe('parseArgs', () => {
  it("takes the action's inputs as options, both spellings, repeated ones as lines", () => {
    const { inputs, options } = args(
      '--distros',
      'humble,jazzy',
      '--platforms=linux/arm64',
      '--smoke-tests',
      'true',
      '--smoke-tests',
      'ros2 --help',
      '--json'
    )
    expect(Object.fromEntries(inputs)).toEqual({
      distros: 'humble,jazzy',
      platforms: 'linux/arm64',
      'smoke-tests': 'true\nros2 --help'
    })
    expect(options).toMatchObject({ json: true, help: false, verbose: false })
  })

  it('takes a boolean alone as true, --no-NAME as false, and a following true/false as its value', () => {
    expect(Object.fromEntries(args('--push', '--distros', 'humble').inputs)).toEqual({
      push: 'true',
      distros: 'humble'
    })
    expect(args('--no-ros-checks').inputs.get('ros-checks')).toBe('false')
    expect(args('--fail-fast', 'false').inputs.get('fail-fast')).toBe('false')
    expect(args('--dry-run=true').inputs.get('dry-run')).toBe('true')
  })

  it('takes the last of a repeated single-value option', () => {
    expect(args('--image', 'a/b', '--image', 'c/d').inputs.get('image')).toBe('c/d')
    expect(
      args('--smoke-test-file', 'x.yaml', '--smoke-test-file', '').inputs.get('smoke-test-file')
    ).toBe('')
  })

  it('reads --config, --from-workflow, --help and --version', () => {
    expect(args('--config', 'x.yaml', '--from-workflow', 'w.yml#build').options).toMatchObject({
      config: 'x.yaml',
      fromWorkflow: 'w.yml#build'
    })
    expect(args('-h').options.help).toBe(true)
    expect(args('--version').options.version).toBe(true)
  })

  it.each([
    [['--distro', 'humble'], '--distro is not an option of ros-multiarch-action (see --help)'],
    [['humble'], '"humble" is not an option; options start with -- (see --help)'],
    [['--image'], '--image needs a value (see --help)'],
    [['--image', '--push'], '--image needs a value (see --help)'],
    [
      ['--password', 'hunter2'],
      '--password would put a secret on the command line; give it in the environment as INPUT_PASSWORD, or run docker login first'
    ],
    [
      ['--cosign-key=x'],
      '--cosign-key would put a secret on the command line; give it in the environment as INPUT_COSIGN_KEY'
    ]
  ])('refuses %j', (argv, message) => {
    expect(() => args(...argv)).toThrow(new UsageError(message))
  })
})

describe('configInputs', () => {
  it('reads a mapping of inputs, lists as lines and booleans as text', () => {
    const inputs = configInputs(
      'ci.yaml',
      'distros: [humble, jazzy]\npush: false\nsmoke-tests:\n  - "true"\n  - echo ok\n',
      specs
    )
    expect(Object.fromEntries(inputs)).toEqual({
      distros: 'humble\njazzy',
      push: 'false',
      'smoke-tests': 'true\necho ok'
    })
  })

  it('refuses what is not an input, and what is not a mapping', () => {
    expect(() => configInputs('c.yaml', 'distro: humble\n', specs)).toThrow(
      '--config c.yaml: "distro" is not an input of ros-multiarch-action'
    )
    expect(() => configInputs('c.yaml', '- humble\n', specs)).toThrow(
      '--config c.yaml: give a mapping of input names to values'
    )
    expect(() => configInputs('c.yaml', 'cosign-key: x\n', specs)).toThrow(
      '--config c.yaml: cosign-key is a secret; give it in the environment as INPUT_COSIGN_KEY'
    )
  })
})

describe('workflowInputs', () => {
  const scaleOut = readFileSync('examples/workflows/scale-out.yml', 'utf8')

  it("reads the with: of a job's step, env.NAME filled in from the workflow's env", () => {
    const wf = workflowInputs('scale-out.yml#plan', scaleOut, new Set())
    expect(wf.job).toBe('plan')
    expect(Object.fromEntries(wf.inputs)).toEqual({
      distros: 'humble, jazzy, kilted',
      platforms: 'linux/amd64,linux/arm64',
      image: 'acme/robot',
      'dry-run': 'true'
    })
  })

  it('asks which job when several use the action', () => {
    expect(() => workflowInputs('scale-out.yml', scaleOut, new Set())).toThrow(
      '--from-workflow scale-out.yml: 3 steps use ros-multiarch-action (jobs plan, build, merge); name one: scale-out.yml#plan'
    )
  })

  it('refuses other expressions in one line naming each input, unless given; never takes credentials', () => {
    expect(() => workflowInputs('scale-out.yml#build', scaleOut, new Set())).toThrow(
      "--from-workflow scale-out.yml#build: distros (${{ matrix.distro }}), platforms (${{ matrix.platform }}) are GitHub expressions the CLI cannot evaluate (only env.NAME from the workflow's env is filled in); give them as options (--distros --platforms)"
    )
    const wf = workflowInputs('scale-out.yml#build', scaleOut, new Set(['distros', 'platforms']))
    expect(Object.fromEntries(wf.inputs)).toEqual({
      mode: 'build',
      image: 'acme/robot',
      push: 'true',
      'smoke-test-file': 'docker/smoke.yaml'
    })
    expect(wf.notes).toEqual([
      'username is not taken from the workflow: a local run uses your docker login',
      'password is not taken from the workflow: a local run uses your docker login'
    ])
  })

  const signing = [
    'env:',
    "  KEY: '${{ secrets.COSIGN_KEY }}'",
    '  IMAGE: acme/robot',
    'jobs:',
    '  build:',
    '    steps:',
    '      - uses: acme/ros-multiarch-action@v1',
    '        with:',
    '          image: ${{ env.IMAGE }}',
    '          sign: key',
    '          cosign-key: ${{ secrets.COSIGN_KEY }}',
    '          cosign-password: ${{ secrets.COSIGN_PASSWORD }}',
    ''
  ].join('\n')

  it('never takes a secret from the workflow: it comes from the environment', () => {
    const wf = workflowInputs('sign.yml', signing, new Set())
    expect(Object.fromEntries(wf.inputs)).toEqual({ image: 'acme/robot', sign: 'key' })
    expect(wf.notes).toEqual([
      'cosign-key is taken from the environment (INPUT_COSIGN_KEY), not from the workflow',
      'cosign-password is taken from the environment (INPUT_COSIGN_PASSWORD), not from the workflow'
    ])
    const plain = signing.replace('${{ secrets.COSIGN_KEY }}\n', 'a-key-in-the-file\n')
    expect(workflowInputs('sign.yml', plain, new Set()).inputs.has('cosign-key')).toBe(false)
  })

  it('refuses an env.NAME whose value is itself an expression', () => {
    const text = signing
      .replace('${{ env.IMAGE }}', '${{ env.KEY }}')
      .replace(/^ +cosign-.*\n/gm, '')
    expect(() => workflowInputs('sign.yml', text, new Set())).toThrow(
      new UsageError(
        "--from-workflow sign.yml#build: image (${{ env.KEY }}) is a GitHub expression the CLI cannot evaluate (only env.NAME from the workflow's env is filled in); give it as an option (--image)"
      )
    )
  })

  it('names the jobs that use the action when the one asked for does not', () => {
    expect(() => workflowInputs('scale-out.yml#lint', scaleOut, new Set())).toThrow(
      '--from-workflow scale-out.yml#lint: job "lint" has no step using ros-multiarch-action (jobs that do: plan, build, merge)'
    )
  })

  it('knows the action by its repository name or as ./', () => {
    expect(isThisAction('acme/ros-multiarch-action@v1')).toBe(true)
    expect(isThisAction('./')).toBe(true)
    expect(isThisAction('docker/build-push-action@v6')).toBe(false)
  })
})

describe('runInputs', () => {
  it("lays the workflow's, the --config file's and the options' inputs over the defaults", () => {
    const inputs = runInputs(
      specs,
      [
        new Map([
          ['image', 'from/workflow'],
          ['distros', 'humble']
        ]),
        new Map([['distros', 'jazzy']]),
        new Map([['push', 'true']])
      ],
      {}
    )
    expect(inputs.get('image')).toBe('from/workflow')
    expect(inputs.get('distros')).toBe('jazzy')
    expect(inputs.get('push')).toBe('true')
    expect(inputs.get('platforms')).toBe('linux/amd64,linux/arm64')
  })

  it("signs a workflow's step with the key and password of the environment", () => {
    const workflow = [
      'jobs:',
      '  release:',
      '    steps:',
      '      - uses: acme/ros-multiarch-action@v1',
      '        with:',
      '          sign: key',
      '          cosign-key: ${{ secrets.COSIGN_KEY }}',
      '          cosign-password: ${{ secrets.COSIGN_PASSWORD }}',
      ''
    ].join('\n')
    const inputs = runInputs(specs, [workflowInputs('w.yml', workflow, new Set()).inputs], {
      INPUT_COSIGN_KEY: 'the key',
      INPUT_COSIGN_PASSWORD: 'its password'
    })
    expect(inputs.get('sign')).toBe('key')
    expect(inputs.get('cosign-key')).toBe('the key')
    expect(inputs.get('cosign-password')).toBe('its password')
    expect(inputs.get('password')).toBe('')
  })
})

describe('helpText', () => {
  it('lists every input but the secrets as an option, with its default', () => {
    const help = helpText(specs, 100)
    for (const spec of specs) {
      if (['password', 'registry-auth', 'cosign-key', 'cosign-password'].includes(spec.name)) {
        expect(help).not.toContain(`  --${spec.name}`)
      } else {
        expect(help).toContain(`  --${spec.name}`)
      }
    }
    const flat = help.replace(/\s+/g, ' ')
    expect(flat).toContain('--platforms VALUE Platforms to build')
    expect(flat).toContain('[default: linux/amd64,linux/arm64]')
    expect(flat).toContain('[default: false (a local run pushes only with --push)]')
    expect(help.split('\n').every(l => l.length <= 100)).toBe(true)
  })
})
