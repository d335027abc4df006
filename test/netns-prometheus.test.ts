import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import * as YAML from 'yaml';
import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { ALERT, keepalivedAlertRules } from '../src/core/monitoring';
import { AGENT, buildAgent } from './support/discovery';
import { LabProcess, NetnsLab, removeStaleLabs } from './support/netns';
import { bridgePortOf, setIsolated, sleep } from './support/netns-faults';
import { endToEnd, missingPrerequisite } from './support/prerequisites';

/*
 * The agent's metrics and the alert rules, proven with a real Prometheus (the Debian `prometheus`
 * server) scraping the agents of three nodes with real keepalived (testing ladder step 4). Network
 * namespaces on one LAN bridge act as the nodes (eth0, 198.51.100.1x/24); one more namespace on the
 * same LAN, `prom` (198.51.100.250), runs Prometheus with its own config, rule file (the package's
 * rules, unchanged: real `for` durations) and storage, scraping every second. Each node runs what
 * the standalone pod runs without discovery: the agent's `render`, its `run` (metrics only: no API
 * server anywhere) and keepalived with notify_fifo.
 *
 * 1. a normal failover (node-a's keepalived stops, another node takes its VIP, node-a comes back and
 *    takes it back): keepalived_vrrp_state changes on both nodes within one scrape interval, and no
 *    alert fires;
 * 2. a partition (VRRP between the nodes dropped; Prometheus still reaches them): the
 *    multiple-masters alert fires; healing resolves it;
 * 3. keepalived killed on node-c (the agent still runs): KeepalivedDown fires for node-c.
 */
const SCRAPE_MS = 1000;
const PROM_IP = '198.51.100.250';
const PORT = 9654;
const VIPS = ['198.51.100.101', '198.51.100.102', '198.51.100.103'];
const NODES = [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const;
const SCOPE = { namespace: 'keepalived', keepalived_cluster: 'prom' };

const missing = missingPrerequisite([['ip', '-V'], ['keepalived', '--version'], ['prometheus', '--version']]);
const e2e = endToEnd('Prometheus end-to-end tests', 'test/netns-prometheus.test.ts', missing);

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'prom',
  auth: false,
  nodeOrder: NODES.map(([n]) => n),
  groups: VIPS.map((vip, i) => ({
    name: `g${i}`, index: i, vrid: 71 + i, family: 4 as const, vrrpVersion: 2 as const, interface: InterfaceSelector.name('eth0')._spec,
    addresses: [{ address: `${vip}/32` }], preempt: true, advertInterval: 1,
  })),
  metrics: { port: PORT },
};

interface Pod { readonly node: string; readonly dir: string; readonly conf: string; readonly fifo: string; agent?: LabProcess; keepalived?: LabProcess }

let lab: NetnsLab | undefined;
let prometheus: LabProcess | undefined;
const pods = new Map<string, Pod>();
let failed: string | undefined;
const measured: string[] = [];

function keepalivedArgs(pod: Pod): string[] {
  return ['keepalived', '--dont-fork', '--log-console', '--no-syslog', '--log-detail', '--vrrp', '--use-file', pod.conf,
    '--pid', join(pod.dir, 'run/keepalived.pid'), '--vrrp_pid', join(pod.dir, 'run/vrrp.pid'), '--checkers_pid', join(pod.dir, 'run/checkers.pid')];
}

