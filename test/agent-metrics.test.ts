import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { grafanaDashboard, keepalivedAlertRules, METRIC } from '../src/core/monitoring';
import { FakeApiServer, writeServiceAccount } from './support/fake-apiserver';
import { AgentProcess, buildAgent, FakeKeepalived, NodeFixture, runAgentOnce, sleep, writeFifoLine, writeNodeFixture } from './support/discovery';
import { freePort, metricNamesIn, samplesOf, Scrape, scrape, valueOf } from './support/metrics-scrape';

/*
 * The bundled agent's `run` as a metrics endpoint, next to a fake keepalived (a process named
 * keepalived with a pid file and a notify fifo) with state lines written into the real fifo:
 * without discovery (no API server at all) and with it (a fake API server over TLS). The names the
 * live scrapes declare are the ground truth for the dashboard and the alert rules.
 */
const TOKEN = 'metrics-token';
const EDGE = 'node-role.kubernetes.io/edge';

const GROUPS: AgentSpec['groups'] = [
  { name: 'front', index: 0, vrid: 10, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
    addresses: [{ address: '198.51.100.100/32' }, { address: '198.51.100.110/32' }], preempt: true, advertInterval: 1 },
  { name: 'back', index: 1, vrid: 11, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
    addresses: [{ address: '198.51.100.101/32' }], preempt: true, advertInterval: 1 },
];

let tmp: string;
let fixture: NodeFixture;
let server: FakeApiServer;
let sa: string;
const started: { agents: AgentProcess[]; keepaliveds: FakeKeepalived[] } = { agents: [], keepaliveds: [] };
/** The names each live scrape declared, for the dashboard test. */
const liveNames = new Set<string>();
let podCount = 0;

beforeAll(async () => {
  buildAgent();
  tmp = mkdtempSync(join(tmpdir(), 'agent-metrics-'));
  fixture = writeNodeFixture(join(tmp, 'node-a'), 11);
  server = await FakeApiServer.start({ dir: join(tmp, 'apiserver'), token: TOKEN });
  sa = join(tmp, 'serviceaccount');
  writeServiceAccount(sa, { token: TOKEN, caPem: server.caPem, namespace: 'keepalived' });
}, 30_000);

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(started.agents.map((a) => a.kill()));
  await Promise.all(started.keepaliveds.map((k) => k.stop()));
  started.agents = [];
  started.keepaliveds = [];
});

interface Pod {
  readonly dir: string;
  readonly conf: string;
  readonly pidFile: string;
  readonly fifo: string;
  readonly port: number;
  keepalived?: FakeKeepalived;
  agent: AgentProcess;
}

async function startPod(spec: AgentSpec, options: { portFlag?: boolean } = {}): Promise<Pod> {
  const dir = join(tmp, `pod-${++podCount}`);
  for (const d of ['etc', 'run', 'state']) mkdirSync(join(dir, d), { recursive: true });
  const port = await freePort();
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(options.portFlag ? spec : { ...spec, metrics: { port, address: '127.0.0.1' } }));
  const paths = { dir, conf: join(dir, 'etc/keepalived.conf'), pidFile: join(dir, 'run/keepalived.pid'), fifo: join(dir, 'run/notify.fifo') };
  const args = ['--spec', specFile, '--node-name', 'node-a', '--out', paths.conf, '--notify-fifo', paths.fifo, '--state-dir', join(dir, 'state'),
    '--host-ip', '198.51.100.11', '--interfaces-json', fixture.interfacesJson, '--service-account-dir', sa];
  const env = { ...server.env, KEEPALIVED_AGENT_PROC: fixture.procRoot };
  const render = await runAgentOnce(['render', ...args], env);
  if (render.status !== 0) throw new Error(`render failed: ${render.stdout}${render.stderr}`);
  const keepalived = new FakeKeepalived(dir, paths.pidFile, paths.fifo);
  started.keepaliveds.push(keepalived);
  await keepalived.started();
  const agent = new AgentProcess(['run', ...args, '--pid-file', paths.pidFile, '--retry-ms', '100', '--api-backoff-ms', '400',
    ...(options.portFlag ? ['--metrics-port', String(port), '--metrics-address', '127.0.0.1'] : [])], env);
  started.agents.push(agent);
  await agent.waitFor(new RegExp(`serving Prometheus metrics on 127\\.0\\.0\\.1:${port}/metrics`));
  return { ...paths, port, keepalived, agent };
}

