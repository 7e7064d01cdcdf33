/** Container platforms the action can build, and how each shows itself inside a container. */

export interface PlatformInfo {
  /** OCI platform string, e.g. linux/arm64 */
  readonly platform: string
  /** Short name used in tags and cell ids, e.g. arm64, armv7 */
  readonly short: string
  /** Node's os.arch() of a runner that runs it natively */
  readonly nodeArch: string
  /** `uname -m` values seen inside a container of this platform */
  readonly machines: readonly string[]
  /** The binfmt_misc entry name that runs it under emulation (/proc/sys/fs/binfmt_misc/<name>) */
  readonly binfmt: string
  /** The architecture name tonistiigi/binfmt --install takes */
  readonly qemuArch: string
}

export const PLATFORMS: readonly PlatformInfo[] = [
  {
    platform: 'linux/amd64',
    short: 'amd64',
    nodeArch: 'x64',
    machines: ['x86_64'],
    binfmt: 'qemu-x86_64',
    qemuArch: 'amd64'
  },
  {
    platform: 'linux/arm64',
    short: 'arm64',
    nodeArch: 'arm64',
    machines: ['aarch64', 'arm64'],
    binfmt: 'qemu-aarch64',
    qemuArch: 'arm64'
  },
  {
    platform: 'linux/arm/v7',
    short: 'armv7',
    nodeArch: 'arm',
    machines: ['armv7l', 'armv8l'],
    binfmt: 'qemu-arm',
    qemuArch: 'arm'
  },
  {
    platform: 'linux/ppc64le',
    short: 'ppc64le',
    nodeArch: 'ppc64',
    machines: ['ppc64le'],
    binfmt: 'qemu-ppc64le',
    qemuArch: 'ppc64le'
  },
  {
    platform: 'linux/s390x',
    short: 's390x',
    nodeArch: 's390x',
    machines: ['s390x'],
    binfmt: 'qemu-s390x',
    qemuArch: 's390x'
  },
  {
    platform: 'linux/riscv64',
    short: 'riscv64',
    nodeArch: 'riscv64',
    machines: ['riscv64'],
    binfmt: 'qemu-riscv64',
    qemuArch: 'riscv64'
  }
]

/** Other spellings users write for the same platform. */
const ALIASES: Record<string, string> = {
  'linux/x86_64': 'linux/amd64',
  'linux/arm64/v8': 'linux/arm64',
  'linux/aarch64': 'linux/arm64',
  'linux/arm': 'linux/arm/v7',
  'linux/armhf': 'linux/arm/v7'
}

/** A platform as BuildKit normalizes it: linux/arm64/v8 is linux/arm64, linux/arm is linux/arm/v7. */
export function normalizePlatform(value: string): string {
  const lower = value.toLowerCase()
  return ALIASES[lower] ?? lower
}

export function findPlatform(value: string): PlatformInfo | undefined {
  const normal = normalizePlatform(value)
  return PLATFORMS.find(p => p.platform === normal)
}

/** The platform a runner of this Node os.arch() runs natively. */
export function nativePlatform(nodeArch: string): string | undefined {
  return PLATFORMS.find(p => p.nodeArch === nodeArch)?.platform
}