beforeAll(async () => {
  if (missing) return;
  const stale = removeStaleLabs();
  if (stale.length > 0) console.warn(`removed namespaces left by an earlier run: ${stale.join(', ')}`);
  buildAgent();
  lab = new NetnsLab();
  const specFile = join(lab.dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(SPEC));
  for (const [node, host] of NODES) {
    lab.addNode(node, { interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`198.51.100.${host}/24`] }] });
    const dir = join(lab.dir, `${node}-pod`);
    for (const d of ['etc', 'run']) mkdirSync(join(dir, d), { recursive: true });
    const pod: Pod = { node, dir, conf: join(dir, 'etc/keepalived.conf'), fifo: join(dir, 'run/notify.fifo') };
    const args = ['--spec', specFile, '--node-name', node, '--out', pod.conf, '--notify-fifo', pod.fifo, '--host-ip', `198.51.100.${host}`];
    lab.exec(node, [process.execPath, AGENT, 'render', ...args]);
    pod.agent = lab.startKeepalived(node, [process.execPath, AGENT, 'run', ...args, '--pid-file', join(dir, 'run/keepalived.pid')], 'agent');
    pod.keepalived = lab.startKeepalived(node, keepalivedArgs(pod), 'keepalived');
    pods.set(node, pod);
  }
  // Prometheus: its own namespace on the LAN, config, rules and storage.
  lab.addNode('prom', { interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`${PROM_IP}/24`] }] });
  const promDir = join(lab.dir, 'prometheus');
  mkdirSync(join(promDir, 'data'), { recursive: true });
  writeFileSync(join(promDir, 'rules.yaml'), YAML.stringify({ groups: keepalivedAlertRules(SCOPE) }));
  writeFileSync(join(promDir, 'prometheus.yaml'), YAML.stringify({
    global: { scrape_interval: `${SCRAPE_MS}ms`, scrape_timeout: '800ms', evaluation_interval: '1s' },
    rule_files: [join(promDir, 'rules.yaml')],
    scrape_configs: [{
      job_name: 'keepalived',
      static_configs: NODES.map(([node, host]) => ({ targets: [`198.51.100.${host}:${PORT}`], labels: { ...SCOPE, node } })),
    }],
  }));
  prometheus = lab.startKeepalived('prom', ['prometheus', `--config.file=${join(promDir, 'prometheus.yaml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`,
    '--web.listen-address=127.0.0.1:9090', '--log.level=warn'], 'prometheus');
}, 120_000);

afterAll(() => {
  if (measured.length > 0) console.log(`Prometheus end to end, measured:\n${measured.map((t) => `  ${t}`).join('\n')}`);
  lab?.cleanup();
});

/** A phase: skipped (failing) once an earlier one failed; a failure carries the lab's state and Prometheus' alerts. */
function phase(name: string, body: () => Promise<void>, timeoutMs: number): void {
  e2e(name, async () => {
    if (failed) throw new Error(`not run: the earlier phase "${failed}" failed`);
    try {
      await body();
    } catch (e) {
      failed = name;
      const err = e as Error;
      let alerts = '';
      try {
        alerts = JSON.stringify(promGet('/api/v1/alerts').alerts);
      } catch (x) {
        alerts = `(cannot read: ${(x as Error).message})`;
      }
      const promLog = prometheus && existsSync(prometheus.log) ? readFileSync(prometheus.log, 'utf8').split('\n').slice(-15).join('\n') : '';
      const wrapped = new Error(`${err.message}\nalerts: ${alerts}\nprometheus log:\n${promLog}\n${lab!.report(25)}`);
      wrapped.stack = `${wrapped.message}\n${err.stack?.split('\n').slice(1).join('\n') ?? ''}`;
      throw wrapped;
    }
  }, timeoutMs);
}

const FETCH = 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(e.message); process.exit(1); })';

/** GET on Prometheus' API, from inside its namespace; the `data` of the answer. */
function promGet(path: string): any {
  const out = lab!.exec('prom', [process.execPath, '-e', FETCH, `http://127.0.0.1:9090${path}`]);
  const answer = JSON.parse(out);
  if (answer.status !== 'success') throw new Error(`Prometheus ${path}: ${out}`);
  return answer.data;
}

/** An instant query's vector: labels and value per series. */
function query(expr: string): { labels: Record<string, string>; value: number }[] {
  return (promGet(`/api/v1/query?query=${encodeURIComponent(expr)}`).result as { metric: Record<string, string>; value: [number, string] }[])
    .map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** Raw samples of a series selector over the last `seconds`: [time in ms, value] per series. */
function samples(selector: string, seconds: number): { labels: Record<string, string>; values: [number, number][] }[] {
  return (promGet(`/api/v1/query?query=${encodeURIComponent(`${selector}[${seconds}s]`)}`).result as { metric: Record<string, string>; values: [number, string][] }[])
    .map((r) => ({ labels: r.metric, values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]) }));
}