async function scrapeOf(pod: Pod): Promise<Scrape> {
  const s = await scrape(pod.port);
  for (const n of s.declared) liveNames.add(n);
  return s;
}

const STATIC_SPEC: AgentSpec = { version: 1, cluster: 'edge', auth: false, nodeOrder: ['node-a', 'node-b'], groups: GROUPS };

describe('without discovery (no API server)', () => {
  test('states from the notify fifo with the exporter\'s labels; counters; keepalived_up; nothing while keepalived is down', async () => {
    const apiRequests = server.requests.length;
    const pod = await startPod(STATIC_SPEC);
    expect(readFileSync(pod.conf, 'utf8')).toContain(`notify_fifo ${pod.fifo}`);
    await pod.agent.waitFor(/reading keepalived's state changes/);

    // GIVEN keepalived ran before the agent and the node holds none of the VIPs: BACKUP, inferred
    let s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.up)).toBe(1);
    expect(samplesOf(s, METRIC.vrrpState).map((x) => x.labels).sort((a, b) => a.ip_address.localeCompare(b.ip_address))).toEqual([
      { iname: 'edge_front', intf: 'eth0', vrid: '10', ip_address: '198.51.100.100' },
      { iname: 'edge_back', intf: 'eth0', vrid: '11', ip_address: '198.51.100.101' },
      { iname: 'edge_front', intf: 'eth0', vrid: '10', ip_address: '198.51.100.110' },
    ]);
    expect(samplesOf(s, METRIC.vrrpState).map((x) => x.value)).toEqual([1, 1, 1]);
    expect(valueOf(s, METRIC.priority, { iname: 'edge_front' })).toBe(250);
    expect(valueOf(s, METRIC.becomeMaster, { iname: 'edge_front', intf: 'eth0', vrid: '10' })).toBe(0);
    expect(valueOf(s, METRIC.configSource, { source: 'static' })).toBe(1);
    expect(valueOf(s, METRIC.configSource, { source: 'api' })).toBe(0);
    expect(valueOf(s, METRIC.discoveryEnabled)).toBe(0);
    expect(s.declared.has(METRIC.apiWatchUp)).toBe(false);

    // WHEN keepalived says front is MASTER, then BACKUP, then MASTER again
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    await waitForValue(pod, METRIC.vrrpState, { ip_address: '198.51.100.110' }, 2);
    s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.vrrpState, { ip_address: '198.51.100.100' })).toBe(2);
    expect(valueOf(s, METRIC.vrrpState, { ip_address: '198.51.100.101' })).toBe(1);
    expect(valueOf(s, METRIC.reportedPriority, { iname: 'edge_front' })).toBe(250);
    writeFifoLine(pod.fifo, 'INSTANCE "other_cluster" MASTER 100');
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" BACKUP 250');
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 252');
    await waitForValue(pod, METRIC.becomeMaster, { iname: 'edge_front' }, 2);
    s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.releaseMaster, { iname: 'edge_front' })).toBe(1);
    expect(valueOf(s, METRIC.reportedPriority, { iname: 'edge_front' })).toBe(252);
    expect(valueOf(s, METRIC.notifyEvents)).toBe(3); // the other cluster's line is not counted
    writeFifoLine(pod.fifo, 'INSTANCE "edge_back" FAULT 249');
    await waitForValue(pod, METRIC.vrrpState, { ip_address: '198.51.100.101' }, 3);

    // WHEN keepalived stops: keepalived_up 0, and no VRRP state at all (a dead MASTER is no master)
    await pod.keepalived!.stop();
    await waitForValue(pod, METRIC.up, {}, 0);
    s = await scrapeOf(pod);
    expect(samplesOf(s, METRIC.vrrpState)).toEqual([]);
    expect(samplesOf(s, METRIC.reportedPriority)).toEqual([]);
    expect(valueOf(s, METRIC.becomeMaster, { iname: 'edge_front' })).toBe(2);

    // WHEN a new keepalived starts: INIT until it speaks; its first MASTER counts as a change
    const again = new FakeKeepalived(pod.dir, pod.pidFile, pod.fifo);
    started.keepaliveds.push(again);
    await again.started();
    await waitForValue(pod, METRIC.up, {}, 1);
    s = await scrapeOf(pod);
    expect(samplesOf(s, METRIC.vrrpState).map((x) => x.value)).toEqual([0, 0, 0]);
    await sleep(300); // the reader finds the new fifo
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    await waitForValue(pod, METRIC.becomeMaster, { iname: 'edge_front' }, 3);
    expect(valueOf(await scrapeOf(pod), METRIC.vrrpState, { ip_address: '198.51.100.100' })).toBe(2);

    // The endpoint serves /metrics only
    expect((await fetch(`http://127.0.0.1:${pod.port}/other`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${pod.port}/metrics`, { method: 'POST' })).status).toBe(405);
    expect(server.requests.length).toBe(apiRequests); // the API was never asked
    const stop = await pod.agent.terminate();
    expect(stop.code).toBe(0);
  }, 30_000);

  test('--metrics-port and --metrics-address serve metrics without spec.metrics; a port in use is said and tried again, the agent runs on (a native sidecar that exits keeps keepalived from starting); a bad one exits 2', async () => {
    const pod = await startPod(STATIC_SPEC, { portFlag: true });
    expect(valueOf(await scrapeOf(pod), METRIC.up)).toBe(1);
    await pod.agent.waitFor(/--metrics-port without spec\.metrics: render puts notify_fifo in keepalived\.conf only with spec\.metrics/);

    // a second agent on the same port: it says so, runs on, and tries again until the port is free
    const specFile = join(pod.dir, 'spec.json');
    const busy = new AgentProcess(['run', '--spec', specFile, '--node-name', 'node-a', '--out', join(pod.dir, 'x.conf'), '--pid-file', pod.pidFile,
      '--interfaces-json', fixture.interfacesJson, '--metrics-port', String(pod.port), '--metrics-address', '127.0.0.1', '--retry-ms', '100'], {});
    started.agents.push(busy);
    await busy.waitFor(new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${pod.port}: .*EADDRINUSE.*; keepalived runs on without them, tried again in`), 8000, 2);
    expect(busy.exit).toBeUndefined();
    expect((await pod.agent.terminate()).code).toBe(0);
    await busy.waitFor(new RegExp(`serving Prometheus metrics on 127\\.0\\.0\\.1:${pod.port}/metrics`), 8000);
    expect(valueOf(await scrape(pod.port), METRIC.up)).toBe(1);
    expect((await busy.terminate()).code).toBe(0);

    for (const [flag, value] of [['--metrics-port', '80'], ['--metrics-port', '70000'], ['--metrics-port', 'x'], ['--metrics-address', 'localhost']]) {
      const r = await runAgentOnce(['run', '--spec', specFile, '--node-name', 'node-a', '--out', join(pod.dir, 'x.conf'), '--pid-file', pod.pidFile, flag, value], {});
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`keepalived-agent: ${flag} "${value}"`);
    }
    // ... and a bad port in the spec exits 1
    const badSpec = join(pod.dir, 'bad-spec.json');
    writeFileSync(badSpec, JSON.stringify({ ...STATIC_SPEC, metrics: { port: 22 } }));
    const bad = await runAgentOnce(['run', '--spec', badSpec, '--node-name', 'node-a', '--out', join(pod.dir, 'x.conf'), '--pid-file', pod.pidFile], {});
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/spec\.metrics\.port 22 is not a TCP port the agent can listen on .*1024 to 65535/);
  }, 30_000);
});

