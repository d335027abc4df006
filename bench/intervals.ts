/**
 * Which advert interval can be the default: for each VRRPv3 advert interval, the dead-node failover time
 * (as in failover.ts: stratified fault phases, `dead` fault on the master n1) and the spurious master
 * changes in a steady state of `seconds` under each load condition:
 *  - idle: nothing added (other engineers' work may share the machine: the load average is recorded);
 *  - busy: both cores busy (one busy-loop process per core, outside the nodes);
 *  - limit: each node's keepalived in its own cgroup with the DaemonSet's CPU limit (100m: CFS quota
 *    10 ms per 100 ms period), as a container runtime puts it;
 *  - limit-busy: both at once (the question of issue 10 item 5: does the 100m limit make a busy node flap?).
 * A spurious change is any VIP add/delete on any node, or any VRRP state change in a keepalived log, while
 * nothing was done to the nodes.
 *
 * `npm run bench -- --only intervals [--intervals 1,0.5] [--conditions idle,busy] [--steady-seconds 120]
 *  [--runs 10] [--lock /tmp/keepalived-timing.lock]`. With --lock, each segment (one interval's failover
 * runs, one steady window) takes the shared timing lock on its own, so other timing runs can go between.
 */
import { execFileSync, spawn } from 'child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onCleanup } from './cleanup';
import { anomaly, bringUp, cpuTimes, FailoverSample, holders, oneFailover, ProfileSetup, shuffled, steadyStateChanges } from './failover';
import { acquireLock } from './lock';
import { Lab, NETWORK, NODE_NAMES, VIP, VIP_CIDR, VRID } from './netns';
import { fmt, sleep, summarize } from './stats';

export const INTERVALS = [1, 0.5, 0.3, 0.2, 0.1] as const;
export const CONDITIONS = ['idle', 'busy', 'limit', 'limit-busy'] as const;
export type Condition = (typeof CONDITIONS)[number];
/** The keepalived container's CPU limit for one group in the standalone DaemonSet (src/core/standalone/daemon-set.ts), millicores. */
export const KEEPALIVED_CPU_LIMIT_M = 100;
export const INTERVAL_STEADY_SECONDS = 120;
export const INTERVAL_RUNS = 10;
/** The issue's target for the default: dead-node failover median at most this, with zero flaps. */
export const TARGET_DEFAULT_DEAD_S = 1.0;

const CONDITION_TEXT: Record<Condition, string> = {
  'idle': 'idle',
  'busy': 'both cores busy',
  'limit': `CPU limit ${KEEPALIVED_CPU_LIMIT_M}m`,
  'limit-busy': `CPU limit ${KEEPALIVED_CPU_LIMIT_M}m + both cores busy`,
};

export interface SteadyWindow {
  readonly advertS: number;
  readonly condition: Condition;
  readonly seconds: number;
  readonly loadAvgStart: string;
  readonly loadAvgEnd: string;
  readonly cpuBusyPercent: number;
  readonly vipEvents: string[];
  readonly transitions: string[];
  readonly holdersAtEnd: string[];
  /** CPU time keepalived (both processes) used per node, ms per second of the window. */
  readonly keepalivedCpuMsPerS: number[];
  /** CFS periods in which a node's cgroup was throttled, of all its periods (limit conditions). */
  readonly throttled?: { periods: number; throttled: number; throttledMs: number }[];
  readonly error?: string;
}

export interface IntervalSetup {
  readonly advertS: number;
  readonly priorities: Record<string, number>;
  readonly confOfN2: string;
}

export interface IntervalsResults {
  readonly runs: number;
  readonly seconds: number;
  readonly cgroup: string;
  readonly setups: IntervalSetup[];
  readonly samples: FailoverSample[];
  readonly steady: SteadyWindow[];
  readonly skipped?: string;
}

const ROOT = path.join(__dirname, '..');
const AGENT = path.join(ROOT, 'lib', 'agent', 'keepalived-agent.js');

function labelOf(advertS: number): string {
  return `v3-${advertS}s`;
}

