/**
 * A lab of nodes for end-to-end VRRP tests on one machine: each node is a network namespace whose
 * interfaces are veth pairs into bridges ("segments", i.e. L2 networks) that live in a namespace of
 * their own. Everything the lab makes carries a prefix unique to this process (`kct-<pid>-<n>`), so
 * parallel jest workers never collide, and `cleanup` removes it all: the processes started in the
 * nodes, the namespaces and the temporary directory. Should a test run end without it (a crash, a
 * killed worker), a watchdog started with the first lab does the same once this process is gone, and
 * `removeStaleLabs` clears what an earlier run left.
 *
 * Needs root, iproute2 (`ip`, with JSON output) and the bridge and veth link types. Addresses used
 * by the tests are TEST-NET ones, and only inside namespaces the lab made.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';

/** One interface of a lab node: a veth end in the node, its peer enslaved to the segment's bridge. */
export interface InterfacePlan {
  /** The name inside the node, e.g. `eth0` or `ens7`. */
  readonly name: string;
  /** The segment (bridge) it plugs into; made on first use. */
  readonly segment: string;
  /** Its addresses with prefix lengths, IPv4 and IPv6 (IPv6 ones are added with `nodad`). */
  readonly addresses: readonly string[];
}

/** A lab node's network. */
export interface NodePlan {
  readonly interfaces: readonly InterfacePlan[];
  /** Routes as `ip route add` arguments, e.g. `['default', 'via', '198.51.100.254']` or `['-6', 'default', ...]`. */
  readonly routes?: readonly (readonly string[])[];
}

/** A node of the lab. */
export interface LabNode {
  /** The node's (Kubernetes) name. */
  readonly name: string;
  /** Its network namespace. */
  readonly netns: string;
  readonly plan: NodePlan;
  /** The node's address: the first address of its first interface, without the prefix (`status.hostIP`). */
  readonly hostIp: string;
  /** Set once the node is "dead" (`kill(node, 'dead')`) until its links come back (`revive`). */
  dead: boolean;
}

/** A long-running process in a node (keepalived), with its log file. */
export interface LabProcess {
  readonly node: string;
  /** What it is, for messages. */
  readonly label: string;
  /** The process spawned: `ip netns exec` and setpriv exec in place, so this is the program itself. */
  readonly pid: number;
  readonly log: string;
  readonly child: ChildProcess;
  /** performance.now() just before it was spawned. */
  readonly startedAt: number;
  /** The exit code or signal, once it exited. */
  exit?: string;
  /** Resolves when it has exited. */
  readonly exited: Promise<void>;
}

/** Where a virtual IP sits: one entry per node and interface that holds it. */
export interface Placement {
  readonly node: string;
  readonly dev: string;
}

/** The outcome of `waitFor`: the value the probe returned and when (performance.now(), after the probe). */
export interface Observed<T> {
  readonly value: T;
  readonly at: number;
}

/** Thrown when a command in the lab fails. */
export class LabCommandError extends Error {}

const live = new Set<NetnsLab>();
// Random start: see the constructor.
let labCount = Math.floor(Math.random() * 1000) * 100;
let exitHookInstalled = false;

