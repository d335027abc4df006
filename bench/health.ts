/**
 * Section 4: time from a service failure to the VIP on another node, with health checks.
 *
 * Three network namespaces (node-a, node-b, node-c) on one bridge run the synthesized standalone
 * cluster as its pods do (test/support/netns-health.ts): the agent's `render` and `run` as nobody with
 * no capabilities, keepalived under its container's securityContext, and an HTTP service on each
 * node's 127.0.0.1:8080 that the health check probes. One VRRP group (198.51.100.100/32), nodeOrder
 * node-a, node-b, node-c, so node-a is master. Each run: every service up and the VIP on node-a; after
 * a random fraction of the probe interval (the agent's probe phase is unknown, so the fault's phase is
 * uniform), node-a's service is killed (connections refused at once), and the time until a poll
 * (`ip -j addr`, every ~10 ms) finds the VIP on exactly one other node is taken. Then the service
 * comes back and the VIP returns (preempt), which is timed too.
 *
 * Configurations, all on the default failover profile (`FailoverProfile.DEFAULT`, VRRPv3 at 0.1 s
 * adverts; `FailoverProfile.FAST` is the same profile): the default check (every 1 s, fall 3, rise 2);
 * the fast check of issue 11 item 7 (`intervalSeconds: 0.2, fall: 2`), with `HealthAction.release()`
 * (the default) and with `lowerPriority(100)`.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { App, Chart, Testing } from 'cdk8s';
import { HealthAction, HealthCheck, InterfaceSelector, KeepalivedCluster, Target } from '../src';
import { NetnsLab, removeStaleLabs } from '../test/support/netns';
import { HealthPod, startHealthPods } from '../test/support/netns-health';
import { standaloneObjects } from '../test/support/netns-pod';
import { onCleanup } from './cleanup';
import { fmt, sleep, summarize, verdict } from './stats';

export const HEALTH_CONFIGS = ['default-check', 'fast-check', 'fast-check-lower'] as const;
export type HealthConfig = (typeof HEALTH_CONFIGS)[number];
/** The fast target of issue 11 item 7, with intervalSeconds 0.2 and fall 2. */
export const TARGET_FAST_HEALTH_S = 0.8;

const NODES = ['node-a', 'node-b', 'node-c'];
const VIP = '198.51.100.100';
const PORT = 8080;

interface ConfigSetup {
  readonly advertS: number;
  readonly intervalS: number;
  readonly fall: number;
  readonly rise: number;
  readonly action: string;
  /** The priority of the node that takes over (node-b). */
  readonly secondPriority: number;
}

/** The default profile's advert interval and node-b's priority (rank 2 of 3): checked against the rendered spec. */
const DEFAULT_ADVERT_S = 0.1;
const DEFAULT_SECOND_PRIORITY = 224;

const SETUPS: Record<HealthConfig, ConfigSetup> = {
  'default-check': { advertS: DEFAULT_ADVERT_S, intervalS: 1, fall: 3, rise: 2, action: 'release()', secondPriority: DEFAULT_SECOND_PRIORITY },
  'fast-check': { advertS: DEFAULT_ADVERT_S, intervalS: 0.2, fall: 2, rise: 2, action: 'release()', secondPriority: DEFAULT_SECOND_PRIORITY },
  'fast-check-lower': { advertS: DEFAULT_ADVERT_S, intervalS: 0.2, fall: 2, rise: 2, action: 'lowerPriority(100)', secondPriority: DEFAULT_SECOND_PRIORITY },
};

const TEXT: Record<HealthConfig, string> = {
  'default-check': 'default profile, default check (1 s, fall 3, rise 2), release',
  'fast-check': 'default profile, check 0.2 s, fall 2, rise 2, release',
  'fast-check-lower': 'default profile, check 0.2 s, fall 2, rise 2, lowerPriority(100)',
};

export interface HealthSample {
  readonly config: HealthConfig;
  readonly run: number;
  /** From killing the service to the VIP on another node, ms; undefined when it did not move in time. */
  readonly failoverMs?: number;
  readonly newMaster?: string;
  /** From the service listening again to the VIP back on node-a, ms. */
  readonly returnMs?: number;
}

export interface HealthResults {
  readonly runs: number;
  readonly samples: HealthSample[];
  readonly skipped?: string;
}

function objectsFor(config: HealthConfig) {
  const s = SETUPS[config];
  const app: App = Testing.app();
  const chart = new Chart(app, 'bench');
  new KeepalivedCluster(chart, 'hc', {
    name: 'bench',
    nodeSelector: { 'node-role.kubernetes.io/vrrp': '' },
    target: Target.standalone({ nodeOrder: NODES }),
    groups: [{
      name: 'vip', interface: InterfaceSelector.name('eth0'), addresses: [{ address: `${VIP}/32` }],
      healthChecks: [config === 'default-check'
        ? HealthCheck.http({ port: PORT, path: '/healthz' })
        : HealthCheck.http({ port: PORT, path: '/healthz', intervalSeconds: s.intervalS, fall: s.fall, ...(config === 'fast-check-lower' ? { onFailure: HealthAction.lowerPriority(100) } : {}) })],
    }],
  });
  return standaloneObjects(Testing.synth(chart));
}

