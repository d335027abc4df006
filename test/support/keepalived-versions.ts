/**
 * The keepalived versions the package is proven on, and their binaries:
 * - 2.0.20, the keepalived of the standalone target's default image (`osixia/keepalived:2.0.20`);
 * - 2.2.7, the Debian bookworm package (`keepalived` on PATH, /usr/sbin/keepalived);
 * - 2.3.4, the newest release.
 *
 * 2.0.20 and 2.3.4 are built from their release tarballs in `../shared/vendor/keepalived/` (relative to
 * the repository root, or to the main worktree's root when this is a linked worktree; or
 * `$KEEPALIVED_SOURCES`), by `keepalived-build.sh`, and cached under
 * `node_modules/.cache/keepalived/<sha256 of the tarball>/keepalived`, so only the first run builds
 * (about a minute each). Without the sources the other versions are skipped loudly, and under CI=true
 * that is an error.
 *
 * `npx ts-node --project test/tsconfig.json test/support/keepalived-versions.ts` builds them ahead of
 * the tests (.ci/run does), so that no test waits for a compiler.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readFileSync } from 'fs';
import { dirname, join, resolve } from 'path';
import { compareKeepalivedVersions, PROVEN_KEEPALIVED_VERSIONS } from '../../src/core/standalone/keepalived-version';

/** A keepalived the tests can run. */
export interface KeepalivedBinary {
  /** `2.0.20`, `2.2.7` or `2.3.4`. */
  readonly version: string;
  /** The program: an absolute path, or `keepalived` for the one on PATH. */
  readonly binary: string;
}

/** The Debian package's version: the keepalived on PATH. */
export const DEBIAN_KEEPALIVED_VERSION = '2.2.7';

/** The versions built from release sources, with their tarballs. */
const SOURCE_RELEASES: readonly { readonly version: string; readonly tarball: string }[] = [
  { version: '2.0.20', tarball: 'keepalived-2.0.20.tar.gz' },
  { version: '2.3.4', tarball: 'keepalived-2.3.4.tar.gz' },
];

/** Every version the package is proven on, oldest first. */
export const KEEPALIVED_VERSIONS: readonly string[] = PROVEN_KEEPALIVED_VERSIONS;

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The directory with the release tarballs, or undefined when no candidate has them. */
export function keepalivedSourcesDir(): string | undefined {
  const candidates = [
    process.env.KEEPALIVED_SOURCES,
    join(REPO_ROOT, '..', 'shared', 'vendor', 'keepalived'),
    // A linked worktree (git worktree add) lives elsewhere; its main worktree sits next to ../shared.
    mainWorktreeRoot() && join(mainWorktreeRoot()!, '..', 'shared', 'vendor', 'keepalived'),
  ].filter((d): d is string => typeof d === 'string' && d !== '');
  return candidates.find((d) => SOURCE_RELEASES.every((r) => existsSync(join(d, r.tarball))));
}

function mainWorktreeRoot(): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? dirname(r.stdout.trim()) : undefined;
}

let cached: { binaries: KeepalivedBinary[]; missing?: string } | undefined;

/**
 * The binaries of every version that can run here, oldest first, building (once, cached) what is
 * missing. `missing` says why some are absent: it is printed as a loud warning, and under CI=true it
 * throws instead.
 */
export function keepalivedBinaries(): KeepalivedBinary[] {
  if (!cached) cached = findBinaries();
  if (cached.missing) {
    const why = `keepalived ${cached.missing}`;
    if (process.env.CI === 'true') throw new Error(`${why}; under CI=true every version must be tested`);
    console.warn(`SKIPPING keepalived versions: ${why}`);
  }
  return cached.binaries;
}

/** The binary of one version; throws when it is not available here. */
export function keepalivedBinary(version: string): KeepalivedBinary {
  const found = keepalivedBinaries().find((b) => b.version === version);
  if (!found) throw new Error(`keepalived ${version} is not available here`);
  return found;
}

function findBinaries(): { binaries: KeepalivedBinary[]; missing?: string } {
  const debian: KeepalivedBinary = { version: DEBIAN_KEEPALIVED_VERSION, binary: 'keepalived' };
  const sources = keepalivedSourcesDir();
  if (!sources) {
    expectVersion(debian);
    return {
      binaries: [debian],
      missing: `${SOURCE_RELEASES.map((r) => r.version).join(' and ')} sources are absent (looked for ../shared/vendor/keepalived/ `
        + 'next to the repository and its main worktree, and $KEEPALIVED_SOURCES)',
    };
  }
  const built = SOURCE_RELEASES.map((release) => ({ version: release.version, binary: buildFromSource(join(sources, release.tarball)) }));
  const binaries = [...built, debian].sort((a, b) => compareKeepalivedVersions(a.version, b.version));
  for (const b of binaries) expectVersion(b);
  return { binaries };
}

/** Throws unless the binary says it is the version the tests call it (another keepalived on PATH, say). */
function expectVersion(b: KeepalivedBinary): void {
  const r = spawnSync(b.binary, ['--version'], { encoding: 'utf8' });
  // None on PATH: the tests' prerequisites say so (and fail under CI=true).
  if (r.error) return;
  const said = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n')[0];
  if (!said.startsWith(`Keepalived v${b.version} `)) {
    throw new Error(`${b.binary} says "${said}", not keepalived ${b.version}: the tests would prove another version than they name`);
  }
}

/**
 * Builds a release tarball once. The cache is keyed by the tarball's sha256, and within it by the build
 * script's (a change of configure options rebuilds). Parallel callers wait on a lock.
 */
function buildFromSource(tarball: string): string {
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  const buildScript = join(__dirname, 'keepalived-build.sh');
  const scriptSha = createHash('sha256').update(readFileSync(buildScript)).digest('hex').slice(0, 12);
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'keepalived', sha, `build-${scriptSha}`);
  const binary = join(dir, 'keepalived');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  console.warn(`building keepalived from ${tarball} into ${dir} (once; about a minute)`);
  const script = `[ -x "$3/keepalived" ] || bash "$1" "$2" "$3"`;
  const r = spawnSync('flock', [join(dir, '.lock'), 'sh', '-c', script, 'build', buildScript, tarball, dir], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(binary)) {
    throw new Error(`building keepalived from ${tarball} failed (${r.status ?? r.signal ?? r.error?.message}):\n${r.stderr}${r.stdout}`);
  }
  return binary;
}

if (require.main === module) {
  for (const b of keepalivedBinaries()) {
    const r = spawnSync(b.binary, ['--version'], { encoding: 'utf8' });
    console.log(`${b.version}: ${b.binary}: ${`${r.stderr}${r.stdout}`.split('\n')[0]}`);
  }
}
