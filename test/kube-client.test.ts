import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  DEFAULT_LIST_PAGE_SIZE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_WATCH_LINE_CHARS, inClusterConfig, InClusterOptions, KubeApiError, KubeClient, KubeConfigError,
  KubeConflictError, KubeListTooLargeError, KubeNotFoundError, KubeObject, KubeProtocolError, KubeTransportError, LineDecoder, parseWatchEvent, WatchEvent,
} from '../src/agent/kube-client';
import { backoffDelay, Clock, KubeNode, labelSelectorOf, Logger, NodeInfo, nodeInfoOf, NodeWatch, NodeWatchOptions } from '../src/agent/node-watch';
import { createCertificateAuthority, FakeApiServer, FakeNodeSpec, writeServiceAccount } from './support/fake-apiserver';

/*
 * The agent's API client and node informer against a fake API server over real TLS, with the token and
 * CA laid out as the kubelet projects them into a pod (/var/run/secrets/kubernetes.io/serviceaccount).
 */
const TOKEN = 'token-1';
const NAMESPACE = 'keepalived';
const EDGE = 'node-role.kubernetes.io/edge';
const SELECTOR = { [EDGE]: '' };

const EDGE_A: FakeNodeSpec = { name: 'edge-a', labels: { [EDGE]: '' }, internalIPv4: '198.51.100.11', internalIPv6: '2001:db8:1::11' };
const EDGE_B: FakeNodeSpec = { name: 'edge-b', labels: { [EDGE]: '' }, internalIPv4: '198.51.100.12', unschedulable: true };
const WORKER: FakeNodeSpec = { name: 'worker-1', internalIPv4: '198.51.100.21' };
const EDGE_C: FakeNodeSpec = { name: 'edge-c', labels: { [EDGE]: '' }, internalIPv6: '2001:db8:1::13', ready: false };

const INFO_A: NodeInfo = { name: 'edge-a', internalIPv4: '198.51.100.11', internalIPv6: '2001:db8:1::11', ready: true, unschedulable: false };
const INFO_B: NodeInfo = { name: 'edge-b', internalIPv4: '198.51.100.12', ready: true, unschedulable: true };
const INFO_C: NodeInfo = { name: 'edge-c', internalIPv6: '2001:db8:1::13', ready: false, unschedulable: false };

let tmp: string;
let server: FakeApiServer;
let sa: string;
let saCount = 0;
let informers: NodeWatch[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kube-client-'));
  server = await FakeApiServer.start({ dir: join(tmp, 'apiserver'), token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  server.reset(TOKEN);
  sa = join(tmp, `serviceaccount-${++saCount}`);
  writeServiceAccount(sa, { token: TOKEN, caPem: server.caPem, namespace: NAMESPACE });
});

afterEach(async () => {
  await Promise.all(informers.map((w) => w.stop()));
  informers = [];
  // Let the stopped clients' connections close before the next test resets the server.
  await until('the connections to close', () => server.connections === 0, 2000).catch(() => undefined);
});

/** A client configured exactly as in a pod: env for the address, files for token, CA and namespace. */
function podClient(options: InClusterOptions = {}): KubeClient {
  return new KubeClient(inClusterConfig({ env: server.env, serviceAccountDir: sa, ...options }));
}

interface Started {
  readonly watch: NodeWatch;
  readonly snapshots: NodeInfo[][];
  readonly logs: string[];
}

function startWatch(options: Partial<NodeWatchOptions> = {}): Started {
  const snapshots: NodeInfo[][] = [];
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`debug ${m}`),
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };
  const watch = new NodeWatch({
    client: podClient(),
    nodeSelector: SELECTOR,
    onChange: (nodes) => snapshots.push([...nodes]),
    logger,
    backoff: { initialMs: 20, maxMs: 200 },
    minWatchMs: 100,
    ...options,
  });
  informers.push(watch);
  watch.start();
  return { watch, snapshots, logs };
}

