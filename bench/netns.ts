/**
 * A throwaway VRRP lab in network namespaces: a bridge namespace and three node namespaces, each node
 * with `eth0` (a veth to the bridge) on 198.51.100.0/24. keepalived runs in the nodes exactly as the
 * standalone DaemonSet runs it. `ip -ts monitor` watches addresses (nodes) and neighbours (bridge).
 * Only TEST-NET addresses, only namespaces this process made, and everything is removed on exit.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'fs';
import * as path from 'path';
import { onCleanup } from './cleanup';
import { nowMs, sleep } from './stats';

export const NETWORK = '198.51.100.0/24';
export const VIP = '198.51.100.100';
export const VIP_CIDR = `${VIP}/24`;
export const VRID = 51;
export const NODE_NAMES = ['n1', 'n2', 'n3'] as const;

export function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ipQuiet(args: string[]): void {
  try {
    ip(args);
  } catch {
    // already gone / already so
  }
}

export function ipAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** Parses `[2026-11-26T08:44:48.382349]` (local time, as `ip -ts` prints it) to ms since the epoch. */
export function parseIpTimestamp(text: string): number {
  const [whole, frac = '0'] = text.split('.');
  return new Date(whole).getTime() + Number(`0.${frac}`) * 1000;
}

export interface AddrEvent {
  readonly at: number;
  readonly node: string;
  readonly deleted: boolean;
  readonly address: string;
}

export interface NeighEvent {
  readonly at: number;
  readonly address: string;
  readonly lladdr?: string;
  readonly deleted: boolean;
  readonly line: string;
}

export class LabNode {
  public readonly dir: string;
  public mac = '';
  public main?: ChildProcess;
  public mainPid?: number;
  public vrrpPid?: number;
  /** A cgroup v1 directory (e.g. with a CPU quota) that keepalived starts in, like a container's; none when unset. */
  public cgroup?: string;
  private logFd?: number;

  constructor(public readonly name: string, public readonly ns: string, public readonly port: string, public readonly address: string, lab: string) {
    this.dir = path.join(lab, name);
  }

  get pidFile() { return path.join(this.dir, 'keepalived.pid'); }
  get vrrpPidFile() { return path.join(this.dir, 'vrrp.pid'); }
  get logFile() { return path.join(this.dir, 'keepalived.log'); }

  /** Starts keepalived with the DaemonSet's flags (pid files in the node's own directory). */
  start(conf: string): void {
    for (const f of ['keepalived.pid', 'vrrp.pid', 'checkers.pid']) rmSync(path.join(this.dir, f), { force: true });
    this.logFd = openSync(this.logFile, 'a');
    // In a cgroup: a shell joins it and execs `ip netns exec`, so both keepalived processes start inside.
    const prefix = this.cgroup === undefined ? [] : ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', this.cgroup];
    const [cmd, ...rest] = [...prefix, 'ip', 'netns', 'exec', this.ns];
    const child = spawn(cmd, [...rest,
      'keepalived', '--dont-fork', '--log-console', '--no-syslog', '--log-detail', '--vrrp',
      '--use-file', conf,
      '--pid', this.pidFile, '--vrrp_pid', this.vrrpPidFile, '--checkers_pid', path.join(this.dir, 'checkers.pid'),
    ], { stdio: ['ignore', this.logFd, this.logFd] });
    this.main = child;
    // `sh` and `ip netns exec` exec keepalived: the child's pid is keepalived's main process.
    this.mainPid = child.pid;
    this.vrrpPid = undefined;
  }

  /** Waits until the VRRP child has written its pid file; returns its pid. */
  async waitVrrpChild(timeoutMs = 3000): Promise<number> {
    const end = nowMs() + timeoutMs;
    while (nowMs() < end) {
      if (existsSync(this.vrrpPidFile)) {
        const pid = Number(readFileSync(this.vrrpPidFile, 'utf8').trim());
        if (pid > 0) {
          this.vrrpPid = pid;
          return pid;
        }
      }
      await sleep(5);
    }
    throw new Error(`${this.name}: keepalived did not start its VRRP child (log: ${this.logFile})`);
  }

