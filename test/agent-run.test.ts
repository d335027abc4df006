import { ChildProcess, spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { inClusterConfig, KubeClient, KubeNotFoundError } from '../src/agent/kube-client';
import { Lease } from '../src/agent/leases';
import { saveNodeSet } from '../src/agent/discovery-state';
import { FakeApiServer, FakeNodeSpec, writeServiceAccount } from './support/fake-apiserver';
import {
  AgentProcess, buildAgent, eventually, FakeKeepalived, NodeFixture, runAgentOnce, sleep, until, writeFifoLine, writeNodeFixture,
} from './support/discovery';

/*
 * `keepalived-agent run`, the discovery sidecar, as the bundled file: against a fake API server over
 * real TLS, on a real file system, next to a fake keepalived (a process named keepalived that writes
 * its pid file, counts SIGHUPs, and makes its notify fifo anew on each one, as keepalived does), with
 * state lines written into that real fifo as keepalived writes them.
 */
const TOKEN = 'run-token';
const EDGE = 'node-role.kubernetes.io/edge';
const NAMESPACE = 'keepalived';

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  auth: false,
  groups: [
    { name: 'front', index: 0, vrid: 10, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '198.51.100.100/32' }], preempt: true, advertInterval: 1 },
    { name: 'back', index: 1, vrid: 11, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '198.51.100.101/32' }], preempt: true, advertInterval: 1 },
  ],
  discovery: {
    nodeSelector: { [EDGE]: '' }, namespace: NAMESPACE, leases: true, leasePrefix: 'edge',
    leaseDurationSeconds: 3, unicast: true, minReloadIntervalSeconds: 1,
    // The bursts below change most of a small node set at once; the change guard has its own tests.
    maxNodeSetChange: 1,
  },
};

const fakeNode = (name: string, host: number, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec => ({
  name, labels: { [EDGE]: '' }, internalIPv4: `198.51.100.${host}`, ...extra,
});

let tmp: string;
let server: FakeApiServer;
let sa: string;
let fixture: NodeFixture;
let specFile: string;
let client: KubeClient;
let podCount = 0;
const started: { agents: AgentProcess[]; keepaliveds: FakeKeepalived[]; others: ChildProcess[] } = { agents: [], keepaliveds: [], others: [] };

beforeAll(async () => {
  buildAgent();
  tmp = mkdtempSync(join(tmpdir(), 'agent-run-'));
  server = await FakeApiServer.start({ dir: join(tmp, 'apiserver'), token: TOKEN });
  sa = join(tmp, 'serviceaccount');
  writeServiceAccount(sa, { token: TOKEN, caPem: server.caPem, namespace: NAMESPACE });
  fixture = writeNodeFixture(join(tmp, 'node-a'), 11);
  specFile = join(tmp, 'spec.json');
  writeFileSync(specFile, JSON.stringify(SPEC));
  client = new KubeClient(inClusterConfig({ env: server.env, serviceAccountDir: sa }));
}, 30_000);

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset(TOKEN);
});

afterEach(async () => {
  await Promise.all(started.agents.map((a) => a.kill()));
  await Promise.all(started.keepaliveds.map((k) => k.stop()));
  for (const c of started.others) c.kill('SIGKILL');
  started.agents = [];
  started.keepaliveds = [];
  started.others = [];
});

/** One node's pod: its volumes as directories, the init render, the fake keepalived, the agent's run. */
interface Pod {
  readonly dir: string;
  readonly conf: string;
  readonly state: string;
  readonly pidFile: string;
  readonly fifo: string;
  keepalived?: FakeKeepalived;
  agent: AgentProcess;
}

const env = () => ({ ...server.env, KEEPALIVED_AGENT_PROC: fixture.procRoot });

function nodeArgs(p: Pick<Pod, 'conf' | 'state' | 'fifo'>, node: NodeFixture = fixture, spec = specFile): string[] {
  return ['--spec', spec, '--node-name', 'node-a', '--out', p.conf, '--state-dir', p.state, '--notify-fifo', p.fifo,
    '--host-ip', '198.51.100.11', '--interfaces-json', node.interfacesJson, '--service-account-dir', sa];
}