/** Polls until `condition` holds; fails naming what it waited for. */
async function until(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const last = (s: Started) => s.snapshots[s.snapshots.length - 1];
const openWatch = (count = 1) => until(`${count} open watch(es)`, () => server.openWatches === count);

describe('labelSelectorOf', () => {
  test('k=v pairs sorted by key, an empty value as k=', () => {
    expect(labelSelectorOf({ 'b.example.com/role': 'edge', [EDGE]: '', 'a': 'x_y.z-1' })).toBe(`a=x_y.z-1,b.example.com/role=edge,${EDGE}=`);
    expect(labelSelectorOf({})).toBe('');
  });

  test('rejects keys and values that would change the selector', () => {
    expect(() => labelSelectorOf({ 'a,b': '' })).toThrow(/not a valid label key/);
    expect(() => labelSelectorOf({ 'a!': '' })).toThrow(/not a valid label key/);
    expect(() => labelSelectorOf({ 'Bad_Prefix/x': '' })).toThrow(/not a valid label key/);
    expect(() => labelSelectorOf({ a: 'x,b=y' })).toThrow(/not a valid label value/);
    expect(() => labelSelectorOf({ a: 'x y' })).toThrow(/not a valid label value/);
    expect(() => labelSelectorOf({ a: 'x'.repeat(64) })).toThrow(/not a valid label value/);
  });
});

describe('building blocks', () => {
  test('backoff doubles, is capped, and jitters within [50%, 100%)', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, policy, () => 0.999999))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect([0, 1, 4].map((a) => backoffDelay(a, policy, () => 0))).toEqual([50, 100, 500]);
  });

  test('lines are reassembled across chunks, several events per chunk', () => {
    const decoder = new LineDecoder();
    expect(decoder.push('{"type":"ADD')).toEqual([]);
    expect(decoder.push('ED","object":{}}\n{"type":"BOOKMARK","object":{}}\n{"ty')).toEqual(['{"type":"ADDED","object":{}}', '{"type":"BOOKMARK","object":{}}']);
    expect(decoder.push('pe":"DELETED","object":{}}')).toEqual([]);
    expect(decoder.end()).toBe('{"type":"DELETED","object":{}}');
    expect(decoder.end()).toBeUndefined();
  });

  test('a watch line that is not an event is a protocol error', () => {
    expect(parseWatchEvent('{"type":"ADDED","object":{"metadata":{}}}').type).toBe('ADDED');
    expect(() => parseWatchEvent('{"type":"ADDED"')).toThrow(KubeProtocolError);
    expect(() => parseWatchEvent('{"type":"WAT","object":{}}')).toThrow(KubeProtocolError);
  });

  test('NodeInfo: both InternalIP families, Ready only when True, cordon', () => {
    const node: KubeNode = {
      metadata: { name: 'n' },
      spec: { unschedulable: true },
      status: {
        addresses: [{ type: 'ExternalIP', address: '203.0.113.1' }, { type: 'InternalIP', address: '2001:db8::1' },
          { type: 'InternalIP', address: '198.51.100.1' }, { type: 'InternalIP', address: '198.51.100.2' }, { type: 'Hostname', address: 'n' }],
        conditions: [{ type: 'Ready', status: 'Unknown' }],
      },
    };
    expect(nodeInfoOf(node)).toEqual({ name: 'n', internalIPv4: '198.51.100.1', internalIPv6: '2001:db8::1', ready: false, unschedulable: true });
    expect(nodeInfoOf({ metadata: { name: 'bare' } })).toEqual({ name: 'bare', ready: false, unschedulable: false });
  });
});

