import * as fc from 'fast-check';
import { AgentDiscovery, AgentSpec } from '../src/core/agent-spec';
import { deriveDiscoveredView, describeNodeSetChange, diffNodeSets, DiscoveredNode, DiscoveredView } from '../src/core/discovered-nodes';
import { AgentRenderError, renderKeepalivedConf, RenderNode } from '../src/core/keepalived-conf';
import { NodeView } from '../src/core/node-view';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';
import { MAX_NODE_ORDER, priorityOf, rankStep, TOP_ORDERED_PRIORITY } from '../src/core/priority';

/*
 * Discovery's derived view (node order, leaders, unicast peers per family) and rendering with it.
 * Every config rendered here is checked by the real keepalived (`keepalived -t`) in a network namespace
 * of our own that has the fixture's interfaces, as test/keepalived-conf.test.ts does.
 */
const keepalived = new KeepalivedConfigCheck('kc-disc', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

function render(spec: AgentSpec, view: NodeView, node: RenderNode, discovered?: DiscoveredView): string {
  const config = renderKeepalivedConf(spec, view, node, discovered);
  keepalived.expectAccepts(config);
  return config;
}

const DISCOVERY: AgentDiscovery = {
  nodeSelector: { 'node-role.kubernetes.io/edge': '' },
  namespace: 'keepalived',
  leases: true,
  leasePrefix: 'edge',
  leaseDurationSeconds: 15,
  unicast: true,
  minReloadIntervalSeconds: 5,
};

const group = agentGroup;

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  auth: false,
  groups: [
    group({ name: 'front', index: 0, vrid: 10 }),
    group({ name: 'back', index: 1, vrid: 11 }),
    group({ name: 'v6', index: 2, vrid: 12, family: 6, vrrpVersion: 3, addresses: [{ address: '2001:db8:1::100/64' }] }),
  ],
  discovery: DISCOVERY,
};

const node = (name: string, host: number, extra: Partial<DiscoveredNode> = {}): DiscoveredNode => ({
  name, internalIPv4: `198.51.100.${host}`, internalIPv6: `2001:db8:1::${host}`, ready: true, unschedulable: false, ...extra,
});
const A = node('node-a', 11);
const B = node('node-b', 12);
const C = node('node-c', 13);
const D = node('node-d', 14);

function viewOf(host: number): NodeView {
  return {
    interfaces: [
      { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'eth0', addresses: [`198.51.100.${host}/24`, `2001:db8:1::${host}/64`] },
    ],
    defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth0' }],
  };
}

/** Each group's master: the node with the highest priority (no ties allowed). */
function mastersOf(spec: AgentSpec, nodes: readonly DiscoveredNode[], groups = spec.groups): string[] {
  return groups.map((g) => {
    const priorities = nodes.map((n) => priorityOf(deriveDiscoveredView(spec, nodes, { nodeName: n.name }), g, n.name));
    expect(new Set(priorities).size).toBe(priorities.length);
    return nodes[priorities.indexOf(Math.max(...priorities))].name;
  });
}

