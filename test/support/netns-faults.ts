/**
 * Helpers for fault scenarios on a `NetnsLab` (test/netns-faults.test.ts): a background sampler of
 * who holds each virtual IP, the analysis of its samples into intervals with no holder or with two
 * or more, and the faults themselves (a crashed keepalived, a dead node, a link down, a partition,
 * a simultaneous start), on pods of several DaemonSets per node.
 *
 * Times here are on one clock shared by every process of the machine: CLOCK_MONOTONIC in ms
 * (`monoNow`). The harness's times (performance.now()) convert with `fromPerf`.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { LabProcess, NetnsLab } from './netns';
import { DaemonSetPod, setprivFor } from './netns-pod';

/** Now, in ms of CLOCK_MONOTONIC: comparable across the processes of this machine. */
export function monoNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A performance.now() value (as the harness returns) on the `monoNow` clock. */
export function fromPerf(perfMs: number): number {
  return perfMs + (monoNow() - performance.now());
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One sample: per VIP (in the sampler's order), the nodes that hold it on an interface that is up. */
export interface Sample {
  /** When (monoNow), the middle of the sample's reads. */
  readonly t: number;
  /** How long the reads took (ms): the sample's own uncertainty. */
  readonly d: number;
  readonly holders: readonly (readonly string[])[];
  /** Nodes whose namespace could not be read. */
  readonly errors: readonly string[];
}

/*
 * The sampler runs as a separate process so that the test's own synchronous work (spawnSync of `ip`,
 * of the render) never delays a sample. Every `intervalMs` it reads `ip -j addr show` in every node
 * at once, and counts a VIP as held by a node when it sits on an interface that is administratively
 * up and has its carrier (a node whose links are down serves nothing, whatever addresses stay on it).
 * It exits when its stdin closes, so it never outlives the test process.
 */
const SAMPLER_SOURCE = `
const { execFile } = require('child_process');
const cfg = JSON.parse(process.argv[2]);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let stopping = false;
process.stdin.on('data', () => {});
process.stdin.on('close', () => process.exit(0));
process.on('SIGTERM', () => { stopping = true; });
const read = (netns) => new Promise((resolve) => execFile('ip', ['-n', netns, '-j', 'addr', 'show'], { timeout: 5000 },
  (err, out) => resolve(err ? null : out)));
(async () => {
  while (!stopping) {
    const t0 = now();
    const outs = await Promise.all(cfg.nodes.map((n) => read(n.netns)));
    const t1 = now();
    const held = cfg.vips.map(() => []);
    const errors = [];
    outs.forEach((out, i) => {
      let links;
      try { links = JSON.parse(out); } catch { links = null; }
      if (!Array.isArray(links)) { errors.push(cfg.nodes[i].name); return; }
      for (const link of links) {
        const flags = link.flags || [];
        if (!flags.includes('UP') || !flags.includes('LOWER_UP')) continue;
        for (const a of link.addr_info || []) {
          const k = cfg.vips.indexOf(a.local);
          if (k >= 0 && !held[k].includes(cfg.nodes[i].name)) held[k].push(cfg.nodes[i].name);
        }
      }
    });
    held.forEach((h) => h.sort());
    process.stdout.write(JSON.stringify({ t: (t0 + t1) / 2, d: t1 - t0, holders: held, errors }) + '\\n');
    const wait = cfg.intervalMs - (now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  process.exit(0);
})();
`;

/** Samples who holds each VIP every ~`intervalMs` in the background, in a process of its own. */
export class HolderSampler {
  public readonly samples: Sample[] = [];
  /** The VIPs without prefix length, in sample order. */
  public readonly vips: readonly string[];
  private child?: ChildProcess;
  private buffer = '';
  private exited?: Promise<void>;

  constructor(private readonly lab: NetnsLab, vips: readonly string[], public readonly intervalMs = 20) {
    this.vips = vips.map((v) => v.split('/')[0]);
  }

  /** Starts sampling; resolves with the first sample. */
  public async start(): Promise<void> {
    const script = join(this.lab.dir, 'holder-sampler.js');
    writeFileSync(script, SAMPLER_SOURCE);
    const cfg = { nodes: this.lab.nodes.map((n) => ({ name: n.name, netns: n.netns })), vips: this.vips, intervalMs: this.intervalMs };
    const child = spawn(process.execPath, [script, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) this.samples.push(JSON.parse(line) as Sample);
      }
    });
    await this.sync();
  }

  /** Waits until a sample taken after this call has arrived, and returns it. */
  public async sync(timeoutMs = 5000): Promise<Sample> {
    const since = monoNow();
    const deadline = since + timeoutMs;
    for (;;) {
      const last = this.samples[this.samples.length - 1];
      if (last && last.t - last.d / 2 >= since) return last;
      if (monoNow() > deadline) throw new Error(`the holder sampler produced no sample for ${timeoutMs} ms (${this.samples.length} so far)`);
      await sleep(5);
    }
  }

  /** The latest sample. */
  public get last(): Sample {
    const s = this.samples[this.samples.length - 1];
    if (!s) throw new Error('no sample yet');
    return s;
  }

  /** Holders of a VIP (with or without prefix) in a sample. */
  public holdersIn(sample: Sample, vip: string): readonly string[] {
    return sample.holders[this.index(vip)];
  }

  public index(vip: string): number {
    const k = this.vips.indexOf(vip.split('/')[0]);
    if (k < 0) throw new Error(`the sampler does not watch ${vip}`);
    return k;
  }

  /** Polls fresh samples until `probe` holds for one; returns that sample. Throws with `what` on timeout. */
  public async waitFor(probe: (s: Sample) => boolean, timeoutMs: number, what: () => string): Promise<Sample> {
    const start = monoNow();
    let seen = this.samples.length;
    for (;;) {
      for (; seen < this.samples.length; seen++) {
        if (this.samples[seen].t >= start - this.intervalMs && probe(this.samples[seen])) return this.samples[seen];
      }
      if (monoNow() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}\n${this.lab.report()}`);
      await sleep(5);
    }
  }

  /** Fails when `probe` is false for any sample within the next `ms`. */
  public async holdsFor(probe: (s: Sample) => boolean, ms: number, what: () => string): Promise<void> {
    const start = monoNow();
    let seen = this.samples.length;
    while (monoNow() - start < ms) {
      await sleep(10);
      for (; seen < this.samples.length; seen++) {
        if (!probe(this.samples[seen])) throw new Error(`${what()} stopped holding ${Math.round(this.samples[seen].t - start)} ms in\n${this.lab.report()}`);
      }
    }
  }

  /** Stops sampling (idempotent). */
  public async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid!, 'SIGTERM');
    } catch {
      // Gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        // Gone.
      }
    }, 2000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Samples taken within [from, to]. */
  public between(from: number, to = Infinity): Sample[] {
    return this.samples.filter((s) => s.t >= from && s.t <= to);
  }

  /** Sampling period statistics over [from, to]: count, median and largest gap between samples. */
  public cadence(from = -Infinity, to = Infinity): { count: number; medianGap: number; maxGap: number } {
    const s = this.between(from, to);
    const gaps = s.slice(1).map((x, i) => x.t - s[i].t).sort((a, b) => a - b);
    return { count: s.length, medianGap: gaps[Math.floor(gaps.length / 2)] ?? 0, maxGap: gaps[gaps.length - 1] ?? 0 };
  }
}

/** A stretch of samples in which a VIP had no holder, or two or more. */
export interface Interval {
  readonly vip: string;
  readonly kind: 'unheld' | 'multi';
  /** The first sample in the state. */
  readonly start: number;
  /** The first sample out of it (or the last sample, when `open`). */
  readonly end: number;
  readonly ms: number;
  /** Still in the state at the window's end. */
  readonly open: boolean;
  /** For `multi`: every node seen holding it during the interval. */
  readonly holders: readonly string[];
}

/**
 * The intervals with 0 and with >= 2 holders of one VIP among `samples`, measured from the first
 * sample in the state to the first sample out of it (resolution: one sampling period). `filter`
 * narrows each sample's holders, e.g. to nodes whose keepalived runs.
 */
export function intervalsOf(
  samples: readonly Sample[], sampler: HolderSampler, vip: string,
  filter: (node: string, t: number) => boolean = () => true,
): Interval[] {
  const k = sampler.index(vip);
  const out: Interval[] = [];
  let current: { kind: 'unheld' | 'multi'; start: number; holders: Set<string> } | undefined;
  for (const s of samples) {
    const holders = s.holders[k].filter((n) => filter(n, s.t));
    const kind = holders.length === 0 ? 'unheld' : holders.length >= 2 ? 'multi' : undefined;
    if (current && current.kind !== kind) {
      out.push({ vip, kind: current.kind, start: current.start, end: s.t, ms: s.t - current.start, open: false, holders: [...current.holders].sort() });
      current = undefined;
    }
    if (kind && !current) current = { kind, start: s.t, holders: new Set() };
    if (current) for (const h of holders) current.holders.add(h);
  }
  if (current) {
    const end = samples[samples.length - 1].t;
    out.push({ vip, kind: current.kind, start: current.start, end, ms: end - current.start, open: true, holders: [...current.holders].sort() });
  }
  return out;
}

/** Count, total and longest of some intervals, in whole ms. */
export function totals(intervals: readonly Interval[]): { count: number; totalMs: number; maxMs: number } {
  return {
    count: intervals.length,
    totalMs: Math.round(intervals.reduce((a, i) => a + i.ms, 0)),
    maxMs: Math.round(intervals.reduce((a, i) => Math.max(a, i.ms), 0)),
  };
}

/** How often the sole holder of a VIP changed among `samples` (failovers and returns). */
export function holderChanges(samples: readonly Sample[], sampler: HolderSampler, vip: string, filter: (node: string, t: number) => boolean = () => true): number {
  const k = sampler.index(vip);
  let last: string | undefined;
  let changes = 0;
  for (const s of samples) {
    const h = s.holders[k].filter((n) => filter(n, s.t));
    if (h.length !== 1) continue;
    if (last !== undefined && h[0] !== last) changes++;
    last = h[0];
  }
  return changes;
}

/** Each pod's shared PID namespace, held by a pause process, as with `shareProcessNamespace: true`. */
const pausePids = new WeakMap<DaemonSetPod, number>();

function podPidNamespace(lab: NetnsLab, pod: DaemonSetPod, label: string): number {
  let pid = pausePids.get(pod);
  if (pid === undefined || comm(pid) === '') {
    // Like the pod's pause container, PID 1 reaps every orphan: a zombie left of a killed keepalived
    // would otherwise still answer kill(pid, 0), and look like a running keepalived to the next one.
    const reaper = '$SIG{CHLD} = sub { 1 while waitpid(-1, 1) > 0 }; sleep 1 while 1';
    const pause = lab.startKeepalived(pod.node, ['unshare', '--pid', '--fork', '--kill-child', 'perl', '-e', reaper], `${label}-pause`);
    const deadline = Date.now() + 2000;
    while ((pid = lab.childrenOf(pause.pid)[0]) === undefined && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    if (pid === undefined) throw new Error(`no pause process for ${pod.dir}`);
    pausePids.set(pod, pid);
  }
  return pid;
}

/**
 * Starts a pod's keepalived container as a container runtime does, under its securityContext, with the
 * pod's volumes. With the pod spec's `shareProcessNamespace`, it joins the pod's PID namespace, whose
 * PID 1 is a pause process; without it, keepalived is PID 1 of a PID namespace of its own
 * (`unshare --pid --fork`; when PID 1 dies, the kernel kills and reaps the rest, as when a container
 * ends). The returned process is `unshare` or `nsenter`, which exits when keepalived does;
 * `keepalivedPid` finds keepalived.
 */
export function startContained(lab: NetnsLab, pod: DaemonSetPod, podSpec: any, label: string): LabProcess {
  const main = pod.mainContainer();
  const container = [...setprivFor(main.securityContext, podSpec.securityContext), ...pod.commandOf(main)];
  const argv = podSpec.shareProcessNamespace
    ? ['nsenter', `--target=${podPidNamespace(lab, pod, label)}`, '--pid', '--', ...container]
    : ['unshare', '--pid', '--fork', '--kill-child', ...container];
  pod.keepalived = lab.startKeepalived(pod.node, argv, label);
  return pod.keepalived;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The pid (in the lab's PID namespace) of a pod's running keepalived main process, started either way:
 * below the `unshare`/`nsenter` wrapper and the container's supervisor shell (keepalived-supervisor.ts),
 * whichever are there.
 */
export function keepalivedPid(lab: NetnsLab, pod: DaemonSetPod): number | undefined {
  const proc = pod.keepalived;
  if (!proc || proc.exit !== undefined) return undefined;
  let pid: number | undefined = proc.pid;
  for (let depth = 0; pid !== undefined && ['unshare', 'nsenter', 'sh'].includes(comm(pid)) && depth < 3; depth++) pid = lab.childrenOf(pid)[0];
  return pid;
}

/** keepalived's processes of a pod: the main one and its children (the VRRP child). */
export function podPids(lab: NetnsLab, pod: DaemonSetPod): number[] {
  const main = keepalivedPid(lab, pod);
  return main === undefined ? [] : [main, ...lab.childrenOf(main)];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * kill -9 of the keepalived of some pods at once, as a crash or an OOM kill: every process is frozen
 * first, then each VRRP child is killed before its main process (else the child notices its parent's
 * death and exits gracefully, with a priority-0 advert). Their addresses stay where they are.
 * Resolves when all have exited, with the time (monoNow) just before the first signal.
 */
export async function crashPods(lab: NetnsLab, pods: readonly DaemonSetPod[]): Promise<number> {
  // A container just (re)started may not have exec'd keepalived yet: wait for it, briefly.
  const deadline = monoNow() + 3000;
  while (!pods.every((pod) => { const pid = keepalivedPid(lab, pod); return pid !== undefined && comm(pid) === 'keepalived'; })) {
    const gone = pods.find((pod) => !pod.keepalived || pod.keepalived.exit !== undefined);
    if (gone) throw new Error(`the pod on ${gone.node} runs no keepalived (${gone.keepalived?.exit ?? 'never started'})`);
    if (monoNow() > deadline) throw new Error(`keepalived did not start in ${pods.map((p) => p.node).join(', ')}`);
    await sleep(10);
  }
  const targets = pods.map((pod) => {
    const main = keepalivedPid(lab, pod)!;
    return { pod, main, children: lab.childrenOf(main) };
  });
  const t = monoNow();
  for (const x of targets) for (const pid of [x.main, ...x.children]) signal(pid, 'SIGSTOP');
  for (const x of targets) for (const pid of x.children) signal(pid, 'SIGKILL');
  for (const x of targets) signal(x.main, 'SIGKILL');
  // nsenter stops itself when it sees its child stop (it forwards job control), and a stopped nsenter
  // never reaps keepalived. It may stop itself after any one SIGCONT of ours, so keep nudging it.
  const wrappers = targets.map((x) => x.pod.keepalived!.pid).filter((pid, i) => pid !== targets[i].main);
  const nudge = setInterval(() => wrappers.forEach((pid) => signal(pid, 'SIGCONT')), 20);
  try {
    wrappers.forEach((pid) => signal(pid, 'SIGCONT'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(targets.map((x) => x.pod.keepalived!.exited)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`keepalived on ${pods.map((p) => p.node).join(', ')} did not exit within 10 s of SIGKILL`)), 10_000);
      }),
    ]);
    clearTimeout(timer);
  } finally {
    clearInterval(nudge);
  }
  return t;
}

/** SIGTERM to a pod's keepalived (the kubelet deleting the pod); resolves when it has exited, with the time of the signal. */
export async function terminatePod(lab: NetnsLab, pod: DaemonSetPod, timeoutMs = 10_000): Promise<number> {
  const proc = pod.keepalived;
  const main = keepalivedPid(lab, pod);
  if (!proc || main === undefined) throw new Error(`the pod on ${pod.node} runs no keepalived`);
  const t = monoNow();
  signal(main, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([proc.exited, new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`keepalived on ${pod.node} (pid ${main}) did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs);
  })]).finally(() => clearTimeout(timer));
  return t;
}

