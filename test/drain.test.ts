import { AgentSpec } from '../src/core/agent-spec';
import { deriveDiscoveredView, describeNodeSetChange, diffNodeSets, DiscoveredNode, EXCLUDE_FROM_LOAD_BALANCERS_LABEL, isDraining } from '../src/core/discovered-nodes';
import { planNode, renderKeepalivedConf } from '../src/core/keepalived-conf';
import { NodeView } from '../src/core/node-view';
import { expectedRoleOf, isTrailingIn, PREFERRED_PRIORITY, priorityOf } from '../src/core/priority';
import { nodeInfoOf } from '../src/agent/node-watch';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';

/*
 * Drain and maintenance in discovery mode (issue 11 item 4): a node that is cordoned, or labelled
 * node.kubernetes.io/exclude-from-external-load-balancers, ranks below every other node for every group
 * (its preferred groups too) and gives up its nopreempt groups. test/netns-discovery.test.ts proves the
 * handover with real keepalived.
 */
const keepalived = new KeepalivedConfigCheck('kc-drain', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  auth: false,
  groups: [
    agentGroup({ name: 'front', index: 0, vrid: 10 }),
    agentGroup({ name: 'sticky', index: 1, vrid: 11, preempt: false }),
    agentGroup({ name: 'pinned', index: 2, vrid: 12, preferredNode: 'node-b' }),
  ],
  discovery: {
    nodeSelector: { edge: '' }, namespace: 'keepalived', leases: false, leasePrefix: 'edge',
    leaseDurationSeconds: 15, unicast: false, minReloadIntervalSeconds: 5,
  },
};

const node = (name: string, host: number, extra: Partial<DiscoveredNode> = {}): DiscoveredNode => ({
  name, internalIPv4: `198.51.100.${host}`, ready: true, unschedulable: false, ...extra,
});
const A = node('node-a', 11);
const B = node('node-b', 12);
const C = node('node-c', 13);
const VIEW: NodeView = { interfaces: [{ name: 'eth0', addresses: ['198.51.100.12/24'] }], defaultRoutes: [{ family: 4, interface: 'eth0' }] };

/** Priorities of every node for a group, by node name. */
function priorities(nodes: readonly DiscoveredNode[], groupIndex: number): Record<string, number> {
  return Object.fromEntries(nodes.map((n) => [n.name, priorityOf(deriveDiscoveredView(SPEC, nodes, { nodeName: n.name }), SPEC.groups[groupIndex], n.name)]));
}