describe('with discovery', () => {
  test('API watch health, nodes, renders from the API, Lease writes and held Leases', async () => {
    server.reset(TOKEN);
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const) server.addNode({ name: n, labels: { [EDGE]: '' }, internalIPv4: `198.51.100.${h}` });
    const spec: AgentSpec = {
      ...STATIC_SPEC,
      discovery: { nodeSelector: { [EDGE]: '' }, namespace: 'keepalived', leases: true, leasePrefix: 'edge', leaseDurationSeconds: 3, unicast: true, minReloadIntervalSeconds: 1 },
    };
    const pod = await startPod(spec);
    expect(readFileSync(`${pod.conf}.source`, 'utf8')).toMatch(/"source":"api"/);
    await pod.agent.waitFor(/node set: 3 nodes from the API/);
    let s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.discoveryEnabled)).toBe(1);
    expect(valueOf(s, METRIC.apiWatchUp)).toBe(1);
    expect(valueOf(s, METRIC.discoveredNodes)).toBe(3);
    expect(valueOf(s, METRIC.configRenders, { source: 'api' })).toBe(1);
    expect(valueOf(s, METRIC.configSource, { source: 'api' })).toBe(1);

    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    await waitForValue(pod, METRIC.leaseHeld, { group: 'front' }, 1);
    s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.leaseHeld, { group: 'back' })).toBe(0);
    expect(valueOf(s, METRIC.leaseWrites, { group: 'front', operation: 'hold', result: 'ok' })).toBeGreaterThanOrEqual(1);

    // a node joins: a render and a reload
    server.addNode({ name: 'node-d', labels: { [EDGE]: '' }, internalIPv4: '198.51.100.14' });
    await waitForValue(pod, METRIC.configReloads, {}, 1);
    s = await scrapeOf(pod);
    expect(valueOf(s, METRIC.configRenders, { source: 'api' })).toBe(2);
    expect(valueOf(s, METRIC.discoveredNodes)).toBe(4);

    // the API goes away: the watch is down and its errors are counted
    await server.close();
    await waitForValue(pod, METRIC.apiWatchUp, {}, 0, 10_000);
    expect(valueOf(await scrapeOf(pod), METRIC.apiWatchErrors)).toBeGreaterThanOrEqual(1);
    server = await FakeApiServer.start({ dir: join(tmp, 'apiserver2'), token: TOKEN });
  }, 40_000);
});

