// Parity: the same props give the same objects through cdk8s and through Pulumi.
//
// Each case is cdk8s code: the examples' charts, and the cases of the cdk8s snapshot tests. While cdk8s
// builds it, the constructs record their kind, construct path and props (a recording subclass, below);
// the Pulumi components are then declared with exactly those props, and every resource registration
// (under `pulumi.runtime.setMocks`) must deep-equal the object `cdk8s synth` gives for it, in order.
//
// A Pulumi component takes the cdk8s construct *id* as its resource name (e.g. `front`): both derive
// the default `name` and the automatic VRIDs from it, so defaults agree. The one allowed difference is
// the children's names: `${id}-<kind>` in Pulumi, construct ids in cdk8s. The namespace's shared
// objects (Namespace, agent ConfigMap) come from a KeepalivedNamespace in both. Nothing else may
// differ: not metadata, not the ConfigMap's bundled agent or hash.
import { Chart } from 'cdk8s';
import { DeckhouseSeedChart } from '../examples/deckhouse-seed';
import { StandaloneEdgeChart } from '../examples/standalone-edge';
import {
  FailoverProfile, FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, ReservedVrids, Target, VrrpAuth, VrrpPolicyFlavor,
} from '../src';
import * as kp from '../src/pulumi';
import { isSecret, nameOfUrn, newProgram, plain, registered, value } from './support/pulumi';
import { newChart, synth, testApp } from './support/synth';

// Random apps put `preempt: false` on the Deckhouse target, which warns at synth (tested in validation.test.ts).
beforeAll(() => { jest.spyOn(console, 'warn').mockImplementation(() => undefined); });

interface Declared {
  readonly kind: 'FrontendVips' | 'GatewayPair' | 'KeepalivedCluster' | 'ReservedVrids';
  readonly path: string;
  readonly props: any;
  readonly added: any[];
  readonly construct: any;
}

const mockDeclared: Declared[] = [];

// The examples import their constructs from '../src': record what they declare.
jest.mock('../src', () => {
  const actual = jest.requireActual('../src');
  const recording = (kind: Declared['kind']) => class extends actual[kind] {
    private declared?: Declared;
    constructor(scope: any, id: string, props: any) {
      super(scope, id, props);
      this.declared = { kind, path: this.node.path, props, added: [], construct: this };
      mockDeclared.push(this.declared);
    }
    public addGroup(group: any) {
      super.addGroup(group);
      // Groups from props are replayed through props; only later calls are recorded.
      this.declared?.added.push(group);
    }
  };
  return {
    ...actual,
    FrontendVips: recording('FrontendVips'),
    GatewayPair: recording('GatewayPair'),
    KeepalivedCluster: recording('KeepalivedCluster'),
    ReservedVrids: recording('ReservedVrids'),
  };
});

/** The cdk8s side: a chart, built by the cases exactly as the cdk8s tests build them. */
const idOf = (path: string) => path.split('/').pop()!;
const chartWith = (declare: (chart: Chart) => void) => () => {
  const { chart } = newChart();
  declare(chart);
  return chart;
};

const edgeStandalone = (options: object = {}) => chartWith((chart) => {
  new FrontendVips(chart, 'edge', {
    name: 'edge',
    nodeSelector: { 'node-role.kubernetes.io/edge': '' },
    addresses: ['203.0.113.10/32', '203.0.113.11/32', '203.0.113.12/32'],
    vrids: [10, 11, 12],
    target: Target.standalone({ nodeOrder: ['edge-a', 'edge-b', 'edge-c'], ...options }),
  });
});