  /** SIGKILLs keepalived (VRRP child first, so that it cannot send a priority-0 advert) and waits. */
  async kill(): Promise<void> {
    const pids = [this.vrrpPid, this.mainPid].filter((p): p is number => p !== undefined);
    for (const p of pids) signal(p, 'SIGSTOP');
    for (const p of pids) signal(p, 'SIGKILL');
    const main = this.main;
    if (main && main.exitCode === null && main.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        main.once('exit', () => { clearTimeout(t); resolve(); });
      });
    }
    const end = nowMs() + 2000;
    while (this.vrrpPid !== undefined && alive(this.vrrpPid) && nowMs() < end) await sleep(5);
    this.main = undefined;
    this.mainPid = undefined;
    this.vrrpPid = undefined;
    if (this.logFd !== undefined) {
      closeSync(this.logFd);
      this.logFd = undefined;
    }
  }

  logSize(): number {
    return existsSync(this.logFile) ? statSync(this.logFile).size : 0;
  }

  logSince(offset: number): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(offset) : '';
  }

  /** Whether this node holds the VIP now (`ip -n NODE -j addr show dev eth0`). */
  async holdsVip(): Promise<boolean> {
    const out = await ipAsync(['-n', this.ns, '-j', 'addr', 'show', 'dev', 'eth0']);
    const links = JSON.parse(out) as { addr_info?: { local?: string }[] }[];
    return links.some((l) => (l.addr_info ?? []).some((a) => a.local === VIP));
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Whether a process still runs: a zombie (killed, orphaned, not yet reaped by init) does not. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export class Lab {
  public readonly bridgeNs: string;
  public readonly nodes: LabNode[];
  public readonly addrEvents: AddrEvent[] = [];
  public readonly neighEvents: NeighEvent[] = [];
  private readonly monitors: ChildProcess[] = [];
  private readonly removeCleanup: () => void;

  constructor(public readonly prefix: string, public readonly dir: string) {
    this.bridgeNs = `${prefix}-br`;
    this.nodes = NODE_NAMES.map((n, i) => new LabNode(n, `${prefix}-${n}`, `p${i + 1}`, `198.51.100.${11 + i}`, dir));
    this.removeCleanup = onCleanup(() => this.destroySync());
  }

  create(): void {
    this.destroySync();
    mkdirSync(this.dir, { recursive: true });
    for (const n of this.nodes) mkdirSync(n.dir, { recursive: true });
    const br = this.bridgeNs;
    ip(['netns', 'add', br]);
    const sysctl = (ns: string, ...kv: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...kv]);
    sysctl(br, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    ip(['-n', br, 'link', 'set', 'lo', 'up']);
    ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    ip(['-n', br, 'link', 'set', 'br0', 'up']);
    // The bridge namespace has no address: with arp_accept, a gratuitous ARP creates (or moves) its
    // neighbour entry, which `ip monitor neigh` reports; no packet capture needed.
    sysctl(br, 'net.ipv4.conf.br0.arp_accept=1');
    for (const n of this.nodes) {
      ip(['netns', 'add', n.ns]);
      sysctl(n.ns, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
      ip(['-n', n.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', br, 'link', 'add', 'name', n.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns]);
      ip(['-n', br, 'link', 'set', n.port, 'master', 'br0', 'up']);
      ip(['-n', n.ns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
      ip(['-n', n.ns, 'link', 'set', 'eth0', 'up']);
      n.mac = (JSON.parse(ip(['-n', n.ns, '-j', 'link', 'show', 'dev', 'eth0'])) as { address: string }[])[0].address;
    }
    this.startMonitors();
  }

  private startMonitors(): void {
    for (const n of this.nodes) {
      this.monitor(['-ts', '-n', n.ns, 'monitor', 'address'], (line) => {
        const m = /^\[(\S+)\] (Deleted )?\d+: \S+\s+inet6? (\S+)/.exec(line);
        if (m) this.addrEvents.push({ at: parseIpTimestamp(m[1]), node: n.name, deleted: m[2] !== undefined, address: m[3].split('/')[0] });
      });
    }
    this.monitor(['-ts', '-n', this.bridgeNs, 'monitor', 'neigh'], (line) => {
      const m = /^\[(\S+)\] (Deleted |Miss )?(\S+) dev \S+(?: lladdr (\S+))?/.exec(line);
      if (m) this.neighEvents.push({ at: parseIpTimestamp(m[1]), deleted: m[2] !== undefined, address: m[3], lladdr: m[4], line });
    });
  }

  private monitor(args: string[], onLine: (line: string) => void): void {
    // Real-time priority: `ip` stamps each event when it reads it, so it must not wait for a CPU
    // behind busy processes. It sleeps between events, so it takes no CPU from anyone else.
    const child = spawn('chrt', ['-f', '10', 'ip', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    this.monitors.push(child);
  }

  /** Waits for the first VIP add event on `node` at or after `since`. */
  async waitVipAdded(node: string, since: number, timeoutMs: number): Promise<AddrEvent | undefined> {
    const end = nowMs() + timeoutMs;
    for (;;) {
      const e = this.addrEvents.find((ev) => ev.node === node && !ev.deleted && ev.address === VIP && ev.at >= since);
      if (e || nowMs() > end) return e;
      await sleep(2);
    }
  }

  /** Every node back to a clean state: keepalived stopped, no VIP, links up. */
  async reset(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    for (const n of this.nodes) {
      ipQuiet(['-n', this.bridgeNs, 'link', 'set', n.port, 'up']);
      ipQuiet(['-n', n.ns, 'link', 'set', 'eth0', 'up']);
      ipQuiet(['-n', n.ns, 'addr', 'del', VIP_CIDR, 'dev', 'eth0']);
    }
  }

  destroySync(): void {
    for (const m of this.monitors.splice(0)) if (m.pid !== undefined) signal(m.pid, 'SIGKILL');
    for (const n of this.nodes) {
      for (const p of [n.vrrpPid, n.mainPid]) if (p !== undefined) signal(p, 'SIGKILL');
    }
    for (const ns of [...this.nodes.map((n) => n.ns), this.bridgeNs]) {
      let pids: string[] = [];
      try {
        pids = ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
      } catch {
        continue; // no such namespace
      }
      // Only processes inside a namespace this lab made: keepalived and what it spawned.
      for (const p of pids) signal(Number(p), 'SIGKILL');
      ipQuiet(['netns', 'del', ns]);
    }
  }

  destroy(): void {
    this.removeCleanup();
  }
}