async function startPod(options: { render?: boolean; keepalived?: boolean; node?: NodeFixture; spec?: string; savedNodes?: string[] } = {}): Promise<Pod> {
  const dir = join(tmp, `pod-${++podCount}`);
  for (const d of ['etc', 'run', 'state']) mkdirSync(join(dir, d), { recursive: true });
  const paths = { dir, conf: join(dir, 'etc/keepalived.conf'), state: join(dir, 'state'), pidFile: join(dir, 'run/keepalived.pid'), fifo: join(dir, 'run/notify.fifo') };
  if (options.render !== false) {
    const r = await runAgentOnce(['render', ...nodeArgs(paths, options.node, options.spec)], env());
    if (r.status !== 0) throw new Error(`render failed: ${r.stdout}${r.stderr}`);
  }
  // The node set an earlier pod's run saved on the node, which render (as nobody, in the DaemonSet)
  // could not replace: written after it here, where the test's render could.
  if (options.savedNodes) saveNodeSet(paths.state, SPEC, options.savedNodes.map((name, i) => ({ name, internalIPv4: `198.51.100.${101 + i}`, ready: true, unschedulable: false })));
  let keepalived: FakeKeepalived | undefined;
  if (options.keepalived !== false) {
    keepalived = new FakeKeepalived(dir, paths.pidFile, paths.fifo);
    started.keepaliveds.push(keepalived);
    await keepalived.started();
  }
  const agent = new AgentProcess(['run', ...nodeArgs(paths, options.node, options.spec), '--pid-file', paths.pidFile, '--retry-ms', '100', '--api-backoff-ms', '400'], env());
  started.agents.push(agent);
  return { ...paths, keepalived, agent };
}

