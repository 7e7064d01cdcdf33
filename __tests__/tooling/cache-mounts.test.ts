import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  findCacheMounts,
  type CacheMount,
  type MountOptions
} from '../../src/tooling/cache-mounts.js'
import { DockerfileError } from '../../src/tooling/dockerfile.js'

const ARM64: MountOptions = {
  buildArgs: [],
  targetPlatform: 'linux/arm64',
  buildPlatform: 'linux/amd64'
}

interface Case {
  readonly name: string
  readonly dockerfile: readonly string[]
  readonly options?: Partial<MountOptions>
  readonly expected: readonly CacheMount[]
}

function mounts(dockerfile: readonly string[], options: Partial<MountOptions> = {}): CacheMount[] {
  return findCacheMounts(dockerfile.join('\n'), { ...ARM64, ...options })
}

/** A shared cache mount with no ownership settings, as most rows expect. */
function cache(id: string, target: string, line: number, extra: Partial<CacheMount> = {}) {
  return { id, target, sharing: 'shared', line, ...extra } as CacheMount
}

function errorOf(dockerfile: readonly string[], options: Partial<MountOptions> = {}): string {
  try {
    mounts(dockerfile, options)
  } catch (error) {
    if (error instanceof DockerfileError) return error.message
    throw error
  }
  throw new Error('expected a DockerfileError')
}

describe('findCacheMounts on the example workspace', () => {
  const dockerfile = readFileSync('examples/ros2-workspace/Dockerfile', 'utf8')
  const line = dockerfile.split('\n').findIndex(l => l.startsWith('RUN --mount=type=cache')) + 1

  it.each([
    ['linux/arm64', 'ros2-workspace-ccache-arm64'],
    ['linux/amd64', 'ros2-workspace-ccache-amd64']
  ])('for %s the ccache id is %s', (targetPlatform, id) => {
    expect(line).toBeGreaterThan(0)
    const found = findCacheMounts(dockerfile, {
      buildArgs: [['BASE_IMAGE', 'ros:jazzy-ros-base']],
      targetPlatform,
      buildPlatform: 'linux/amd64'
    })
    expect(found).toEqual([cache(id, '/ccache', line)])
  })

  it('takes the options as written for a frontend that does not substitute them (Docker 20.10)', () => {
    for (const targetPlatform of ['linux/amd64', 'linux/arm64']) {
      const found = findCacheMounts(dockerfile, {
        buildArgs: [['BASE_IMAGE', 'ros:jazzy-ros-base']],
        targetPlatform,
        buildPlatform: 'linux/amd64',
        expandVariables: false
      })
      expect(found).toEqual([cache('ros2-workspace-ccache-${TARGETARCH}', '/ccache', line)])
    }
  })
})