describe('KubeClient', () => {
  test('in-cluster config needs the service env and a token', () => {
    expect(() => inClusterConfig({ env: {}, serviceAccountDir: sa })).toThrow(KubeConfigError);
    expect(() => inClusterConfig({ env: server.env, serviceAccountDir: join(tmp, 'nowhere') })).toThrow(/service account token/);
    const config = inClusterConfig({ env: server.env, serviceAccountDir: sa });
    expect(config).toMatchObject({ host: '127.0.0.1', namespace: NAMESPACE, tokenFile: join(sa, 'token'), caFile: join(sa, 'ca.crt') });
  });

  test('lists with TLS, the bearer token and an encoded label selector', async () => {
    server.addNode(EDGE_A);
    server.addNode(WORKER);
    const list = await podClient().list<KubeNode>('/api/v1/nodes', { labelSelector: labelSelectorOf(SELECTOR) });
    expect(list.items.map((n) => n.metadata?.name)).toEqual(['edge-a']);
    expect(list.resourceVersion).toBe(server.resourceVersion);
    expect(server.requests).toEqual([expect.objectContaining({ method: 'GET', token: TOKEN, status: 200, query: { labelSelector: `${EDGE}=`, limit: String(DEFAULT_LIST_PAGE_SIZE) } })]);
  });

  test('streams watch events split across chunks, in order, and ends when the server ends the watch', async () => {
    server.addNode(EDGE_A);
    const client = podClient();
    const list = await client.list<KubeNode>('/api/v1/nodes', { labelSelector: `${EDGE}=` });
    server.splitWrites = true;
    const events: WatchEvent<KubeNode>[] = [];
    const done = (async () => {
      const stream = client.watch<KubeNode>('/api/v1/nodes',
        { resourceVersion: list.resourceVersion, labelSelector: `${EDGE}=`, allowWatchBookmarks: true, timeoutSeconds: 1 });
      for await (const event of stream) events.push(event);
    })();
    await openWatch();
    // Multi-byte characters, so that a chunk boundary can fall inside one.
    server.addNode({ ...EDGE_C, annotations: { note: 'nœud numéro trois, 節点' } });
    server.setUnschedulable('edge-c', true);
    server.bookmark();
    server.deleteNode('edge-c');
    await done;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'DELETED']);
    expect((events[0].object as KubeNode).metadata?.annotations?.note).toBe('nœud numéro trois, 節点');
    expect(server.nodeRequests('watch')[0].query).toMatchObject({ watch: 'true', resourceVersion: list.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '1' });
  });

  test('a refused watch and a dropped watch reject with typed errors', async () => {
    const client = podClient();
    server.addNode(EDGE_A);
    server.compact();
    server.goneForm = 'http';
    const refused = client.watch('/api/v1/nodes', { resourceVersion: '1' });
    await expect(refused.next()).rejects.toMatchObject({ name: 'KubeGoneError', status: 410, reason: 'Expired' });

    const events: string[] = [];
    const dropped = (async () => {
      for await (const e of client.watch('/api/v1/nodes', { resourceVersion: server.resourceVersion })) events.push(e.type);
    })();
    await openWatch();
    server.addNode(EDGE_B);
    await until('the event', () => events.length === 1);
    server.dropWatches();
    await expect(dropped).rejects.toBeInstanceOf(KubeTransportError);
  });

  test('a wrong token is a 401 KubeApiError', async () => {
    writeServiceAccount(sa, { token: 'stale', caPem: server.caPem, namespace: NAMESPACE });
    const error = await podClient().list('/api/v1/nodes').catch((e) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 401, reason: 'Unauthorized' });
  });

  test('a server certificate from another CA is rejected before any request is sent', async () => {
    const wrong = createCertificateAuthority(join(tmp, 'wrong-ca'), 'someone-else');
    writeServiceAccount(sa, { token: TOKEN, caPem: wrong.certPem, namespace: NAMESPACE });
    const error = await podClient().list('/api/v1/nodes').catch((e) => e);
    expect(error).toBeInstanceOf(KubeTransportError);
    expect(error.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT/);
    expect(server.requests).toEqual([]);
  });

  test('Leases: get, create, 409 AlreadyExists, update, 409 Conflict on a stale resourceVersion', async () => {
    interface Lease extends KubeObject { spec: { holderIdentity: string; leaseDurationSeconds: number } }
    const client = podClient();
    const collection = `/apis/coordination.k8s.io/v1/namespaces/${client.namespace}/leases`;
    const path = `${collection}/keepalived-edge`;
    await expect(client.get(path)).rejects.toBeInstanceOf(KubeNotFoundError);
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'keepalived-edge' }, spec: { holderIdentity: 'edge-a', leaseDurationSeconds: 15 } };
    const created = await client.create(collection, lease);
    expect(created.metadata?.resourceVersion).toBe(server.resourceVersion);
    await expect(client.create(collection, lease)).rejects.toMatchObject({ name: 'KubeConflictError', status: 409, reason: 'AlreadyExists' });
    const renewed = await client.update(path, { ...created, spec: { ...created.spec, holderIdentity: 'edge-b' } });
    expect((await client.get<Lease>(path)).spec.holderIdentity).toBe('edge-b');
    const stale = await client.update(path, { ...created, spec: { ...created.spec, holderIdentity: 'edge-c' } }).catch((e) => e);
    expect(stale).toBeInstanceOf(KubeConflictError);
    expect(stale).toMatchObject({ status: 409, reason: 'Conflict' });
    expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);
  });
});