describe('derived node order', () => {
  test('the static nodeOrder\'s discovered nodes first, in its order; then the others by name', () => {
    const spec = { ...SPEC, nodeOrder: ['node-c', 'node-x', 'node-a'] };
    const view = deriveDiscoveredView(spec, [D, B, A, C], { nodeName: 'node-a' });
    expect(view.nodeOrder).toEqual(['node-c', 'node-a', 'node-b', 'node-d']);
    expect(view.leaderCount).toBe(4);
    // Without a static order: by name, whatever order the API listed them in.
    expect(deriveDiscoveredView(SPEC, [D, B, A, C], { nodeName: 'node-a' }).nodeOrder).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
  });

  test('cordoned nodes go last and lead nothing while a schedulable node is up; NotReady nodes keep their place', () => {
    const nodes = [A, { ...B, unschedulable: true }, { ...C, ready: false }, D];
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-a' });
    expect(view.nodeOrder).toEqual(['node-a', 'node-c', 'node-d', 'node-b']);
    expect(view.leaderCount).toBe(3);
    // Three groups, three schedulable nodes: one master each, none on the cordoned node-b.
    expect(mastersOf(SPEC, nodes).sort()).toEqual(['node-a', 'node-c', 'node-d']);
    // Priorities: the three leaders a step apart from 250 down, the cordoned node below them all.
    expect(priorityOf(view, SPEC.groups[0], 'node-b')).toBe(TOP_ORDERED_PRIORITY - 3 * rankStep(SPEC.groups[0], 4));
  });

  test('cordoning a node moves each of its masters to a schedulable node', () => {
    const before = mastersOf(SPEC, [A, B, C]);
    expect(before).toEqual(['node-a', 'node-b', 'node-c']);
    const after = mastersOf(SPEC, [A, { ...B, unschedulable: true }, C]);
    expect(after).not.toContain('node-b');
    expect(after[0]).toBe('node-a');
  });

  test('every node cordoned: all of them lead', () => {
    const nodes = [A, B, C].map((n) => ({ ...n, unschedulable: true }));
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-a' });
    expect(view).toMatchObject({ nodeOrder: ['node-a', 'node-b', 'node-c'], leaderCount: 0 });
    expect(mastersOf(SPEC, nodes)).toEqual(['node-a', 'node-b', 'node-c']);
  });

  test('this node is always in the view, with --host-ip as its address, even before the API lists it', () => {
    const view = deriveDiscoveredView(SPEC, [B, C], { nodeName: 'node-a', hostIp: '198.51.100.11' });
    expect(view.nodeOrder).toEqual(['node-a', 'node-b', 'node-c']);
    expect(view.unicastPeers).toEqual(['198.51.100.11', '198.51.100.12', '2001:db8:1::12', '198.51.100.13', '2001:db8:1::13']);
    expect(view.unicastSource).toEqual({ ipv4: '198.51.100.11' });
  });

  test('at most MAX_NODE_ORDER nodes are ranked; the rest fall into the hash band below them', () => {
    const many = Array.from({ length: MAX_NODE_ORDER + 5 }, (_, i) => node(`n-${String(i).padStart(3, '0')}`, 1));
    const view = deriveDiscoveredView({ ...SPEC, discovery: { ...DISCOVERY, unicast: false } }, many, { nodeName: 'n-000' });
    expect(view.nodeOrder).toHaveLength(MAX_NODE_ORDER);
    expect(priorityOf(view, SPEC.groups[0], 'n-252')).toBeLessThan(Math.min(...view.nodeOrder.map((n) => priorityOf(view, SPEC.groups[0], n))));
  });

  test('property: N groups on N discovered nodes put exactly one master on each node, whatever the static order and list order', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), { minLength: 1, maxLength: 12 }),
      fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), { maxLength: 6 }),
      fc.integer({ min: 0, max: 1000 }),
      (names, extraStatic, seed) => {
        const nodes = names.map((name, i) => node(name, 1 + (i % 200)));
        const shuffled = [...nodes].sort((a, b) => ((a.name.length * 31 + seed) % 7) - ((b.name.length * 31 + seed) % 7));
        const staticOrder = [...extraStatic, ...names.filter((_, i) => (i + seed) % 3 === 0)];
        const spec: AgentSpec = { ...SPEC, nodeOrder: staticOrder, discovery: { ...DISCOVERY, unicast: false } };
        const groups = names.map((_, i) => group({ name: `g${i}`, index: i, vrid: i + 1 }));
        // Every node derives the same order from the same set, however the API listed it.
        const orders = names.map((n) => deriveDiscoveredView(spec, shuffled, { nodeName: n }).nodeOrder.join(','));
        expect(new Set(orders).size).toBe(1);
        const masters = mastersOf(spec, shuffled, groups);
        expect([...masters].sort()).toEqual([...names].sort());
      },
    ), { numRuns: 200 });
  });
});

