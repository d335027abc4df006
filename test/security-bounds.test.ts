import { spawnSync } from 'child_process';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KeepalivedCluster, InterfaceSelector, Target } from '../src';
import { AgentDiscovery, AgentSpec } from '../src/core/agent-spec';
import { deriveDiscoveredView, DiscoveredNode } from '../src/core/discovered-nodes';
import {
  DEFAULT_LEASE_DURATION_SECONDS, DEFAULT_MAX_NODES, discoveryLimitsOf, MIN_RELOAD_INTERVAL_FLOOR_SECONDS, minReloadIntervalProblem, nodeSetProblem, peerAddressProblem,
} from '../src/core/discovery-limits';
import { AgentRenderError, renderKeepalivedConf } from '../src/core/keepalived-conf';
import { NodeView, withSafeInterfaceNames } from '../src/core/node-view';
import { readBoundedFile, UnfitFileError } from '../src/agent/bounded-read';
import { nextTransitions } from '../src/agent/leases';
import { MAX_LINE_CHARS, streamLogger } from '../src/agent/log';
import { readNodeAddresses, readNodeView } from '../src/agent/node-view-linux';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';
import { newChart, synth } from './support/synth';

/*
 * The renderer's and the discovery view's bounds on untrusted input (issue 15): which discovered
 * addresses may be unicast peers, how large and how fast a node set may grow, the reload floor, the
 * interface names written into keepalived.conf, and vrrp_check_unicast_src. Every config rendered here
 * is checked by the real keepalived (`keepalived -t`).
 */
const keepalived = new KeepalivedConfigCheck('kc-sec', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

const DISCOVERY: AgentDiscovery = {
  nodeSelector: { 'node-role.kubernetes.io/edge': '' },
  namespace: 'keepalived',
  leases: false,
  leasePrefix: 'edge',
  leaseDurationSeconds: 15,
  unicast: true,
  minReloadIntervalSeconds: 5,
};

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  auth: false,
  groups: [
    agentGroup({ name: 'front', index: 0, vrid: 10, addresses: [{ address: '198.51.100.100/32' }] }),
    agentGroup({ name: 'v6', index: 1, vrid: 12, family: 6, vrrpVersion: 3, addresses: [{ address: '2001:db8:1::100/64' }] }),
  ],
  discovery: DISCOVERY,
};

const node = (name: string, ipv4?: string, ipv6?: string): DiscoveredNode => ({
  name, ...(ipv4 ? { internalIPv4: ipv4 } : {}), ...(ipv6 ? { internalIPv6: ipv6 } : {}), ready: true, unschedulable: false,
});
const A = node('node-a', '198.51.100.11', '2001:db8:1::11');
const B = node('node-b', '198.51.100.12', '2001:db8:1::12');

const VIEW: NodeView = {
  interfaces: [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: ['198.51.100.11/24', '2001:db8:1::11/64'] },
  ],
  defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth0' }],
};

function render(spec: AgentSpec, nodes: readonly DiscoveredNode[], view: NodeView = VIEW): string {
  const config = renderKeepalivedConf(spec, view, { nodeName: 'node-a', hostIp: '198.51.100.11' }, deriveDiscoveredView(spec, nodes, { nodeName: 'node-a', hostIp: '198.51.100.11' }));
  keepalived.expectAccepts(config);
  return config;
}

