/**
 * Pinned releases: the sha256 of every release binary this action may install (buildx, cosign), per
 * version and per release asset architecture, and the choice of a release for a version input.
 *
 * Values are copied from the releases' published checksums (buildx's `checksums.txt`, cosign's
 * `cosign_checksums.txt`), as pinned in the repositories named next to each entry; nothing here
 * was computed from a download by us. To add a version: copy every `linux-*` asset's line from
 * the release's checksum file (or from a pin of it you can name), one entry per asset
 * architecture, with a comment saying where it was read. An architecture you cannot verify is
 * left out: installing it then needs the `*-sha256` input. The newest version here is what
 * `latest` installs.
 */
import semver from 'semver'
import path from 'node:path'
import { downloadVerified, normalizeSha256, verifyCached, type ToolCache } from './download.js'

export type PinnedTool = 'buildx' | 'cosign'

/** Each tool's release asset architecture for a Node os.arch() */
const ASSET_ARCH: Readonly<Record<PinnedTool, Readonly<Record<string, string>>>> = {
  buildx: {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm-v7',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64'
  },
  cosign: {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64'
  }
}

/** Where each tool's releases are downloaded from: `{version}` and `{arch}` are filled in */
export const RELEASE_URL: Readonly<Record<PinnedTool, string>> = {
  buildx:
    'https://github.com/docker/buildx/releases/download/v{version}/buildx-v{version}.linux-{arch}',
  cosign: 'https://github.com/sigstore/cosign/releases/download/v{version}/cosign-linux-{arch}'
}

/** A tool's release asset architecture for a Node os.arch(); throws when it has none. */
export function assetArch(tool: PinnedTool, nodeArch: string): string {
  const arch = ASSET_ARCH[tool][nodeArch]
  if (arch === undefined) {
    throw new Error(`No ${tool} release exists for this runner's architecture (${nodeArch}).`)
  }
  return arch
}

/** A release's download URL, from `template` (a mirror's) or the tool's own releases. */
export function releaseUrl(
  tool: PinnedTool,
  template: string,
  version: string,
  nodeArch: string
): string {
  return (template || RELEASE_URL[tool])
    .replaceAll('{version}', version)
    .replaceAll('{arch}', assetArch(tool, nodeArch))
}

/** sha256 (lowercase hex) by release asset architecture (the `{arch}` of the asset's name) */
type AssetPins = Readonly<Record<string, string>>