describe('NodeWatch', () => {
  test('lists the matching nodes first, then follows add, change, relabel and delete', async () => {
    server.addNode(EDGE_B);
    server.addNode(EDGE_A);
    server.addNode(WORKER);
    const s = startWatch();
    await until('the first snapshot', () => s.snapshots.length === 1);
    expect(s.snapshots[0]).toEqual([INFO_A, INFO_B]);
    expect(s.watch.snapshot).toEqual([INFO_A, INFO_B]);
    await openWatch();

    server.addNode(EDGE_C);
    await until('edge-c', () => last(s).length === 3);
    expect(last(s)).toEqual([INFO_A, INFO_B, INFO_C]);
    server.setReady('edge-c', true);
    await until('edge-c ready', () => last(s)[2].ready);
    server.setUnschedulable('edge-b', false);
    await until('edge-b uncordoned', () => !last(s)[1].unschedulable);
    server.setLabel('worker-1', EDGE, '');
    await until('worker-1 joins by label', () => last(s).some((n) => n.name === 'worker-1'));
    server.setLabel('edge-a', EDGE, undefined);
    await until('edge-a leaves by label', () => !last(s).some((n) => n.name === 'edge-a'));
    server.deleteNode('edge-b');
    await until('edge-b deleted', () => !last(s).some((n) => n.name === 'edge-b'));
    expect(last(s).map((n) => n.name)).toEqual(['edge-c', 'worker-1']);
    expect(s.snapshots).toHaveLength(7);
    expect(server.nodeRequests('list')).toHaveLength(1);
    expect(server.nodeRequests('watch')).toHaveLength(1);
  });

  test('an empty cluster is a snapshot too', async () => {
    const s = startWatch();
    await until('the first snapshot', () => s.snapshots.length === 1);
    expect(s.snapshots[0]).toEqual([]);
  });

  test('heartbeat-only updates are followed but emit nothing', async () => {
    server.addNode(EDGE_A);
    server.addNode(EDGE_B);
    const s = startWatch();
    await until('the first snapshot', () => s.snapshots.length === 1);
    await openWatch();
    server.heartbeat('edge-a');
    server.heartbeat('edge-b');
    server.heartbeat('edge-a');
    const afterHeartbeats = server.resourceVersion;
    await until('the heartbeats', () => s.watch.resourceVersion === afterHeartbeats);
    expect(s.snapshots).toHaveLength(1);
    server.setReady('edge-a', false);
    await until('the readiness change', () => s.snapshots.length === 2);
    expect(last(s)[0]).toEqual({ ...INFO_A, ready: false });
  });

  test('bookmarks advance the resourceVersion, and a reconnect resumes from the bookmark', async () => {
    server.addNode(EDGE_A);
    const s = startWatch();
    await openWatch();
    const listed = s.watch.resourceVersion;
    server.addNode(WORKER); // advances the revision; this watch does not see it
    const bookmarked = server.resourceVersion;
    expect(s.watch.resourceVersion).toBe(listed);
    server.bookmark();
    await until('the bookmark', () => s.watch.resourceVersion === bookmarked);
    server.dropWatches();
    await until('the second watch', () => server.nodeRequests('watch').length === 2);
    await openWatch();
    expect(server.nodeRequests('watch').map((r) => r.query.resourceVersion)).toEqual([listed, bookmarked]);
    expect(server.nodeRequests('watch')[0].query).toMatchObject({ allowWatchBookmarks: 'true', labelSelector: `${EDGE}=` });
    expect(server.nodeRequests('list')).toHaveLength(1);
    expect(s.snapshots).toHaveLength(1);
  });

  test('an ERROR 410 event on an open watch relists and carries on', async () => {
    server.addNode(EDGE_A);
    const s = startWatch();
    await openWatch();
    server.setUnschedulable('edge-a', true);
    await until('the cordon', () => last(s)[0].unschedulable);
    server.expireWatches();
    await until('the relist and a new watch', () => server.nodeRequests('list').length === 2 && server.openWatches === 1);
    const relisted = server.nodeRequests('watch')[1].query.resourceVersion;
    expect(relisted).toBe(server.resourceVersion);
    expect(s.logs.some((l) => /410 Gone event/.test(l))).toBe(true);
    server.addNode(EDGE_C);
    await until('edge-c', () => last(s).length === 2);
    expect(last(s)).toEqual([{ ...INFO_A, unschedulable: true }, INFO_C]);
  });

  test.each(['http', 'event'] as const)('resuming from a compacted resourceVersion (410 as %s) relists what changed meanwhile', async (form) => {
    server.addNode(EDGE_A);
    server.addNode(EDGE_B);
    const s = startWatch();
    await until('the first snapshot', () => s.snapshots.length === 1);
    await openWatch();
    server.goneForm = form;
    await server.goDown();
    server.setReady('edge-a', false);
    server.deleteNode('edge-b');
    server.addNode(EDGE_C);
    server.compact();
    await server.comeBack();
    await until('the snapshot after the relist', () => last(s).map((n) => n.name).join() === 'edge-a,edge-c');
    expect(last(s)).toEqual([{ ...INFO_A, ready: false }, INFO_C]);
    const refused = server.nodeRequests('watch').filter((r) => (form === 'http' ? r.status === 410 : r.status === 200));
    expect(refused.length).toBeGreaterThanOrEqual(form === 'http' ? 1 : 2);
    expect(server.nodeRequests('list')).toHaveLength(2);
    expect(s.logs.some((l) => (form === 'http' ? /expired \(watch \/api\/v1\/nodes: 410 Expired/ : /expired \(410 Gone event\)/).test(l))).toBe(true);
    // The snapshot went from the old set to the new one in one step: no half-applied state in between.
    expect(s.snapshots).toHaveLength(2);
  });

  test('a connection dropped mid-stream is re-watched from the last event, and later events still arrive', async () => {
    server.addNode(EDGE_A);
    const s = startWatch();
    await openWatch();
    server.setUnschedulable('edge-a', true);
    await until('the cordon', () => last(s)[0].unschedulable);
    const seen = s.watch.resourceVersion;
    server.dropWatches();
    await until('a second watch', () => server.nodeRequests('watch').length === 2);
    await openWatch();
    expect(server.nodeRequests('watch')[1].query.resourceVersion).toBe(seen);
    server.addNode(EDGE_B);
    await until('edge-b after the reconnect', () => last(s).length === 2);
    expect(server.nodeRequests('list')).toHaveLength(1);
  });

  test('an unreachable API server is retried with growing, capped delays, then resumed', async () => {
    server.addNode(EDGE_A);
    const s = startWatch({ backoff: { initialMs: 20, maxMs: 80 }, random: () => 0.999999 });
    await openWatch();
    await server.goDown();
    await until('several refused attempts', () => s.logs.filter((l) => /ECONNREFUSED/.test(l)).length >= 5);
    expect(s.watch.lastError).toBeInstanceOf(KubeTransportError);
    const delays = s.logs.map((l) => /retrying in (\d+) ms/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(s.logs.some((l) => /^warn .*ECONNREFUSED/.test(l))).toBe(true);
    server.addNode(EDGE_B);
    await server.comeBack();
    await until('edge-b after the outage', () => last(s).length === 2);
    expect(s.watch.lastError).toBeUndefined();
    expect(server.nodeRequests('list')).toHaveLength(1);
  });

  test('a wrong token is logged as an error and retried, without crashing, until the token is right', async () => {
    writeServiceAccount(sa, { token: 'not-the-token', caPem: server.caPem, namespace: NAMESPACE });
    server.addNode(EDGE_A);
    const s = startWatch();
    await until('two refused lists', () => server.nodeRequests('list').filter((r) => r.status === 401).length >= 2);
    expect(s.snapshots).toEqual([]);
    expect(s.watch.lastError).toMatchObject({ status: 401 });
    expect(s.logs.some((l) => /^error .*401 Unauthorized/.test(l))).toBe(true);
    writeServiceAccount(sa, { token: TOKEN, caPem: server.caPem, namespace: NAMESPACE });
    await until('the first snapshot', () => s.snapshots.length === 1);
    expect(s.snapshots[0]).toEqual([INFO_A]);
  });

  test('a wrong CA is logged as an error and nothing is listed', async () => {
    const wrong = createCertificateAuthority(join(tmp, 'wrong-ca-2'), 'someone-else');
    writeServiceAccount(sa, { token: TOKEN, caPem: wrong.certPem, namespace: NAMESPACE });
    const s = startWatch();
    await until('a TLS failure', () => s.logs.some((l) => /^error .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED)/.test(l)));
    expect(server.requests).toEqual([]);
    expect(s.snapshots).toEqual([]);
  });

  test('a rotated token is read on the next connection', async () => {
    server.addNode(EDGE_A);
    const s = startWatch();
    await openWatch();
    writeServiceAccount(sa, { token: 'token-2', caPem: server.caPem, namespace: NAMESPACE });
    server.token = 'token-2'; // the old one is refused from now on
    server.dropWatches();
    await until('a watch with the new token', () => server.nodeRequests('watch').some((r) => r.token === 'token-2' && r.status === 200));
    server.addNode(EDGE_B);
    await until('edge-b', () => last(s).length === 2);
    expect(server.requests.filter((r) => r.status === 401)).toEqual([]);
    expect(server.nodeRequests('watch').map((r) => r.token)).toEqual([TOKEN, 'token-2']);
  });

  test('stop() closes the open watch', async () => {
    server.addNode(EDGE_A);
    const s = startWatch();
    await openWatch();
    await s.watch.stop();
    await until('the watch to close', () => server.openWatches === 0);
    server.addNode(EDGE_B);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.snapshots).toHaveLength(1);
  });

  test('stop() during a backoff cancels the timer at once', async () => {
    let pending = 0;
    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (callback, ms) => {
        pending++;
        return setTimeout(() => {
          pending--;
          callback();
        }, ms);
      },
      clearTimeout: (handle) => {
        pending--;
        clearTimeout(handle as NodeJS.Timeout);
      },
    };
    await server.goDown();
    try {
      const s = startWatch({ clock, backoff: { initialMs: 60_000, maxMs: 60_000 } });
      await until('a backoff timer', () => pending === 1);
      const started = Date.now();
      await s.watch.stop();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(pending).toBe(0);
      expect(s.logs.some((l) => /ECONNREFUSED/.test(l))).toBe(true);
    } finally {
      await server.comeBack();
    }
  });

  test('a throwing change handler is logged and does not stop discovery', async () => {
    server.addNode(EDGE_A);
    let calls = 0;
    const s = startWatch({ onChange: () => { calls++; throw new Error('boom'); } });
    await openWatch();
    server.addNode(EDGE_B);
    await until('two calls', () => calls === 2);
    expect(s.logs.filter((l) => /change handler failed: boom/.test(l))).toHaveLength(2);
  });
});