const CASES: Array<[string, () => Chart]> = [
  ['example deckhouse-seed.ts', () => new DeckhouseSeedChart(testApp(), 'deckhouse-seed')],
  ['example standalone-edge.ts', () => new StandaloneEdgeChart(testApp(), 'standalone-edge')],
  // test/deckhouse-constructs.test.ts
  ['FrontendVips (Deckhouse): one VRRP group per address', chartWith((chart) => {
    new FrontendVips(chart, 'front', {
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      addresses: ['203.0.113.101/32', '203.0.113.102/32', '203.0.113.103/32'],
      vrids: [11, 12, 13],
    });
  })],
  ['FrontendVips (Deckhouse): interface, preempt false, tolerations, automatic VRID', chartWith((chart) => {
    new FrontendVips(chart, 'front', {
      name: 'public',
      nodeSelector: { role: 'front' },
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
      addresses: ['198.51.100.10/32'],
      interface: InterfaceSelector.name('bond0'),
      preempt: false,
    });
  })],
  ['GatewayPair (Deckhouse): automatic VRID, derived name', chartWith((chart) => {
    new GatewayPair(chart, 'gw', {
      nodeSelector: { gw: '' },
      lan: { address: '192.0.2.1/24', interface: InterfaceSelector.networkAddress('192.0.2.0/24') },
      wan: { address: '203.0.113.1/28', interface: InterfaceSelector.name('ens7') },
    });
  })],
  ['KeepalivedCluster (Deckhouse): groups from props and addGroup', chartWith((chart) => {
    const cluster = new KeepalivedCluster(chart, 'edge', {
      nodeSelector: { 'node-role.kubernetes.io/edge': '' },
      target: Target.deckhouse(),
      groups: [{ id: 20, addresses: [{ address: '198.51.100.20/24' }] }],
    });
    cluster.addGroup({ id: 21, interface: InterfaceSelector.name('bond0'), addresses: [{ address: '198.51.100.21/24' }, { address: '198.51.100.22/24' }] });
  })],
  // test/standalone-manifests.test.ts
  ['FrontendVips (standalone): Namespace, ServiceAccount, ConfigMap, DaemonSet', edgeStandalone()],
  ['FrontendVips (standalone): Calico, Cilium and NetworkPolicy policies', edgeStandalone({
    policies: [VrrpPolicyFlavor.CALICO, VrrpPolicyFlavor.CILIUM, VrrpPolicyFlavor.NETWORK_POLICY],
    nodeNetworks: ['198.51.100.0/24'],
  })],
  ['GatewayPair (standalone): preferred node, derived name', chartWith((chart) => {
    new GatewayPair(chart, 'gw', {
      nodeSelector: { gw: '' },
      vrid: 20,
      preferredNode: 'gw-a',
      lan: { address: '198.51.100.1/24', interface: InterfaceSelector.networkAddress('198.51.100.0/24') },
      wan: { address: '203.0.113.129/28', interface: InterfaceSelector.name('ens7') },
      target: Target.standalone(),
    });
  })],
  // Beyond the snapshots: a literal Secret, the fast profile, and program-wide automatic allocation.
  ['FrontendVips (standalone): literal auth Secret, existing namespace', edgeStandalone({
    auth: VrrpAuth.literal('s3cret'), namespace: 'net-system', createNamespace: false,
  })],
  ['two standalone clusters share a namespace; fast profile; automatic VRIDs', chartWith((chart) => {
    new FrontendVips(chart, 'a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32', '203.0.113.2/32'], target: Target.standalone({ profile: FailoverProfile.FAST }) });
    new FrontendVips(chart, 'b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.3/32'], target: Target.standalone({ metrics: { port: 9655 } }) });
  })],
  ['automatic VRIDs around reserved ones, across components', chartWith((chart) => {
    new ReservedVrids(chart, 'routers', { ids: Array.from({ length: 200 }, (_, i) => i + 1) });
    new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32'] });
    new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } });
  })],
];