describe('which nodes are drained', () => {
  test('cordoned or labelled exclude-from-external-load-balancers (any value, even empty)', () => {
    expect(isDraining(A)).toBe(false);
    expect(isDraining({ ...A, unschedulable: true })).toBe(true);
    expect(isDraining({ ...A, excludedFromLoadBalancers: true })).toBe(true);
    // The agent reads the label from the Node (its presence, as Kubernetes' service controller does)
    const labelled = (labels: Record<string, string>) => nodeInfoOf({ metadata: { name: 'n', labels }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(labelled({ [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: '' })).toEqual({ name: 'n', ready: true, unschedulable: false, excludedFromLoadBalancers: true });
    expect(labelled({ [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: 'true' }).excludedFromLoadBalancers).toBe(true);
    expect(labelled({ 'node.kubernetes.io/other': '' })).toEqual({ name: 'n', ready: true, unschedulable: false });
  });

  test('a labelled node goes last and leads nothing, like a cordoned one; the change is named in the reload message', () => {
    const nodes = [A, { ...B, excludedFromLoadBalancers: true }, C];
    expect(deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-a' })).toMatchObject({ nodeOrder: ['node-a', 'node-c', 'node-b'], leaderCount: 2 });
    expect(describeNodeSetChange(diffNodeSets([A, B, C], nodes))).toBe('changed node-b (excluded from load balancers)');
    expect(describeNodeSetChange(diffNodeSets(nodes, [A, B, C]))).toBe('changed node-b (no longer excluded from load balancers)');
  });
});

describe('priorities of a drained node', () => {
  test('below every other node for every group, its preferred group included', () => {
    const nodes = [A, { ...B, unschedulable: true }, C];
    for (const g of [0, 1, 2]) {
      const p = priorities(nodes, g);
      expect(p['node-b']).toBeLessThan(Math.min(p['node-a'], p['node-c']));
    }
    // node-b is the preferred node of `pinned`: 254 normally, below the others while drained
    expect(priorities([A, B, C], 2)['node-b']).toBe(PREFERRED_PRIORITY);
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-b' });
    expect(isTrailingIn(view, 'node-b')).toBe(true);
    expect(expectedRoleOf(view, SPEC.groups[2], 'node-b')).toBe('backup');
    expect(['node-a', 'node-c'].filter((n) => expectedRoleOf(deriveDiscoveredView(SPEC, nodes, { nodeName: n }), SPEC.groups[2], n) === 'master')).toHaveLength(1);
  });

  test('with every node drained, none is treated as drained (the VIPs stay somewhere)', () => {
    const nodes = [A, B, C].map((n) => ({ ...n, unschedulable: true }));
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-b' });
    expect(isTrailingIn(view, 'node-b')).toBe(false);
    expect(priorities(nodes, 2)['node-b']).toBe(PREFERRED_PRIORITY);
    expect(planNode(SPEC, VIEW, { nodeName: 'node-b' }, view).instances).toHaveLength(3);
  });
});

describe('the drained node\'s keepalived.conf', () => {
  test('keeps its preempt groups at the lowest priority and renders no vrrp_instance for its nopreempt groups', () => {
    const nodes = [A, { ...B, excludedFromLoadBalancers: true }, C];
    const view = deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-b' });
    const conf = renderKeepalivedConf(SPEC, VIEW, { nodeName: 'node-b' }, view);
    keepalived.expectAccepts(conf);
    expect(conf).toContain('# group sticky: released while this node is drained (cordoned or excluded from load balancers)\n');
    expect(conf).not.toContain('vrrp_instance edge_sticky');
    expect(conf).toContain('vrrp_instance edge_front {');
    expect(conf).toContain('vrrp_instance edge_pinned {');
    expect(planNode(SPEC, VIEW, { nodeName: 'node-b' }, view).releasedGroups).toEqual(['sticky']);
    // the other nodes still render every group
    const other = planNode(SPEC, { ...VIEW, interfaces: [{ name: 'eth0', addresses: ['198.51.100.11/24'] }] }, { nodeName: 'node-a' }, deriveDiscoveredView(SPEC, nodes, { nodeName: 'node-a' }));
    expect(other.instances.map((i) => i.group.name)).toEqual(['front', 'sticky', 'pinned']);
    expect(other.releasedGroups).toBeUndefined();
  });

  test('with no Ready node to take over (the other of a pair NotReady), it keeps its nopreempt groups', () => {
    // GIVEN a pair whose other node is NotReady, and this one cordoned
    const pair = [{ ...A, ready: false }, { ...B, unschedulable: true }];
    const view = deriveDiscoveredView(SPEC, pair, { nodeName: 'node-b' });
    expect(view).toMatchObject({ nodeOrder: ['node-a', 'node-b'], leaderCount: 1, readyLeaderCount: 0 });
    // THEN it still ranks last (a live node-a would take the preempt groups), but gives nothing up
    expect(isTrailingIn(view, 'node-b')).toBe(true);
    const plan = planNode(SPEC, VIEW, { nodeName: 'node-b' }, view);
    expect(plan.instances.map((i) => i.group.name)).toEqual(['front', 'sticky', 'pinned']);
    expect(plan.releasedGroups).toBeUndefined();
    // ... and once node-a is Ready again, it releases them
    expect(planNode(SPEC, VIEW, { nodeName: 'node-b' }, deriveDiscoveredView(SPEC, [A, { ...B, unschedulable: true }], { nodeName: 'node-b' })).releasedGroups).toEqual(['sticky']);
  });

  test('uncordoned, it renders every group again; without discovery nothing is ever released', () => {
    const conf = renderKeepalivedConf(SPEC, VIEW, { nodeName: 'node-b' }, deriveDiscoveredView(SPEC, [A, B, C], { nodeName: 'node-b' }));
    expect(conf).toContain('vrrp_instance edge_sticky {');
    expect(conf).not.toContain('released');
    const staticSpec: AgentSpec = { ...SPEC, discovery: undefined, nodeOrder: ['node-a', 'node-b', 'node-c'] };
    expect(planNode(staticSpec, VIEW, { nodeName: 'node-b' }).instances).toHaveLength(3);
  });
});
