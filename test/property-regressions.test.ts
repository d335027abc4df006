// Minimal inputs that the property tests (test/property-invalid.test.ts, FC_INCLUDE_GAPS=1) shrank to,
// for input that src accepts today although the cluster, the node agent or keepalived rejects it.
// Each test states what should happen; they FAIL until src is fixed (they are not test.failing on
// purpose). Once one passes, drop its entry from KNOWN_GAPS in test/property-invalid.test.ts, so that
// the property covers it too.
import { App, Chart } from 'cdk8s';
import { FrontendVips, KeepalivedCluster, MAX_NODE_ORDER, Target, VrrpAuth, VrrpPolicyFlavor } from '../src/internal';
import { newChart, synth } from './support/synth';

type Build = (chart: Chart, app: App) => void;

/** Builds and synthesizes: the objects, or the error message. */
function attempt(build: Build): { objects?: any[]; message?: string } {
  const { app, chart } = newChart();
  try {
    build(chart, app);
    return { objects: synth(chart) };
  } catch (e) {
    return { message: (e as Error).message };
  }
}

/** Expects synth to throw, with a message naming `[path] field = `. */
function expectRejected(build: Build, path: string, field: string | RegExp) {
  const { objects, message } = attempt(build);
  expect(objects?.map((o) => `${o.kind}/${o.metadata.name}`)).toBeUndefined();
  const fieldPattern = typeof field === 'string' ? field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : field.source;
  expect(message).toMatch(new RegExp(`\\[${path.replace(/\//g, '\\/')}\\] ${fieldPattern} = `));
}

const identities = (objects: any[]) => objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
const duplicates = (items: string[]) => items.filter((x, i) => items.indexOf(x) !== i);

describe('tolerations the API server rejects (ValidateTolerations) pass synth', () => {
  // Kubernetes validates a non-empty toleration key as a label key, and with operator Equal (or none)
  // the value as a label value. The standalone DaemonSet, and the StatefulSet the Deckhouse module
  // derives from a KeepalivedInstance, would be rejected at apply time.
  test.each([['Deckhouse', undefined], ['standalone', Target.standalone()]])('a key that is not a label key (%s)', (_, target) => expectRejected(
    (chart) => new FrontendVips(chart, 'front', {
      nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.1/32'], target, tolerations: [{ key: 'bad key!', operator: 'Exists' }],
    }),
    'test/front', 'tolerations[0].key'));

  test.each([['Deckhouse', undefined], ['standalone', Target.standalone()]])('an Equal value that is not a label value (%s)', (_, target) => expectRejected(
    (chart) => new FrontendVips(chart, 'front', {
      nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.1/32'], target, tolerations: [{ key: 'k', operator: 'Equal', value: 'has space' }],
    }),
    'test/front', 'tolerations[0].value'));
});

describe('standalone options the node agent rejects on every node pass synth', () => {
  test('nodeOrder longer than MAX_NODE_ORDER (249): the agent reports "spec.nodeOrder lists 250 nodes"', () => expectRejected(
    (chart) => new FrontendVips(chart, 'front', {
      nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.1/32'],
      target: Target.standalone({ nodeOrder: Array.from({ length: MAX_NODE_ORDER + 1 }, (_, i) => `node-${i}`) }),
    }),
    'test/front', /target\.nodeOrder(\[\d+\])?/));

  test('unicastPeers without an address of a group\'s family: "spec.unicastPeers has no IPv6 address"', () => expectRejected(
    (chart) => new FrontendVips(chart, 'front', {
      nodeSelector: {}, selectAllNodes: true, addresses: ['2001:db8::1/64'],
      target: Target.standalone({ unicastPeers: ['192.0.2.11', '192.0.2.12'] }),
    }),
    'test/front', /target\.unicastPeers(\[\d+\])?/));
});

