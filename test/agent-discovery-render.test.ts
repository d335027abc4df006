import { spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { createServer, Server, Socket } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { AgentSpec } from '../src/core/agent-spec';
import { deriveDiscoveredView, DiscoveredNode } from '../src/core/discovered-nodes';
import { InterfaceSelector } from '../src/core/interface-selector';
import { renderKeepalivedConf } from '../src/core/keepalived-conf';
import { saveNodeSet } from '../src/agent/discovery-state';
import { loadConfigSource } from '../src/agent/render-command';
import { NodeView } from '../src/core/node-view';
import { FakeApiServer, FakeNodeSpec, writeServiceAccount } from './support/fake-apiserver';
import { AGENT, buildAgent, NodeFixture, writeNodeFixture } from './support/discovery';

/*
 * `keepalived-agent render` (the init container) in discovery mode, run as the bundled file against a
 * fake API server over real TLS, with the service account laid out as the kubelet does: one list of
 * the Nodes within a bounded time; on failure the last node set saved in --state-dir; else the
 * static fallback; and a line that says which one it used.
 */
const TOKEN = 'render-token';
const EDGE = 'node-role.kubernetes.io/edge';
const SELECTOR = { [EDGE]: '' };

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  nodeOrder: ['node-b', 'node-a'],
  unicastPeers: ['198.51.100.11', '198.51.100.12', '2001:db8:1::11', '2001:db8:1::12'],
  auth: false,
  groups: [
    { name: 'front', index: 0, vrid: 10, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '198.51.100.100/32' }], preempt: true, advertInterval: 1 },
    { name: 'v6', index: 1, vrid: 11, family: 6, vrrpVersion: 3, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '2001:db8:1::100/64' }], preempt: true, advertInterval: 1 },
  ],
  discovery: {
    nodeSelector: SELECTOR, namespace: 'keepalived', leases: true, leasePrefix: 'edge',
    leaseDurationSeconds: 15, unicast: true, minReloadIntervalSeconds: 5,
  },
};

const VIEW: NodeView = {
  interfaces: [
    { name: 'eth0', addresses: ['198.51.100.11/24', '2001:db8:1::11/64'] },
    { name: 'lo', addresses: ['127.0.0.1/8'] },
  ],
  defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth0' }],
};

const fakeNode = (name: string, host: number, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec => ({
  name, labels: { [EDGE]: '' }, internalIPv4: `198.51.100.${host}`, internalIPv6: `2001:db8:1::${host}`, ...extra,
});
const info = (name: string, host: number, extra: Partial<DiscoveredNode> = {}): DiscoveredNode => ({
  name, internalIPv4: `198.51.100.${host}`, internalIPv6: `2001:db8:1::${host}`, ready: true, unschedulable: false, ...extra,
});

let tmp: string;
let server: FakeApiServer;
let sa: string;
let fixture: NodeFixture;
let specFile: string;
let count = 0;

beforeAll(async () => {
  buildAgent();
  tmp = mkdtempSync(join(tmpdir(), 'agent-discovery-render-'));
  server = await FakeApiServer.start({ dir: join(tmp, 'apiserver'), token: TOKEN });
  sa = join(tmp, 'serviceaccount');
  writeServiceAccount(sa, { token: TOKEN, caPem: server.caPem, namespace: 'keepalived' });
  fixture = writeNodeFixture(join(tmp, 'node-a'), 11);
  specFile = join(tmp, 'spec.json');
  writeFileSync(specFile, JSON.stringify(SPEC));
}, 30_000);

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset(TOKEN);
});

function dirs(): { out: string; state: string } {
  const dir = join(tmp, `run-${++count}`);
  return { out: join(dir, 'etc', 'keepalived.conf'), state: join(dir, 'state') };
}

/**
 * Runs the agent's render; asynchronously, since the fake API server answers from this process.
 */
