import { describe, expect, it } from '@jest/globals'
import {
  parseBoolean,
  parseInteger,
  parseSize,
  parseKeyValues,
  parseLines,
  parseList
} from '../../src/inputs/parse.js'

describe('parseList', () => {
  it.each([
    ['humble, jazzy', ['humble', 'jazzy']],
    ['humble\njazzy\n', ['humble', 'jazzy']],
    [' humble ,\n jazzy,, rolling ', ['humble', 'jazzy', 'rolling']],
    ['', []],
    [' , \n ', []]
  ])('%j -> %j', (value, expected) => {
    expect(parseList(value)).toEqual(expected)
  })
})

describe('parseLines', () => {
  it('keeps commands whole, drops blanks and comments', () => {
    expect(parseLines('ros2 --help\n\n  # a comment\necho a, b\n')).toEqual([
      'ros2 --help',
      'echo a, b'
    ])
  })
})

describe('parseBoolean', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    [' FALSE ', false],
    ['', true]
  ])('%j -> %j (fallback true)', (value, expected) => {
    expect(parseBoolean('push', value, true)).toBe(expected)
  })
})

describe('parseInteger', () => {
  it.each([
    ['5', 5],
    [' 12 ', 12],
    ['', 7]
  ])('%j -> %j', (value, expected) => {
    expect(parseInteger('max-parallel', value, 7, 1, 64)).toBe(expected)
  })
})

describe('parseKeyValues', () => {
  it('keeps order and values with = and spaces', () => {
    expect(parseKeyValues('build-args', 'A=1\nB = x=y z\n# note\nC=')).toEqual([
      ['A', '1'],
      ['B', 'x=y z'],
      ['C', '']
    ])
  })
})

describe('parseSize', () => {
  it.each([
    ['', 7],
    ['1', 1],
    ['500M', 500e6],
    ['500MB', 500e6],
    ['500 mb', 500e6],
    ['1.5G', 1.5e9],
    ['2g', 2e9],
    ['64k', 64e3],
    ['10G', 10e9]
  ])('%j is %d bytes', (value, bytes) => {
    expect(parseSize('cache-mounts-max-size', value, 7, 10e9)).toBe(bytes)
  })

  it.each(['0', '-1', '1T', '10.1G', 'G', '1 GiB', 'lots', '1e9'])('refuses %j', value => {
    expect(() => parseSize('cache-mounts-max-size', value, 7, 10e9)).toThrow(
      `Input "cache-mounts-max-size": "${value}" is not a size from 1 byte to 10G; use a number with K, M or G (powers of 1000), e.g. 500M or 2G`
    )
  })
})
