import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * Checks rendered configs with the real keepalived (`keepalived -t`). keepalived rejects interfaces the
 * host does not have, so it runs inside a network namespace of our own with the fixtures' interfaces
 * (veth pairs). Needs root: without it the checks skip loudly, and under CI=true they fail instead.
 */
export class KeepalivedConfigCheck {
  /** How many configs keepalived has checked. */
  public checked = 0;
  private readonly netns: string;
  private tmp?: string;
  private ready = false;

  /** @param interfaces veth pairs to create in the namespace, e.g. `[['eth0', 'eth1']]` */
  constructor(name: string, private readonly interfaces: readonly (readonly [string, string])[]) {
    this.netns = `${name}-${process.pid}`;
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
    run('ip', ['netns', 'add', this.netns]);
    this.ready = true;
    for (const [a, b] of this.interfaces) run('ip', ['-n', this.netns, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  }

  /** For afterAll. */
  public tearDown(): void {
    if (this.ready) spawnSync('ip', ['netns', 'del', this.netns]);
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Whether the checks run (root). */
  public get active(): boolean {
    return this.ready;
  }

  /** Expects keepalived to accept the config, with no warning; the assertion shows its complaints. */
  public expectAccepts(config: string): void {
    if (!this.ready) return;
    const n = ++this.checked;
    const file = join(this.tmp!, `keepalived-${n}.conf`);
    writeFileSync(file, config);
    const r = spawnSync('ip', ['netns', 'exec', this.netns, 'keepalived', '-t', '-f', file,
      '-p', join(this.tmp!, `${n}.pid`), '-r', join(this.tmp!, `${n}.vrrp.pid`), '-c', join(this.tmp!, `${n}.checkers.pid`)], { encoding: 'utf8' });
    expect({ exit: r.status, stderr: `${r.stderr}`.trim(), config }).toEqual({ exit: 0, stderr: '', config });
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}