interface Alert { labels: Record<string, string>; state: string; activeAt: string }
const alerts = (): Alert[] => promGet('/api/v1/alerts').alerts;
const firing = (): Alert[] => alerts().filter((a) => a.state === 'firing');

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined; // Prometheus still starting
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Who holds a VIP (by `ip addr`), polled quickly; the wall-clock time it was first seen there. */
async function heldBy(vip: string, node: string | ((holders: string[]) => boolean), timeoutMs: number): Promise<{ holders: string[]; at: number }> {
  const ok = typeof node === 'string' ? (h: string[]) => h.length === 1 && h[0] === node : node;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holders = lab!.holders(vip);
    if (ok(holders)) return { holders, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${vip}'s holder (now ${holders.join(', ') || 'nobody'})`);
    await sleep(20);
  }
}

/** The first sample at or after `since` (ms) whose value is `value`, for a node's series of a VIP. */
function firstSampleWith(vip: string, node: string, value: number, since: number): number | undefined {
  const series = samples(`keepalived_vrrp_state{ip_address="${vip}",node="${node}"}`, 30)[0];
  return series?.values.find(([t, v]) => t >= since - SCRAPE_MS && v === value)?.[0];
}

phase('start: Prometheus scrapes three agents; each VIP has exactly one master', async () => {
  await until('Prometheus scraping all three agents', () => query('up{job="keepalived"} == 1').length === 3, 60_000);
  await until('one master per VIP in Prometheus', () => {
    const masters = query(`count by (ip_address) (keepalived_vrrp_state{${'namespace="keepalived"'}} == 2)`);
    return masters.length === 3 && masters.every((m) => m.value === 1);
  }, 30_000);
  expect(query('keepalived_up').map((s) => s.value)).toEqual([1, 1, 1]);
  // the master of VIP 0 is the first node of the order, as Prometheus sees it
  expect(query(`keepalived_vrrp_state{ip_address="${VIPS[0]}"} == 2`).map((s) => s.labels.node)).toEqual(['node-a']);
  expect(lab!.holders(VIPS[0])).toEqual(['node-a']);
}, 120_000);

phase('a normal failover changes keepalived_vrrp_state on both nodes within one scrape interval, and fires nothing', async () => {
  const podA = pods.get('node-a')!;
  // WHEN node-a's keepalived stops (SIGTERM, as on a rolling update)
  lab!.kill('node-a', 'graceful');
  const moved = await heldBy(VIPS[0], (h) => h.length === 1 && h[0] !== 'node-a', 10_000);
  const takeover = moved.holders[0];
  // THEN Prometheus sees the new master within one scrape interval of the move
  const newMasterAt = await until('the new master in Prometheus', () => firstSampleWith(VIPS[0], takeover, 2, moved.at), 10_000);
  const lagTakeover = newMasterAt - moved.at;
  expect(lagTakeover).toBeLessThanOrEqual(SCRAPE_MS + 500);
  await until('node-a\'s keepalived_up 0', () => query('keepalived_up{node="node-a"} == 0').length === 1, 5000);
  await podA.keepalived!.exited;

  // WHEN node-a's keepalived comes back: BACKUP, then it takes VIP 0 back (preempt)
  podA.keepalived = lab!.startKeepalived('node-a', keepalivedArgs(podA), 'keepalived');
  const back = await heldBy(VIPS[0], 'node-a', 20_000);
  // THEN both nodes' states change within one scrape interval: node-a 1 -> 2, the other 2 -> 1
  const aMasterAt = await until('node-a MASTER in Prometheus', () => firstSampleWith(VIPS[0], 'node-a', 2, back.at), 10_000);
  const otherBackupAt = await until(`${takeover} BACKUP in Prometheus`, () => firstSampleWith(VIPS[0], takeover, 1, back.at), 10_000);
  expect(aMasterAt - back.at).toBeLessThanOrEqual(SCRAPE_MS + 500);
  expect(otherBackupAt - back.at).toBeLessThanOrEqual(SCRAPE_MS + 500);
  measured.push(`failover to ${takeover}: in Prometheus ${lagTakeover} ms after the VIP moved; back to node-a: node-a MASTER ${aMasterAt - back.at} ms, `
    + `${takeover} BACKUP ${otherBackupAt - back.at} ms after (scrape interval ${SCRAPE_MS} ms)`);

  // AND nothing fires, for longer than the longest `for` of the alerts that could (1m)
  const until65s = Date.now() + 65_000;
  const seenPending = new Set<string>();
  while (Date.now() < until65s) {
    const now = alerts();
    for (const a of now.filter((x) => x.state === 'pending')) seenPending.add(a.labels.alertname);
    expect(now.filter((a) => a.state === 'firing')).toEqual([]);
    await sleep(2000);
  }
  measured.push(`normal failover: no alert fired in 65 s (pending for a moment: ${[...seenPending].sort().join(', ') || 'none'})`);
  expect(query('count by (ip_address) (keepalived_vrrp_state == 2)').map((m) => m.value)).toEqual([1, 1, 1]);
}, 150_000);