describe('unicast peers from InternalIPs', () => {
  test('per family, this node\'s own InternalIP as the source; nodes without an address of a family are not its peers', () => {
    const nodes = [A, { ...B, internalIPv6: undefined }, C];
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-c', hostIp: '198.51.100.99' });
    expect(view.unicastPeers).toEqual(['198.51.100.11', '2001:db8:1::11', '198.51.100.12', '198.51.100.13', '2001:db8:1::13']);
    // Its own InternalIP wins over --host-ip.
    expect(view.unicastSource).toEqual({ ipv4: '198.51.100.13', ipv6: '2001:db8:1::13' });
    const config = render(SPEC, viewOf(13), { nodeName: 'node-c', hostIp: '198.51.100.99' }, view);
    expect(config).toContain('    unicast_src_ip 198.51.100.13\n    unicast_peer {\n        198.51.100.11\n        198.51.100.12\n    }');
    expect(config).toContain('    unicast_src_ip 2001:db8:1::13\n    unicast_peer {\n        2001:db8:1::11\n    }');
  });

  test('--host-ip is the source of its family when the Node lists no InternalIP of it', () => {
    const view = deriveDiscoveredView(SPEC, [{ ...A, internalIPv4: undefined }, B], { nodeName: 'node-a', hostIp: '198.51.100.11' });
    expect(view.unicastSource).toEqual({ ipv4: '198.51.100.11', ipv6: '2001:db8:1::11' });
    expect(view.unicastPeers).toContain('198.51.100.11');
  });

  test('an IPv6 group on a node without any IPv6 address is a render error that says so', () => {
    const view = deriveDiscoveredView(SPEC, [{ ...A, internalIPv6: undefined }, B], { nodeName: 'node-a', hostIp: '198.51.100.11' });
    expect(() => renderKeepalivedConf(SPEC, viewOf(11), { nodeName: 'node-a', hostIp: '198.51.100.11' }, view)).toThrow(AgentRenderError);
    expect(() => renderKeepalivedConf(SPEC, viewOf(11), { nodeName: 'node-a', hostIp: '198.51.100.11' }, view))
      .toThrow('group "v6": discovery.unicast: this node has no IPv6 address to send adverts from: its Node lists no IPv6 InternalIP and --host-ip 198.51.100.11 is not IPv6');
    // The IPv4 groups alone render.
    const v4only = { ...SPEC, groups: SPEC.groups.slice(0, 2) };
    expect(render(v4only, viewOf(11), { nodeName: 'node-a' }, view)).toContain('unicast_src_ip 198.51.100.11');
  });

  test('alone in the cluster: no peer, so keepalived uses multicast (it rejects unicast_src_ip without peers)', () => {
    const view = deriveDiscoveredView(SPEC, [A], { nodeName: 'node-a' });
    const config = render(SPEC, viewOf(11), { nodeName: 'node-a' }, view);
    expect(config).not.toContain('unicast_src_ip');
    expect(config).toContain('# no other IPv4 unicast peer: keepalived uses multicast');
  });

  test('without discovery.unicast, the spec\'s static unicastPeers (or multicast) stay', () => {
    const spec: AgentSpec = { ...SPEC, discovery: { ...DISCOVERY, unicast: false }, unicastPeers: ['198.51.100.11', '198.51.100.50', '2001:db8:1::11', '2001:db8:1::50'] };
    const view = deriveDiscoveredView(spec, [A, B, C], { nodeName: 'node-a' });
    expect(view.unicastPeers).toBeUndefined();
    const config = render(spec, viewOf(11), { nodeName: 'node-a', hostIp: '198.51.100.11' }, view);
    expect(config).toContain('unicast_peer {\n        198.51.100.50\n    }');
    expect(render({ ...spec, unicastPeers: undefined }, viewOf(11), { nodeName: 'node-a' }, view)).not.toContain('unicast');
  });
});