describe('the dashboard and the alert rules use only names the agent exports', () => {
  const nonAgent = new Set(['up']); // Prometheus' own per-target series

  test('every panel query of the dashboard', () => {
    expect(liveNames.size).toBeGreaterThan(15); // the scrapes above ran
    const dashboard = grafanaDashboard() as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query?: unknown }[] } };
    const used = new Map<string, string>();
    for (const p of dashboard.panels) for (const t of p.targets) for (const n of metricNamesIn(t.expr)) used.set(n, p.title);
    for (const v of dashboard.templating.list) {
      const q = (v.query as { query?: string } | undefined)?.query;
      if (q) for (const n of metricNamesIn(q.replace(/^label_values\((.*),\s*\w+\)$/, '$1'))) used.set(n, 'a variable');
    }
    const unknown = [...used].filter(([n]) => !liveNames.has(n));
    expect(unknown).toEqual([]);
    // and the core of it is there: state, failovers, keepalived, health checks
    expect([...used.keys()]).toEqual(expect.arrayContaining([METRIC.vrrpState, METRIC.becomeMaster, METRIC.up, METRIC.healthCheckUp]));
  });

  test('every alert rule expression', () => {
    const used = keepalivedAlertRules({ namespace: 'n', keepalived_cluster: 'c' }).flatMap((g) => g.rules.flatMap((r) => metricNamesIn(r.expr)));
    expect(used.filter((n) => !liveNames.has(n) && !nonAgent.has(n))).toEqual([]);
  });

  test('the name extractor finds names and only names', () => {
    expect(metricNamesIn('sum by (node, source) (increase(keepalived_agent_config_renders_total{a="b",c=~"x|y"}[$__rate_interval])) > 1e3 and on(x) up == 0')).toEqual(['keepalived_agent_config_renders_total', 'up']);
    expect(metricNamesIn('(max by (ip_address) (keepalived_vrrp_state{n="$namespace"}) < 2) or absent(foo_bar[5m] offset 1m)')).toEqual(['foo_bar', 'keepalived_vrrp_state']);
  });
});

async function waitForValue(pod: Pod, name: string, match: Record<string, string>, value: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: number | undefined;
  for (;;) {
    last = valueOf(await scrapeOf(pod), name, match);
    if (last === value) return;
    if (Date.now() > deadline) throw new Error(`${name}${JSON.stringify(match)} is ${last}, not ${value}, after ${timeoutMs} ms\n${pod.agent.text}`);
    await sleep(50);
  }
}