/** The pid files that keepalived's container command names (`--pid`, `--vrrp_pid`, `--checkers_pid`), mapped to the pod's volumes. */
export function pidFilesOf(pod: DaemonSetPod): string[] {
  const command = pod.commandOf(pod.mainContainer());
  const files: string[] = [];
  command.forEach((arg, i) => {
    if (['--pid', '-p', '--vrrp_pid', '-r', '--checkers_pid', '-c'].includes(arg) && command[i + 1]) files.push(command[i + 1]);
  });
  return files;
}

/**
 * Starts the keepalived container of every pod at the same instant: each waits on one FIFO (its open
 * blocks until a writer comes), then execs the container's command under its securityContext. Once
 * all wait, one open of the FIFO releases them together. Returns the release time (monoNow).
 */
export async function startTogether(lab: NetnsLab, pods: readonly DaemonSetPod[], podSecurityContexts: ReadonlyMap<DaemonSetPod, any>): Promise<number> {
  const fifo = join(lab.dir, `start-together-${process.pid}-${Math.floor(monoNow())}`);
  const r = spawnSync('mkfifo', ['-m', '0600', fifo], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfifo ${fifo}: ${r.stderr}`);
  const procs: LabProcess[] = [];
  for (const [i, pod] of pods.entries()) {
    const main = pod.mainContainer();
    const argv = ['sh', '-c', ': < "$0"; exec "$@"', fifo, ...setprivFor(main.securityContext, podSecurityContexts.get(pod)), ...pod.commandOf(main)];
    pod.keepalived = lab.startKeepalived(pod.node, argv, `keepalived-together-${i}`);
    procs.push(pod.keepalived);
  }
  const wchan = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/wchan`, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = monoNow() + 10_000;
  while (!procs.every((p) => wchan(p.pid) === 'wait_for_partner')) {
    const gone = procs.find((p) => p.exit !== undefined);
    if (gone) throw new Error(`a keepalived waiting to start exited: ${gone.exit}\n${lab.report()}`);
    if (monoNow() > deadline) throw new Error(`not every keepalived reached the start barrier: ${procs.map((p) => `${p.pid}:${wchan(p.pid)}`).join(' ')}`);
    await sleep(10);
  }
  const t = monoNow();
  const fd = openSync(fifo, 'r+'); // O_RDWR: never blocks, and is the writer every reader waits for
  try {
    // keepalived itself, or the container's supervisor shell with keepalived started below it
    const started = (p: LabProcess) => {
      let pid: number | undefined = p.pid;
      for (let depth = 0; pid !== undefined && comm(pid) === 'sh' && depth < 2; depth++) pid = lab.childrenOf(pid)[0];
      return pid !== undefined && comm(pid) === 'keepalived';
    };
    while (!procs.every((p) => started(p) || p.exit !== undefined)) {
      if (monoNow() > deadline + 5000) throw new Error('not every keepalived started after the barrier');
      await sleep(5);
    }
  } finally {
    closeSync(fd);
  }
  return t;
}

/** The bridge port (in the lab's bridge namespace) that a node's interface plugs into. */
export function bridgePortOf(lab: NetnsLab, node: string, dev: string): string {
  const link = JSON.parse(lab.exec(node, ['ip', '-j', 'link', 'show', 'dev', dev]))[0] as { link_index?: number };
  if (link.link_index === undefined) throw new Error(`${node} ${dev} is not a veth with a peer`);
  const brNetns = `${lab.prefix}-br`;
  const out = spawnSync('ip', ['-n', brNetns, '-j', 'link', 'show'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`cannot list the links of ${brNetns}: ${out.stderr}`);
  const port = (JSON.parse(out.stdout) as { ifindex: number; ifname: string }[]).find((l) => l.ifindex === link.link_index);
  if (!port) throw new Error(`no link with ifindex ${link.link_index} in ${brNetns}`);
  return port.ifname;
}

/**
 * Bridge port isolation: isolated ports exchange no frames with each other, but still with every
 * other port. Isolating two nodes' ports partitions exactly that pair.
 */
export function setIsolated(lab: NetnsLab, ports: readonly string[], on: boolean): void {
  for (const port of ports) {
    const r = spawnSync('ip', ['netns', 'exec', `${lab.prefix}-br`, 'bridge', 'link', 'set', 'dev', port, 'isolated', on ? 'on' : 'off'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bridge link set dev ${port} isolated ${on ? 'on' : 'off'}: ${r.stderr}`);
  }
}

/** Removes the given addresses from a node's interfaces, wherever they are (a reboot forgets them). */
export function forgetAddresses(lab: NetnsLab, node: string, vips: readonly string[]): void {
  for (const [dev, addresses] of lab.addresses(node)) {
    for (const a of addresses) {
      if (vips.some((v) => v.split('/')[0] === a.split('/')[0])) lab.exec(node, ['ip', 'addr', 'del', a, 'dev', dev]);
    }
  }
}

/** A small, fast PRNG with a fixed seed (mulberry32), for reproducible fault schedules. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `(instance) Entering X STATE` lines of a keepalived log, in order. */
export function stateChanges(log: string): { instance: string; state: string }[] {
  if (!existsSync(log)) return [];
  return [...readFileSync(log, 'utf8').matchAll(/\((\S+)\) Entering (\S+) STATE/g)].map((m) => ({ instance: m[1], state: m[2] }));
}
