import { describe, expect, it } from '@jest/globals'
import {
  DockerfileError,
  resolveBaseImages,
  type ResolveOptions
} from '../../src/tooling/dockerfile.js'

const ARM64: ResolveOptions = {
  buildArgs: [],
  targetPlatform: 'linux/arm64',
  buildPlatform: 'linux/amd64'
}

type Row = [image: string, platform: string, line: number]

interface Case {
  readonly name: string
  readonly dockerfile: readonly string[]
  readonly options?: Partial<ResolveOptions>
  readonly expected: readonly Row[]
}

/** The bases as [image, platform, line] rows, easier to read in tables than objects. */
function bases(dockerfile: readonly string[], options: Partial<ResolveOptions> = {}): Row[] {
  return resolveBaseImages(dockerfile.join('\n'), { ...ARM64, ...options }).map(use => [
    use.image,
    use.platform,
    use.line
  ])
}

function errorOf(dockerfile: readonly string[], options: Partial<ResolveOptions> = {}): Error {
  try {
    bases(dockerfile, options)
  } catch (error) {
    if (error instanceof DockerfileError) return error
    throw error
  }
  throw new Error('expected a DockerfileError')
}

describe('resolveBaseImages', () => {
  it.each<Case>([
    {
      name: 'the ROS example with the ARG default',
      dockerfile: [
        'ARG BASE_IMAGE=ros:humble-ros-base',
        'FROM ${BASE_IMAGE}',
        'RUN apt-get update'
      ],
      expected: [['ros:humble-ros-base', 'linux/arm64', 2]]
    },
    {
      name: 'the ROS example with the BASE_IMAGE build arg',
      dockerfile: ['ARG BASE_IMAGE=ros:humble-ros-base', 'FROM ${BASE_IMAGE}'],
      options: { buildArgs: [['BASE_IMAGE', '127.0.0.1:5000/ros:humble-ros-base']] },
      expected: [['127.0.0.1:5000/ros:humble-ros-base', 'linux/arm64', 2]]
    },
    {
      name: 'the last of duplicate build args',
      dockerfile: ['ARG DISTRO=humble', 'FROM ros:$DISTRO'],
      options: {
        buildArgs: [
          ['DISTRO', 'iron'],
          ['DISTRO', 'jazzy']
        ]
      },
      expected: [['ros:jazzy', 'linux/arm64', 2]]
    },
    {
      name: 'a multi-stage build, skipping stages named by FROM and COPY --from',
      dockerfile: [
        'FROM ros:humble AS builder',
        'RUN colcon build',
        'FROM builder AS test',
        'COPY --from=builder /ws/install /ws/install',
        'COPY --from=busybox:1.36 /bin/busybox /bin/busybox',
        'FROM ros:humble-ros-core',
        'COPY --from=test /ws/install /opt/ws',
        'COPY --from=0 /etc/os-release /tmp/'
      ],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['busybox:1.36', 'linux/arm64', 5],
        ['ros:humble-ros-core', 'linux/arm64', 6]
      ]
    },
    {
      name: 'stage names case-insensitively',
      dockerfile: ['FROM ros:humble AS Builder', 'FROM BUILDER', 'COPY --from=builder /a /a'],
      expected: [['ros:humble', 'linux/arm64', 1]]
    },
    {
      name: 'a FROM naming a later stage as an image',
      dockerfile: ['FROM base', 'FROM ros:humble AS base'],
      expected: [
        ['base', 'linux/arm64', 1],
        ['ros:humble', 'linux/arm64', 2]
      ]
    },
    {
      name: 'COPY --from naming a later stage as a stage',
      dockerfile: ['FROM ros:humble', 'COPY --from=tools /x /x', 'FROM alpine:3.20 AS tools'],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['alpine:3.20', 'linux/arm64', 3]
      ]
    },
    {
      name: 'FROM --platform=$BUILDPLATFORM for the build platform',
      dockerfile: [
        'FROM --platform=$BUILDPLATFORM golang:1.22 AS tools',
        'FROM ros:humble',
        'COPY --from=tools /go/bin /usr/local/bin'
      ],
      expected: [
        ['golang:1.22', 'linux/amd64', 1],
        ['ros:humble', 'linux/arm64', 2]
      ]
    },
    {
      name: 'an explicit --platform, quoted and substituted',
      dockerfile: ['ARG HOST=linux/amd64', 'FROM --platform="${HOST}" ros:humble'],
      expected: [['ros:humble', 'linux/amd64', 2]]
    },
    {
      name: 'COPY --from and mount from= in a --platform stage for the target platform',
      dockerfile: [
        'FROM --platform=$BUILDPLATFORM ros:humble AS build',
        'COPY --from=tonistiigi/xx:1.4 / /',
        'RUN --mount=type=bind,from=acme/sysroot:1,target=/sysroot true'
      ],
      expected: [
        ['ros:humble', 'linux/amd64', 1],
        ['tonistiigi/xx:1.4', 'linux/arm64', 2],
        ['acme/sysroot:1', 'linux/arm64', 3]
      ]
    },
    {
      name: '$TARGETARCH in an image tag',
      dockerfile: ['FROM acme/ros-base:humble-$TARGETARCH'],
      expected: [['acme/ros-base:humble-arm64', 'linux/arm64', 1]]
    },
    {
      name: 'the platform ARGs of linux/arm/v7 built on linux/amd64',
      dockerfile: [
        'FROM acme/base:${TARGETOS}-${TARGETARCH}${TARGETVARIANT}',
        'FROM acme/tools:${BUILDOS}-${BUILDARCH}${BUILDVARIANT:-none}',
        'FROM --platform=$TARGETPLATFORM acme/pinned:1'
      ],
      options: { targetPlatform: 'linux/arm/v7' },
      expected: [
        ['acme/base:linux-armv7', 'linux/arm/v7', 1],
        ['acme/tools:linux-amd64none', 'linux/arm/v7', 2],
        ['acme/pinned:1', 'linux/arm/v7', 3]
      ]
    },
    {
      name: 'a build arg overriding an automatic platform ARG',
      dockerfile: ['FROM acme/base:$TARGETARCH'],
      options: { buildArgs: [['TARGETARCH', 'custom']] },
      expected: [['acme/base:custom', 'linux/arm64', 1]]
    },
    {
      name: 'no build arg for an undeclared ARG',
      dockerfile: ['FROM ros:${DISTRO:-humble}'],
      options: { buildArgs: [['DISTRO', 'jazzy']] },
      expected: [['ros:humble', 'linux/arm64', 1]]
    },
    {
      name: 'a build arg for an ARG declared without a default',
      dockerfile: ['ARG DISTRO', 'FROM ros:${DISTRO:-humble}'],
      options: { buildArgs: [['DISTRO', 'jazzy']] },
      expected: [['ros:jazzy', 'linux/arm64', 2]]
    },
    {
      name: 'several ARGs in one instruction with a quoted value',
      dockerfile: ['ARG REGISTRY="ghcr.io" DISTRO=humble', 'FROM ${REGISTRY}/acme/ros:$DISTRO'],
      expected: [['ghcr.io/acme/ros:humble', 'linux/arm64', 2]]
    },
    {
      name: 'an ARG default using an earlier ARG',
      dockerfile: ['ARG DISTRO=humble', 'ARG BASE=ros:${DISTRO}-ros-base', 'FROM $BASE'],
      options: { buildArgs: [['DISTRO', 'jazzy']] },
      expected: [['ros:jazzy-ros-base', 'linux/arm64', 3]]
    },
    {
      name: 'ARGs after the first FROM as invisible to later FROMs',
      dockerfile: ['FROM ros:humble', 'ARG TOOLS=alpine:3.20', 'FROM ${TOOLS:-busybox}'],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['busybox', 'linux/arm64', 3]
      ]
    },
    {
      name: 'a quoted image',
      dockerfile: ['FROM "ros:humble" AS base'],
      expected: [['ros:humble', 'linux/arm64', 1]]
    },
    {
      name: 'the escape directive with backtick continuations',
      dockerfile: [
        '# syntax=docker/dockerfile:1',
        '# escape=`',
        'ARG BASE=ros:humble',
        'FROM `',
        '    ${BASE} `',
        '    AS base',
        'RUN dir c:\\',
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022'
      ],
      expected: [
        ['ros:humble', 'linux/arm64', 4],
        ['mcr.microsoft.com/windows/servercore:ltsc2022', 'linux/arm64', 8]
      ]
    },
    {
      name: 'an escape directive after an instruction as a comment',
      dockerfile: ['FROM ros:humble \\', '  AS base', '# escape=`', 'FROM alpine:3.20'],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['alpine:3.20', 'linux/arm64', 4]
      ]
    },
    {
      name: 'comments and blank lines inside a continuation',
      dockerfile: [
        '# the base',
        '',
        'FROM \\',
        '  # pinned for the robot',
        '  ros:humble \\',
        '',
        '  AS base'
      ],
      expected: [['ros:humble', 'linux/arm64', 3]]
    },
    {
      name: 'lowercase instructions',
      dockerfile: [
        'arg BASE=ros:humble',
        'from $BASE as base',
        'copy --from=busybox:1.36 /bin/busybox /bin/',
        'run --mount=type=cache,from=acme/ccache:seed,target=/ccache make'
      ],
      expected: [
        ['ros:humble', 'linux/arm64', 2],
        ['busybox:1.36', 'linux/arm64', 3],
        ['acme/ccache:seed', 'linux/arm64', 4]
      ]
    },
    {
      name: 'scratch as no image',
      dockerfile: ['FROM scratch AS empty', 'COPY --from=scratch / /', 'FROM empty', 'COPY app /'],
      expected: []
    },
    {
      name: 'duplicate bases once, at their first line',
      dockerfile: [
        'FROM ros:humble AS a',
        'FROM ros:humble AS b',
        'COPY --from=ros:humble /a /a',
        'FROM --platform=linux/amd64 ros:humble'
      ],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['ros:humble', 'linux/amd64', 4]
      ]
    },
    {
      name: 'only the from= of bind and cache mounts that name no stage',
      dockerfile: [
        'FROM ros:humble AS builder',
        'FROM ros:humble',
        'RUN --mount=type=cache,target=/root/.cache \\',
        '    --mount=type=bind,from=builder,target=/ws \\',
        '    --mount=from=ghcr.io/acme/tools:1,target=/tools \\',
        '    --mount=type=tmpfs,target=/tmp \\',
        '    --mount=type=secret,id=token \\',
        '    --network=none \\',
        '    colcon test'
      ],
      expected: [
        ['ros:humble', 'linux/arm64', 1],
        ['ghcr.io/acme/tools:1', 'linux/arm64', 3]
      ]
    },
    {
      name: 'heredoc bodies as content, not instructions',
      dockerfile: [
        'FROM python:3.12',
        'RUN python3 - <<EOF',
        'from rclpy.node import Node',
        'FROM not-an-instruction',
        'EOF',
        "COPY <<-'CONF' /etc/app.conf",
        '\tfrom = here',
        '\tCONF',
        'RUN echo "<<EOF"',
        'FROM ros:humble'
      ],
      expected: [
        ['python:3.12', 'linux/arm64', 1],
        ['ros:humble', 'linux/arm64', 10]
      ]
    },
    {
      name: 'CRLF line endings and a byte order mark',
      dockerfile: ['\uFEFFARG BASE=ros:humble\r', '\r', 'FROM $BASE\r'],
      expected: [['ros:humble', 'linux/arm64', 3]]
    }
  ])('resolves $name', ({ dockerfile, options, expected }) => {
    expect(bases(dockerfile, options)).toEqual(expected)
  })

  describe('substitution', () => {
    // A is set (build arg "set"), empty (build arg "") or unset (declared, no default, no build arg).
    it.each([
      ['$A', 'vset', 'v', 'v'],
      ['${A}', 'vset', 'v', 'v'],
      ['${A:-x}', 'vset', 'vx', 'vx'],
      ['${A-x}', 'vset', 'v', 'vx'],
      ['${A:+y}', 'vy', 'v', 'v'],
      ['${A+y}', 'vy', 'vy', 'v'],
      ['${A:?needed}', 'vset', 'error', 'error'],
      ['${A?needed}', 'vset', 'v', 'error'],
      ['${A:-${B}}', 'vset', 'vb', 'vb'],
      ['${A:-${C:-z}}', 'vset', 'vz', 'vz'],
      ['${A:-"q"}', 'vset', 'vq', 'vq'],
      ['"$A"', 'vset', 'v', 'v'],
      ["'$A'", 'error', 'error', 'error'],
      ['${A#s}', 'vet', 'v', 'v'],
      ['${A##*e}', 'vt', 'v', 'v'],
      ['${A%t}', 'vse', 'v', 'v'],
      ['${A%%e*}', 'vs', 'v', 'v'],
      ['${A#?}', 'vet', 'v', 'v'],
      ['${A##*}', 'v', 'v', 'v'],
      // as in BuildKit: an escaped star is a star, and brackets stand for themselves
      ['${A##\\*}', 'vset', 'v', 'v'],
      ['${A%[st]}', 'vset', 'v', 'v'],
      ['${A/e/E}', 'vsEt', 'v', 'v'],
      ['${A//e/_}', 'vs_t', 'v', 'v'],
      // Go's regexp: an empty match right after a match is skipped, an empty value matches once
      ['${A//*/x}', 'vx', 'vx', 'vx'],
      ['${A/s}', 'error', 'error', 'error']
    ])('%s with A set, empty, unset: %s, %s, %s', (expression, set, empty, unset) => {
      const dockerfile = ['ARG A', 'ARG B=b', `FROM acme/base:v${expression}`]
      const tag = (buildArgs: [string, string][]): string => {
        try {
          return bases(dockerfile, { buildArgs })[0][0].replace('acme/base:', '')
        } catch (error) {
          if (error instanceof DockerfileError) return 'error'
          throw error
        }
      }
      expect([tag([['A', 'set']]), tag([['A', '']]), tag([])]).toEqual([set, empty, unset])
    })
  })

  it.each<[name: string, dockerfile: readonly string[], message: string]>([
    ['an empty file', [''], 'Dockerfile has no FROM instruction'],
    [
      'only ARGs and comments',
      ['ARG BASE=ros', '# FROM ros:humble'],
      'Dockerfile has no FROM instruction'
    ],
    ['a FROM with no image', ['ARG A', 'FROM'], 'line 2: FROM has no image'],
    ['a FROM with only a platform', ['FROM --platform=linux/amd64'], 'line 1: FROM has no image'],
    [
      'an image empty after substitution',
      ['ARG BASE_IMAGE', '', 'FROM ${BASE_IMAGE}'],
      'line 3: FROM ${BASE_IMAGE} is empty after substitution; pass the build arg or give the ARG a default'
    ],
    [
      'an undeclared variable',
      ['FROM $BASE_IMAGE'],
      'line 1: FROM $BASE_IMAGE is empty after substitution; pass the build arg or give the ARG a default'
    ],
    ['an unterminated ${', ['FROM ros:${DISTRO'], 'line 1: unterminated ${ in "ros:${DISTRO"'],
    [
      'an unterminated nested ${',
      ['FROM ros:${DISTRO:-${X}'],
      'line 1: unterminated ${ in "ros:${DISTRO:-${X}"'
    ],
    [
      'an unterminated ${ in a global ARG default that FROM uses',
      ['ARG A=${B', 'FROM ros:$A'],
      'line 1: unterminated ${ in "${B"'
    ],
    ['an empty ${}', ['FROM ros:${}'], 'line 1: bad substitution in "ros:${}"'],
    [
      'an unsupported operator',
      ['FROM ros:${A^x}'],
      'line 1: unsupported substitution operator "^" in "ros:${A^x}"'
    ],
    [
      'an unsupported operator after a colon',
      ['FROM ros:${A:=x}'],
      'line 1: unsupported substitution operator ":=" in "ros:${A:=x}"'
    ],
    ['a required variable with a message', ['FROM ros:${A:?pass_A}'], 'line 1: A: pass_A'],
    ['a required variable', ['FROM ros:${A?}'], 'line 1: A is not set'],
    ['an unterminated quote', ['FROM "ros:humble'], 'line 1: unterminated quote in ""ros:humble"'],
    [
      'an invalid reference',
      ['FROM Ros:humble'],
      'line 1: "Ros:humble" is not a valid image reference: "Ros" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
    ],
    [
      'an escaped $ kept literally',
      ['FROM acme/ros:\\$TAG'],
      'line 1: "acme/ros:$TAG" is not a valid image reference: tag "$TAG" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)'
    ],
    [
      'a FROM with extra words',
      ['FROM ros:humble # base'],
      'line 1: FROM takes <image> [AS <name>], got "ros:humble # base"'
    ],
    [
      'a FROM with AS but no name',
      ['FROM ros AS'],
      'line 1: FROM takes <image> [AS <name>], got "ros AS"'
    ],
    [
      'a --platform without =',
      ['FROM --platform linux/amd64 ros'],
      'line 1: --platform needs a value (--platform=<value>)'
    ],
    [
      'a --platform empty after substitution',
      ['ARG HOST', 'FROM --platform=$HOST ros'],
      'line 2: FROM --platform=$HOST is empty after substitution'
    ],
    [
      'a variable in COPY --from',
      ['ARG IMG=busybox', 'FROM ros', 'COPY --from=$IMG / /'],
      'line 3: --from=$IMG cannot use variables; add a stage "FROM $IMG AS <name>" and use that name'
    ],
    [
      'a variable in a mount from=',
      ['FROM ros', 'RUN --mount=type=bind,from=${IMG},target=/x true'],
      'line 2: from=${IMG} cannot use variables; add a stage "FROM ${IMG} AS <name>" and use that name'
    ],
    [
      'an invalid COPY --from image',
      ['FROM ros', '', 'COPY --from=Busybox / /'],
      'line 3: "Busybox" is not a valid image reference: "Busybox" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
    ],
    [
      'a COPY --from without =',
      ['FROM ros', 'COPY --from busybox / /'],
      'line 2: --from needs a value (--from=<value>)'
    ],
    [
      'an unterminated heredoc',
      ['FROM ros', 'RUN <<EOF', 'echo hi'],
      'line 2: heredoc <<EOF is not terminated'
    ],
    [
      'an invalid escape directive',
      ['# syntax=docker/dockerfile:1', '# escape=x', 'FROM ros'],
      'line 2: the escape directive must be \\ or `, got "x"'
    ]
  ])('rejects %s', (_name, dockerfile, message) => {
    const error = errorOf(dockerfile)
    expect(error.message).toBe(message)
    expect(error.message).not.toContain('\n')
  })

  it('reports a build arg that leaves the image empty', () => {
    expect(
      errorOf(['ARG BASE_IMAGE=ros', 'FROM ${BASE_IMAGE}'], { buildArgs: [['BASE_IMAGE', '']] })
        .message
    ).toBe(
      'line 2: FROM ${BASE_IMAGE} is empty after substitution; pass the build arg or give the ARG a default'
    )
  })

  it('derives an ARG from another with a pattern, as BuildKit does', () => {
    expect(
      bases(['ARG VERSION=22.04.3', 'ARG MAJOR=${VERSION%%.*}', 'FROM ubuntu:${MAJOR}'])
    ).toEqual([['ubuntu:22', 'linux/arm64', 3]])
    expect(
      bases(['ARG IMAGE=docker.io/library/ros:humble', 'FROM ${IMAGE#docker.io/library/}'])
    ).toEqual([['ros:humble', 'linux/arm64', 2]])
  })

  it('does not expand global ARGs that no FROM uses', () => {
    expect(bases(['ARG UNUSED=${NOT_SET:?needed elsewhere}', 'FROM ros:humble'])).toEqual([
      ['ros:humble', 'linux/arm64', 2]
    ])
    expect(errorOf(['ARG TAG=${NOT_SET:?pass_it}', 'FROM ros:${TAG}']).message).toBe(
      'line 1: NOT_SET: pass_it'
    )
  })

  it('normalizes the platform of FROM --platform as BuildKit does', () => {
    expect(
      bases([
        'FROM --platform=linux/arm64/v8 ros:humble',
        'FROM --platform=linux/aarch64 ros:jazzy'
      ])
    ).toEqual([
      ['ros:humble', 'linux/arm64', 1],
      ['ros:jazzy', 'linux/arm64', 2]
    ])
  })

  it('ignores the build arg default when the build arg is given', () => {
    expect(bases(['ARG A=${', 'FROM ros:$A'], { buildArgs: [['A', 'humble']] })).toEqual([
      ['ros:humble', 'linux/arm64', 2]
    ])
  })
})
