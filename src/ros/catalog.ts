/**
 * What the action knows about ROS distributions, in one place.
 *
 * Sources (checked 2026-11):
 * - REP 2000, "ROS 2 Releases and Target Platforms" (ros-infrastructure/rep): Ubuntu bases,
 *   tier-1 architectures, release and end-of-life dates of ROS 2 distributions.
 * - REP 3, "Target Platforms" (ros-infrastructure/rep): ROS 1 Noetic's platforms (amd64, arm64, armhf).
 * - docs.ros.org, "Distributions" release pages: dates; one table gives Kilted's end of life as
 *   2026-12 where REP 2000 says 2026-11 - REP 2000 is used.
 * - osrf/docker_images: the official `ros:<distro>-ros-base` images are amd64 + arm64; Rolling's
 *   images moved from noble to resolute in 2026-07.
 */

export type RosVersion = 1 | 2

export interface Distro {
  readonly name: string
  readonly rosVersion: RosVersion
  readonly ubuntu: string
  readonly ubuntuCodename: string
  /** Platforms with binary packages (REP 2000 tier 1, REP 3 for Noetic). */
  readonly platforms: readonly string[]
  /** YYYY-MM-DD */
  readonly released: string | null
  /** YYYY-MM-DD, or YYYY-MM where only the month is announced; null for Rolling. */
  readonly endOfLife: string | null
}

export const CATALOG: readonly Distro[] = [
  {
    name: 'noetic',
    rosVersion: 1,
    ubuntu: '20.04',
    ubuntuCodename: 'focal',
    platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
    released: '2020-05-23',
    endOfLife: '2025-05-31'
  },
  {
    name: 'humble',
    rosVersion: 2,
    ubuntu: '22.04',
    ubuntuCodename: 'jammy',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: '2022-05-23',
    endOfLife: '2027-05'
  },
  {
    name: 'iron',
    rosVersion: 2,
    ubuntu: '22.04',
    ubuntuCodename: 'jammy',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: '2023-05-23',
    endOfLife: '2024-12-04'
  },
  {
    name: 'jazzy',
    rosVersion: 2,
    ubuntu: '24.04',
    ubuntuCodename: 'noble',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: '2024-05-23',
    endOfLife: '2029-05'
  },
  {
    name: 'kilted',
    rosVersion: 2,
    ubuntu: '24.04',
    ubuntuCodename: 'noble',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: '2025-05-23',
    endOfLife: '2026-11'
  },
  {
    name: 'lyrical',
    rosVersion: 2,
    ubuntu: '26.04',
    ubuntuCodename: 'resolute',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: '2026-05-22',
    endOfLife: '2031-05'
  },
  {
    name: 'rolling',
    rosVersion: 2,
    ubuntu: '26.04',
    ubuntuCodename: 'resolute',
    platforms: ['linux/amd64', 'linux/arm64'],
    released: null,
    endOfLife: null
  }
]

export function findDistro(name: string): Distro | undefined {
  return CATALOG.find(d => d.name === name)
}

export function knownDistroNames(): string[] {
  return CATALOG.map(d => d.name)
}

/** The last day a distro is supported: a month-only date means the month's last day. */
export function endOfLifeDate(distro: Distro): string | null {
  const eol = distro.endOfLife
  if (eol === null) return null
  if (/^\d{4}-\d{2}-\d{2}$/.test(eol)) return eol
  const [year, month] = eol.split('-').map(Number)
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return `${eol}-${String(last).padStart(2, '0')}`
}

/** Days before end of life at which the action starts to warn. */
export const EOL_NOTICE_DAYS = 90

export type Lifecycle =
  | { state: 'supported' }
  | { state: 'ending'; date: string; days: number }
  | { state: 'ended'; date: string }

/** Where a distro stands on `today` (YYYY-MM-DD, UTC). */
export function lifecycle(distro: Distro, today: string): Lifecycle {
  const date = endOfLifeDate(distro)
  if (date === null) return { state: 'supported' }
  if (today > date) return { state: 'ended', date }
  const days = Math.round((Date.parse(date) - Date.parse(today)) / 86_400_000)
  return days <= EOL_NOTICE_DAYS ? { state: 'ending', date, days } : { state: 'supported' }
}