describe('findCacheMounts', () => {
  it.each<Case>([
    {
      name: 'the default id: the target after substitution, cleaned',
      dockerfile: [
        'FROM ubuntu',
        'ARG DIR=/root/.cache',
        'RUN --mount=type=cache,target=${DIR}/pip/ pip install x'
      ],
      expected: [cache('/root/.cache/pip', '/root/.cache/pip', 3)]
    },
    {
      name: 'a relative target: resolved against WORKDIR, the default id is not',
      dockerfile: [
        'FROM ubuntu',
        'WORKDIR /ws',
        'RUN --mount=type=cache,target=./build/cache/ make'
      ],
      expected: [cache('build/cache', '/ws/build/cache', 3)]
    },
    {
      name: 'a relative WORKDIR joins the previous one; .. in a target is resolved',
      dockerfile: [
        'FROM ubuntu',
        'WORKDIR /ws',
        'WORKDIR src/pkg',
        'RUN --mount=type=cache,id=c,target=../cache make'
      ],
      expected: [cache('c', '/ws/src/cache', 4)]
    },
    {
      name: 'WORKDIR with a variable',
      dockerfile: [
        'FROM ubuntu',
        'ENV ROOT=/opt',
        'WORKDIR $ROOT/ws',
        'RUN --mount=type=cache,id=c,target=cache make'
      ],
      expected: [cache('c', '/opt/ws/cache', 4)]
    },
    {
      name: 'WORKDIR inherited by a stage built FROM the stage',
      dockerfile: [
        'FROM ubuntu AS base',
        'WORKDIR /ws',
        'FROM base',
        'RUN --mount=type=cache,id=c,target=cache make'
      ],
      expected: [cache('c', '/ws/cache', 4)]
    },
    {
      name: 'WORKDIR defaults to /',
      dockerfile: ['FROM ubuntu', 'RUN --mount=type=cache,id=c,target=cache make'],
      expected: [cache('c', '/cache', 2)]
    },
    {
      name: 'an absolute target normalised',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=type=cache,target=/var//cache/../lib/apt/ apt-get update'
      ],
      expected: [cache('/var/lib/apt', '/var/lib/apt', 2)]
    },
    {
      name: 'sharing, uid, gid and mode as written',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=type=cache,target=/a,sharing=private,uid=1000,gid=0100,mode=0755 \\',
        '    --mount=type=cache,target=/b,sharing=LOCKED,mode=700 \\',
        '    --mount=type=cache,target=/c,sharing=shared make'
      ],
      expected: [
        cache('/a', '/a', 2, { sharing: 'private', uid: 1000, gid: 100, mode: '0755' }),
        cache('/b', '/b', 2, { sharing: 'locked', mode: '700' }),
        cache('/c', '/c', 2)
      ]
    },
    {
      name: 'keys in any case, dst and destination for target, type=cache in any case',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=Type=CACHE,DST=/a --mount=type=cache,destination=/b,ID=bee make'
      ],
      expected: [cache('/a', '/a', 2), cache('bee', '/b', 2)]
    },
    {
      name: 'other mount types and keys ignored',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=target=/src --mount=type=bind,source=x,target=/x,rw \\',
        '    --mount=type=secret,id=token,required --mount=type=tmpfs,target=/tmp \\',
        '    --mount=type=cache,target=/c,ro,readonly=false,source=/s make'
      ],
      expected: [cache('/c', '/c', 2)]
    },
    {
      name: 'the first RUN with an id wins',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=type=cache,id=apt,target=/var/cache/apt,sharing=locked apt-get update',
        'RUN --mount=type=cache,id=apt,target=/other,sharing=private,uid=1 apt-get install x',
        'RUN --mount=type=cache,target=/var/cache/apt true',
        'RUN --mount=type=cache,target=/var/cache/apt/ true'
      ],
      expected: [
        cache('apt', '/var/cache/apt', 2, { sharing: 'locked' }),
        cache('/var/cache/apt', '/var/cache/apt', 4)
      ]
    },
    {
      name: 'an empty id falls back to the target',
      dockerfile: ['FROM ubuntu', 'ARG NONE', 'RUN --mount=type=cache,id=$NONE,target=/c make'],
      expected: [cache('/c', '/c', 3)]
    },
    {
      name: 'heredoc, JSON form, --network and --security',
      dockerfile: [
        'FROM ubuntu',
        'RUN --network=none --mount=type=cache,target=/a <<EOF',
        'RUN --mount=type=cache,target=/not-an-instruction',
        'EOF',
        'RUN --security=insecure --mount=type=cache,target=/b ["sh", "-c", "make all"]',
        'RUN --mount=type=cache,target=/c -- make'
      ],
      expected: [cache('/a', '/a', 2), cache('/b', '/b', 5), cache('/c', '/c', 6)]
    },
    {
      name: 'quoted flags and CSV-quoted fields',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount="type=cache,target=/root/.cache" true',
        `RUN --mount='type=cache,"id=a,b",target=/x' true`,
        'RUN --mount=type=cache,target="/my cache" true',
        'RUN --mount=type=cache,id=sp\\ ace,target=/y true'
      ],
      expected: [
        cache('/root/.cache', '/root/.cache', 2),
        cache('a,b', '/x', 3),
        cache('/my cache', '/my cache', 4),
        cache('sp ace', '/y', 5)
      ]
    },
    {
      name: 'the escape directive and continuation lines',
      dockerfile: [
        '# escape=`',
        'FROM mcr.microsoft.com/windows/servercore',
        'ARG V=1',
        'RUN --mount=type=cache,id=c-$V,target=/c `',
        '    make'
      ],
      expected: [cache('c-1', '/c', 4)]
    }
  ])('$name', ({ dockerfile, options, expected }) => {
    expect(mounts(dockerfile, options)).toEqual(expected)
  })

  it('returns nothing for a Dockerfile without cache mounts', () => {
    expect(mounts(['FROM ubuntu', 'RUN make'])).toEqual([])
  })
})