describe('unicast peers from discovery', () => {
  test.each([
    ['127.0.0.1', 4, 'a loopback address'],
    ['0.0.0.0', 4, 'the unspecified address'],
    ['224.0.0.18', 4, 'a multicast address'],
    ['169.254.10.1', 4, 'a link-local address'],
    ['255.255.255.255', 4, 'the broadcast address'],
    ['2001:db8:1::12', 4, 'is not an IPv4 address'],
    ['::1', 6, 'the loopback address'],
    ['::', 6, 'the unspecified address'],
    ['ff02::12', 6, 'a multicast address'],
    ['fe80::1', 6, 'a link-local address'],
    ['::ffff:198.51.100.12', 6, 'an IPv4-mapped address'],
    ['198.51.100.12', 6, 'is not an IPv6 address'],
    ['not-an-ip', 4, 'is not an IP address'],
  ] as const)('%s (IPv%s) is refused: %s', (address, family, why) => {
    expect(peerAddressProblem(address, family)).toContain(why);
  });

  test('ordinary addresses of the family are peers; a VIP is not', () => {
    expect(peerAddressProblem('198.51.100.12', 4)).toBeUndefined();
    expect(peerAddressProblem('2001:db8:1::12', 6)).toBeUndefined();
    expect(peerAddressProblem('198.51.100.100', 4, new Set(['198.51.100.100']))).toBe('is one of the cluster\'s virtual IPs');
  });

  test('a hostile node set: the refused addresses are never rendered, and a node with no usable address takes no rank', () => {
    // GIVEN Nodes that claim loopback, unspecified, multicast, link-local, the VIP, and a swapped family
    const hostile = [
      node('aaa-loop', '127.0.0.1', '::1'),
      node('aab-zero', '0.0.0.0', '::'),
      node('aac-mcast', '224.0.0.18', 'ff02::12'),
      node('aad-vip', '198.51.100.100', 'fe80::1'),
      node('aae-swapped', '2001:db8:1::99', '198.51.100.99'),
    ];
    // WHEN node-a derives its view and renders
    const view = deriveDiscoveredView(SPEC, [A, B, ...hostile], { nodeName: 'node-a', hostIp: '198.51.100.11' });
    const config = render(SPEC, [A, B, ...hostile]);
    // THEN only the real peers are peers, and the fake Nodes are not in the order that sets priorities
    expect(view.unicastPeers).toEqual(['198.51.100.11', '2001:db8:1::11', '198.51.100.12', '2001:db8:1::12']);
    expect(view.nodeOrder).toEqual(['node-a', 'node-b']);
    expect(view.refusedPeers).toHaveLength(10);
    expect(view.refusedPeers).toContain('aac-mcast: InternalIPv4 "224.0.0.18" is a multicast address');
    for (const bad of ['127.0.0.1', '0.0.0.0', '224.0.0.18', 'ff02::12', 'fe80::1', '198.51.100.99', '2001:db8:1::99']) {
      expect(config).not.toContain(`        ${bad}\n`);
    }
    expect(config).not.toMatch(/unicast_peer \{[^}]*198\.51\.100\.100/);
    expect(config).toContain('unicast_peer {\n        198.51.100.12\n    }');
  });

  test('this node\'s own refused InternalIP is not its source: --host-ip is', () => {
    const view = deriveDiscoveredView(SPEC, [{ ...A, internalIPv4: '127.0.0.1' }, B], { nodeName: 'node-a', hostIp: '198.51.100.11' });
    expect(view.unicastSource).toEqual({ ipv4: '198.51.100.11', ipv6: '2001:db8:1::11' });
  });

  test('peersInInterfaceNetwork: peers outside the VRRP interface\'s networks are left out and reported', () => {
    const far = node('node-far', '203.0.113.50', '2001:db8:9::50');
    const spec = { ...SPEC, discovery: { ...DISCOVERY, peersInInterfaceNetwork: true } };
    const open = render(SPEC, [A, B, far]);
    expect(open).toContain('203.0.113.50');
    const config = render(spec, [A, B, far]);
    expect(config).not.toContain('203.0.113.50');
    expect(config).not.toContain('2001:db8:9::50');
    expect(config).toContain('unicast_peer {\n        198.51.100.12\n    }');
    expect(config).toContain('unicast_peer {\n        2001:db8:1::12\n    }');
  });
});