export const PINNED: Readonly<Record<PinnedTool, Readonly<Record<string, AssetPins>>>> = {
  // docker-library builds its docker:<version>-cli images with these pins (their Dockerfiles check
  // each download with sha256sum -c); the release's own checksums.txt is the source they copy
  buildx: {
    // docker-library/repo-info repos/docker/remote/29-cli.md (docker:29-cli of 2026-09-15; the same
    // pins in repos/docker/remote/29-dind-rootless.md of 2026-09-17)
    '0.37.1': {
      amd64: '9447199cdb435f25880548343c128a4b6650e8891ee598905d8d29d39a8e359b',
      'arm-v7': '9ce373553b2ea4ef6bc8e5b33e7586d14c2d8d91539d3b96ac47ad0967a73843',
      arm64: 'e5cc9fe3bbff5cbc91230981f7860e06076110730a2db997082652199042a1f2',
      ppc64le: 'bd6bb13228a012d34d259c04de1a38c4f5c76485d9a2d15397794cde2634c3fe',
      riscv64: 'd23f968ff6dc1964ab172de280bd0de24c12f0f8131af76f69104d2f6de19cbd',
      s390x: '7659b0d977e4a4376e360ea25d1dc626a3af7b34695bb272ec49b056bd303548'
    },
    // docker-library/repo-info repos/docker/remote/29.md @12b0c3db (docker:29 of 2026-07-31)
    '0.36.0': {
      amd64: '07823fdfcd82a41be90155a8b16876c1a780a6462de805a9f3f63b3119ccfb99',
      'arm-v7': '50527239ba76f72e9ffd8227a2e265c6751f71e4908546f0f68c329e87b2c71c',
      arm64: '70382de03915c07c488ae4ddc4f7e169ee978f953e754ecfce110ba017e0132b',
      ppc64le: 'ebd3c6c77e649c759986380e1281d38b50bd4afe88fec2076ea48c56b1e08227',
      riscv64: '8b2b242d512e77f711028af53f8501241fceb22a80a8f5e7368a27375cf805a7',
      s390x: '7c00dc2644ff428779d075aa080d046397511797d1c8475dce9f3c3471965a04'
    },
    // docker-library/repo-info repos/docker/remote/29-cli.md @0f48b77a (docker:29-cli, 2026-07-17)
    '0.35.0': {
      amd64: 'd41ece72044243b4f58b343441ae37446d9c29a7d6b5e11c61847bbcf8f7dfda',
      'arm-v7': 'e1fe67cbe2d5a7b242e5f732a9708e6abaa6d19d717e65bfbd1d13baa8669d1f',
      arm64: 'c4248d6cbc4a619a7e0b4609c11e509ad4ac0b475e1c64817c0ac20c5d90c766',
      ppc64le: 'bcee77464deb25cfd0b905d4d871b0aad1b1164d6bcdf8b2fd8b1adb1db021c3',
      riscv64: '3ecaf173eb24402ba29e9d3b7ddac4bde259a3a54e98112077014918ab49f61f',
      s390x: 'ef1738f3c70166e968d1bca3f853dbc515a3aa7ffa82f1a2ded033a050cd3203'
    },
    // docker-library/docker 29/cli/Dockerfile @06fcf57a
    '0.31.0': {
      amd64: '39cc424a730d8b7364c23a137582cb29e7f024b175bb595001ff6f90121b005b',
      'arm-v7': '68f3aff3e29d9c013a90bec8cd841a86d57670394870fe0aaaceafcdd28f4071',
      arm64: '3192d6deafed620132da1acd7c68499e163c814bc2be988a3eb2c5302764a30a',
      ppc64le: 'fe18282ceb82368e3b7fd79277e34d9904dfbfd0318a3c9fa2e4a2ab12f932e6',
      riscv64: 'bb01f095fb6b3734e352c4f58b7ef294f054d990c899fbfcaf5aa3fe1efbd83c',
      s390x: 'b03b64ab619c073edbaa310d83f275c52b7380abf080d35ea936696eab42aba1'
    },
    // docker-library/docker 29/cli/Dockerfile @ca79f996
    '0.30.1': {
      amd64: 'c37114fcd034025ec68e224657c8a5a850df472ded3ddcbca75ad3a7ebb9710d',
      'arm-v7': '32646cb57c43640a71c81f206897b78a8f1abe6b6db62bab115b5940fc5be884',
      arm64: '31d012d52d6df68aef4b55db62330967b562811f0de30cdfaa4505f314797c76',
      ppc64le: '13523e8d1820019f404df31c7ec17c7a76c16f638dd04acc33f5d141f683247c',
      riscv64: '86af30811ceaad9fc34a6bc02e5d093d1460ec24f125c47e639ed1fac9effe83',
      s390x: 'b752c6824bcc355b012d6f595987706fef15243792fe755f50de76c979bc592d'
    },
    // docker-library/docker 28/cli/Dockerfile @b510c2bb
    '0.29.1': {
      amd64: '7d2d7d6d4680aa349614965aaa33ccec43f1a9a21e908a5ce4cb6adfa5ad5141',
      'arm-v7': 'ba46e94d7420b4b05ff02109f5f8a937a86a620a660898ff15fb987022f62588',
      arm64: '50e85c4e290b698908421161c1aee069bcc5d4a65b7b7201bfac3a176b223a7e',
      ppc64le: '04e9b85273502f5c673f2216f64fe336045b6d196ba7e0350a11d6af5dcaee3a',
      riscv64: 'f4f2d5bd103b8bba725b3b0ef14e9a4a799e0806d5076045e399e221a3bbb723',
      s390x: '3b5caf470972c286642112df47b2251d2a5d412aa150d78d74db20a3409d9f23'
    },
    // docker-library/docker 28/cli/Dockerfile @07249888
    '0.25.0': {
      amd64: '4104d79a791a8744c0b43fd5bd0a6172dff29040c5229946a1cdb2d27b0b5bfa',
      'arm-v7': '0c943fa7001cde147ab7663e36c92259ddde2a3ce0b6f5dfcbc3535dc67f8661',
      arm64: 'f07063844bb750172c1f25cef61b07a8314d24bedffc015517b3ec4016b16de8',
      ppc64le: '9ac89d1401b105be41e98760aaaae00e4f44e180e757bf6044d2824ff14788bf',
      riscv64: '17829ab06c8ec984201170bfb676e6cd311312983814354505fb679b36c02177',
      s390x: '1b4a7d86fee5b6a48fd153418bd6ed8f0c82bc5d7eb3b219052e834ece977440'
    },
    // docker-library/docker versions.json @00c95d9c (its "27" entry's buildx)
    '0.17.1': {
      amd64: 'aa7a9778349e1a8ace685e4c51a1d33e7a9b0aa6925d1c625b09cb3800eba696',
      'arm-v7': '5454c2feddb76000c22cb8abafe8f4a03e6fee12aae9031f9e02b661e76012c8',
      arm64: 'de05dccd47932eb9fd6e63781ab29d2b0b2c834bbdd19b51d7ea452b1fe378d3',
      ppc64le: '29b4f2de5a1e6ecb4096868111d693a8ba4aaf144d535242ce19fc4154f94a4e',
      riscv64: 'e67d26acb10c4529b9b5ca4e20781865d63e538228c566af6d1e91da65cdb992',
      s390x: '9a3a4376025d1c2771ac69aceff0bcb19a2594413e318a34455af037ce903f06'
    }
  },
  cosign: {
    // MiltonTulli/ERC-7730 scripts/resolve-publication-commit.sh @e26075c8 and
    // Cloudopsshell/deaconguard packaging/install.sh @5cb05d09, both copied from the release's
    // cosign_checksums.txt (no pin of 3.1.3 by sigstore itself was found)
    '3.1.3': {
      amd64: '4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71',
      arm64: 'c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a'
    },
    // sigstore/cosign-installer action.sh @0970e7e6 (its bootstrap cosign, generated from the
    // release's cosign_checksums.txt)
    '3.0.6': {
      amd64: 'c956e5dfcac53d52bcf058360d579472f0c1d2d9b69f55209e256fe7783f4c74',
      arm: '67bd25d32daff5664caf51208c95defcb2ad7ac1296f394fa677bb8bacee62f5',
      arm64: 'bedac92e8c3729864e13d4a17048007cfafa79d5deca993a43a90ffe018ef2b8',
      ppc64le: '08c3e5e0a09c440f49e9a69d8639d37fbec522ec8c5c0ac805243b098e6ea512',
      riscv64: 'e25952e798958b0f9168d044153ccc353f5469ca4b71a1707dffad0534d27017',
      s390x: '3cf4b769258ed9cc3c2a93268c0d5c1cc3fbd094af8df21035cbac8fb0d7c088'
    },
    // sigstore/cosign-installer action.sh @1429397b (its bootstrap cosign)
    '3.0.5': {
      amd64: 'db15cc99e6e4837daabab023742aaddc3841ce57f193d11b7c3e06c8003642b2',
      arm: '4866f388e87125f1f492231dbbb347bb73b601c810595b65b2ae09eae4c8a99d',
      arm64: 'd098f3168ae4b3aa70b4ca78947329b953272b487727d1722cb3cb098a1a20ab'
    }
  }
}