phase('a partition (VRRP dropped between the nodes) fires the multiple-masters alert; healing resolves it', async () => {
  const ports = NODES.map(([node]) => bridgePortOf(lab!, node, 'eth0'));
  const t0 = Date.now();
  setIsolated(lab!, ports, true);
  try {
    await heldBy(VIPS[0], (h) => h.length === 3, 15_000);
    const split = await until(`${ALERT.splitBrain} firing`, () => {
      const f = firing().filter((a) => a.labels.alertname === ALERT.splitBrain);
      return f.length === 3 ? f : undefined;
    }, 100_000, 1000);
    expect(split.map((a) => a.labels.ip_address).sort()).toEqual(VIPS);
    expect(split.map((a) => a.labels.iname).sort()).toEqual(['prom_g0', 'prom_g1', 'prom_g2']);
    for (const a of split) expect(a.labels).toMatchObject({ ...SCOPE, severity: 'critical' });
    measured.push(`partition: ${ALERT.splitBrain} firing for all 3 VIPs ${Date.now() - t0} ms after VRRP was cut (for: 1m)`);
  } finally {
    setIsolated(lab!, ports, false);
  }
  const healedAt = Date.now();
  await until(`${ALERT.splitBrain} resolved`, () => firing().every((a) => a.labels.alertname !== ALERT.splitBrain), 20_000, 500);
  measured.push(`healed: ${ALERT.splitBrain} resolved ${Date.now() - healedAt} ms later`);
  for (const vip of VIPS) await heldBy(vip, (h) => h.length === 1, 10_000);
}, 150_000);

phase('keepalived killed on node-c (its agent still answers) fires KeepalivedDown for node-c', async () => {
  const pod = pods.get('node-c')!;
  const pid = pod.keepalived!.pid;
  const t0 = Date.now();
  for (const child of lab!.childrenOf(pid)) process.kill(child, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  await pod.keepalived!.exited;
  await until('keepalived_up 0 on node-c', () => query('keepalived_up{node="node-c"} == 0').length === 1, 5000);
  // its VRRP states are gone: a dead keepalived's MASTER does not count
  expect(query('keepalived_vrrp_state{node="node-c"}')).toEqual([]);
  const down = await until(`${ALERT.keepalivedDown} firing`, () => {
    const f = firing().filter((a) => a.labels.alertname === ALERT.keepalivedDown);
    return f.length > 0 ? f : undefined;
  }, 90_000, 1000);
  expect(down.map((a) => a.labels.node)).toEqual(['node-c']);
  expect(down[0].labels).toMatchObject({ ...SCOPE, severity: 'warning', node: 'node-c' });
  // the agent itself is up: no agent-down alert, and the other VIPs each have one master
  expect(query('up{node="node-c"}').map((s) => s.value)).toEqual([1]);
  expect(firing().filter((a) => a.labels.alertname === ALERT.agentDown)).toEqual([]);
  measured.push(`keepalived killed on node-c: ${ALERT.keepalivedDown} firing ${Date.now() - t0} ms later (for: 1m)`);
}, 120_000);