describe('findCacheMounts variables', () => {
  it.each<Case>([
    {
      name: 'an ARG default',
      dockerfile: [
        'FROM ubuntu',
        'ARG V=1.2',
        'RUN --mount=type=cache,id=tool-${V},target=/t make'
      ],
      expected: [cache('tool-1.2', '/t', 3)]
    },
    {
      name: 'a build arg over the ARG default',
      dockerfile: [
        'FROM ubuntu',
        'ARG V=1.2',
        'RUN --mount=type=cache,id=tool-${V},target=/t make'
      ],
      options: { buildArgs: [['V', '2.0']] },
      expected: [cache('tool-2.0', '/t', 3)]
    },
    {
      name: 'an ARG default using an earlier ARG of the stage',
      dockerfile: ['FROM ubuntu', 'ARG A=x B=${A}y', 'RUN --mount=type=cache,id=$B,target=/t make'],
      expected: [cache('xy', '/t', 3)]
    },
    {
      name: 'a bare ARG takes the global ARG, itself set by a build arg',
      dockerfile: [
        'ARG DISTRO=humble',
        'FROM ubuntu',
        'ARG DISTRO',
        'RUN --mount=type=cache,id=$DISTRO,target=/t make'
      ],
      options: { buildArgs: [['DISTRO', 'jazzy']] },
      expected: [cache('jazzy', '/t', 4)]
    },
    {
      name: 'a global ARG not declared in the stage is empty there',
      dockerfile: [
        'ARG DISTRO=humble',
        'FROM ubuntu',
        'RUN --mount=type=cache,id=x${DISTRO}x,target=/t make'
      ],
      expected: [cache('xx', '/t', 3)]
    },
    {
      name: 'a build arg for an ARG the stage does not declare is not used',
      dockerfile: ['FROM ubuntu', 'RUN --mount=type=cache,id=x${V:-unset}x,target=/t make'],
      options: { buildArgs: [['V', '1']] },
      expected: [cache('xunsetx', '/t', 2)]
    },
    {
      name: 'automatic platform ARGs only once declared in the stage',
      dockerfile: [
        'FROM ubuntu',
        'RUN --mount=type=cache,id=a-${TARGETARCH},target=/a make',
        'ARG TARGETARCH BUILDPLATFORM TARGETVARIANT',
        'RUN --mount=type=cache,id=b-${TARGETARCH}-${BUILDPLATFORM}-${TARGETVARIANT:-none},target=/b make'
      ],
      options: { targetPlatform: 'linux/arm/v7' },
      expected: [cache('a-', '/a', 2), cache('b-arm-linux/amd64-v7', '/b', 4)]
    },
    {
      name: 'ENV in key=value and legacy forms, quotes removed',
      dockerfile: [
        'FROM ubuntu',
        'ENV A=one B="two words"',
        'ENV C three words',
        'RUN --mount=type=cache,id=$A-${B}-$C,target=/t make'
      ],
      expected: [cache('one-two words-three words', '/t', 4)]
    },
    {
      name: 'ENV values expanded with the variables before the instruction',
      dockerfile: [
        'FROM ubuntu',
        'ENV A=old',
        'ENV A=new B=$A',
        'RUN --mount=type=cache,id=$A-$B,target=/t make'
      ],
      expected: [cache('new-old', '/t', 4)]
    },
    {
      name: 'ENV using an ARG',
      dockerfile: [
        'FROM ubuntu',
        'ARG V=3',
        'ENV CACHE=/cache/v$V',
        'RUN --mount=type=cache,target=$CACHE make'
      ],
      expected: [cache('/cache/v3', '/cache/v3', 4)]
    },
    {
      name: 'ENV and ARG values inherited by a stage built FROM the stage (BuildKit copies its state)',
      dockerfile: [
        'FROM ubuntu AS base',
        'ARG TARGETARCH',
        'ENV CACHE=/cache',
        'FROM base AS build',
        'RUN --mount=type=cache,id=c-$TARGETARCH,target=$CACHE make'
      ],
      expected: [cache('c-arm64', '/cache', 5)]
    },
    {
      name: 'no variables from a stage only copied from',
      dockerfile: [
        'FROM ubuntu AS tools',
        'ARG V=1',
        'ENV E=2',
        'FROM ubuntu',
        'COPY --from=tools /x /x',
        'RUN --mount=type=cache,id=v$V-e$E,target=/t make'
      ],
      expected: [cache('v-e', '/t', 6)]
    },
    {
      name: 'an ARG default that cannot be expanded fails only when a mount uses it',
      dockerfile: [
        'FROM ubuntu',
        'ARG BAD=${NOPE:?needed}',
        'RUN --mount=type=cache,target=/t make'
      ],
      expected: [cache('/t', '/t', 3)]
    }
  ])('$name', ({ dockerfile, options, expected }) => {
    expect(mounts(dockerfile, options)).toEqual(expected)
  })
})