async function leaseOf(vrid: number): Promise<Lease | undefined> {
  try {
    return await client.get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/edge-vrid-${vrid}`);
  } catch (e) {
    if (e instanceof KubeNotFoundError) return undefined;
    throw e;
  }
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('reloads', () => {
  test('a node added or removed rewrites the config and SIGHUPs keepalived; heartbeats and readiness do not; each change is saved', async () => {
    // GIVEN three nodes, rendered by the init container
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod();
    await pod.agent.waitFor(/node set: 3 nodes from the API: node-a, node-b, node-c \(no node added, removed or changed since the saved node set\); keepalived\.conf is unchanged: no reload/);
    const initial = readFileSync(pod.conf, 'utf8');
    const initialMtime = statSync(pod.conf).mtimeMs;

    // WHEN kubelet heartbeats come, and a node turns NotReady
    server.heartbeat('node-b');
    server.heartbeat('node-c');
    server.setReady('node-c', false);
    // THEN no reload: NotReady nodes keep their place
    await pod.agent.waitFor(/node set: changed node-c \(NotReady\); keepalived\.conf is unchanged: no reload/);
    expect(pod.keepalived!.hups).toBe(0);
    expect(readFileSync(pod.conf, 'utf8')).toBe(initial);
    expect(statSync(pod.conf).mtimeMs).toBe(initialMtime);

    // WHEN a node is added
    server.addNode(fakeNode('node-d', 14));
    // THEN one reload, with why
    await until('one SIGHUP', () => pod.keepalived!.hups === 1, 5000, () => pod.agent.text);
    await pod.agent.waitFor(new RegExp(`sent SIGHUP to keepalived \\(pid ${pod.keepalived!.pid}\\): added node-d`));
    expect(pod.agent.lines(/reloading keepalived/)).toEqual([expect.stringMatching(/^keepalived-agent: reloading keepalived: added node-d; wrote .* for node node-a \(cluster edge\): front on eth0 priority 250 \(master\); back on eth0 priority 241 \(backup\)$/)]);
    expect(readFileSync(pod.conf, 'utf8')).toContain('    unicast_peer {\n        198.51.100.12\n        198.51.100.13\n        198.51.100.14\n    }');
    expect(JSON.parse(readFileSync(join(pod.state, 'nodes.json'), 'utf8')).nodes.map((n: { name: string }) => n.name)).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);

    // WHEN a node is removed
    server.deleteNode('node-b');
    // THEN a second reload, without it
    await until('two SIGHUPs', () => pod.keepalived!.hups === 2, 5000, () => pod.agent.text);
    await pod.agent.waitFor(/reloading keepalived: removed node-b;/);
    expect(readFileSync(pod.conf, 'utf8')).not.toContain('198.51.100.12');
    expect(JSON.parse(readFileSync(join(pod.state, 'nodes.json'), 'utf8')).nodes.map((n: { name: string }) => n.name)).toEqual(['node-a', 'node-c', 'node-d']);

    // WHEN this node is cordoned: its masters move away
    server.setUnschedulable('node-a', true);
    await until('three SIGHUPs', () => pod.keepalived!.hups === 3, 5000, () => pod.agent.text);
    await pod.agent.waitFor(/reloading keepalived: changed node-a \(cordoned\); .*front on eth0 priority 244 \(backup\); back on eth0 priority 244 \(backup\)$/);
  }, 30_000);

  test('a burst of changes within minReloadIntervalSeconds becomes one reload, at the end of the interval, with the latest node set', async () => {
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod();
    await pod.agent.waitFor(/keepalived\.conf is unchanged: no reload/);
    // WHEN four changes arrive within 300 ms
    const t0 = Date.now();
    server.addNode(fakeNode('node-d', 14));
    await sleep(100);
    server.addNode(fakeNode('node-e', 15));
    await sleep(100);
    server.setUnschedulable('node-c', true);
    await sleep(100);
    server.deleteNode('node-b');
    // THEN one reload, a second (minReloadIntervalSeconds) after the first change, with all of them
    await until('one SIGHUP', () => pod.keepalived!.hups === 1, 5000, () => pod.agent.text);
    const firstHup = Number(readFileSync(pod.keepalived!.hupLog, 'utf8').split('\n')[0]);
    expect(firstHup - t0).toBeGreaterThanOrEqual(950);
    expect(firstHup - t0).toBeLessThan(4000);
    expect(pod.agent.lines(/reloading keepalived/)).toEqual([
      expect.stringContaining('reloading keepalived: added node-d, node-e; removed node-b; changed node-c (cordoned);'),
    ]);
    const config = readFileSync(pod.conf, 'utf8');
    expect(config).toContain('unicast_peer {\n        198.51.100.13\n        198.51.100.14\n        198.51.100.15\n    }');
    await sleep(1500);
    expect(pod.keepalived!.hups).toBe(1);

    // WHEN another change follows at once: the next reload is again an interval later
    server.addNode(fakeNode('node-f', 16));
    await until('two SIGHUPs', () => pod.keepalived!.hups === 2, 5000, () => pod.agent.text);
    const hups = readFileSync(pod.keepalived!.hupLog, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(hups[1] - hups[0]).toBeGreaterThanOrEqual(950);
  }, 30_000);

  test('a flood of Nodes is not applied: too large a change at once, then more than maxNodes; keepalived keeps its config until they go', async () => {
    // GIVEN four nodes, maxNodes 8 and the default maxNodeSetChange (0.5: two of four may change at once)
    const guarded = join(tmp, 'spec-guarded.json');
    writeFileSync(guarded, JSON.stringify({ ...SPEC, discovery: { ...SPEC.discovery, maxNodeSetChange: undefined, maxNodes: 8 } }));
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13], ['node-d', 14]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod({ spec: guarded });
    await pod.agent.waitFor(/keepalived\.conf is unchanged: no reload/);
    const before = readFileSync(pod.conf, 'utf8');
    // WHEN three Nodes named to sort first appear at once
    for (const [n, h] of [['aaa-1', 201], ['aaa-2', 202], ['aaa-3', 203]] as const) server.addNode(fakeNode(n, h));
    // THEN nothing is applied, and the log says why
    await pod.agent.waitFor(/error: not applying the node set \(added aaa-1, aaa-2, aaa-3\): 3 nodes were added, removed or re-addressed at once, more than discovery\.maxNodeSetChange \(0\.5 of the 4 applied, i\.e\. 2\); restart the pods to accept it on purpose: keepalived keeps its config/);
    // WHEN only the agent's container restarts (killed, say; render does not run again)
    await pod.agent.kill();
    pod.agent = new AgentProcess(['run', ...nodeArgs(pod, fixture, guarded), '--pid-file', pod.pidFile, '--retry-ms', '100', '--api-backoff-ms', '400'], env());
    started.agents.push(pod.agent);
    // THEN its first list is held to the guard too, against the set the config on disk came from
    await pod.agent.waitFor(/error: not applying the node set \(added aaa-1, aaa-2, aaa-3\): 3 nodes were added/);
    // WHEN two more arrive: 9 nodes, over maxNodes
    server.addNode(fakeNode('aaa-4', 204));
    server.addNode(fakeNode('aaa-5', 205));
    await pod.agent.waitFor(/error: more than discovery\.maxNodes \(8\) nodes match the nodeSelector \(9 seen\): keepalived keeps its config/);
    await sleep(1500);
    expect(pod.keepalived!.hups).toBe(0);
    expect(readFileSync(pod.conf, 'utf8')).toBe(before);
    // nor saved for the next start
    expect(JSON.parse(readFileSync(join(pod.state, 'nodes.json'), 'utf8')).nodes).toHaveLength(4);
    // WHEN the fakes go, and a real node joins THEN the agent follows again
    for (const n of ['aaa-1', 'aaa-2', 'aaa-3', 'aaa-4', 'aaa-5']) server.deleteNode(n);
    server.addNode(fakeNode('node-e', 15));
    await until('one SIGHUP', () => pod.keepalived!.hups === 1, 8000, () => pod.agent.text);
    // (the restarted agent's first set: described against the saved one)
    await pod.agent.waitFor(/reloading keepalived: 5 nodes from the API: node-a, node-b, node-c, node-d, node-e \(added node-e since the saved node set\);/);
    expect(readFileSync(pod.conf, 'utf8')).not.toContain('198.51.100.20');
  }, 30_000);

  test('run holds changes to the set render rendered from, not to an older set saved on the node (render cannot write there)', async () => {
    // GIVEN an older node set saved on the node (a, b, c), and the API listing a, d, e, f
    for (const [n, h] of [['node-a', 11], ['node-d', 14], ['node-e', 15], ['node-f', 16]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod({ savedNodes: ['node-a', 'node-b', 'node-c'] });
    // THEN run's first list is the set the config came from: nothing to refuse, nothing to reload
    await pod.agent.waitFor(/node set: 4 nodes from the API: node-a, node-d, node-e, node-f \(no node added, removed or changed since the saved node set\); keepalived\.conf is unchanged: no reload/);
    expect(pod.agent.lines(/not applying/)).toEqual([]);
    // ... and the next change is applied
    server.setUnschedulable('node-a', true);
    await until('one SIGHUP', () => pod.keepalived!.hups === 1, 5000, () => pod.agent.text);
    expect(JSON.parse(readFileSync(join(pod.state, 'nodes.json'), 'utf8')).nodes.map((n: { name: string }) => n.name)).toEqual(['node-a', 'node-d', 'node-e', 'node-f']);
  }, 30_000);

  test('the API away: no reload and no file change, however long; once it is back, the changes it missed are applied', async () => {
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod();
    await pod.agent.waitFor(/keepalived\.conf is unchanged: no reload/);
    const before = { text: readFileSync(pod.conf, 'utf8'), mtime: statSync(pod.conf).mtimeMs, state: readFileSync(join(pod.state, 'nodes.json'), 'utf8') };
    // WHEN the API server goes away
    await server.goDown();
    try {
      await pod.agent.waitFor(/node watch \(127\.0\.0\.1:\d+, selector .*ECONNREFUSED/);
      await sleep(2500);
      // THEN keepalived is left alone
      expect(pod.keepalived!.hups).toBe(0);
      expect({ text: readFileSync(pod.conf, 'utf8'), mtime: statSync(pod.conf).mtimeMs, state: readFileSync(join(pod.state, 'nodes.json'), 'utf8') }).toEqual(before);
      expect(pod.agent.exit).toBeUndefined();
      expect(pod.agent.lines(/reloading/)).toEqual([]);
      // (a node joins meanwhile)
      server.addNode(fakeNode('node-d', 14));
    } finally {
      await server.comeBack();
    }
    // THEN, back: one reload with what it missed
    await until('one SIGHUP', () => pod.keepalived!.hups === 1, 8000, () => pod.agent.text);
    await pod.agent.waitFor(/reloading keepalived: added node-d;/);
  }, 30_000);

  test('a node set without this node (its label removed) is not applied', async () => {
    for (const [n, h] of [['node-a', 11], ['node-b', 12]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod();
    await pod.agent.waitFor(/keepalived\.conf is unchanged: no reload/);
    const before = readFileSync(pod.conf, 'utf8');
    server.setLabel('node-a', EDGE, undefined);
    await pod.agent.waitFor(/warning: this node \(node-a\) is not among the 1 node\(s\) the API lists for the selector: keepalived keeps its config/, 5000);
    expect(readFileSync(pod.conf, 'utf8')).toBe(before);
    expect(pod.keepalived!.hups).toBe(0);
  }, 20_000);

  test('no pid file, a stale one, another process\'s pid: the reload waits and is retried; a keepalived that started after the write needs none', async () => {
    for (const [n, h] of [['node-a', 11], ['node-b', 12]] as const) server.addNode(fakeNode(n, h));
    // GIVEN no config yet and no keepalived (the sidecar starts first)
    const pod = await startPod({ render: false, keepalived: false });
    await pod.agent.waitFor(/reloading keepalived: 2 nodes from the API: node-a, node-b;/);
    await pod.agent.waitFor(/the reload waits: no pid file .*keepalived\.pid \(keepalived is not running yet\); retrying every 100 ms/);
    expect(existsSync(pod.conf)).toBe(true);

    // WHEN the pid file names a process that is gone
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(pod.pidFile, `${gone.pid}\n`);
    await pod.agent.waitFor(new RegExp(`the reload waits: the pid file .* names pid ${gone.pid}, which is not running \\(a stale pid file\\)`));

    // WHEN it names a live process that is not keepalived (a reused pid)
    const other = spawn('sleep', ['30']);
    started.others.push(other);
    writeFileSync(pod.pidFile, `${other.pid}\n`);
    await pod.agent.waitFor(new RegExp(`the reload waits: the pid file .* names pid ${other.pid}, which is "sleep", not keepalived`));

    // WHEN keepalived starts now: it reads the config written before it, so no SIGHUP
    const keepalived = new FakeKeepalived(pod.dir, pod.pidFile, pod.fifo);
    started.keepaliveds.push(keepalived);
    await keepalived.started();
    await pod.agent.waitFor(new RegExp(`keepalived \\(pid ${keepalived.pid}\\) started after the config was written and read it: no SIGHUP needed`));
    expect(keepalived.hups).toBe(0);

    // WHEN a change comes while the pid file is stale, and is then fixed (keepalived long running)
    const past = new Date(Date.now() - 60_000);
    writeFileSync(pod.pidFile, `${gone.pid}\n`);
    utimesSync(pod.pidFile, past, past);
    server.addNode(fakeNode('node-c', 13));
    await pod.agent.waitFor(/reloading keepalived: added node-c;/);
    await pod.agent.waitFor(/the reload waits: .*a stale pid file/, 5000, 2);
    await sleep(300);
    expect(keepalived.hups).toBe(0);
    writeFileSync(pod.pidFile, `${keepalived.pid}\n`);
    utimesSync(pod.pidFile, past, past);
    // THEN the retry lands
    await until('the SIGHUP', () => keepalived.hups === 1, 3000, () => pod.agent.text);
  }, 30_000);
});

describe('Leases from the notify fifo', () => {
  test('held and renewed while MASTER, taken over from another node, released when leaving MASTER or when keepalived stops; the fifo is reopened after a reload', async () => {
    for (const [n, h] of [['node-a', 11], ['node-b', 12], ['node-c', 13]] as const) server.addNode(fakeNode(n, h));
    const pod = await startPod();
    await pod.agent.waitFor(/reading keepalived's state changes from .*notify\.fifo/);

    // WHEN keepalived says MASTER for front, BACKUP for back
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" BACKUP 250');
    writeFifoLine(pod.fifo, 'INSTANCE "edge_back" BACKUP 249');
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    // THEN front's Lease is created, held by this node
    await eventually('the front Lease', async () => (await leaseOf(10))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    const created = (await leaseOf(10))!;
    expect(created.metadata).toMatchObject({ name: 'edge-vrid-10', namespace: NAMESPACE, annotations: { 'keepalived-constructs/group': 'front' } });
    expect(created.spec).toEqual({ holderIdentity: 'node-a', leaseDurationSeconds: 3, acquireTime: expect.stringMatching(MICRO_TIME), renewTime: expect.stringMatching(MICRO_TIME), leaseTransitions: 0 });
    await pod.agent.waitFor(/group front: MASTER here: created Lease keepalived\/edge-vrid-10/);
    // ... renewed about every leaseDurationSeconds / 3
    await eventually('a renewal', async () => (await leaseOf(10))!.spec!.renewTime !== created.spec!.renewTime, 2500);
    const renewed = (await leaseOf(10))!;
    expect(renewed.spec!.acquireTime).toBe(created.spec!.acquireTime);
    expect(Date.parse(renewed.spec!.renewTime!) - Date.parse(created.spec!.renewTime!)).toBeGreaterThanOrEqual(800);
    // ... and none for the BACKUP group
    expect(await leaseOf(11)).toBeUndefined();

    // WHEN another node holds back's Lease, and this node becomes its MASTER: VRRP wins
    await client.create<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases`, {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'edge-vrid-11' },
      spec: { holderIdentity: 'node-b', leaseDurationSeconds: 3, acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:00.000000Z', leaseTransitions: 4 },
    });
    writeFifoLine(pod.fifo, 'INSTANCE "edge_back" MASTER 249');
    await eventually('the takeover', async () => (await leaseOf(11))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    expect((await leaseOf(11))!.spec).toMatchObject({ leaseTransitions: 5 });
    await pod.agent.waitFor(/group back: MASTER here: took Lease keepalived\/edge-vrid-11 over from node-b/);

    // WHEN someone else writes the Lease meanwhile (409 on our next renewal): re-read, and renew over it
    const current = (await leaseOf(10))!;
    await client.update<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/edge-vrid-10`, {
      ...current, metadata: { ...current.metadata, labels: { ...current.metadata?.labels, touched: 'yes' } },
    });
    const touchedAt = Date.now();
    await eventually('a renewal after the outside write', async () => Date.parse((await leaseOf(10))!.spec!.renewTime!) > touchedAt, 3000);
    expect((await leaseOf(10))!.metadata!.labels).toMatchObject({ touched: 'yes' });
    expect((await leaseOf(10))!.spec!.holderIdentity).toBe('node-a');

    // WHEN a node joins: the agent reloads keepalived, which makes its fifo anew (as on every SIGHUP)
    // A new fifo may get the old one's inode number once the old one is freed: its ctime tells them apart.
    const fifoBefore = statSync(pod.fifo);
    server.addNode(fakeNode('node-d', 14));
    await until('the SIGHUP', () => pod.keepalived!.hups === 1, 5000, () => pod.agent.text);
    await until('a new fifo', () => {
      if (!existsSync(pod.fifo)) return false;
      const now = statSync(pod.fifo);
      return now.ino !== fifoBefore.ino || now.ctimeMs !== fifoBefore.ctimeMs;
    });
    // A line written while nobody has the new fifo open is lost: wait until the agent has it open.
    await pod.agent.waitFor(/reading keepalived's state changes from .*notify\.fifo/, 8000, 2);
    // ... and later lines go to the new fifo: this node leaves MASTER of front
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" BACKUP 247');
    // THEN front's Lease is released: no holder, not deleted
    await eventually('front released', async () => (await leaseOf(10))!.spec!.holderIdentity === undefined, 5000, () => pod.agent.text);
    await pod.agent.waitFor(/group front: BACKUP here: released Lease keepalived\/edge-vrid-10/);
    expect(await leaseOf(11)).toMatchObject({ spec: { holderIdentity: 'node-a' } });
    const released = (await leaseOf(10))!.spec!.renewTime;
    await sleep(1200);
    expect((await leaseOf(10))!.spec!.renewTime).toBe(released); // no longer renewed

    // WHEN keepalived stops (it writes no STOP line): back's Lease is released within a period
    await pod.keepalived!.stop();
    await eventually('back released', async () => (await leaseOf(11))!.spec!.holderIdentity === undefined, 3000, () => pod.agent.text);
    await pod.agent.waitFor(/keepalived is not running \(no pid file .*\): no longer master of back/);
  }, 40_000);

  test('an agent restarted next to a running keepalived (which does not repeat its states) takes a group whose addresses it holds as MASTER', async () => {
    server.addNode(fakeNode('node-a', 11));
    // node-a holds front's address (198.51.100.100) already
    const holding = writeNodeFixture(join(tmp, 'node-a-holding'), 11, ['198.51.100.100/32']);
    const pod = await startPod({ node: holding });
    await eventually('front\'s Lease', async () => (await leaseOf(10))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    await pod.agent.waitFor(/group front: this node holds its addresses: taken as MASTER until keepalived says otherwise/);
    await pod.agent.waitFor(/group front: MASTER here \(inferred\): created Lease/);
    expect(await leaseOf(11)).toBeUndefined();
    // keepalived's word wins
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" BACKUP 249');
    await eventually('front released', async () => (await leaseOf(10))!.spec!.holderIdentity === undefined, 5000, () => pod.agent.text);
  }, 20_000);

  test('an instance name that is not one of the groups is ignored; the fifo may appear after the agent starts', async () => {
    server.addNode(fakeNode('node-a', 11));
    const pod = await startPod({ keepalived: false });
    await pod.agent.waitFor(/notify fifo: .*notify\.fifo does not exist yet/);
    const keepalived = new FakeKeepalived(pod.dir, pod.pidFile, pod.fifo);
    started.keepaliveds.push(keepalived);
    await keepalived.started();
    await pod.agent.waitFor(/reading keepalived's state changes from/);
    writeFifoLine(pod.fifo, 'INSTANCE "other_front" MASTER 250');
    writeFifoLine(pod.fifo, 'GROUP "edge_sync" MASTER');
    writeFifoLine(pod.fifo, 'INSTANCE "edge_back" MASTER 250');
    await eventually('back\'s Lease', async () => (await leaseOf(11))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    expect(await leaseOf(10)).toBeUndefined();
  }, 20_000);
});

describe('stopping', () => {
  test('SIGTERM: exit 0 within a second, releasing the Leases this node holds', async () => {
    server.addNode(fakeNode('node-a', 11));
    const pod = await startPod();
    await pod.agent.waitFor(/reading keepalived's state changes/);
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    await eventually('the Lease', async () => (await leaseOf(10))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    const exit = await pod.agent.terminate();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(1000);
    expect((await leaseOf(10))!.spec!.holderIdentity).toBeUndefined();
    expect(pod.agent.lines(/SIGTERM: stopping|group front: the agent stops: released Lease|stopped$/)).toHaveLength(3);
    expect(pod.keepalived!.hups).toBe(0);
  }, 20_000);

  test('SIGTERM with the API away: still exit 0 within a second', async () => {
    server.addNode(fakeNode('node-a', 11));
    const pod = await startPod();
    await pod.agent.waitFor(/reading keepalived's state changes/);
    writeFifoLine(pod.fifo, 'INSTANCE "edge_front" MASTER 250');
    await eventually('the Lease', async () => (await leaseOf(10))?.spec?.holderIdentity === 'node-a', 5000, () => pod.agent.text);
    await server.goDown();
    try {
      const exit = await pod.agent.terminate();
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.ms).toBeLessThan(1000);
    } finally {
      await server.comeBack();
    }
  }, 20_000);

  test('run without spec.discovery (and without metrics and health checks) asks nothing of the API, says it has nothing to do, and stops on SIGTERM with exit 0', async () => {
    const { discovery: _d, ...rest } = SPEC;
    const file = join(tmp, 'static-spec.json');
    writeFileSync(file, JSON.stringify(rest));
    const agent = new AgentProcess(['run', '--spec', file, '--node-name', 'node-a', '--out', join(tmp, 'x.conf'), '--pid-file', join(tmp, 'x.pid')], env());
    started.agents.push(agent);
    await agent.waitFor(/spec has no discovery, no metrics and no health checks: nothing to do for cluster edge on node node-a until SIGTERM/);
    await sleep(300);
    expect(server.requests).toHaveLength(0);
    expect(agent.exit).toBeUndefined();
    const stop = await agent.terminate();
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(1000);
  });

  test('a malformed spec.discovery still exits 1 and says why', async () => {
    const file = join(tmp, 'bad-discovery-spec.json');
    writeFileSync(file, JSON.stringify({ ...SPEC, discovery: 'yes' }));
    const r = await runAgentOnce(['run', '--spec', file, '--node-name', 'node-a', '--out', join(tmp, 'x.conf'), '--pid-file', join(tmp, 'x.pid')], env());
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^keepalived-agent: spec\.discovery in .*bad-discovery-spec\.json is not an object/);
  });
});
