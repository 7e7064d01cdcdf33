/**
 * QEMU user emulation: each foreign platform needs its binfmt_misc entry. Registered entries are
 * reused; missing ones are installed with the qemu-image (tonistiigi/binfmt --install).
 */
import { findPlatform, type PlatformInfo } from '../ros/platforms.js'
import type { Exec, ReadText } from './exec.js'
import { lastLine } from '../text/text.js'

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc'

/** Pulling the qemu-image and registering the emulators. */
export const QEMU_INSTALL_TIMEOUT_MS = 30 * 60_000

export interface QemuReport {
  /** Platforms the runner runs natively (no emulation needed) */
  readonly native: string[]
  /** Foreign platforms already registered */
  readonly found: string[]
  /** Foreign platforms this run registered */
  readonly installed: string[]
}

/** An entry is usable when it exists, is enabled and has the F flag (works inside containers). */
export function binfmtUsable(entry: string | undefined): boolean {
  if (entry === undefined) return false
  const lines = entry.split('\n')
  if (lines[0].trim() !== 'enabled') return false
  const flags = lines.find(l => l.startsWith('flags:'))
  return flags === undefined || flags.slice('flags:'.length).includes('F')
}

export async function ensureEmulation(
  platforms: readonly string[],
  hostPlatform: string,
  qemuImage: string,
  exec: Exec,
  read: ReadText,
  log: (message: string) => void
): Promise<QemuReport> {
  const report: QemuReport = { native: [], found: [], installed: [] }
  const foreign: PlatformInfo[] = []
  for (const p of platforms) {
    if (p === hostPlatform) {
      report.native.push(p)
      continue
    }
    const info = findPlatform(p) as PlatformInfo
    if (binfmtUsable(await read(`${BINFMT_DIR}/${info.binfmt}`))) report.found.push(p)
    else foreign.push(info)
  }
  for (const p of report.native) log(`${p}: native on this runner, no emulation needed`)
  for (const p of report.found) log(`${p}: QEMU already registered (${findPlatform(p)?.binfmt})`)
  if (foreign.length === 0) return report

  const arches = foreign.map(f => f.qemuArch).join(',')
  log(`Registering QEMU for ${foreign.map(f => f.platform).join(', ')} with ${qemuImage}`)
  // pulls the qemu-image first (tens of MB, on a slow mirror perhaps)
  const r = await exec.run(
    'docker',
    ['run', '--privileged', '--rm', qemuImage, '--install', arches],
    {
      timeoutMs: QEMU_INSTALL_TIMEOUT_MS
    }
  )
  for (const f of foreign) {
    if (!binfmtUsable(await read(`${BINFMT_DIR}/${f.binfmt}`))) {
      const why =
        r.code === 0
          ? 'the entry is still missing after installing'
          : lastLine(r.stderr || r.stdout)
      throw new Error(
        `Cannot emulate ${f.platform}: binfmt_misc has no usable ${f.binfmt} and registering it with ${qemuImage} failed (${why}). ` +
          'Run on a runner of that architecture, or allow privileged containers.'
      )
    }
    report.installed.push(f.platform)
  }
  return report
}

/**
 * QEMU's own last words when the emulator crashes, e.g. `qemu: uncaught target signal 11
 * (Segmentation fault) - core dumped`, `qemu: unhandled CPU exception`, `qemu:handle_cpu_signal
 * received signal outside vCPU context`. The signal line is counted for SIGILL (4), SIGBUS (7)
 * and SIGSEGV (11), the signals of QEMU's translation bugs; an abort (6) or a division by zero (8)
 * is the program's own failure. A program that truly segfaults prints the same line under QEMU:
 * it is retried, and fails again. A native program that crashes prints none of these.
 */
const QEMU_CRASH =
  /qemu: ?(?:uncaught target signal (?:4|7|11) \(|unhandled CPU exception|handle_cpu_signal received signal outside vCPU context)/

/** The first line of some output with QEMU's crash signature, trimmed, or undefined. Pure. */
export function qemuCrash(lines: Iterable<string>): string | undefined {
  for (const line of lines) if (QEMU_CRASH.test(line)) return line.trim()
  return undefined
}