describe('findCacheMounts stages', () => {
  const file = [
    'FROM ubuntu AS unused',
    'RUN --mount=type=cache,target=/unused,sharing=bogus make',
    'FROM ubuntu AS copied',
    'RUN --mount=type=cache,target=/copied make',
    'FROM ubuntu AS mounted',
    'RUN --mount=type=cache,target=/mounted make',
    'FROM ubuntu AS indexed',
    'RUN --mount=type=cache,target=/indexed make',
    'FROM ubuntu AS base',
    'RUN --mount=type=cache,target=/base make',
    'FROM base AS Builder',
    'COPY --from=Copied /x /x',
    'COPY --from=3 /y /y',
    'RUN --mount=type=bind,from=mounted,target=/m --mount=type=cache,target=/builder make',
    'FROM ubuntu AS other',
    'RUN --mount=type=cache,target=/other make',
    'FROM ubuntu AS via-cache',
    'RUN --mount=type=cache,from=copied,target=/via make',
    'FROM base',
    'RUN --mount=type=cache,target=/last make'
  ]

  it.each([
    ['the last stage and its FROM chain', undefined, ['/base', '/last']],
    [
      'a --target, case-insensitive, with FROM, COPY --from by name and index and mount from=',
      'builder',
      ['/copied', '/mounted', '/indexed', '/base', '/builder']
    ],
    ['a --target with no dependencies', 'OTHER', ['/other']],
    ['a cache mount from= a stage', 'via-cache', ['/copied', '/via']]
  ])('%s', (_name, target, targets) => {
    expect(mounts(file, { target }).map(m => m.target)).toEqual(targets)
  })

  it('follows a dependency cycle without looping', () => {
    const cycle = [
      'FROM ubuntu AS a',
      'COPY --from=b /x /x',
      'RUN --mount=type=cache,target=/a make',
      'FROM ubuntu AS b',
      'COPY --from=a /y /y',
      'RUN --mount=type=cache,target=/b make'
    ]
    expect(mounts(cycle).map(m => m.target)).toEqual(['/a', '/b'])
  })

  it('reads a mount from= that is not a stage as an image, and from= an index as an image too', () => {
    const file = [
      'FROM ubuntu AS zero',
      'RUN --mount=type=cache,target=/zero make',
      'FROM ubuntu',
      'RUN --mount=type=bind,from=0,target=/a --mount=from=busybox,target=/b true'
    ]
    expect(mounts(file)).toEqual([])
  })
})