/** The bound below assumes the default profile's timers: fail loudly if the rendered node-b config differs. */
function assertRendered(conf: string, s: ConfigSetup): void {
  const text = readFileSync(conf, 'utf8');
  const advert = Number(/^\s*advert_int (\S+)/m.exec(text)?.[1]);
  const priority = Number(/^\s*priority (\d+)/m.exec(text)?.[1]);
  if (advert !== s.advertS || priority !== s.secondPriority) {
    throw new Error(`bench/health.ts assumes advert_int ${s.advertS} and node-b priority ${s.secondPriority}, but ${conf} renders advert_int ${advert}, priority ${priority}`);
  }
}

/** The bound of the issue: 1.5 x (interval x fall) + master-down interval of the node that takes over. */
export function healthBoundMs(config: HealthConfig): number {
  const s = SETUPS[config];
  return (1.5 * s.intervalS * s.fall + 3 * s.advertS + ((256 - s.secondPriority) / 256) * s.advertS) * 1000;
}

/** A deterministic phase in [0, 1) for run i (golden-ratio sequence: spread over the interval). */
function phaseOf(run: number): number {
  return (run * 0.6180339887 + 0.31) % 1;
}

async function oneConfig(config: HealthConfig, runs: number, log: (s: string) => void, samples: HealthSample[]): Promise<void> {
  const lab = new NetnsLab();
  const done = onCleanup(() => lab.cleanup());
  try {
    NODES.forEach((name, i) => lab.addNode(name, { interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`198.51.100.${11 + i}/24`] }] }));
    const pods = await startHealthPods(lab, NODES, objectsFor(config), PORT);
    const a = pods.get('node-a')!;
    assertRendered(pods.get('node-b')!.conf, SETUPS[config]);
    const heldBy = (node: string) => () => {
      const h = lab.holders(VIP);
      return h.length === 1 && h[0] === node;
    };
    await lab.waitFor(heldBy('node-a'), 20_000, 'the VIP on node-a');
    const s = SETUPS[config];
    for (let run = 0; run < runs; run++) {
      await sleep(phaseOf(run) * s.intervalS * 1000);
      const t0 = a.stopService();
      let sample: HealthSample = { config, run };
      try {
        const moved = await lab.waitFor(() => {
          const h = lab.holders(VIP);
          return h.length === 1 && h[0] !== 'node-a' ? h[0] : undefined;
        }, 20_000, 'the VIP to leave node-a', 5);
        sample = { ...sample, failoverMs: moved.at - t0, newMaster: moved.value };
      } catch (e) {
        log(`health ${config} run ${run + 1}: ${(e as Error).message.split('\n')[0]}`);
      }
      a.startService();
      await a.serviceUp();
      const t1 = performance.now();
      const back = await lab.waitFor(heldBy('node-a'), 30_000, 'the VIP back on node-a', 5);
      sample = { ...sample, returnMs: back.at - t1 };
      samples.push(sample);
      log(`health ${config} run ${run + 1}/${runs}: failover ${sample.failoverMs?.toFixed(0) ?? 'none'} ms to ${sample.newMaster ?? '-'}, back ${sample.returnMs?.toFixed(0)} ms`);
      // Let the returned master's adverts settle before the next fault.
      await sleep(3 * s.advertS * 1000);
    }
    stopAll(pods);
  } finally {
    done();
  }
}

function stopAll(pods: Map<string, HealthPod>): void {
  for (const p of pods.values()) p.stopService();
}

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  return undefined;
}

export async function runHealth(runs: number, log: (s: string) => void): Promise<HealthResults> {
  const why = missing();
  if (why) return { runs, samples: [], skipped: why };
  removeStaleLabs();
  const samples: HealthSample[] = [];
  for (const config of HEALTH_CONFIGS) {
    log(`health: ${TEXT[config]}, ${runs} runs`);
    await oneConfig(config, runs, log, samples);
  }
  return { runs, samples };
}

export interface HealthCheckTarget {
  readonly label: string;
  readonly met: boolean;
  readonly detail: string;
}

function failovers(r: HealthResults, config: HealthConfig) {
  const of = r.samples.filter((s) => s.config === config);
  return { all: of, moved: summarize(of.filter((s) => s.failoverMs !== undefined).map((s) => s.failoverMs!)), missing: of.filter((s) => s.failoverMs === undefined).length };
}

export function healthTargets(r: HealthResults): HealthCheckTarget[] {
  if (r.skipped) return [];
  const d = failovers(r, 'default-check');
  const f = failovers(r, 'fast-check');
  const bound = healthBoundMs('default-check');
  return [
    {
      label: `service failure -> VIP moved, default profile and default check: <= 1.5 x (1 s x 3) + master-down = ${(bound / 1000).toFixed(2)} s (median and max of ${d.all.length})`,
      met: d.missing === 0 && d.all.length >= 10 && d.moved.max <= bound,
      detail: `${fmt(d.moved)} ms${d.missing ? `, ${d.missing} runs without a move` : ''}`,
    },
    {
      label: `service failure -> VIP moved, default (= fast) profile, intervalSeconds 0.2, fall 2: <= ${TARGET_FAST_HEALTH_S} s (median and max of ${f.all.length})`,
      met: f.missing === 0 && f.all.length >= 10 && f.moved.max <= TARGET_FAST_HEALTH_S * 1000,
      detail: `${fmt(f.moved)} ms${f.missing ? `, ${f.missing} runs without a move` : ''}`,
    },
  ];
}