/** The pinned sha256 of a release asset, if any. */
export function pinnedSha256(tool: PinnedTool, version: string, arch: string): string | undefined {
  return PINNED[tool][version]?.[arch]
}

/** The versions pinned for a tool (for one asset architecture if given), newest first. */
export function pinnedVersions(tool: PinnedTool, arch?: string): string[] {
  return Object.entries(PINNED[tool])
    .filter(([, pins]) => arch === undefined || pins[arch] !== undefined)
    .map(([version]) => version)
    .sort(semver.rcompare)
}

/** The newest pinned version of a tool: what `latest` means for this version of the action. */
export function newestPinned(tool: PinnedTool): string {
  const [newest] = pinnedVersions(tool)
  if (newest === undefined) throw new Error(`No ${tool} release is pinned.`)
  return newest
}

export interface ExpectedSha256 {
  readonly sha256: string
  /** Where it comes from, for the log: `pinned` or the input that gave it */
  readonly source: string
}

/**
 * The sha256 a download must have: the one given (`override`, from the `input` input), else the
 * pinned one. Throws, before anything is downloaded, when there is neither.
 */
export function expectedSha256(
  tool: PinnedTool,
  version: string,
  arch: string,
  override: string | undefined,
  input: string
): ExpectedSha256 {
  if (override !== undefined && override.trim() !== '') {
    const sha256 = normalizeSha256(override)
    if (sha256 === null) {
      throw new Error(`${input} "${override.trim()}" is not a sha256 (64 hexadecimal digits).`)
    }
    return { sha256, source: input }
  }
  const pinned = pinnedSha256(tool, version, arch)
  if (pinned !== undefined) return { sha256: pinned, source: 'pinned' }
  const known = pinnedVersions(tool, arch)
  const these = known.length === 0 ? 'none' : known.join(', ')
  throw new Error(
    `No pinned sha256 for ${tool} ${version} (linux-${arch}): this action pins ${tool} ${these} ` +
      `for linux-${arch}; require one of those, or give the file's sha256 in ${input}.`
  )
}