describe('two groups of one standalone cluster render the same vrrp_instance name', () => {
  // keepalived 2.2.7: "vrrp instance <name> already defined", and it skips the second block, so that
  // group's addresses are never held.
  const groupNames = (objects: any[]) => JSON.parse(objects.find((o) => o.kind === 'ConfigMap').data['spec.json']).groups.map((g: any) => g.name);

  test('the same explicit group name twice', () => expectRejected(
    (chart) => {
      const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone() });
      c.addGroup({ name: 'web', addresses: [{ address: '192.0.2.1/32' }] });
      c.addGroup({ name: 'web', addresses: [{ address: '192.0.2.2/32' }] });
    },
    'test/c', 'groups[1].name'));

  test('an explicit name "vrid-7" and an unnamed group with VRID 7 (whose default name is vrid-7)', () => {
    const { objects, message } = attempt((chart) => {
      const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone() });
      c.addGroup({ name: 'vrid-7', id: 8, addresses: [{ address: '192.0.2.1/32' }] });
      c.addGroup({ id: 7, addresses: [{ address: '192.0.2.2/32' }] });
    });
    // Either rejected, naming the group, or the names differ.
    if (objects === undefined) expect(message).toMatch(/\[test\/c\] groups\[[01]\]\.name = /);
    else expect(duplicates(groupNames(objects))).toEqual([]);
  });
});

describe('duplicate objects', () => {
  test('a policy flavour listed twice: a cdk8s construct-id clash instead of a message naming target.policies[1]', () => {
    const { objects, message } = attempt((chart) => new FrontendVips(chart, 'front', {
      nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.1/32'],
      target: Target.standalone({ policies: [VrrpPolicyFlavor.CALICO, VrrpPolicyFlavor.CALICO] }),
    }));
    // Either rejected, naming the field (today: "There is already a Construct with name
    // 'GlobalNetworkPolicy' in FrontendVips [front]"), or each policy emitted once.
    if (objects === undefined) expect(message).toMatch(/\[test\/front\] target\.policies\[1\] = /);
    else expect(duplicates(identities(objects))).toEqual([]);
  });

  test.each([[VrrpPolicyFlavor.CILIUM], [VrrpPolicyFlavor.CALICO]])(
    'one name in two namespaces: two cluster-scoped %s policies keepalived-<name>-vrrp', (flavor) => {
      const { objects, message } = attempt((chart) => {
        new FrontendVips(chart, 'a', { name: 'edge', nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.1/32'], target: Target.standalone({ namespace: 'ns-a', policies: [flavor] }) });
        new FrontendVips(chart, 'b', { name: 'edge', nodeSelector: {}, selectAllNodes: true, addresses: ['192.0.2.2/32'], target: Target.standalone({ namespace: 'ns-b', policies: [flavor], metrics: { port: 9655 } }) });
      });
      // Either rejected, naming the second cluster's name, or the cluster-scoped policies differ
      // (today the second overwrites the first on apply, and ns-a's nodes lose their VRRP rule).
      if (objects === undefined) expect(message).toMatch(/\[test\/b\] name = /);
      else expect(duplicates(identities(objects))).toEqual([]);
    });
});

describe('auth makes IPv4 groups VRRPv2 on the default profile (found by property-invalid, seed 1222178510)', () => {
  // A fractional interval is fine on the default VRRPv3; with auth the group runs VRRPv2. Either field
  // may be the mistake: the message names both, and a later IPv6 group's auth problem is not hidden.
  const build = (chart: Chart) => new KeepalivedCluster(chart, 'edge', {
    nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ auth: VrrpAuth.literal('secret1') }),
    groups: [{ addresses: [{ address: '192.0.2.1/32' }], advertInterval: 0.5 }, { addresses: [{ address: '2001:db8::1/64' }] }],
  });
  test('names target.auth', () => expectRejected(build, 'test/edge', 'target.auth'));
  test('names groups[0].advertInterval', () => expectRejected(build, 'test/edge', 'groups[0].advertInterval'));
});