/** What src/ renders for a group with this advert interval on VRRPv3, rendered on each node by the agent. */
function setupInterval(lab: Lab, advertS: number): ProfileSetup {
  const spec = execFileSync(process.execPath, [path.join(__dirname, 'procs', 'failover-spec.js'),
    '--profile', 'default', '--advert', String(advertS), '--vrid', String(VRID), '--vip', VIP_CIDR, '--network', NETWORK, '--nodes', NODE_NAMES.join(',')], { encoding: 'utf8' });
  const specFile = path.join(lab.dir, `spec-${labelOf(advertS)}.json`);
  writeFileSync(specFile, spec);
  const confs: Record<string, string> = {};
  const priorities: Record<string, number> = {};
  for (const n of lab.nodes) {
    confs[n.name] = path.join(n.dir, `${labelOf(advertS)}.conf`);
    execFileSync('ip', ['netns', 'exec', n.ns, process.execPath, AGENT, 'render', '--spec', specFile, '--node-name', n.name, '--out', confs[n.name]], { stdio: 'pipe' });
    const conf = readFileSync(confs[n.name], 'utf8');
    priorities[n.name] = Number(/^\s*priority (\d+)/m.exec(conf)![1]);
    if (Number(/^\s*advert_int (\S+)/m.exec(conf)![1]) !== advertS) throw new Error(`${n.name}: the rendered advert_int is not ${advertS}`);
    execFileSync('ip', ['netns', 'exec', n.ns, 'keepalived', '--config-test', '--use-file', confs[n.name]], { stdio: 'pipe' });
  }
  return { profile: labelOf(advertS), advertS, confs, priorities };
}

/**
 * One cgroup per node with the container's CPU limit, as the container runtime makes it: cgroup v1's
 * cpu controller (cpu.cfs_quota_us / cpu.cfs_period_us) when mounted, else cgroup v2's cpu.max.
 */
class NodeCgroups {
  public readonly dirs: string[];
  public readonly kind: 'v1' | 'v2';
  private readonly remove: () => void;

  constructor(prefix: string, count: number, millicores: number) {
    const v1 = '/sys/fs/cgroup/cpu';
    this.kind = existsSync(path.join(v1, 'cpu.cfs_quota_us')) ? 'v1' : 'v2';
    const root = this.kind === 'v1' ? v1 : '/sys/fs/cgroup';
    if (this.kind === 'v2') {
      if (!readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) throw new Error('no cgroup cpu controller');
      writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
    }
    this.dirs = Array.from({ length: count }, (_, i) => path.join(root, `${prefix}-n${i + 1}`));
    const period = 100_000;
    const quota = Math.round((period * millicores) / 1000);
    for (const d of this.dirs) {
      mkdirSync(d, { recursive: true });
      if (this.kind === 'v1') {
        writeFileSync(path.join(d, 'cpu.cfs_period_us'), String(period));
        writeFileSync(path.join(d, 'cpu.cfs_quota_us'), String(quota));
      } else {
        writeFileSync(path.join(d, 'cpu.max'), `${quota} ${period}`);
      }
    }
    this.remove = onCleanup(() => {
      for (const d of this.dirs) {
        try {
          rmdirSync(d);
        } catch {
          // still has processes (they are being killed) or already gone
        }
      }
    });
  }

  stat(i: number): { periods: number; throttled: number; throttledMs: number } {
    const kv = Object.fromEntries(readFileSync(path.join(this.dirs[i], 'cpu.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ')));
    return {
      periods: Number(kv.nr_periods),
      throttled: Number(kv.nr_throttled),
      throttledMs: this.kind === 'v1' ? Number(kv.throttled_time) / 1e6 : Number(kv.throttled_usec) / 1e3,
    };
  }

  destroy(): void {
    this.remove();
  }
}

function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}