describe('vrrp_check_unicast_src', () => {
  test('in global_defs whenever an instance has unicast peers; not with multicast', () => {
    expect(render(SPEC, [A, B])).toMatch(/^global_defs \{\n {4}router_id node-a\n {4}# unicast adverts only from the listed peers\n {4}vrrp_check_unicast_src\n\}$/m);
    const multicast = { ...SPEC, discovery: { ...DISCOVERY, unicast: false } };
    expect(render(multicast, [A, B])).not.toContain('check_unicast_src');
    // Static unicast peers too.
    const staticPeers: AgentSpec = { ...SPEC, discovery: undefined, unicastPeers: ['198.51.100.11', '198.51.100.12', '2001:db8:1::11', '2001:db8:1::12'] };
    const config = renderKeepalivedConf(staticPeers, VIEW, { nodeName: 'node-a', hostIp: '198.51.100.11' });
    keepalived.expectAccepts(config);
    expect(config).toContain('    vrrp_check_unicast_src\n');
  });
});

describe('node set bounds', () => {
  const names = (n: number, prefix = 'n') => Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${String(i).padStart(4, '0')}`, internalIPv4: `198.51.100.${(i % 250) + 1}` }));
  const limits = { maxNodes: DEFAULT_MAX_NODES, maxNodeSetChange: 0.5 };

  test('more nodes than maxNodes are never applied', () => {
    expect(nodeSetProblem(names(64), undefined, limits)).toBeUndefined();
    expect(nodeSetProblem(names(65), undefined, limits)).toMatch(/^65 nodes match the nodeSelector, more than discovery\.maxNodes \(64\)$/);
    expect(nodeSetProblem(names(5000), names(3), limits)).toContain('more than discovery.maxNodes');
  });

  test('a change of more than maxNodeSetChange of the applied set at once is held back; two nodes may always change', () => {
    const applied = names(10);
    // 5 of 10 added: allowed (ceil(0.5 x 10) = 5); 6: not.
    expect(nodeSetProblem([...applied, ...names(5, 'x')], applied, limits)).toBeUndefined();
    expect(nodeSetProblem([...applied, ...names(6, 'x')], applied, limits)).toMatch(/^6 nodes were added, removed or re-addressed at once, more than discovery\.maxNodeSetChange \(0\.5 of the 10 applied, i\.e\. 5\)/);
    // Removals and new addresses count; cordons and readiness do not.
    expect(nodeSetProblem(applied.slice(6), applied, limits)).toContain('6 nodes');
    expect(nodeSetProblem(applied.map((n, i) => (i < 6 ? { ...n, internalIPv4: '203.0.113.1' } : n)), applied, limits)).toContain('6 nodes');
    // A two-node cluster replacing a node: one removal and one addition.
    const pair = names(2);
    expect(nodeSetProblem([pair[0], { name: 'n-new', internalIPv4: '198.51.100.77' }], pair, limits)).toBeUndefined();
    expect(nodeSetProblem([...pair, ...names(3, 'x')], pair, limits)).toContain('3 nodes');
    // At a pod's start there is nothing to compare with.
    expect(nodeSetProblem(names(40), undefined, limits)).toBeUndefined();
  });

  test('300 NotReady fake Nodes: over the default cap, so no real node is pushed to priority 1', () => {
    const fakes = names(300, 'aaa');
    expect(nodeSetProblem([...fakes, { name: 'node-a' }, { name: 'node-b' }], [{ name: 'node-a' }, { name: 'node-b' }], limits)).toContain('302 nodes');
  });
});

describe('minReloadIntervalSeconds: one predicate at synth time and in the agent', () => {
  test('0 is refused at synth time with the predicate\'s words', () => {
    expect(() => cluster({ target: Target.standalone({ discovery: { minReloadIntervalSeconds: 0 } }) }))
      .toThrow(/target\.discovery\.minReloadIntervalSeconds = 0: is below 1 s.*Valid: a number of seconds from 1 to 3600/s);
  });

  test('the agent reading a spec.json with 0 (hand-edited) floors it and says so, with the same words', () => {
    const { limits, problems } = discoveryLimitsOf({ ...DISCOVERY, minReloadIntervalSeconds: 0 });
    expect(limits.minReloadIntervalSeconds).toBe(MIN_RELOAD_INTERVAL_FLOOR_SECONDS);
    expect(problems).toEqual([`spec.discovery.minReloadIntervalSeconds 0 ${minReloadIntervalProblem(0)}; using 1`]);
    expect(discoveryLimitsOf({ ...DISCOVERY, minReloadIntervalSeconds: 2.5 })).toEqual({
      limits: { maxNodes: 64, maxNodeSetChange: 0.5, minReloadIntervalSeconds: 2.5, leaseDurationSeconds: DISCOVERY.leaseDurationSeconds }, problems: [],
    });
  });

  test.each([[1e7], [Number.NaN], ['15'], [2], [undefined]])('the agent reads leaseDurationSeconds %p from spec.json as untrusted input: the default unless 3..3600', (value) => {
    // (Node turns a renewal period over 2^31 ms, or NaN, into 1 ms: a master would PUT its Leases back to back.)
    const { limits, problems } = discoveryLimitsOf({ ...DISCOVERY, leaseDurationSeconds: value });
    expect(limits.leaseDurationSeconds).toBe(DEFAULT_LEASE_DURATION_SECONDS);
    expect(problems).toEqual(value === undefined ? [] : [expect.stringMatching(/^spec\.discovery\.leaseDurationSeconds .* is not a lease duration the agent can renew in time \(an integer from 3 to 3600\); using 15$/)]);
  });

  test.each([
    [{ maxNodes: 0 }, /target\.discovery\.maxNodes.*is not a node count from 1 to 249/s],
    [{ maxNodes: 300 }, /target\.discovery\.maxNodes/],
    [{ maxNodeSetChange: 0 }, /target\.discovery\.maxNodeSetChange.*is not a fraction above 0 and at most 1/s],
    [{ maxNodeSetChange: 1.5 }, /target\.discovery\.maxNodeSetChange/],
    [{ peersInInterfaceNetwork: true }, /target\.discovery\.peersInInterfaceNetwork.*discovery\.unicast is off/s],
  ])('synth refuses %j', (discovery, message) => {
    expect(() => cluster({ target: Target.standalone({ discovery }) })).toThrow(message);
  });

  test('the limits reach spec.json', () => {
    const chart = cluster({ target: Target.standalone({ discovery: { unicast: true, maxNodes: 16, maxNodeSetChange: 0.25, peersInInterfaceNetwork: true } }) });
    const configMap = synth(chart).find((o: any) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined);
    expect(JSON.parse(configMap.data['spec.json']).discovery).toMatchObject({ maxNodes: 16, maxNodeSetChange: 0.25, peersInInterfaceNetwork: true });
  });
});

describe('interface names from the node', () => {
  const hostile: NodeView = {
    interfaces: [{ name: 'x}#', addresses: ['198.51.100.11/24'] }, { name: 'lo', addresses: ['127.0.0.1/8'] }],
    defaultRoutes: [{ family: 4, interface: 'x}#' }],
  };
  const v4: AgentSpec = { version: 1, cluster: 'edge', auth: false, groups: [agentGroup({ name: 'front', index: 0, vrid: 10 })] };

  test('a legal Linux name that would close the vrrp_instance block is never rendered', () => {
    expect(() => renderKeepalivedConf(v4, hostile, { nodeName: 'node-a' })).toThrow(AgentRenderError);
    expect(() => renderKeepalivedConf(v4, hostile, { nodeName: 'node-a' })).toThrow(/the interface name "x\}#" does not match/);
    const byName = { ...v4, groups: [agentGroup({ name: 'front', index: 0, vrid: 10, interface: { detectionStrategy: 'Name' as const, name: 'a b{' } })] };
    expect(() => renderKeepalivedConf(byName, { ...hostile, interfaces: [...hostile.interfaces, { name: 'a b{', addresses: [] }] }, { nodeName: 'node-a' })).toThrow(/"a b\{" does not match/);
  });

  test('the agent\'s node view leaves such names out, and messages name them', () => {
    const safe = withSafeInterfaceNames(hostile);
    expect(safe.interfaces.map((i) => i.name)).toEqual(['lo']);
    expect(safe.defaultRoutes).toEqual([]);
    expect(() => renderKeepalivedConf(v4, safe, { nodeName: 'node-a' })).toThrow(/no IPv4 default route.*ignored, as names keepalived\.conf cannot carry: "x\}#"/s);
    // The Linux reader applies it.
    const view = readNodeView({ procRoot: '/nonexistent', interfaces: { 'eth0': [{ cidr: '198.51.100.11/24' }], 'x}#': [{ cidr: '203.0.113.1/24' }], 'bond0.100@x': [] } });
    expect(view.interfaces.map((i) => i.name)).toEqual(['bond0.100@x', 'eth0']);
    expect(view.unsafeInterfaceNames).toEqual(['x}#']);
    // An address with a label (eth0:wan) is its interface's, not one of a name keepalived.conf cannot carry
    const labelled = readNodeView({ procRoot: '/nonexistent', interfaces: { 'eth0': [{ cidr: '198.51.100.11/24' }], 'eth0:wan': [{ cidr: '203.0.113.5/24' }] } });
    expect(labelled.interfaces).toEqual([{ name: 'eth0', addresses: ['198.51.100.11/24', '203.0.113.5/24'] }]);
    expect(labelled.unsafeInterfaceNames).toBeUndefined();
    // What a scrape asks for a group's addresses: the addresses alone (no route table is read)
    expect(readNodeAddresses({ interfaces: { 'eth0': [{ cidr: '198.51.100.11/24' }], 'eth0:wan': [{ cidr: '203.0.113.5/24' }] } })).toEqual(['198.51.100.11/24', '203.0.113.5/24']);
  });

  test('the route tables are read in chunks for their default routes: a big table fits a small heap', () => {
    // GIVEN a node with 300,000 routes (lines of odd lengths, so that chunk edges fall mid-line), its
    // default routes at the start, in the middle and at the end
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-proc-'));
    try {
      fs.mkdirSync(path.join(proc, 'net'));
      const route = (iface: string, destination: string, metric: number, mask: string) => `${iface}\t${destination}\t0100A8C0\t0003\t0\t0\t${metric}\t${mask}\t0\t0\t0`;
      const lines = ['Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'];
      for (let i = 0; i < 300_000; i++) {
        if (i === 0 || i === 150_003) lines.push(route(i === 0 ? 'eth1' : 'eth0', '00000000', i === 0 ? 200 : 100, '00000000'));
        lines.push(route('eth2', (0x0a000000 + i * 256).toString(16).toUpperCase().padStart(8, '0'), i % 7, 'FFFFFF00'));
      }
      lines.push(route('eth3', '00000000', 300, '00000000'));
      fs.writeFileSync(path.join(proc, 'net', 'route'), `${lines.join('\n')}\n`);
      // WHEN the agent's reader reads the node's view in a process with a 16 MB old generation (read
      // whole, the 15 MB table does not fit: the process dies out of memory)
      const reader = esbuild.buildSync({ entryPoints: [path.join(__dirname, '..', 'src', 'agent', 'node-view-linux.ts')], bundle: true, platform: 'node', format: 'cjs', write: false });
      fs.writeFileSync(path.join(proc, 'reader.js'), reader.outputFiles[0].text);
      const run = spawnSync(process.execPath, ['--max-old-space-size=16', '-e',
        `process.stdout.write(JSON.stringify(require(${JSON.stringify(path.join(proc, 'reader.js'))}).readNodeView({ procRoot: ${JSON.stringify(proc)}, interfaces: { eth0: [], eth1: [], eth2: [], eth3: [] } }).defaultRoutes))`,
      ], { encoding: 'utf8', timeout: 60_000 });
      // THEN it finds all three, lowest metric first
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual([{ family: 4, interface: 'eth0' }, { family: 4, interface: 'eth1' }, { family: 4, interface: 'eth3' }]);
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });

  test('a log message is one line, whatever it quotes: a Lease holder with a newline forges no line of its own', () => {
    let out = '';
    const sink = { write: (t: string) => { out += t; return true; } } as unknown as NodeJS.WritableStream;
    const logger = streamLogger(sink, sink);
    logger.info(`took Lease edge-vrid-7 over from ${'node-b\nkeepalived-agent: error: forged\r\u001b[2J'}`);
    expect(out).toBe('keepalived-agent: took Lease edge-vrid-7 over from node-b\\nkeepalived-agent: error: forged\\u000d\\u001b[2J\n');
    out = '';
    logger.warn('x'.repeat(100_000));
    expect(out.length).toBeLessThan(MAX_LINE_CHARS + 100);
    expect(out.split('\n')).toHaveLength(2);
  });

  test('a Lease\'s leaseTransitions left at the int32 bound (or not a count) by another writer does not block taking it over', () => {
    expect(nextTransitions(4, false)).toBe(5);
    expect(nextTransitions(4, true)).toBe(4);
    expect(nextTransitions(2 ** 31 - 1, false)).toBe(0);
    expect(nextTransitions('7', false)).toBe(1);
    expect(nextTransitions(-3, false)).toBe(1);
    expect(nextTransitions(undefined, false)).toBe(1);
  });

  test('the files the agent is given are read bounded: a regular file only (a FIFO in its place does not block), at most its size', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-read-'));
    try {
      fs.writeFileSync(path.join(dir, 'spec.json'), '{"version":1}');
      expect(readBoundedFile(path.join(dir, 'spec.json'))).toBe('{"version":1}');
      fs.writeFileSync(path.join(dir, 'big'), 'x'.repeat(65));
      expect(() => readBoundedFile(path.join(dir, 'big'), 64)).toThrow(new UnfitFileError(`${path.join(dir, 'big')} is 65 bytes, more than the 64 it can be`));
      expect(spawnSync('mkfifo', [path.join(dir, 'fifo')]).status).toBe(0);
      expect(() => readBoundedFile(path.join(dir, 'fifo'))).toThrow(new UnfitFileError(`${path.join(dir, 'fifo')} is not a regular file`));
      expect(() => readBoundedFile(path.join(dir, 'none'))).toThrow(/ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('synth refuses such a name in InterfaceSelector.name()', () => {
    expect(() => cluster({ target: Target.standalone(), interface: InterfaceSelector.name('x}#') })).toThrow(/has characters keepalived\.conf cannot carry/);
  });
});

/** A synthesized standalone cluster with one group (throws on invalid props). */
function cluster(props: { target: Target; interface?: InterfaceSelector }) {
  const { chart } = newChart();
  new KeepalivedCluster(chart, 'edge', {
    nodeSelector: { edge: '' },
    target: props.target,
    groups: [{ interface: props.interface, addresses: [{ address: '198.51.100.100/32' }] }],
  });
  synth(chart);
  return chart;
}
