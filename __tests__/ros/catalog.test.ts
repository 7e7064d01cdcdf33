import { describe, expect, it } from '@jest/globals'
import {
  CATALOG,
  endOfLifeDate,
  findDistro,
  lifecycle,
  type Distro
} from '../../src/ros/catalog.js'
import { findPlatform, nativePlatform } from '../../src/ros/platforms.js'

describe('catalog', () => {
  it('holds the distros of ROS-FACTS with their bases', () => {
    expect(CATALOG.map(d => [d.name, d.rosVersion, d.ubuntuCodename])).toEqual([
      ['noetic', 1, 'focal'],
      ['humble', 2, 'jammy'],
      ['iron', 2, 'jammy'],
      ['jazzy', 2, 'noble'],
      ['kilted', 2, 'noble'],
      ['lyrical', 2, 'resolute'],
      ['rolling', 2, 'resolute']
    ])
  })

  it('every distro has amd64 and arm64; only noetic has armv7', () => {
    for (const d of CATALOG) {
      expect(d.platforms).toEqual(expect.arrayContaining(['linux/amd64', 'linux/arm64']))
      expect(d.platforms.includes('linux/arm/v7')).toBe(d.name === 'noetic')
    }
  })

  it.each([
    ['noetic', '2025-05-31'],
    ['humble', '2027-05-31'],
    ['iron', '2024-12-04'],
    ['kilted', '2026-11-30'],
    ['rolling', null]
  ])('%s ends on %s', (name, date) => {
    expect(endOfLifeDate(findDistro(name) as Distro)).toBe(date)
  })

  it.each([
    ['noetic', '2026-11-23', { state: 'ended', date: '2025-05-31' }],
    ['kilted', '2026-11-23', { state: 'ending', date: '2026-11-30', days: 7 }],
    ['kilted', '2026-11-30', { state: 'ending', date: '2026-11-30', days: 0 }],
    ['kilted', '2026-12-01', { state: 'ended', date: '2026-11-30' }],
    ['humble', '2026-11-23', { state: 'supported' }],
    ['humble', '2027-03-02', { state: 'ending', date: '2027-05-31', days: 90 }],
    ['rolling', '2099-01-01', { state: 'supported' }]
  ])('%s on %s', (name, today, expected) => {
    expect(lifecycle(findDistro(name) as Distro, today)).toEqual(expected)
  })
})

describe('platforms', () => {
  it.each([
    ['linux/amd64', 'amd64', 'qemu-x86_64'],
    ['linux/arm64/v8', 'arm64', 'qemu-aarch64'],
    ['linux/armhf', 'armv7', 'qemu-arm'],
    ['linux/riscv64', 'riscv64', 'qemu-riscv64']
  ])('%s -> %s, %s', (value, short, binfmt) => {
    expect(findPlatform(value)).toMatchObject({ short, binfmt })
  })

  it('maps runner architectures to native platforms', () => {
    expect(nativePlatform('x64')).toBe('linux/amd64')
    expect(nativePlatform('arm64')).toBe('linux/arm64')
    expect(nativePlatform('mips')).toBeUndefined()
  })
})