async function render(out: string, extra: string[] = [], env: Record<string, string | undefined> = server.env, spec = specFile, withServiceAccount = true) {
  mkdirSync(join(out, '..'), { recursive: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, [AGENT, 'render', '--spec', spec, '--node-name', 'node-a', '--out', out,
    '--host-ip', '198.51.100.11', '--interfaces-json', fixture.interfacesJson, ...(withServiceAccount ? ['--service-account-dir', sa] : []), ...extra],
  { env: { ...process.env, KEEPALIVED_AGENT_PROC: fixture.procRoot, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr, ms: performance.now() - t0 };
}

function expected(nodes: DiscoveredNode[] | undefined, notifyFifo?: string): string {
  const discovered = nodes && deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-a', hostIp: '198.51.100.11' });
  return renderKeepalivedConf(SPEC, VIEW, { nodeName: 'node-a', hostIp: '198.51.100.11', notifyFifo }, discovered);
}

test('from the API: renders from the listed nodes (selector applied), records them next to the config, and says so', async () => {
  // GIVEN three edge nodes and a worker the selector leaves out
  server.addNode(fakeNode('node-a', 11));
  server.addNode(fakeNode('node-b', 12, { unschedulable: true }));
  server.addNode(fakeNode('node-c', 13, { ready: false }));
  server.addNode({ name: 'worker-1', internalIPv4: '198.51.100.21' });
  const { out, state } = dirs();
  // WHEN
  const r = await render(out, ['--state-dir', state, '--notify-fifo', '/run/keepalived/notify.fifo']);
  // THEN
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe('keepalived-agent: rendered from the API (3 nodes)');
  expect(lines[1]).toMatch(/^keepalived-agent: wrote .*keepalived\.conf for node node-a \(cluster edge\): front on eth0 priority 250 \(master\); v6 on eth0 priority 247 \(backup\)$/);
  const nodes = [info('node-a', 11), info('node-b', 12, { unschedulable: true }), info('node-c', 13, { ready: false })];
  const config = readFileSync(out, 'utf8');
  expect(config).toBe(expected(nodes, '/run/keepalived/notify.fifo'));
  // The static order (node-b first) is overridden: node-b is cordoned, so it goes last.
  expect(config).toContain('unicast_peer {\n        198.51.100.12\n        198.51.100.13\n    }');
  expect(config).toContain('notify_fifo /run/keepalived/notify.fifo');
  // The set the config came from, for run's guard; the node's state directory is run's to write
  // (render may run as a user that cannot)
  expect(loadConfigSource(out)).toEqual({ source: 'api', nodes });
  expect(server.nodeRequests('list')).toHaveLength(1);
  expect(server.nodeRequests('list')[0].query.labelSelector).toBe(`${EDGE}=`);
  expect(existsSync(state)).toBe(false);
});

test('API away: renders from the last known node set in --state-dir, then without it from the static fallback; logs which', async () => {
  // GIVEN a config rendered from the API, and its node set saved (by run, once it passed its guard)
  server.addNode(fakeNode('node-a', 11));
  server.addNode(fakeNode('node-c', 13));
  const { out, state } = dirs();
  expect((await render(out, ['--state-dir', state])).status).toBe(0);
  const fromApi = readFileSync(out, 'utf8');
  saveNodeSet(state, SPEC, loadConfigSource(out)!.nodes!);
  await server.goDown();
  try {
    // WHEN the API is away
    const saved = await render(out, ['--state-dir', state]);
    // THEN the saved node set, with where and when it was saved, and why
    expect(saved.status).toBe(0);
    expect(saved.stdout.split('\n')[0]).toMatch(new RegExp(
      `^keepalived-agent: rendered from the last known node set saved at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z in ${state}/nodes\\.json \\(2 nodes\\); the API was unreachable: .*ECONNREFUSED`));
    expect(readFileSync(out, 'utf8')).toBe(fromApi);
    expect(fromApi).toBe(expected([info('node-a', 11), info('node-c', 13)]));

    // WHEN there is no saved node set either
    const other = dirs();
    const fallback = await render(other.out, ['--state-dir', other.state]);
    // THEN the spec's static nodeOrder and unicastPeers
    expect(fallback.status).toBe(0);
    expect(fallback.stdout.split('\n')[0]).toMatch(/^keepalived-agent: rendered from the static fallback \(the API was unreachable: .*ECONNREFUSED.*; no node set was saved at .*nodes\.json\): spec\.nodeOrder \(2 nodes\) and spec\.unicastPeers$/);
    expect(readFileSync(other.out, 'utf8')).toBe(expected(undefined));
    expect(existsSync(other.state)).toBe(false);

    // And without --state-dir at all
    const bare = await render(dirs().out);
    expect(bare.stdout.split('\n')[0]).toMatch(/^keepalived-agent: rendered from the static fallback \(the API was unreachable: .*; no --state-dir was given\)/);
  } finally {
    await server.comeBack();
  }
});

test('a node set saved for another selector is not used', async () => {
  const { out, state } = dirs();
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'nodes.json'), JSON.stringify({ version: 1, savedAt: '2026-01-01T00:00:00.000Z', cluster: 'edge', nodeSelector: { other: 'x' }, nodes: [info('node-z', 99)] }));
  const r = await render(out, ['--state-dir', state], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' });
  expect(r.stdout.split('\n')[0]).toMatch(/static fallback .*was saved for cluster "edge" with nodeSelector \[\["other","x"\]\], not this spec's/);
});

describe('the API is tried once, within a bounded time', () => {
  let silent: Server;
  let port: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a black-holed API server.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test('--api-timeout-ms bounds the wait', async () => {
    const r = await render(dirs().out, [], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) }, specFile);
    // (default 5 s: measured in the next test)
    expect(r.status).toBe(0);
    const fast = await render(dirs().out, ['--api-timeout-ms', '300'], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) });
    expect(fast.status).toBe(0);
    expect(fast.stdout).toMatch(/static fallback \(the API was unreachable: no answer from 127\.0\.0\.1:\d+ within 300 ms/);
    expect(fast.ms).toBeLessThan(2500);
    expect(r.stdout).toMatch(/within 5000 ms/);
    expect(r.ms).toBeGreaterThanOrEqual(4900);
    expect(r.ms).toBeLessThan(8000);
  }, 20_000);
});