/** Process ids inside a network namespace (`ip netns pids`). */
function pidsIn(netns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return `${r.stdout ?? ''}`.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Synchronous sleep, for process-exit cleanup only. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Starts a detached shell that waits for this process to end, however it ends (jest's sandbox may not
 * deliver 'exit' to test code, and a SIGKILLed worker runs nothing), then kills whatever runs in this
 * process's lab namespaces (`kct-<pid>-*`), deletes them and their temporary directories.
 */
function startWatchdog(): void {
  const pid = process.pid;
  const script = [
    `while kill -0 ${pid} 2>/dev/null; do sleep 1; done`,
    `for ns in $(ip netns list | awk '{print $1}' | grep '^kct-${pid}-'); do`,
    '  for p in $(ip netns pids "$ns"); do kill -9 "$p"; done',
    'done',
    'sleep 0.1',
    `for ns in $(ip netns list | awk '{print $1}' | grep '^kct-${pid}-'); do ip netns del "$ns"; done`,
    `[ "$KCT_KEEP_LAB_DIR" = 1 ] || rm -rf ${tmpdir()}/kct-${pid}-*`,
  ].join('\n');
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

/** Whether a name made by these tests (`kct-<pid>-...`, anywhere in it) belongs to a process that is gone. */
export function ofGoneProcess(name: string): boolean {
  const m = /kct-(\d+)-/.exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Removes namespaces that an earlier run of these tests left behind (`kct-<pid>-...` whose process is
 * gone), killing the processes inside them first. Never touches another live run's namespaces.
 */
export function removeStaleLabs(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const stale = `${r.stdout ?? ''}`.split('\n').map((l) => l.split(' ')[0])
    .filter((name) => /^kct-\d+-/.test(name) && ofGoneProcess(name));
  for (const ns of stale) for (const pid of pidsIn(ns)) signal(pid, 'SIGKILL');
  if (stale.length > 0) sleepSync(100);
  for (const ns of stale) spawnSync('ip', ['netns', 'del', ns]);
  return stale;
}

/**
 * Network namespaces as nodes on shared bridges, with keepalived (or anything) running in them.
 * @example
 * const lab = new NetnsLab();
 * lab.addNode('node-a', { interfaces: [{ name: 'eth0', segment: 'lan', addresses: ['198.51.100.11/24'] }] });
 * lab.startKeepalived('node-a', ['keepalived', '--dont-fork', ...], 'keepalived');
 * await lab.waitFor(() => lab.holders('198.51.100.100').length === 1, 5000, 'a master');
 * lab.cleanup();
 */
export class NetnsLab {
  /** Prefix of every namespace of this lab: `kct-<pid>-<n>`. */
  public readonly prefix: string;
  /** A temporary directory for the lab's files (logs, pod volumes); removed by `cleanup`. */
  public readonly dir: string;
  private readonly bridgeNetns: string;
  private readonly segments = new Map<string, string>();
  private readonly nodeMap = new Map<string, LabNode>();
  private readonly processes: LabProcess[] = [];
  private cleaned = false;

  constructor() {
    // Jest gives each test file its own module registry, so a counter alone would repeat across the
    // files that one worker runs: skip numbers whose namespaces exist (a lab that failed to clean up).
    do this.prefix = `kct-${process.pid}-${++labCount}`;
    while (existsSync(`/run/netns/${this.prefix}-br`));
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    this.bridgeNetns = `${this.prefix}-br`;
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const lab of live) lab.cleanup();
      });
      startWatchdog();
    }
    this.ip(['netns', 'add', this.bridgeNetns]);
    this.ip(['-n', this.bridgeNetns, 'link', 'set', 'lo', 'up']);
    this.run('ip', ['netns', 'exec', this.bridgeNetns, 'sysctl', '-qw',
      'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }

  /** The nodes, in the order they were added. */
  public get nodes(): LabNode[] {
    return [...this.nodeMap.values()];
  }

  /** A node by name; throws for an unknown one. */
  public node(name: string): LabNode {
    const node = this.nodeMap.get(name);
    if (!node) throw new Error(`no lab node ${JSON.stringify(name)}; the lab has ${this.nodes.map((n) => n.name).join(', ')}`);
    return node;
  }

  /**
   * Adds a node: a namespace with DAD off (so IPv6 addresses are usable at once), lo up, and each
   * interface as a veth pair into its segment's bridge (made on first use, multicast snooping off).
   */
  public addNode(name: string, plan: NodePlan): LabNode {
    if (this.nodeMap.has(name)) throw new Error(`lab node ${name} exists`);
    const index = this.nodeMap.size + 1;
    const netns = `${this.prefix}-${name}`;
    this.ip(['netns', 'add', netns]);
    const node: LabNode = { name, netns, plan, hostIp: plan.interfaces[0].addresses[0].split('/')[0], dead: false };
    this.nodeMap.set(name, node);
    this.ip(['-n', netns, 'link', 'set', 'lo', 'up']);
    this.exec(name, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    for (const [k, iface] of plan.interfaces.entries()) {
      const bridge = this.segment(iface.segment);
      const peer = `n${index}p${k}`;
      this.ip(['-n', this.bridgeNetns, 'link', 'add', peer, 'type', 'veth', 'peer', 'name', iface.name, 'netns', netns]);
      this.ip(['-n', this.bridgeNetns, 'link', 'set', peer, 'master', bridge, 'up']);
      this.exec(name, ['sysctl', '-qw', `net.ipv6.conf.${iface.name}.accept_dad=0`]);
      for (const address of iface.addresses) {
        this.ip(['-n', netns, 'addr', 'add', address, 'dev', iface.name, ...(address.includes(':') ? ['nodad'] : [])]);
      }
      this.ip(['-n', netns, 'link', 'set', iface.name, 'up']);
    }
    for (const route of plan.routes ?? []) {
      const family = route[0] === '-6' ? ['-6'] : [];
      this.ip(['-n', netns, ...family, 'route', 'add', ...route.slice(family.length)]);
    }
    return node;
  }

  /** Sets bridge port flags on every port of a segment (`bridge link set dev PORT ...`), e.g. `['mcast_flood', 'off']`. */
  public setSegmentPorts(segment: string, bridgeLinkArgs: readonly string[]): void {
    const bridge = this.segment(segment);
    const r = this.run('ip', ['-n', this.bridgeNetns, '-j', 'link', 'show', 'master', bridge]);
    for (const port of JSON.parse(r) as { ifname: string }[]) {
      this.run('ip', ['netns', 'exec', this.bridgeNetns, 'bridge', 'link', 'set', 'dev', port.ifname, ...bridgeLinkArgs]);
    }
  }

  /** Runs a command in a node's namespace and returns its stdout; throws (with stderr) on a non-zero exit. */
  public exec(node: string, argv: readonly string[]): string {
    return this.run('ip', ['netns', 'exec', this.node(node).netns, ...argv]);
  }

  /** Runs a command in a node's namespace and returns exit code, stdout and stderr, whatever the outcome. */
  public tryExec(node: string, argv: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.node(node).netns, ...argv], { encoding: 'utf8' });
    return { status: r.status, stdout: `${r.stdout ?? ''}`, stderr: `${r.stderr ?? r.error?.message ?? ''}` };
  }

  /**
   * Starts keepalived (or any long-running command) in a node's namespace, with stdout and stderr
   * going to `<lab dir>/<node>-<label>.log`. The command is exec'd in place (`ip netns exec` and
   * `setpriv` do not fork), so the returned pid is keepalived's main process.
   */
  public startKeepalived(node: string, argv: readonly string[], label = 'keepalived'): LabProcess {
    const n = this.node(node);
    const log = join(this.dir, `${node}-${label}.log`);
    const fd = openSync(log, 'a');
    let child: ChildProcess;
    const startedAt = performance.now();
    try {
      child = spawn('ip', ['netns', 'exec', n.netns, ...argv], { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`cannot start ${argv.join(' ')} in ${node}`);
    let resolveExit!: () => void;
    const exited = new Promise<void>((resolve) => { resolveExit = resolve; });
    const proc: LabProcess = { node, label, pid: child.pid, log, child, startedAt, exited };
    child.on('exit', (code, sig) => {
      proc.exit = sig ?? `exit ${code}`;
      resolveExit();
    });
    child.on('error', (e) => {
      proc.exit = `error ${e.message}`;
      resolveExit();
    });
    this.processes.push(proc);
    return proc;
  }

  /** The node's running keepalived (the last one started and not exited); throws when there is none. */
  public running(node: string): LabProcess {
    const proc = [...this.processes].reverse().find((p) => p.node === node && p.exit === undefined);
    if (!proc) throw new Error(`no running process in ${node}`);
    return proc;
  }

  /** Every process below `pid` (children, grandchildren, ...), parents before their children. */
  public descendantsOf(pid: number): number[] {
    const children = this.childrenOf(pid);
    return children.flatMap((c) => [c, ...this.descendantsOf(c)]);
  }

  /** The direct children of a process (keepalived's VRRP child), from /proc. */
  public childrenOf(pid: number): number[] {
    const children: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) children.push(Number(entry));
      } catch {
        // Exited while we looked.
      }
    }
    return children;
  }

  /**
   * Ends a node's keepalived, and returns performance.now() taken just before the first signal.
   * - `graceful`: SIGTERM to the main process, as the kubelet does on pod deletion or a rolling
   *   update; keepalived sends a priority-0 advert and releases its addresses.
   * - `dead`: the node dies. The processes are frozen (SIGSTOP), then all of them (the container's
   *   supervisor shell, keepalived and its VRRP child) are SIGKILLed (killing only the parent would
   *   let the child exit gracefully with a priority-0 advert), and every link of the node goes down. The addresses stay on the
   *   dead node's (down) interfaces, as on a real dead machine; `holders` skips dead nodes.
   */
  public kill(node: string, how: 'graceful' | 'dead'): number {
    const proc = this.running(node);
    if (how === 'graceful') {
      const t0 = performance.now();
      signal(proc.pid, 'SIGTERM');
      return t0;
    }
    // The whole tree: the container's supervisor shell (keepalived-supervisor.ts), keepalived and its
    // VRRP child. Stopped first, so that no VRRP child outlives its parent and leaves gracefully.
    const tree = this.descendantsOf(proc.pid);
    const t0 = performance.now();
    signal(proc.pid, 'SIGSTOP');
    for (const c of tree) signal(c, 'SIGSTOP');
    for (const c of tree) signal(c, 'SIGKILL');
    signal(proc.pid, 'SIGKILL');
    const n = this.node(node);
    n.dead = true;
    for (const iface of n.plan.interfaces) this.ip(['-n', n.netns, 'link', 'set', 'dev', iface.name, 'down']);
    return t0;
  }

  /** Brings a dead node's links back (with their addresses and routes); its processes stay dead. */
  public revive(node: string): void {
    const n = this.node(node);
    for (const iface of n.plan.interfaces) {
      this.ip(['-n', n.netns, 'link', 'set', 'dev', iface.name, 'up']);
      // IPv6 addresses leave with the link; IPv4 ones stay.
      for (const address of iface.addresses.filter((a) => a.includes(':'))) {
        this.ip(['-n', n.netns, 'addr', 'replace', address, 'dev', iface.name, 'nodad']);
      }
    }
    for (const route of n.plan.routes ?? []) {
      const family = route[0] === '-6' ? ['-6'] : [];
      this.ip(['-n', n.netns, ...family, 'route', 'replace', ...route.slice(family.length)]);
    }
    n.dead = false;
  }

  /** The addresses of a node's interfaces (`ip -j addr show`), by interface. */
  public addresses(node: string): Map<string, string[]> {
    const out = this.run('ip', ['-n', this.node(node).netns, '-j', 'addr', 'show']);
    const result = new Map<string, string[]>();
    for (const link of JSON.parse(out) as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[]) {
      result.set(link.ifname, (link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
    }
    return result;
  }

  /** Where a virtual IP (with or without its prefix length) sits on the live nodes. */
  public placement(vip: string): Placement[] {
    const address = vip.split('/')[0];
    const found: Placement[] = [];
    for (const node of this.nodes) {
      if (node.dead) continue;
      for (const [dev, addresses] of this.addresses(node.name)) {
        if (addresses.some((a) => a.split('/')[0] === address)) found.push({ node: node.name, dev });
      }
    }
    return found;
  }

  /** The live nodes that hold a virtual IP, sorted; exactly one when VRRP works. */
  public holders(vip: string): string[] {
    return [...new Set(this.placement(vip).map((p) => p.node))].sort();
  }

  /**
   * Polls `probe` every `intervalMs` until it returns something other than `undefined` or `false`,
   * and returns that value with the time it was seen. On timeout, throws with `what`, the last value
   * and the lab's state and logs.
   */
  public async waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string, intervalMs = 20): Promise<Observed<Exclude<T, false | undefined>>> {
    const start = performance.now();
    for (;;) {
      const value = probe();
      const at = performance.now();
      if (value !== undefined && value !== false) return { value: value as Exclude<T, false | undefined>, at };
      if (at - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.report()}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /**
   * Checks `probe` every `intervalMs` for `durationMs`; throws at the first false, with the lab's
   * state and logs. For "stays where it is" and "never two masters".
   */
  public async holdsFor(probe: () => boolean, durationMs: number, what: string, intervalMs = 20): Promise<void> {
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      if (!probe()) throw new Error(`${what} stopped holding after ${Math.round(performance.now() - start)} ms\n${this.report()}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** The lab's state for failure messages: each node's addresses and the tail of every log. */
  public report(tailLines = 40): string {
    const lines: string[] = ['--- lab state ---'];
    for (const node of this.nodes) {
      let addresses: string;
      try {
        addresses = [...this.addresses(node.name)].filter(([dev]) => dev !== 'lo').map(([dev, a]) => `${dev}: ${a.join(' ')}`).join('; ');
      } catch (e) {
        addresses = `(${(e as Error).message})`;
      }
      lines.push(`${node.name}${node.dead ? ' (dead)' : ''}: ${addresses}`);
    }
    for (const proc of this.processes) {
      const text = existsSync(proc.log) ? readFileSync(proc.log, 'utf8').trimEnd().split('\n').slice(-tailLines).join('\n') : '(no log)';
      lines.push(`--- ${proc.node} ${proc.label} pid ${proc.pid} (${proc.exit ?? 'running'}), ${proc.log} ---`, text);
    }
    return lines.join('\n');
  }

  /** Kills every process in the lab's namespaces, deletes the namespaces and the lab's directory. Idempotent. */
  public cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    const namespaces = [...this.nodes.map((n) => n.netns), this.bridgeNetns];
    let killed = false;
    for (const ns of namespaces) {
      for (const pid of pidsIn(ns)) {
        signal(pid, 'SIGKILL');
        killed = true;
      }
    }
    for (const proc of this.processes) if (proc.exit === undefined) signal(proc.pid, 'SIGKILL');
    if (killed) sleepSync(50);
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    if (process.env.KCT_KEEP_LAB_DIR !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  private segment(name: string): string {
    let bridge = this.segments.get(name);
    if (!bridge) {
      bridge = `br-${name}`.slice(0, 15);
      this.ip(['-n', this.bridgeNetns, 'link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0']);
      this.ip(['-n', this.bridgeNetns, 'link', 'set', bridge, 'up']);
      this.segments.set(name, bridge);
    }
    return bridge;
  }

  private ip(args: readonly string[]): string {
    return this.run('ip', args);
  }

  private run(cmd: string, args: readonly string[]): string {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new LabCommandError(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}): ${`${r.stderr ?? ''}`.trim()}`);
    }
    return `${r.stdout}`;
  }
}

/**
 * Runs a test body with a fresh lab, cleaned up whatever happens (after `onFinally`); a failure
 * carries the lab's state and keepalived's logs.
 */
export async function withLab(body: (lab: NetnsLab) => Promise<void>, onFinally?: () => Promise<void>): Promise<void> {
  const lab = new NetnsLab();
  try {
    await body(lab);
  } catch (e) {
    const err = e as Error;
    if (err.message?.includes('--- lab state ---')) throw err;
    const wrapped = new Error(`${err.message}\n${lab.report()}`);
    wrapped.stack = `${wrapped.message}\n${err.stack?.split('\n').slice(1).join('\n') ?? ''}`;
    throw wrapped;
  } finally {
    try {
      await onFinally?.();
    } finally {
      lab.cleanup();
    }
  }
}
