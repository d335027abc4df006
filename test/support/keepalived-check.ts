import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { KeepalivedBinary, keepalivedBinaries } from './keepalived-versions';

/**
 * Checks rendered configs with the real keepalived (`keepalived -t`), on every version the package is
 * proven on (2.0.20, 2.2.7 and 2.3.4: see keepalived-versions.ts). keepalived rejects interfaces the
 * host does not have, so it runs inside a network namespace of our own with the fixtures' interfaces
 * (veth pairs). Needs root: without it the checks skip loudly, and under CI=true they fail instead.
 */
export class KeepalivedConfigCheck {
  /** How many configs keepalived has checked (each on every version). */
  public checked = 0;
  /** The keepalived versions each config is checked on. */
  public versions: KeepalivedBinary[] = [];
  private readonly netns: string;
  private tmp?: string;
  private ready = false;
  private readonly present = new Set<string>(['lo']);

  /** @param interfaces veth pairs to create in the namespace, e.g. `[['eth0', 'eth1']]` */
  constructor(name: string, private readonly interfaces: readonly (readonly [string, string])[]) {
    // Named as the labs' namespaces are (`kct-<pid>-`): one left behind by a killed worker is removed
    // by the next run's removeStaleLabs.
    this.netns = `kct-${process.pid}-${name}`;
  }

  /** For beforeAll. */
  public setUp(): void {
    this.tmp = mkdtempSync(join(tmpdir(), `${this.netns}-`));
    if (process.getuid?.() !== 0) {
      const why = 'keepalived -t checks need root (ip netns)';
      if (process.env.CI === 'true') throw new Error(`${why}, and CI must not skip them`);
      console.warn(`SKIPPING keepalived -t checks: ${why}`);
      return;
    }
    this.versions = keepalivedBinaries();
    run('ip', ['netns', 'add', this.netns]);
    this.ready = true;
    for (const [a, b] of this.interfaces) {
      run('ip', ['-n', this.netns, 'link', 'add', 'name', a, 'type', 'veth', 'peer', 'name', b]);
      this.present.add(a).add(b);
    }
  }

  /** For afterAll. */
  public tearDown(): void {
    if (this.ready) spawnSync('ip', ['netns', 'del', this.netns]);
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  /**
   * Adds interfaces the namespace does not have yet (veth pairs with `kcpN` peers), for configs whose
   * interfaces are known only once rendered.
   */
  public ensureInterfaces(names: Iterable<string>): void {
    if (!this.ready) return;
    for (const name of names) {
      if (this.present.has(name)) continue;
      run('ip', ['-n', this.netns, 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', `kcp${this.present.size}`]);
      this.present.add(name);
    }
  }

  /** Whether the checks run (root). */
  public get active(): boolean {
    return this.ready;
  }

  /**
   * Expects every keepalived version to accept the config, with no warning; the assertion shows each
   * version's complaints. `-l` (log to the console): 2.0.20 logs config errors only to syslog without it.
   */
  public expectAccepts(config: string): void {
    if (!this.ready) return;
    const n = ++this.checked;
    const file = join(this.tmp!, `keepalived-${n}.conf`);
    writeFileSync(file, config);
    const outcomes = this.versions.map(({ version, binary }) => {
      const r = spawnSync('ip', ['netns', 'exec', this.netns, binary, '-t', '-l', '-f', file,
        '-p', join(this.tmp!, `${n}.pid`), '-r', join(this.tmp!, `${n}.vrrp.pid`), '-c', join(this.tmp!, `${n}.checkers.pid`)], { encoding: 'utf8' });
      return { version, exit: r.status, output: `${r.stderr ?? ''}${r.stdout ?? ''}${r.error?.message ?? ''}`.trim() };
    });
    expect({ outcomes, config }).toEqual({ outcomes: this.versions.map(({ version }) => ({ version, exit: 0, output: '' })), config });
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}