test('outside a pod (no KUBERNETES_SERVICE_HOST): the static fallback, saying why', async () => {
  const r = await render(dirs().out, [], { KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined }, specFile, false);
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n')[0]).toBe('keepalived-agent: rendered from the static fallback (the API was unreachable: not running in a pod: '
    + 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set; no --state-dir was given): spec.nodeOrder (2 nodes) and spec.unicastPeers');
});

test('notify_fifo only with discovery.leases; without discovery, --state-dir and --notify-fifo change nothing', async () => {
  server.addNode(fakeNode('node-a', 11));
  const noLeases = join(tmp, 'spec-no-leases.json');
  writeFileSync(noLeases, JSON.stringify({ ...SPEC, discovery: { ...SPEC.discovery, leases: false } }));
  const a = dirs();
  expect((await render(a.out, ['--notify-fifo', '/run/keepalived/notify.fifo'], server.env, noLeases)).status).toBe(0);
  expect(readFileSync(a.out, 'utf8')).not.toContain('notify_fifo');

  const staticSpec = join(tmp, 'spec-static.json');
  const { discovery: _d, ...rest } = SPEC;
  writeFileSync(staticSpec, JSON.stringify(rest));
  const b = dirs();
  const requestsBefore = server.requests.length;
  const r = await render(b.out, ['--notify-fifo', '/run/keepalived/notify.fifo', '--state-dir', b.state], server.env, staticSpec);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^keepalived-agent: wrote .* for node node-a \(cluster edge\): front on eth0 priority 247 \(backup\); v6 on eth0 priority 250 \(master\)\n$/);
  expect(readFileSync(b.out, 'utf8')).toBe(renderKeepalivedConf(rest as AgentSpec, VIEW, { nodeName: 'node-a', hostIp: '198.51.100.11' }));
  expect(existsSync(b.state)).toBe(false);
  expect(server.requests).toHaveLength(requestsBefore); // without discovery, the API is not asked
});

test('a render error from the API\'s node set exits 1 and writes nothing', async () => {
  // node-a has no IPv6 InternalIP and --host-ip is IPv4: the IPv6 group has no unicast source.
  server.addNode(fakeNode('node-a', 11, { internalIPv6: undefined }));
  server.addNode(fakeNode('node-b', 12));
  const { out } = dirs();
  const r = await render(out);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('group "v6": discovery.unicast: this node has no IPv6 address to send adverts from');
  expect(existsSync(out)).toBe(false);
});