describe('findCacheMounts errors', () => {
  it.each<
    [name: string, dockerfile: readonly string[], options: Partial<MountOptions>, message: string]
  >([
    ['no FROM', ['ARG A=1'], {}, 'Dockerfile has no FROM instruction'],
    [
      'an unknown target',
      ['FROM ubuntu AS build', 'FROM ubuntu AS test'],
      { target: 'release' },
      'target stage "release" is not in the Dockerfile; its stages are build, test'
    ],
    [
      'a target in a file without stage names',
      ['FROM ubuntu'],
      { target: 'release' },
      'target stage "release" is not in the Dockerfile; the Dockerfile names no stages'
    ],
    [
      'an unknown sharing',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,sharing=exclusive make'],
      {},
      'line 2: sharing=exclusive is not one of shared, private, locked'
    ],
    [
      'a cache mount without target',
      ['FROM ubuntu', 'RUN --mount=type=cache,id=c make'],
      {},
      'line 2: a cache mount needs target=<path>'
    ],
    [
      'a target empty after substitution',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=$NONE make'],
      {},
      "line 2: the cache mount's target=$NONE is empty"
    ],
    [
      'a target that is /',
      ['FROM ubuntu', 'RUN --mount=type=cache,id=c,target=. make'],
      {},
      "line 2: the cache mount's target=. is /, which cannot be a mount target"
    ],
    [
      'a uid that is not a number',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,uid=root make'],
      {},
      'line 2: uid=root is not a number from 0 to 4294967295'
    ],
    [
      'a gid over 32 bits',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,gid=4294967296 make'],
      {},
      'line 2: gid=4294967296 is not a number from 0 to 4294967295'
    ],
    [
      'a mode that is not octal',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,mode=0789 make'],
      {},
      'line 2: mode=0789 is not an octal mode such as 0755'
    ],
    [
      'a mode over 32 bits',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,mode=777777777777 make'],
      {},
      'line 2: mode=777777777777 is not an octal mode such as 0755'
    ],
    [
      'COPY --from an index with no stage, even in an unused stage',
      ['FROM ubuntu AS a', 'COPY --from=2 /x /x', 'FROM ubuntu AS b'],
      {},
      'line 2: COPY --from=2 names no stage; stages are numbered 0 to 1'
    ],
    [
      'a mount from= with a variable',
      ['FROM ubuntu', 'RUN --mount=type=bind,from=$IMG,target=/x true'],
      {},
      'line 2: from=$IMG cannot use variables; add a stage "FROM $IMG AS <name>" and mount from that name'
    ],
    [
      'a bare quote in a field',
      ['FROM ubuntu', `RUN --mount='type=cache,target=/a"b' true`],
      {},
      'line 2: --mount=\'type=cache,target=/a"b\': a " inside the unquoted field target=/a"b'
    ],
    [
      'a quoted field without its closing quote',
      ['FROM ubuntu', `RUN --mount='type=cache,"target=/a' true`],
      {},
      `line 2: --mount='type=cache,"target=/a': a quoted field has no closing "`
    ],
    [
      'text after a quoted field',
      ['FROM ubuntu', `RUN --mount='type=cache,"target=/a"b' true`],
      {},
      `line 2: --mount='type=cache,"target=/a"b': text after a quoted field's closing "`
    ],
    [
      'an empty --mount=',
      ['FROM ubuntu', 'RUN --mount= true'],
      {},
      'line 2: --mount= has no fields'
    ],
    [
      '--mount without a value',
      ['FROM ubuntu', 'RUN --mount true'],
      {},
      'line 2: --mount needs a value (--mount=<value>)'
    ],
    [
      'a legacy ENV without a value',
      ['FROM ubuntu', 'ENV LONELY'],
      {},
      'line 2: ENV LONELY has no value (ENV name=value)'
    ],
    ['an ENV word without =', ['FROM ubuntu', 'ENV A=1 B'], {}, 'line 2: ENV B is not name=value'],
    [
      'a mount using an ARG whose default cannot be expanded',
      ['FROM ubuntu', 'ARG BAD=${NOPE:?needed}', 'RUN --mount=type=cache,id=$BAD,target=/t make'],
      {},
      'line 2: NOPE: needed'
    ],
    [
      'a relative target under a WORKDIR that cannot be expanded',
      ['FROM ubuntu', 'WORKDIR ${NOPE:?needed}', 'RUN --mount=type=cache,target=t make'],
      {},
      'line 2: NOPE: needed'
    ],
    [
      'a substitution error in the mount spec',
      ['FROM ubuntu', 'RUN --mount=type=cache,target=/c,id=${ make'],
      {},
      'line 2: unterminated ${ in "${"'
    ]
  ])('%s', (_name, dockerfile, options, message) => {
    expect(errorOf(dockerfile, options)).toBe(message)
  })

  it('ignores a broken WORKDIR when targets are absolute', () => {
    const file = ['FROM ubuntu', 'WORKDIR ${NOPE:?needed}', 'RUN --mount=type=cache,target=/t make']
    expect(mounts(file)).toEqual([cache('/t', '/t', 3)])
  })
})
