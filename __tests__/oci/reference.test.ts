import { describe, expect, it } from '@jest/globals'
import { loginRegistry, parseReference, type ImageRef } from '../../src/oci/reference.js'

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`

describe('parseReference', () => {
  it.each([
    ['ros', { registry: 'docker.io', path: 'ros', name: 'ros' }],
    ['ros:humble-ros-base', { registry: 'docker.io', path: 'ros', tag: 'humble-ros-base' }],
    ['osrf/ros:jazzy-desktop', { registry: 'docker.io', path: 'osrf/ros', tag: 'jazzy-desktop' }],
    ['127.0.0.1:5000/ros:humble', { registry: '127.0.0.1:5000', path: 'ros', tag: 'humble' }],
    ['localhost:5000/a/b', { registry: 'localhost:5000', path: 'a/b' }],
    ['ghcr.io/acme/robot', { registry: 'ghcr.io', path: 'acme/robot' }],
    [`acme/robot@${digest}`, { path: 'acme/robot', digest }],
    [`acme/robot:v1@${digest}`, { path: 'acme/robot', tag: 'v1', digest }],
    ['[::1]:5000/robot', { registry: '[::1]:5000', path: 'robot' }],
    ['a/b__c/d-e.f', { path: 'a/b__c/d-e.f' }]
  ])('%s', (value, expected) => {
    expect(parseReference(value)).toMatchObject(expected)
  })

  it.each([
    ['', 'it is empty'],
    ['ros:', 'tag "" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)'],
    [
      'ros:-x',
      'tag "-x" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)'
    ],
    [
      `ros:${'a'.repeat(129)}`,
      `tag "${'a'.repeat(129)}" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)`
    ],
    ['ros@sha256:abc', '"sha256:abc" is not a digest (sha256:<64 hex digits>)'],
    [
      'acme//robot',
      '"acme//robot" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
    ],
    [
      '-acme/robot',
      '"-acme/robot" is not a repository name (lowercase letters, digits and . _ - separators, / between parts)'
    ]
  ])('%j is rejected: %s', (value, reason) => {
    expect(parseReference(value)).toBe(reason)
  })

  it.each([
    ['acme/robot', 'docker.io'],
    ['index.docker.io/acme/robot', 'docker.io'],
    ['127.0.0.1:5000/robot', '127.0.0.1:5000']
  ])('logs in to the registry of %s: %s', (value, registry) => {
    expect(loginRegistry(parseReference(value) as ImageRef)).toBe(registry)
  })
})