function loadAvg(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

async function steadyWindow(lab: Lab, setup: ProfileSetup, condition: Condition, seconds: number, cgroups: NodeCgroups, log: (s: string) => void): Promise<SteadyWindow> {
  const limited = condition === 'limit' || condition === 'limit-busy';
  const burners = condition === 'busy' || condition === 'limit-busy' ? os.cpus().length : 0;
  lab.nodes.forEach((n, i) => { n.cgroup = limited ? cgroups.dirs[i] : undefined; });
  const burnMs = (seconds + 20) * 1000;
  const procs: ReturnType<typeof spawn>[] = [];
  const stopBurners = onCleanup(() => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  try {
    await bringUp(lab, setup);
    for (let b = 0; b < burners; b++) {
      // Each burner bounds itself (should this process die before it kills them) and is killed below.
      procs.push(spawn(process.execPath, ['-e', `const end = Date.now() + ${burnMs}; for (;;) { if (Date.now() > end) break; }`], { stdio: 'ignore' }));
    }
    await sleep(2000);
    const before = await holders(lab.nodes);
    if (before.join() !== 'n1') throw new Error(`before the window the VIP was on [${before.join(' ')}], not n1 alone`);
    const logOffsets = lab.nodes.map((n) => n.logSize());
    const cpu0 = lab.nodes.map((n) => procCpuMs(n.mainPid) + procCpuMs(n.vrrpPid));
    const thr0 = limited ? lab.nodes.map((_, i) => cgroups.stat(i)) : undefined;
    const c0 = cpuTimes();
    const loadAvgStart = loadAvg();
    const t0 = Date.now();
    log(`intervals: ${labelOf(setup.advertS)} ${condition}: ${seconds} s steady (load ${loadAvgStart})`);
    await sleep(seconds * 1000);
    const t1 = Date.now();
    const c1 = cpuTimes();
    const loadAvgEnd = loadAvg();
    const cpu1 = lab.nodes.map((n) => procCpuMs(n.mainPid) + procCpuMs(n.vrrpPid));
    const thr1 = limited ? lab.nodes.map((_, i) => cgroups.stat(i)) : undefined;
    const holdersAtEnd = await holders(lab.nodes);
    const { vipEvents, transitions } = steadyStateChanges(lab, logOffsets, t0, t1);
    return {
      advertS: setup.advertS, condition, seconds, loadAvgStart, loadAvgEnd, holdersAtEnd, vipEvents, transitions,
      cpuBusyPercent: (100 * (c1.busy - c0.busy)) / (c1.total - c0.total),
      keepalivedCpuMsPerS: cpu1.map((c, i) => (c - cpu0[i]) / ((t1 - t0) / 1000)),
      throttled: thr0 && thr1 ? thr1.map((s, i) => ({ periods: s.periods - thr0[i].periods, throttled: s.throttled - thr0[i].throttled, throttledMs: s.throttledMs - thr0[i].throttledMs })) : undefined,
    };
  } catch (e) {
    return {
      advertS: setup.advertS, condition, seconds, loadAvgStart: loadAvg(), loadAvgEnd: loadAvg(), holdersAtEnd: [], vipEvents: [], transitions: [],
      cpuBusyPercent: NaN, keepalivedCpuMsPerS: [], error: (e as Error).message,
    };
  } finally {
    stopBurners();
    await lab.reset();
    for (const n of lab.nodes) n.cgroup = undefined;
  }
}

export interface IntervalsOptions {
  readonly intervals: readonly number[];
  readonly conditions: readonly Condition[];
  readonly seconds: number;
  readonly runs: number;
  readonly lock?: string;
  readonly tmp: string;
  readonly log: (s: string) => void;
}

export async function runIntervals(o: IntervalsOptions): Promise<IntervalsResults> {
  const empty = { runs: o.runs, seconds: o.seconds, cgroup: '', setups: [], samples: [], steady: [] };
  if (process.getuid?.() !== 0) return { ...empty, skipped: 'not root: network namespaces and cgroups need root' };
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'pipe' });
  } catch {
    return { ...empty, skipped: 'keepalived is not installed (apt-get install -y keepalived)' };
  }
  const lab = new Lab(`kci${process.pid}`, path.join(o.tmp, 'intervals'));
  const cgroups = new NodeCgroups(`kcb${process.pid}`, NODE_NAMES.length, KEEPALIVED_CPU_LIMIT_M);
  const segment = async <T>(what: () => Promise<T>): Promise<T> => {
    const release = o.lock ? await acquireLock(o.lock, o.log) : () => undefined;
    try {
      return await what();
    } finally {
      await lab.reset().catch(() => undefined);
      release();
    }
  };
  const setups: IntervalSetup[] = [];
  const samples: FailoverSample[] = [];
  const steady: SteadyWindow[] = [];
  try {
    lab.create();
    const phases = shuffled(Array.from({ length: o.runs }, (_, i) => (i + 0.5) / o.runs), 4);
    // Every configuration is rendered before the first measurement, from the lib/ of that moment.
    const rendered = o.intervals.map((advertS) => setupInterval(lab, advertS));
    for (const setup of rendered) {
      const advertS = setup.advertS;
      setups.push({ advertS, priorities: setup.priorities, confOfN2: readFileSync(setup.confs.n2, 'utf8') });
      await segment(async () => {
        for (let run = 0; run < o.runs; run++) {
          let s: FailoverSample;
          try {
            s = await oneFailover(lab, setup, 'dead', run, phases[run]);
          } catch (e) {
            s = { run, profile: setup.profile, fault: 'dead', phase: phases[run], injectMs: 0, takers: [], garpFrom: [], error: (e as Error).message };
          }
          samples.push(s);
          o.log(`intervals: ${setup.profile} dead run ${run + 1}/${o.runs} phase ${phases[run].toFixed(2)}: VIP ${s.vipMs?.toFixed(0) ?? '-'} ms on ${s.newMaster ?? '-'}${anomaly(s) ? ` [${anomaly(s)}]` : ''}`);
        }
      });
      for (const condition of o.conditions) {
        const w = await segment(() => steadyWindow(lab, setup, condition, o.seconds, cgroups, o.log));
        steady.push(w);
        o.log(`intervals: ${setup.profile} ${condition}: ${w.vipEvents.length} VIP events, ${w.transitions.length} state changes, load ${w.loadAvgEnd}${w.error ? `, error: ${w.error}` : ''}`);
      }
    }
    return { runs: o.runs, seconds: o.seconds, cgroup: `cgroup ${cgroups.kind} cpu controller, ${cgroups.kind === 'v1' ? 'cpu.cfs_quota_us' : 'cpu.max'} ${KEEPALIVED_CPU_LIMIT_M * 100} per 100000 µs period, one cgroup per node`, setups, samples, steady };
  } finally {
    await lab.reset().catch(() => undefined);
    lab.destroy();
    cgroups.destroy();
  }
}