/** The dead-node figures (VIP on the new master) of the failover section: of this run, else of the last full run. */
function deadNodeFigures(failover?: { samples: { profile: string; fault: string; vipMs?: number }[] }): { source: string; of: (p: string) => string } {
  let samples = failover?.samples;
  let source = 'this run\'s section 3';
  if (!samples) {
    try {
      const json = JSON.parse(readFileSync(path.join(__dirname, 'results.json'), 'utf8'));
      samples = json.failover?.samples;
      source = `the last full run (bench/results.json, ${json.machine?.date ?? 'undated'})`;
    } catch {
      samples = undefined;
    }
  }
  return {
    source,
    of: (p) => (samples ? fmt(summarize(samples.filter((s) => s.profile === p && s.fault === 'dead' && s.vipMs !== undefined).map((s) => s.vipMs!))) : 'n/a'),
  };
}

export function healthMarkdown(r: HealthResults, failover?: { samples: { profile: string; fault: string; vipMs?: number }[] }): string {
  const out: string[] = ['## 4. Health checks: service failure to VIP on another node', ''];
  if (r.skipped) {
    out.push(`Skipped: ${r.skipped}.`);
    return out.join('\n');
  }
  out.push('Real keepalived and the bundled agent on three nodes (network namespaces on one bridge), as the standalone pods run them (see the header of `bench/health.ts`): the agent probes an HTTP service on each node\'s 127.0.0.1 and writes the track file keepalived follows. node-a is master before every run; its service is killed at a phase spread uniformly over the probe interval, and the VIP\'s move to another node is polled every ~10 ms. "Back" is from the service listening again to the VIP on node-a again (rise, then preemption).');
  out.push('');
  const dead = deadNodeFigures(failover);
  out.push(`All on the default failover profile (VRRPv3, ${DEFAULT_ADVERT_S} s adverts, node-b's priority ${DEFAULT_SECOND_PRIORITY}; \`FailoverProfile.FAST\` is the same profile). Median (min–max), ms; dead-node failover of the default profile (keepalived and the link gone, no health check) from ${dead.source} for comparison:`);
  out.push('');
  out.push('| configuration | n | service failure -> VIP on another node | bound 1.5 x (interval x fall) + master-down | VIP back after the service returns | dead node -> VIP on another node |');
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const c of HEALTH_CONFIGS) {
    const f = failovers(r, c);
    if (f.all.length === 0) continue;
    const back = summarize(f.all.filter((s) => s.returnMs !== undefined).map((s) => s.returnMs!));
    out.push(`| ${TEXT[c]} | ${f.all.length} | ${fmt(f.moved)}${f.missing ? ` (${f.missing} runs without a move)` : ''} | ${healthBoundMs(c).toFixed(0)} | ${fmt(back)} | ${dead.of('default')} |`);
  }
  out.push('');
  {
    const d = SETUPS['default-check'];
    const skewMs = ((256 - d.secondPriority) / 256) * d.advertS * 1000;
    const masterDownMs = 3 * d.advertS * 1000 + skewMs;
    const upTo = (c: HealthConfig) => SETUPS[c].intervalS * SETUPS[c].fall * 1000;
    const detection = `the default check (${SETUPS['default-check'].intervalS} s × fall ${SETUPS['default-check'].fall}) up to ${upTo('default-check').toFixed(0)} ms, the fast check (${SETUPS['fast-check'].intervalS} s × fall ${SETUPS['fast-check'].fall}) up to ${upTo('fast-check').toFixed(0)} ms`;
    const slower = upTo('default-check') > masterDownMs;
    out.push(`Where the time goes. A dead node costs only node-b's master-down interval (${masterDownMs.toFixed(0)} ms at ${d.advertS} s adverts, priority ${d.secondPriority}). A service failure costs detection first, up to interval × fall after the failure (a refused connection fails a probe at once): ${detection}. Then, with release, the failing master puts the group in FAULT and sends a priority-0 advert, so node-b takes over after its skew ((256 − p)/256 × advert = ${skewMs.toFixed(1)} ms) rather than the master-down interval; with lowerPriority the master only advertises a lower priority: node-b, now higher, ignores those adverts and takes over when its master-down interval runs out, so it pays detection plus the master-down interval.${slower ? ' With the default check, detection alone can take longer than a dead node\'s whole failover.' : ''}`);
  }
  out.push('');
  out.push('**Targets**:');
  out.push('');
  for (const t of healthTargets(r)) out.push(`- ${t.label}: ${verdict(t.met)} (${t.detail})`);
  return out.join('\n');
}