export type ToolDecision =
  { action: 'keep'; version: string } | { action: 'install'; version: string; reason: string }

/**
 * What to do about a tool, given the required version (`latest`, an exact version or a semver
 * range) and the installed one (null: none). A range installs the newest of `known` (the
 * versions this action can install verified) that satisfies it, else its lowest version. Pure.
 */
export function decideTool(
  tool: string,
  required: string,
  installed: string | null,
  known: readonly string[]
): ToolDecision {
  const have = installed === null ? null : (semver.coerce(installed)?.version ?? null)
  const newest = [...known].sort(semver.rcompare)
  let want: string
  let ok: boolean
  const exact = semver.valid(semver.clean(required) ?? '')
  if (required === 'latest') {
    want = newest[0] ?? '0.0.0'
    ok = have !== null && semver.gte(have, want)
  } else if (exact !== null) {
    want = exact
    ok = have === exact
  } else {
    ok = have !== null && semver.satisfies(have, required)
    want =
      newest.find(v => semver.satisfies(v, required)) ??
      semver.minVersion(required)?.version ??
      newest[0] ??
      '0.0.0'
  }
  if (ok && have !== null) return { action: 'keep', version: have }
  const reason =
    have === null ? `${tool} is not installed` : `${tool} ${have} does not satisfy ${required}`
  return { action: 'install', version: want, reason }
}

/** A pinned release's binary to have in the tool cache. */
export interface ReleaseFile {
  readonly tool: PinnedTool
  /** The tool cache's name for it, and the file's name in its folder */
  readonly cacheName: string
  readonly version: string
  readonly nodeArch: string
  /** A mirror's URL template (`{version}`, `{arch}`); empty: the tool's own releases */
  readonly urlTemplate: string
  /** A sha256 given by the user (`input`) in place of the pinned one; empty: the pinned one */
  readonly sha256: string | undefined
  readonly input: string
  readonly cache: ToolCache
  readonly log: (message: string) => void
}

/**
 * The release's file from the tool cache, verified, or downloaded, verified and cached: its path.
 * No pin and no sha256 given: refused before anything is downloaded. Nothing that does not match
 * reaches the tool cache or runs.
 */
export async function releaseFile(o: ReleaseFile): Promise<string> {
  const what = `${o.tool} ${o.version}`
  const arch = assetArch(o.tool, o.nodeArch)
  const expected = expectedSha256(o.tool, o.version, arch, o.sha256, o.input)
  let dir = o.cache.find(o.cacheName, o.version, o.nodeArch)
  if (dir === '') {
    const url = releaseUrl(o.tool, o.urlTemplate, o.version, o.nodeArch)
    o.log(`Downloading ${what} from ${url}`)
    const file = await downloadVerified(o.cache, what, url, expected.sha256)
    o.log(`${what}: sha256 ${expected.sha256} verified (${expected.source})`)
    dir = await o.cache.cacheFile(file, o.cacheName, o.cacheName, o.version, o.nodeArch)
  } else {
    await verifyCached(what, path.join(dir, o.cacheName), dir, expected.sha256)
    o.log(`Using ${what} from the tool cache (sha256 verified, ${expected.source})`)
  }
  return path.resolve(dir, o.cacheName)
}