describe('bounds on what the API server sends (a hostile or broken server cannot exhaust memory)', () => {
  const edgeNodes = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `edge-${String(i).padStart(3, '0')}`, labels: { [EDGE]: '' }, internalIPv4: `198.51.100.${(i % 250) + 1}` }));
  /** Streams `chunk` until the client closes the connection; records how much went out. */
  const endless = (res: import('http').ServerResponse, head: Record<string, string>, chunk: string, sent: { bytes: number }) => {
    res.writeHead(200, head);
    const push = () => {
      while (!res.destroyed && res.write(chunk)) sent.bytes += chunk.length;
      if (!res.destroyed) res.once('drain', push);
    };
    res.on('close', () => undefined);
    push();
  };

  test('lists are read page by page (limit and continue), as one snapshot', async () => {
    // GIVEN 250 matching nodes and a page size of 100
    for (const spec of edgeNodes(250)) server.addNode(spec);
    const client = new KubeClient({ ...inClusterConfig({ env: server.env, serviceAccountDir: sa }), listPageSize: 100 });
    // WHEN the client lists them
    const list = await client.list<KubeNode>('/api/v1/nodes', { labelSelector: `${EDGE}=` });
    // THEN three requests of at most 100 items, the later ones with the server's continue token
    expect(list.items).toHaveLength(250);
    expect(new Set(list.items.map((n) => n.metadata?.name)).size).toBe(250);
    const requests = server.nodeRequests('list');
    expect(requests.map((r) => [r.query.limit, r.query.continue !== undefined])).toEqual([['100', false], ['100', true], ['100', true]]);
    expect(list.resourceVersion).toBe(server.resourceVersion);
  });

  test('maxItems stops reading at the first page past it', async () => {
    for (const spec of edgeNodes(250)) server.addNode(spec);
    const client = new KubeClient({ ...inClusterConfig({ env: server.env, serviceAccountDir: sa }), listPageSize: 100 });
    const failure = await client.list<KubeNode>('/api/v1/nodes', {}, { maxItems: 64 }).catch((e) => e);
    expect(failure).toBeInstanceOf(KubeListTooLargeError);
    expect(failure).toMatchObject({ seen: 100, maxItems: 64 });
    expect(server.nodeRequests('list')).toHaveLength(1);
  });

  test('a page with more items than the limit asked for is refused (a hostile server\'s many small objects)', async () => {
    server.intercept = (request, res) => {
      if (request.watch) return false;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ metadata: { resourceVersion: '7' }, items: Array.from({ length: DEFAULT_LIST_PAGE_SIZE + 1 }, () => ({})) }));
      return true;
    };
    const failure = await podClient().list('/api/v1/nodes').catch((e) => e);
    expect(failure).toBeInstanceOf(KubeProtocolError);
    expect(failure.message).toBe(`GET /api/v1/nodes: a page of ${DEFAULT_LIST_PAGE_SIZE + 1} items for limit ${DEFAULT_LIST_PAGE_SIZE}`);
  });

  test('an endless response body is cut at maxResponseBytes', async () => {
    // GIVEN a server that answers a list with a body that never ends
    const sent = { bytes: 0 };
    server.intercept = (request, res) => {
      if (request.watch) return false;
      endless(res, { 'Content-Type': 'application/json' }, `{"items":[${'{"metadata":{"name":"x"}},'.repeat(4000)}`, sent);
      return true;
    };
    const client = new KubeClient({ ...inClusterConfig({ env: server.env, serviceAccountDir: sa }), maxResponseBytes: 1024 * 1024 });
    // WHEN the client lists THEN it gives up after about 1 MiB, with a protocol error
    const failure = await client.list('/api/v1/nodes').catch((e) => e);
    expect(failure).toBeInstanceOf(KubeProtocolError);
    expect(failure.message).toBe('GET /api/v1/nodes: the response is larger than 1048576 bytes; not reading it');
    // AND by default the bound is 2 MiB: a body announced larger is not read at all
    server.intercept = (_request, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(DEFAULT_MAX_RESPONSE_BYTES + 1) });
      res.write('{');
      return true;
    };
    await expect(podClient().list('/api/v1/nodes')).rejects.toThrow(`larger than ${DEFAULT_MAX_RESPONSE_BYTES} bytes`);
  });

  test('a watch line that never ends is cut at maxWatchLineChars, and the watch fails', async () => {
    const sent = { bytes: 0 };
    server.intercept = (request, res) => {
      if (!request.watch) return false;
      endless(res, { 'Content-Type': 'application/json' }, '{"type":"ADDED","object":{"metadata":{"name":"' + 'a'.repeat(64 * 1024), sent);
      return true;
    };
    const client = new KubeClient({ ...inClusterConfig({ env: server.env, serviceAccountDir: sa }), maxWatchLineChars: 256 * 1024 });
    const events: unknown[] = [];
    const failure = await (async () => {
      for await (const e of client.watch('/api/v1/nodes', { resourceVersion: '1' })) events.push(e);
    })().catch((e) => e);
    expect(failure).toBeInstanceOf(KubeProtocolError);
    expect(failure.message).toMatch(/^watch \/api\/v1\/nodes: a watch line is longer than 262144 characters/);
    expect(events).toEqual([]);
    expect(DEFAULT_MAX_WATCH_LINE_CHARS).toBe(2 * 1024 * 1024);
  });

  test('LineDecoder drops an over-long line up to its newline and carries on', () => {
    const dropped: number[] = [];
    const lines = new LineDecoder(10, (n) => dropped.push(n));
    expect(lines.push('ok\n0123456789abc')).toEqual(['ok']);
    expect(dropped).toEqual([13]);
    expect(lines.push('defgh')).toEqual([]);
    expect(lines.push('ij\nnext\n')).toEqual(['next']);
    expect(lines.push('x'.repeat(20) + '\nafter\n')).toEqual(['after']);
    expect(dropped).toEqual([13, 20]);
  });

  test('NodeWatch holds at most maxNodes: over it, no snapshot, onTooMany, and lists again until the nodes fit', async () => {
    // GIVEN 3 nodes and a bound of 3
    for (const spec of edgeNodes(3)) server.addNode(spec);
    const tooMany: number[] = [];
    const s = startWatch({ maxNodes: 3, onTooMany: (seen) => tooMany.push(seen) });
    await until('the first snapshot', () => s.snapshots.length === 1);
    await openWatch();
    // WHEN a 4th and 5th node appear (watch events)
    server.addNode(edgeNodes(5)[3]);
    server.addNode(edgeNodes(5)[4]);
    // THEN the informer drops its store, says so, and emits nothing for it
    await until('onTooMany', () => tooMany.length >= 1);
    expect(tooMany[0]).toBe(4);
    expect(s.logs.some((l) => l.startsWith('warn node watch: more than 3 nodes match the selector'))).toBe(true);
    // Relists keep failing while 5 match (a list stops at the first page past 3)
    await until('a relist refused', () => tooMany.length >= 2);
    expect(s.snapshots).toHaveLength(1);
    // WHEN the extra nodes go THEN the next list is emitted, even though it equals the last snapshot
    server.deleteNode('edge-003');
    server.deleteNode('edge-004');
    await until('a snapshot after the overflow', () => s.snapshots.length === 2, 8000);
    expect(last(s).map((n) => n.name)).toEqual(['edge-000', 'edge-001', 'edge-002']);
  });
});