describe('rendering with the derived view', () => {
  test('the whole config for one node: discovered order and peers override the static ones; notify_fifo in global_defs', () => {
    // GIVEN a static order and peers that discovery overrides
    const spec: AgentSpec = { ...SPEC, nodeOrder: ['node-b', 'node-a'], unicastPeers: ['198.51.100.11', '198.51.100.77'] };
    const view = deriveDiscoveredView(spec, [A, B, C, D], { nodeName: 'node-a' });
    // WHEN
    const config = render(spec, viewOf(11), { nodeName: 'node-a', hostIp: '198.51.100.11', notifyFifo: '/run/keepalived/notify.fifo' }, view);
    // THEN order node-b, node-a, node-c, node-d: node-a is second, so it leads group index 1
    expect(config).toBe(`# Rendered by keepalived-constructs for node node-a (cluster edge). Do not edit: the agent rewrites it.
global_defs {
    router_id node-a
    notify_fifo /run/keepalived/notify.fifo
    # unicast adverts only from the listed peers
    vrrp_check_unicast_src
}

vrrp_instance edge_front {
    state BACKUP
    interface eth0
    virtual_router_id 10
    priority 247
    advert_int 1
    version 2
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
        198.51.100.13
        198.51.100.14
    }
    virtual_ipaddress {
        198.51.100.100/32 dev eth0
    }
}

vrrp_instance edge_back {
    state BACKUP
    interface eth0
    virtual_router_id 11
    priority 250
    advert_int 1
    version 2
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
        198.51.100.13
        198.51.100.14
    }
    virtual_ipaddress {
        198.51.100.101/32 dev eth0
    }
}

vrrp_instance edge_v6 {
    state BACKUP
    interface eth0
    virtual_router_id 12
    priority 241
    advert_int 1
    version 3
    unicast_src_ip 2001:db8:1::11
    unicast_peer {
        2001:db8:1::12
        2001:db8:1::13
        2001:db8:1::14
    }
    virtual_ipaddress {
        fe80::200:5eff:fe00:20c/64 dev eth0
        2001:db8:1::100/64 dev eth0
    }
}
`);
  });

  test('every node of a discovered cluster renders a config keepalived accepts; one master per group, spread', () => {
    const nodes = [A, B, C];
    const configs = nodes.map((n, i) => render(SPEC, viewOf(11 + i), { nodeName: n.name }, deriveDiscoveredView(SPEC, nodes, { nodeName: n.name })));
    const priorities = configs.map((c) => [...c.matchAll(/priority (\d+)/g)].map((m) => Number(m[1])));
    const masters = SPEC.groups.map((_, gi) => nodes[priorities.map((p) => p[gi]).indexOf(250)].name);
    expect(masters).toEqual(['node-a', 'node-b', 'node-c']);
  });

  test('deterministic: equal views give byte-identical configs, whatever order the API listed the nodes in', () => {
    const one = render(SPEC, viewOf(12), { nodeName: 'node-b' }, deriveDiscoveredView(SPEC, [A, B, C, D], { nodeName: 'node-b' }));
    const two = render(SPEC, viewOf(12), { nodeName: 'node-b' }, deriveDiscoveredView(SPEC, [D, C, B, A, B], { nodeName: 'node-b' }));
    expect(two).toBe(one);
  });

  test('a node added keeps every existing group\'s master; only its own groups\' priorities shift', () => {
    expect(mastersOf(SPEC, [A, B, C])).toEqual(mastersOf(SPEC, [A, B, C, D]));
  });

  test('a notify fifo path keepalived would not read as one word is a render error', () => {
    expect(() => renderKeepalivedConf(SPEC, viewOf(11), { nodeName: 'node-a', notifyFifo: 'relative/fifo' }, deriveDiscoveredView(SPEC, [A], { nodeName: 'node-a' })))
      .toThrow('--notify-fifo "relative/fifo" must be an absolute path');
    expect(() => renderKeepalivedConf(SPEC, viewOf(11), { nodeName: 'node-a', notifyFifo: '/run/my fifo' }))
      .toThrow('--notify-fifo "/run/my fifo" must be an absolute path');
  });
});

describe('priorityOf with leaders', () => {
  test('the first L nodes rotate the masters; the others rank below them in order, above unlisted nodes', () => {
    const order = { nodeOrder: ['a', 'b', 'c', 'd'], leaderCount: 2 };
    const g = (index: number) => ({ name: `g${index}`, index });
    expect(['a', 'b', 'c', 'd'].map((n) => priorityOf(order, g(0), n))).toEqual([250, 247, 244, 241]);
    expect(['a', 'b', 'c', 'd'].map((n) => priorityOf(order, g(1), n))).toEqual([247, 250, 244, 241]);
    expect(['a', 'b', 'c', 'd'].map((n) => priorityOf(order, g(2), n))).toEqual([250, 247, 244, 241]);
    expect(priorityOf(order, g(0), 'stranger')).toBeLessThan(241);
    // No leaderCount (or an out-of-range one): every node leads, as before.
    expect(priorityOf({ nodeOrder: ['a', 'b', 'c'] }, g(2), 'c')).toBe(250);
    expect(priorityOf({ nodeOrder: ['a', 'b', 'c'], leaderCount: 9 }, g(2), 'c')).toBe(250);
  });
});

describe('node set changes, for the reload log', () => {
  test('added, removed, and what changed', () => {
    const change = diffNodeSets([A, B, C], [A, { ...B, unschedulable: true, ready: false }, { ...D }, { ...C, internalIPv4: '198.51.100.23' }]);
    expect(change).toEqual({
      added: ['node-d'],
      removed: [],
      changed: ['node-b (cordoned, NotReady)', 'node-c (InternalIPv4 198.51.100.13 -> 198.51.100.23)'],
    });
    expect(describeNodeSetChange(diffNodeSets([A, B, C], [A, C, D]))).toBe('added node-d; removed node-b');
    expect(describeNodeSetChange(diffNodeSets([A], [A]))).toBe('no node added, removed or changed');
  });
});

test('keepalived -t really ran (unless skipped loudly)', () => {
  if (keepalived.active) expect(keepalived.checked).toBeGreaterThan(5);
});