// ---------------------------------------------------------------- report

/** The number of spurious changes in a window (VIP events plus state changes); NaN when it failed. */
export function flapsOf(w: SteadyWindow): number {
  return w.error ? NaN : w.vipEvents.length + w.transitions.length;
}

function deadOf(r: IntervalsResults, advertS: number) {
  return summarize(r.samples.filter((s) => s.profile === labelOf(advertS) && s.vipMs !== undefined).map((s) => s.vipMs!));
}

/**
 * The fastest interval whose every window had zero spurious changes, among the conditions that define
 * the default (idle, busy, limit), and whose dead-node failover median meets the target.
 */
export function recommendedInterval(r: IntervalsResults): number | undefined {
  const defining: Condition[] = ['idle', 'busy', 'limit'];
  const ok = r.setups.map((s) => s.advertS).filter((a) => {
    const ws = r.steady.filter((w) => w.advertS === a && defining.includes(w.condition));
    return ws.length === defining.length && ws.every((w) => flapsOf(w) === 0 && w.holdersAtEnd.join() === 'n1');
  });
  return ok.length === 0 ? undefined : Math.min(...ok);
}

export function intervalsMarkdown(r: IntervalsResults): string {
  const out: string[] = ['## 5. Advert interval: failover against spurious master changes', ''];
  if (r.skipped) {
    out.push(`Skipped: ${r.skipped}.`);
    return out.join('\n');
  }
  const conds = [...new Set(r.steady.map((w) => w.condition))];
  out.push(`Written by \`npm run bench -- --only intervals\` (\`bench/intervals.ts\`). The configuration is what src/ renders for one group with \`vrrpVersion: 3\` and \`advertInterval\` set, rendered on each node by the real agent (priorities from the node order n1, n2, n3). Per interval: ${r.runs} dead-node failovers on n1 (SIGSTOP+SIGKILL of both keepalived processes, link cut; fault phases stratified over the advert interval as in section 3), then ${r.seconds} s of steady state per condition, with n1 master and nothing done to the nodes. A **flap** is any VIP add or delete on any node, or any VRRP state change in a keepalived log, during the window.`);
  out.push('');
  out.push(`Conditions: **idle**: nothing added by the bench; this is a shared 2-core development VM, so other engineers' work may have loaded it (the load average at the start and end of every window is recorded below). **busy**: one busy-loop process per core (${os.cpus().length}), outside the nodes. **limit**: each node's keepalived (both processes) in its own ${r.cgroup}: the keepalived container's limit in the standalone DaemonSet. **limit-busy**: both at once.`);
  out.push('');
  out.push(`| advert | priorities n1/n2/n3 | master-down of n2 | dead-node failover, median (min–max) ms | two masters | ${conds.map((c) => `flaps ${CONDITION_TEXT[c]}`).join(' | ')} |`);
  out.push(`|---:|---|---:|---:|---:|${conds.map(() => '---:').join('|')}|`);
  for (const s of r.setups) {
    const p2 = s.priorities.n2;
    const md = 3 * s.advertS + ((256 - p2) / 256) * s.advertS;
    const samples = r.samples.filter((x) => x.profile === labelOf(s.advertS));
    const two = samples.filter((x) => x.takers.length > 1).length;
    const errors = samples.filter((x) => x.vipMs === undefined).length;
    const flaps = conds.map((c) => {
      const w = r.steady.find((x) => x.advertS === s.advertS && x.condition === c);
      if (!w) return '–';
      if (w.error) return `error: ${w.error}`;
      return `${flapsOf(w)}`;
    });
    out.push(`| ${s.advertS} s | ${NODE_NAMES.map((n) => s.priorities[n]).join(' / ')} | ${(md * 1000).toFixed(0)} ms | ${fmt(deadOf(r, s.advertS))}${errors ? ` (${errors} failed)` : ''} | ${two} of ${samples.length} | ${flaps.join(' | ')} |`);
  }
  const rec = recommendedInterval(r);
  out.push('');
  out.push(`**Fastest interval with zero flaps in idle, busy and limit**: ${rec === undefined ? 'none' : `${rec} s, dead-node failover median ${deadOf(r, rec).median.toFixed(0)} ms (target <= ${TARGET_DEFAULT_DEAD_S * 1000} ms: ${deadOf(r, rec).median <= TARGET_DEFAULT_DEAD_S * 1000 ? 'met' : 'missed'})`}.`);
  out.push('');
  out.push('Every window: load average (1/5/15 min) at its start and end, whole-machine CPU busy, keepalived CPU per node (both processes, ms of CPU per s), and for the limited conditions the CFS periods in which each node\'s cgroup was throttled:');
  out.push('');
  out.push('| advert | condition | load avg start | load avg end | CPU busy | keepalived CPU ms/s n1/n2/n3 | throttled periods n1/n2/n3 | VIP at end | flaps |');
  out.push('|---:|---|---|---|---:|---|---|---|---:|');
  for (const w of r.steady) {
    const thr = w.throttled ? w.throttled.map((t) => `${t.throttled}/${t.periods}`).join(', ') : '–';
    out.push(`| ${w.advertS} s | ${CONDITION_TEXT[w.condition]} | ${w.loadAvgStart} | ${w.loadAvgEnd} | ${Number.isFinite(w.cpuBusyPercent) ? `${w.cpuBusyPercent.toFixed(0)} %` : '?'} | ${w.keepalivedCpuMsPerS.map((c) => c.toFixed(1)).join(' / ')} | ${thr} | ${w.holdersAtEnd.join(' ') || '–'} | ${w.error ? `error: ${w.error}` : flapsOf(w)} |`);
  }
  const flapping = r.steady.filter((w) => flapsOf(w) > 0);
  if (flapping.length > 0) {
    out.push('');
    out.push('The flaps (first 10 events per window):');
    for (const w of flapping) {
      out.push('', `- ${w.advertS} s, ${CONDITION_TEXT[w.condition]}:`);
      for (const e of [...w.vipEvents, ...w.transitions].slice(0, 10)) out.push(`    - ${e.replace(/\|/g, '\\|')}`);
    }
  }
  const anomalies = r.samples.filter((s) => anomaly(s) !== '');
  if (anomalies.length > 0) {
    out.push('', 'Failover runs with anomalies:', '');
    for (const s of anomalies) out.push(`- ${s.profile} run ${s.run + 1}: ${anomaly(s)}`);
  }
  return out.join('\n');
}