/** Declares, with the Pulumi components, what cdk8s recorded. */
function declareWithPulumi(declared: readonly Declared[]): Array<kp.KeepalivedCluster | kp.ReservedVrids> {
  return declared.map((d) => {
    switch (d.kind) {
      case 'FrontendVips': return new kp.FrontendVips(idOf(d.path), d.props);
      case 'GatewayPair': return new kp.GatewayPair(idOf(d.path), d.props);
      case 'ReservedVrids': return new kp.ReservedVrids(idOf(d.path), d.props);
      case 'KeepalivedCluster': {
        const cluster = new kp.KeepalivedCluster(idOf(d.path), d.props);
        for (const group of d.added) cluster.addGroup(group);
        return cluster;
      }
    }
  });
}

/** The resource type token of an object: typed kinds by group (`core` for the legacy group), CRs as given. */
function typeToken(object: any): string {
  const apiVersion = object.apiVersion.includes('/') ? object.apiVersion : `core/${object.apiVersion}`;
  return `kubernetes:${apiVersion}:${object.kind}`;
}

const objectName = (o: any) => (o.metadata.namespace === undefined ? `${o.kind}/${o.metadata.name}` : `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);

describe('Pulumi components create exactly what the cdk8s constructs synthesize', () => {
  test.each(CASES)('%s', async (_, build) => {
    // GIVEN the objects cdk8s synthesizes (each validated against its schema), and what it declared
    mockDeclared.length = 0;
    const chart = build();
    let expected = plain(synth(chart));
    const declared = [...mockDeclared];
    expect(declared.length).toBeGreaterThan(0);

    // WHEN a Pulumi program declares the same components with the same props
    const registrations = await newProgram();
    const components = declareWithPulumi(declared);
    const clusters = components.filter((c): c is kp.KeepalivedCluster => c instanceof kp.KeepalivedCluster);
    const resources = clusters.flatMap((c) => c.resources);
    const urns = await registered(resources);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // THEN the namespace's shared objects are registered once, by its KeepalivedNamespace ...
    const isShared = (o: any) => o.kind === 'Namespace' || (o.kind === 'ConfigMap' && o.data?.['keepalived-agent.js'] !== undefined);
    const sharedExpected = expected.filter(isShared);
    const shared = registrations.filter((r) => r.custom && isShared(r.inputs));
    expect(shared.map((r) => plain(r.inputs))).toEqual(sharedExpected);
    expected = expected.filter((o: any) => !isShared(o));

    // ... and every cluster registration carries the synthesized object, in the same order ...
    const byName = new Map(registrations.map((r) => [r.name, r]));
    const actual = urns.map((urn) => byName.get(nameOfUrn(urn))!);
    expect(actual.map((r) => plain(r.inputs))).toEqual(expected);
    expect(expected.length).toBe(resources.length);

    // ... as the typed @pulumi/kubernetes resource of its kind (CustomResource for CRDs' kinds),
    expect(actual.map((r) => r.type)).toEqual(expected.map(typeToken));
    // ... named `${component}-<kind>` after its component (the only difference: cdk8s uses construct ids),
    const pairs = components.map((c, i) => ({ c, d: declared[i] }));
    const paths = pairs.flatMap(({ c, d }) => (c instanceof kp.KeepalivedCluster ? c.resources.map(() => idOf(d.path)) : []));
    expect(actual.map((r) => r.name)).toEqual(expected.map((o: any, i: number) => `${paths[i]}-${o.kind.toLowerCase()}`));
    // ... with a Secret's data as a Pulumi secret,
    for (const r of actual.filter((x) => x.type === 'kubernetes:core/v1:Secret')) expect(isSecret(r.inputs.stringData)).toBe(true);

    // ... and the same VRIDs (stable allocation: same keys, same rules), and object names.
    for (const { c, d } of pairs) {
      if (c instanceof kp.KeepalivedCluster) {
        expect(await value(c.vrids)).toEqual(d.construct.resolveVrids());
        expect(c.name).toBe(d.construct.name);
      } else {
        expect(await value(c.vrids)).toEqual([...d.construct.ids]);
      }
    }
    const names = (await Promise.all(clusters.map((c) => value(c.objectNames)))).flat();
    expect(names).toEqual(expected.map(objectName));
  });
});
