// One test per validation rule: a compliant and a non-compliant case through one helper, checking that
// the message names the construct path, the field and the value, and says what is valid.
import { App, Chart } from 'cdk8s';
import {
  FailoverProfile, FrontendVips, FrontendVipsProps, GatewayPair, HealthAction, HealthCheck, HttpScheme, ImagePullPolicy, InterfaceSelector, KeepalivedCluster,
  KeepalivedNamespace, ReservedVrids, SidecarMode, Target, UpdateStrategy, VrrpAuth, VrrpPolicyFlavor, VrrpVersion,
} from '../src/internal';
import { newChart, synth, testApp } from './support/synth';

type Build = (chart: Chart, app: App) => void;

/** Builds and synthesizes; returns the error message, or undefined when it synthesized. */
function failure(build: Build): string | undefined {
  const { app, chart } = newChart();
  try {
    build(chart, app);
    synth(chart);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function expectRule(ok: Build, bad: Build, ...parts: Array<string | RegExp>) {
  expect(failure(ok)).toBeUndefined();
  const message = failure(bad);
  expect(message).toBeDefined();
  for (const part of parts) {
    if (typeof part === 'string') expect(message).toContain(part);
    else expect(message).toMatch(part);
  }
  expect(message).toContain('Valid:');
}

const front = (addresses: string[], extra: object = {}): Build => (chart) =>
  new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses, ...extra });
const cluster = (props: object, ...groups: object[]): Build => (chart) => {
  const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, ...props });
  for (const g of groups) c.addGroup(g as any);
};

describe('addresses', () => {
  test('a malformed address', () => expectRule(
    front(['203.0.113.1/32', '203.0.113.2/32']),
    front(['203.0.113.1/32', '203.0.113.300/32']),
    '[test/front] addresses[1] = "203.0.113.300/32": is not an IP address with a prefix length'));

  test('every group\'s problems at once, not the first alone', () => expectRule(
    front(['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32']),
    front(['203.0.113.1/32', '203.0.113.300/32', '203.0.113.3/33']),
    '[test/front] addresses[1] = "203.0.113.300/32": is not an IP address with a prefix length',
    '\n[test/front] addresses[2] = "203.0.113.3/33": has the prefix length /33'));

  test('a malformed prefix', () => expectRule(
    front(['203.0.113.1/32']),
    front(['203.0.113.1/33']),
    '[test/front] addresses[0] = "203.0.113.1/33": has the prefix length /33, out of range for IPv4 (0 to 32). Valid: a prefix length from 0 to 32'));

  test('a prefix with a leading zero', () => expectRule(
    front(['203.0.113.1/32']),
    front(['203.0.113.1/032']),
    '[test/front] addresses[0] = "203.0.113.1/032": has the prefix length /032 with a leading zero, which some parsers read as octal. Valid: "203.0.113.1/32"'));

  test('an address without a prefix', () => expectRule(
    cluster({}, { addresses: [{ address: '198.51.100.1/24' }] }),
    cluster({}, { addresses: [{ address: '198.51.100.1' }] }),
    '[test/c] groups[0].addresses[0].address = "198.51.100.1": has no prefix length. Valid: the address with its prefix, e.g. "198.51.100.1/32"'));

  test('the network or broadcast address of its own prefix', () => {
    expectRule(front(['198.51.100.1/24']), front(['198.51.100.0/24']), 'addresses[0] = "198.51.100.0/24": is the network address of 198.51.100.0/24');
    expectRule(front(['198.51.100.1/24']), front(['198.51.100.255/24']), 'is the broadcast address');
  });

  test('an address a node cannot hold', () => expectRule(
    front(['198.51.100.1/32']), front(['224.0.0.18/32']), 'addresses[0] = "224.0.0.18/32"', 'multicast'));

  test('IPv6 on the Deckhouse target (its CRD accepts IPv4 only)', () => expectRule(
    front(['203.0.113.1/32']),
    front(['2001:db8::1/64']),
    '[test/front] addresses[0] = "2001:db8::1/64": the Deckhouse KeepalivedInstance CRD accepts IPv4 addresses only',
    'Target.standalone() for IPv6'));

  test('IPv6 on the Deckhouse target with an IPv4 network selector: only the address is wrong', () => {
    const message = failure(front(['2001:db8::1/64'], { interface: InterfaceSelector.networkAddress('192.0.2.0/24') }));
    expect(message).toContain('addresses[0] = "2001:db8::1/64": the Deckhouse KeepalivedInstance CRD accepts IPv4 addresses only');
    expect(message).not.toContain('IPv6 network');
  });

  test('an empty address list', () => {
    expectRule(front(['203.0.113.1/32']), front([]), '[test/front] addresses = []: no addresses given');
    expectRule(
      cluster({}, { addresses: [{ address: '203.0.113.1/32' }] }),
      cluster({}, { addresses: [] }),
      '[test/c] groups[0].addresses = []: a VRRP group needs at least one address');
  });

  test('more addresses in one group than a VRRP advert lists: 255 IPv4 (a one-byte count), 75 IPv6 (IPv6\'s minimum MTU)', () => {
    const many = (n: number, family: 4 | 6) => Array.from({ length: n }, (_, i) => ({ address: family === 4 ? (i < 254 ? `198.51.100.${i + 1}/32` : `203.0.113.${i - 253}/32`) : `2001:db8::${(i + 1).toString(16)}/128` }));
    for (const [family, max] of [[4, 255], [6, 75]] as const) {
      expectRule(cluster({ target: Target.standalone() }, { addresses: many(max, family) }), cluster({ target: Target.standalone() }, { addresses: many(max + 1, family) }),
        `[test/c] groups[0].addresses = "(${max + 1} addresses)": has ${max + 1} IPv${family} addresses, more than the ${max} one VRRP advert can list`,
        'split them over several groups');
    }
  });

  test('a VIP that is a node\'s own address (one of unicastPeers): keepalived would take it from the node', () => expectRule(
    front(['198.51.100.20/24'], { target: Target.standalone({ unicastPeers: ['198.51.100.11', '198.51.100.12'] }) }),
    front(['198.51.100.11/24'], { target: Target.standalone({ unicastPeers: ['198.51.100.11', '198.51.100.12'] }) }),
    '[test/front] addresses[0] = "198.51.100.11/24": is the node address 198.51.100.11 of target.unicastPeers[0]: keepalived would take it from that node'));

  test('... also another cluster\'s node address, written another way, on either target', () => {
    const peers = (chart: Chart) => new FrontendVips(chart, 'a', {
      nodeSelector: { a: '' }, addresses: ['198.51.100.30/32'], target: Target.standalone({ unicastPeers: ['198.51.100.11', '2001:db8::b'] }),
    });
    expectRule((chart) => { peers(chart); new FrontendVips(chart, 'b', { nodeSelector: { b: '' }, addresses: ['2001:db8::c/64'], target: Target.standalone() }); },
      (chart) => { peers(chart); new FrontendVips(chart, 'b', { nodeSelector: { b: '' }, addresses: ['2001:DB8:0::B/64'], target: Target.standalone() }); },
      '[test/b] addresses[0] = "2001:DB8:0::B/64": is the node address 2001:db8::b of test/a\'s target.unicastPeers[1]');
    expectRule((chart) => { peers(chart); new FrontendVips(chart, 'b', { nodeSelector: { b: '' }, addresses: ['198.51.100.31/32'] }); },
      (chart) => { peers(chart); new FrontendVips(chart, 'b', { nodeSelector: { b: '' }, addresses: ['198.51.100.11/32'] }); },
      '[test/b] addresses[0] = "198.51.100.11/32": is the node address 198.51.100.11 of test/a\'s target.unicastPeers[0]');
  });

  test('two address families in one group', () => expectRule(
    cluster({ target: Target.standalone() }, { addresses: [{ address: '2001:db8::1/64' }, { address: '2001:db8::2/64' }] }),
    cluster({ target: Target.standalone() }, { addresses: [{ address: '2001:db8::1/64' }, { address: '198.51.100.2/24' }] }),
    'groups[0].addresses[1].address = "198.51.100.2/24": mixes IPv4 into an IPv6 group'));

  test('the same VIP in two groups anywhere in the app names both constructs', () => expectRule(
    (chart) => { front(['203.0.113.1/32'])(chart, undefined as any); new FrontendVips(new Chart(chart.node.root as App, 'other'), 'b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] }); },
    (chart) => { front(['203.0.113.1/32'])(chart, undefined as any); new FrontendVips(new Chart(chart.node.root as App, 'other'), 'b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] }); },
    '[other/b] addresses[0] = "203.0.113.1/32": address 203.0.113.1 is already held by test/front (addresses[0])'));

  test('the same VIP twice in one construct, written differently', () => expectRule(
    front(['2001:db8::1/64', '2001:db8::2/64'], { target: Target.standalone() }),
    front(['2001:db8::1/64', '2001:DB8:0::1/128'], { target: Target.standalone() }),
    'addresses[1] = "2001:DB8:0::1/128": address 2001:db8::1 is already held by test/front (addresses[0])'));
});

describe('interfaces', () => {
  test('a networkAddress that is not a network', () => expectRule(
    front(['198.51.100.10/32'], { interface: InterfaceSelector.networkAddress('198.51.100.0/24') }),
    front(['198.51.100.10/32'], { interface: InterfaceSelector.networkAddress('198.51.100.7/24') }),
    '[test/front] interface = "198.51.100.7/24": is not a network: host bits are set', 'Valid: the network address, "198.51.100.0/24"'));

  test('a malformed networkAddress', () => expectRule(
    front(['198.51.100.10/32'], { interface: InterfaceSelector.networkAddress('198.51.100.0/24') }),
    front(['198.51.100.10/32'], { interface: InterfaceSelector.networkAddress('198.51.100/24') }),
    'interface = "198.51.100/24": is not a network with a prefix length'));

  test.each([
    ['a name longer than 15 bytes', 'averyveryverylongname'],
    ['a name with a slash', 'eth0/1'],
    ['a name with white space', 'eth 0'],
    ['a name with a colon', 'eth0:1'],
    ['an empty name', ''],
    ['"."', '.'],
  ])('an interface name that Linux would reject: %s', (_, ifname) => expectRule(
    (chart) => new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24', interface: InterfaceSelector.name('ens7') } }),
    (chart) => new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24', interface: InterfaceSelector.name(ifname) } }),
    `[test/gw] wan.interface = ${JSON.stringify(ifname)}:`, 'Linux would reject it as an interface name'));
});

describe('VRIDs', () => {
  test.each([[0], [256], [1.5], [-1]])('a VRID outside 1..255 or not an integer: %p', (vrid) => expectRule(
    front(['203.0.113.1/32'], { vrids: [1] }),
    front(['203.0.113.1/32'], { vrids: [vrid] }),
    `[test/front] vrids[0] = ${vrid}: is not a VRRP router id`, 'an integer from 1 to 255'));

  test('vrids and addresses of different lengths', () => expectRule(
    front(['203.0.113.1/32', '203.0.113.2/32'], { vrids: [1, 2] }),
    front(['203.0.113.1/32', '203.0.113.2/32'], { vrids: [1] }),
    '[test/front] vrids = [1]: has 1 entries for 2 addresses'));

  test('an explicit VRID used twice in one construct names both fields', () => expectRule(
    front(['203.0.113.1/32', '203.0.113.2/32'], { vrids: [7, 8] }),
    front(['203.0.113.1/32', '203.0.113.2/32'], { vrids: [7, 7] }),
    '[test/front] vrids[1] = 7: VRID 7 is already used by test/front (vrids[0])'));

  test('an explicit VRID used by two constructs names both construct paths', () => expectRule(
    (chart) => { front(['203.0.113.1/32'], { vrids: [7] })(chart, undefined as any); new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, vrid: 8, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } }); },
    (chart) => { front(['203.0.113.1/32'], { vrids: [7] })(chart, undefined as any); new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, vrid: 7, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } }); },
    '[test/gw] vrid = 7: VRID 7 is already used by test/front (vrids[0])'));

  test('an explicit VRID that is reserved', () => expectRule(
    (chart, app) => { new ReservedVrids(app, 'routers', { ids: [50] }); front(['203.0.113.1/32'], { vrids: [51] })(chart, app); },
    (chart, app) => { new ReservedVrids(app, 'routers', { ids: [50] }); front(['203.0.113.1/32'], { vrids: [50] })(chart, app); },
    '[test/front] vrids[0] = 50: VRID 50 is reserved by routers (ids)'));

  test('a reserved id outside 1..255', () => expectRule(
    (chart, app) => { new ReservedVrids(app, 'routers', { ids: [1] }); front(['203.0.113.1/32'])(chart, app); },
    (chart, app) => { new ReservedVrids(app, 'routers', { ids: [300] }); front(['203.0.113.1/32'])(chart, app); },
    '[routers] ids[0] = 300: is not a VRRP router id'));
});

describe('names', () => {
  test('a name that is not a DNS label', () => expectRule(
    front(['203.0.113.1/32'], { name: 'front-1' }),
    front(['203.0.113.1/32'], { name: 'Front_1' }),
    '[test/front] name = "Front_1": is not a DNS label'));

  test('a name too long for the StatefulSet the Deckhouse module derives from it', () => expectRule(
    front(['203.0.113.1/32'], { name: 'a'.repeat(41) }),
    front(['203.0.113.1/32'], { name: 'a'.repeat(42) }),
    'is 42 characters long, more than 41', 'controller-revision-hash'));

  test('a long construct id still derives a valid, unique name', () => {
    const { chart } = newChart('chart');
    new FrontendVips(chart, 'a-construct-with-a-rather-long-id-for-testing-names', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
    const [obj] = synth(chart);
    expect(obj.metadata.name.length).toBeLessThanOrEqual(41);
    expect(obj.metadata.name).toMatch(/^a-construct-with-a-rather-long-[a-z-]*-[0-9a-f]{8}$/);
  });

  test('the default name comes from the construct id, not the chart: the same in cdk8s and Pulumi', () => {
    const { chart } = newChart('keepalived');
    new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
    expect(synth(chart)[0].metadata.name).toBe('front');
  });

  test('an empty nodeSelector, unless selectAllNodes says so', () => expectRule(
    front(['203.0.113.1/32'], { nodeSelector: {}, selectAllNodes: true }),
    front(['203.0.113.1/32'], { nodeSelector: {}, selectAllNodes: undefined }),
    'nodeSelector = {}: is empty, so keepalived would run on every schedulable node', 'selectAllNodes: true'));

  test('a bad character in a name is not reported as a length problem', () => {
    const message = failure(front(['203.0.113.1/32'], { name: 'Front_1' }))!;
    expect(message).toContain('name = "Front_1": is not a DNS label. Valid:');
    expect(message).not.toContain('controller-revision-hash');
  });

  test('two clusters with the same name', () => expectRule(
    (chart) => { front(['203.0.113.1/32'], { name: 'edge' })(chart, undefined as any); new FrontendVips(chart, 'b', { name: 'edge2', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] }); },
    (chart) => { front(['203.0.113.1/32'], { name: 'edge' })(chart, undefined as any); new FrontendVips(chart, 'b', { name: 'edge', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] }); },
    '[test/b] name = "edge": test/front already uses this name'));

  test.each([
    ['x', {}, 'keepalived-x', {}, 'its ServiceAccount keepalived/keepalived-x has the name of test/a\'s'],
    ['a-b', {}, 'a', { namespace: 'b' }, 'its Tier keepalived-a-b has the name of test/a\'s'],
  ])('two standalone clusters whose names differ but whose objects\' names do (%s, %s)', (nameA, optionsA, nameB, optionsB, problem) => {
    const cluster = (chart: Chart, id: string, name: string, options: object) => new FrontendVips(chart, id, {
      name, nodeSelector: {}, selectAllNodes: true, addresses: [id === 'a' ? '203.0.113.1/32' : '203.0.113.2/32'],
      target: Target.standalone({ policies: [VrrpPolicyFlavor.CALICO], metrics: { port: id === 'a' ? 9654 : 9655 }, ...options }),
    });
    expectRule(
      (chart) => { cluster(chart, 'a', nameA, optionsA); cluster(chart, 'b', `${nameB}-2`, optionsB); },
      (chart) => { cluster(chart, 'a', nameA, optionsA); cluster(chart, 'b', nameB, optionsB); },
      `[test/b] name = "${nameB}": ${problem}, and one would overwrite the other`, 'a name whose objects\' names differ from test/a\'s');
  });

  test('two standalone clusters on the same nodes with one metrics port (hostNetwork: one listener a port on a node)', () => {
    const cluster = (chart: Chart, id: string, nodeSelector: Record<string, string>, metrics?: object) => new FrontendVips(chart, id, {
      nodeSelector, selectAllNodes: Object.keys(nodeSelector).length === 0, addresses: [id === 'a' ? '203.0.113.1/32' : '203.0.113.2/32'],
      target: Target.standalone(metrics ? { metrics } : {}),
    });
    const edge = { 'node-role.kubernetes.io/edge': '' };
    // one's selector within the other's (here: every node, and the edge nodes) share nodes for certain
    expectRule(
      (chart) => { cluster(chart, 'a', {}); cluster(chart, 'b', edge, { port: 9700 }); },
      (chart) => { cluster(chart, 'a', {}); cluster(chart, 'b', edge); },
      '[test/b] target.metrics.port = 9654: test/a\'s pods listen on port 9654 too, in the network of the same nodes (hostNetwork), so this cluster\'s pods could not be scheduled there',
      'another port for one of them (e.g. 9655), or metrics: { enabled: false }');
    // selectors that exclude each other (one key, two values), or a cluster without metrics, share no port
    expect(failure((chart) => { cluster(chart, 'a', { role: 'edge' }); cluster(chart, 'b', { role: 'gateway' }); })).toBeUndefined();
    expect(failure((chart) => { cluster(chart, 'a', edge); cluster(chart, 'b', edge, { enabled: false }); })).toBeUndefined();
  });

  test('a node selector label that Kubernetes rejects', () => expectRule(
    (chart) => new FrontendVips(chart, 'front', { nodeSelector: { 'example.com/role': 'edge' }, addresses: ['203.0.113.1/32'] }),
    (chart) => new FrontendVips(chart, 'front', { nodeSelector: { 'example.com/role': 'edge node' }, addresses: ['203.0.113.1/32'] }),
    '[test/front] nodeSelector["example.com/role"] = "edge node": is not a valid label value'));
});

describe('tolerations', () => {
  const withToleration = (t: object): Build => front(['203.0.113.1/32'], { tolerations: [t] });
  test('an unknown operator', () => expectRule(
    withToleration({ key: 'k', operator: 'Exists' }), withToleration({ key: 'k', operator: 'Equals' }),
    '[test/front] tolerations[0].operator = "Equals": is not a toleration operator', 'one of Exists, Equal'));
  test('an unknown effect', () => expectRule(
    withToleration({ key: 'k', effect: 'NoExecute' }), withToleration({ key: 'k', effect: 'NoExec' }),
    '[test/front] tolerations[0].effect = "NoExec": is not a taint effect', 'one of NoSchedule, PreferNoSchedule, NoExecute'));
  test('a value with operator Exists', () => expectRule(
    withToleration({ key: 'k', operator: 'Exists' }), withToleration({ key: 'k', operator: 'Exists', value: 'v' }),
    'tolerations[0].value = "v": must be empty with operator Exists'));
  test('tolerationSeconds without NoExecute', () => expectRule(
    withToleration({ key: 'k', effect: 'NoExecute', tolerationSeconds: 5 }), withToleration({ key: 'k', effect: 'NoSchedule', tolerationSeconds: 5 }),
    'tolerations[0].tolerationSeconds = 5: applies only to effect NoExecute (this toleration\'s effect is NoSchedule)'));
  test('tolerationSeconds that is not a whole number', () => expectRule(
    withToleration({ key: 'k', effect: 'NoExecute', tolerationSeconds: 5 }), withToleration({ key: 'k', effect: 'NoExecute', tolerationSeconds: '5' as unknown as number }),
    'tolerations[0].tolerationSeconds = "5": is not a whole number of seconds', 'a whole number of seconds with effect NoExecute'));
});

describe('wrong types from plain JavaScript: a message, not a TypeError', () => {
  const standalone = (options: object) => front(['203.0.113.1/32'], { target: Target.standalone(options as any) });
  test.each<[string, Build, string]>([
    ['policies as a string', standalone({ policies: 'calico' }), 'target.policies = "calico": is not a list'],
    ['unicastPeers as a string', standalone({ unicastPeers: '192.0.2.1' }), 'target.unicastPeers = "192.0.2.1": is not a list'],
    ['nodeNetworks as a string', standalone({ nodeNetworks: '192.0.2.0/24' }), 'target.nodeNetworks = "192.0.2.0/24": is not a list'],
    ['pullSecrets as a string', standalone({ images: { pullSecrets: 'regcred' } }), 'target.images.pullSecrets = "regcred": is not a list'],
    ['tolerations as an object', front(['203.0.113.1/32'], { tolerations: { key: 'k' } }), 'tolerations = {"key":"k"}: is not a list'],
    ['a toleration that is null', front(['203.0.113.1/32'], { tolerations: [null] }), 'tolerations[0] = null: is not a toleration'],
    ['addresses as a string', (chart) => new FrontendVips(chart, 'front', { nodeSelector: { a: '' }, addresses: '203.0.113.1/32' as any }), 'addresses = "203.0.113.1/32": is not a list of addresses'],
    ['vrids as a number', front(['203.0.113.1/32'], { vrids: 5 }), 'vrids = 5: is not a list of VRIDs'],
    ['no props', (chart) => new FrontendVips(chart, 'front', undefined as any), 'props = undefined: is not an object of props'],
    ['addGroup()', (chart) => new KeepalivedCluster(chart, 'front', { nodeSelector: { a: '' } }).addGroup(undefined as any), 'groups[0] = undefined: is not a VRRP group'],
    ['a group that is null', (chart) => new KeepalivedCluster(chart, 'front', { nodeSelector: { a: '' }, groups: [null as any] }), 'groups[0] = null: is not a VRRP group'],
    ['ReservedVrids without props', (chart) => new ReservedVrids(chart, 'front', undefined as any), 'props = undefined: is not an object of props'],
    ['ReservedVrids ids as a number', (chart) => new ReservedVrids(chart, 'front', { ids: 5 as any }), 'ids = 5: is not a list'],
    ['metrics as true', standalone({ metrics: true }), 'target.metrics = true: is not an object of metrics options'],
    ['createNamespace as a string', standalone({ createNamespace: 'false' }), 'target.createNamespace = "false": is not a boolean'],
    ['selectAllNodes as a string', front(['203.0.113.1/32'], { nodeSelector: {}, selectAllNodes: 'yes' }), 'selectAllNodes = "yes": is not a boolean'],
    ['a request of "none" (only a limit can be none)', standalone({ resources: { keepalived: { cpuRequest: 'none' } } }), 'target.resources.keepalived.cpuRequest = "none": is not a Kubernetes quantity'],
    ['Target.standalone(null)', front(['203.0.113.1/32'], { target: Target.standalone(null as any) }), 'Target.standalone(options) = null: is not an object of options'],
    ['Target.deckhouse(null)', front(['203.0.113.1/32'], { target: Target.deckhouse(null as any) }), 'Target.deckhouse(options) = null: is not an object of options'],
    ['KeepalivedNamespace with null props', (chart) => new KeepalivedNamespace(chart, 'front', null as any), 'props = null: is not an object of props'],
    ['an enum member\'s name for its value', standalone({ vrrpVersion: 'V2' }), 'target.vrrpVersion = "V2": is not a VRRP version'],
    ['a label the package sets on the cluster\'s objects, to another value', standalone({ labels: { 'app.kubernetes.io/name': 'vip' } }),
      'target.labels["app.kubernetes.io/name"] = "vip": is a label the package sets itself, to "keepalived", so this value would be replaced. Valid: "keepalived", or a label key of your own.'],
    ['a label the package sets on the pods', standalone({ podLabels: { 'app.kubernetes.io/instance': 'x' } }),
      'target.podLabels["app.kubernetes.io/instance"] = "x": is a label the package sets itself, to "front"'],
    ['a label the package sets on the Namespace', (chart) => new KeepalivedNamespace(chart, 'front', { labels: { 'pod-security.kubernetes.io/warn': 'baseline' } }),
      'labels["pod-security.kubernetes.io/warn"] = "baseline": is a label the package sets itself, to "privileged"'],
    ['labels as a Map (no keys of its own: it would read as none)', standalone({ labels: new Map([['team', 'net']]) }), 'target.labels = (a Map of 1): is not a map of labels'],
    ['annotations as a Set (YAML\'s !!set)', standalone({ annotations: new Set(['a']) }), 'target.annotations = (a Set of 1): is not a map of annotations'],
    ['a label key "__proto__" from JSON (an assignment would drop it)', standalone(JSON.parse('{"podLabels": {"__proto__": "x"}}')),
      'target.podLabels["__proto__"] = "__proto__": is not a valid key'],
  ])('%s', (_, bad, message) => {
    const found = failure(bad);
    expect(found).toContain(`[test/front] ${message}`);
    expect(found).toContain('Valid:');
  });
});

test('props and maps as instances of a class of the user\'s are objects of keys and values (only built-in kinds such as Map and Set are refused)', () => {
  class EdgeProps implements FrontendVipsProps {
    public readonly nodeSelector = { 'node-role.kubernetes.io/edge': '' };
    public readonly addresses = ['203.0.113.10/32'];
    public readonly target = Target.standalone({ labels: new (class { public readonly team = 'netops'; })() as any });
  }
  const { chart } = newChart();
  new FrontendVips(chart, 'edge', new EdgeProps());
  const ds = synth(chart).find((o) => o.kind === 'DaemonSet');
  expect(ds.metadata.labels.team).toBe('netops');
});

describe('a field the package does not know (a typo, or a field of something else) is an error, not ignored', () => {
  const standalone = (options: object, extra: object = {}) => front(['203.0.113.1/32'], { target: Target.standalone(options as any), ...extra });
  test.each<[string, Build, string, string]>([
    ['a prop of FrontendVips', front(['203.0.113.1/32'], { advertIntervall: 2 }),
      'advertIntervall = 2: is not a prop of FrontendVips', 'Valid: advertInterval, if that is what was meant (the fields: addresses, advertInterval, healthChecks,'],
    ['a prop of GatewayPair, in lan', (chart) => new GatewayPair(chart, 'front', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24', interfce: 'eth1' } as any, wan: { address: '198.51.100.1/24' } }),
      'lan.interfce = "eth1": is not a field of a gateway address', 'Valid: interface, if that is what was meant (the fields: address, interface)'],
    ['a prop of KeepalivedCluster, case aside', (chart) => new KeepalivedCluster(chart, 'front', { nodeSelector: {}, selectAllNodes: true, Groups: [] } as any),
      'Groups = []: is not a prop of KeepalivedCluster', 'Valid: groups, if that is what was meant'],
    ['a field of a group from addGroup, and of its VIP', (chart) => new KeepalivedCluster(chart, 'front', { nodeSelector: {}, selectAllNodes: true })
      .addGroup({ addresses: [{ address: '192.0.2.1/24', adress: 'x' }], prempt: false } as any),
      'groups[0].prempt = false: is not a field of a VRRP group', 'groups[0].addresses[0].adress = "x": is not a field of a VIP. Valid: address, if that is what was meant'],
    ['a field of a toleration', front(['203.0.113.1/32'], { tolerations: [{ key: 'k', operator: 'Exists', efect: 'NoSchedule' }] }),
      'tolerations[0].efect = "NoSchedule": is not a field of a toleration', 'Valid: effect, if that is what was meant'],
    ['a field of the standalone options, with no near name', standalone({ replicas: 2 }),
      'target.replicas = 2: is not a field of the standalone target\'s options', 'Valid: one of affinity, annotations, auth,'],
    ['a field of the images, three levels down', standalone({ images: { pullPolicy: 'Always', pulSecrets: ['regcred'] } }),
      'target.images.pulSecrets = ["regcred"]: is not a field of the images', 'Valid: pullSecrets, if that is what was meant'],
    ['a field of a container\'s resources', standalone({ resources: { agent: { memoryLimt: '1Gi' } } }),
      'target.resources.agent.memoryLimt = "1Gi": is not a field of a container\'s resources', 'Valid: memoryLimit, if that is what was meant'],
    ['a container without resources of its own (render\'s are the agent\'s)', standalone({ resources: { render: {} } }),
      'target.resources.render = {}: is not a field of the resources', 'Valid: one of agent, keepalived'],
    ['a field of the PodMonitor options', standalone({ metrics: { podMonitor: { intervall: '30s' } } }),
      'target.metrics.podMonitor.intervall = "30s": is not a field of the PodMonitor options', 'Valid: interval, if that is what was meant'],
    ['a field of the discovery options', standalone({ discovery: { leaseDuration: 30 } }),
      'target.discovery.leaseDuration = 30: is not a field of the discovery options', 'Valid: leaseDurationSeconds, if that is what was meant (the fields: leaseDurationSeconds, leases,'],
    ['a field of the Deckhouse options', front(['203.0.113.1/32'], { target: Target.deckhouse({ annotation: {} } as any) }),
      'target.annotation = {}: is not a field of the Deckhouse target\'s options', 'Valid: annotations, if that is what was meant'],
    ['a field of a health check\'s options (not its kind, which the factory sets)', standalone({}, { healthChecks: [HealthCheck.http({ port: 80, paht: '/healthz' } as any)] }),
      'healthChecks[0].paht = "/healthz": is not a field of HealthCheck.http\'s options', 'Valid: path, if that is what was meant (the fields: fall, host, insecureSkipTlsVerify, intervalSeconds, onFailure, path, port, rise, scheme, timeoutSeconds)'],
    ['a field of KeepalivedNamespace', (chart) => new KeepalivedNamespace(chart, 'front', { createNamespce: false } as any),
      'createNamespce = false: is not a prop of KeepalivedNamespace', 'Valid: createNamespace, if that is what was meant'],
    ['a field of ReservedVrids', (chart) => new ReservedVrids(chart, 'front', { ids: [1], vrids: [2] } as any),
      'vrids = [2]: is not a prop of ReservedVrids', 'Valid: ids.'],
  ])('%s', (_, bad, message, valid) => {
    const found = failure(bad);
    expect(found).toContain(`[test/front] ${message}`);
    expect(found).toContain(valid);
  });

  test('every field that the package knows is accepted (a standalone cluster with all of them)', () => {
    expect(failure((chart) => {
      new KeepalivedNamespace(chart, 'ns', { name: 'kad', createNamespace: true, agentConfigMap: true, labels: { a: 'b' }, annotations: { a: 'b' } });
      new FrontendVips(chart, 'front', {
        name: 'front', nodeSelector: { edge: '' }, selectAllNodes: false, tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 5 }],
        addresses: ['203.0.113.1/32'], vrids: [9], interface: InterfaceSelector.name('eth0'), preempt: true, advertInterval: 1,
        healthChecks: [HealthCheck.interface('eth0', { intervalSeconds: 1, timeoutSeconds: 0.5, fall: 2, rise: 2, onFailure: HealthAction.lowerPriority(50) }),
          HealthCheck.http({ port: 8080, path: '/healthz', host: 'a.example', scheme: HttpScheme.HTTPS, insecureSkipTlsVerify: true })],
        target: Target.standalone({
          namespace: 'kad', createNamespace: true, nodeOrder: ['a', 'b'], images: { keepalived: 'k:1', agent: 'a:1', agentInImage: true, keepalivedVersion: '2.2.7', pullPolicy: ImagePullPolicy.ALWAYS, pullSecrets: ['regcred'] },
          policies: [VrrpPolicyFlavor.CALICO], nodeNetworks: ['192.0.2.0/24'], auth: VrrpAuth.fromSecret('vrrp'), profile: FailoverProfile.CLASSIC, vrrpVersion: VrrpVersion.V2, garpRefreshSeconds: 30,
          discovery: { unicast: true, leases: true, leaseDurationSeconds: 30, minReloadIntervalSeconds: 5, maxNodes: 10, maxNodeSetChange: 0.5, peersInInterfaceNetwork: true, sidecar: SidecarMode.NATIVE },
          labels: { a: 'b' }, annotations: { a: 'b' }, podLabels: { a: 'b' }, podAnnotations: { a: 'b' },
          resources: { keepalived: { cpuRequest: '10m', cpuLimit: '1', memoryRequest: '16Mi', memoryLimit: '64Mi' }, agent: { cpuLimit: 'none' } },
          priorityClassName: 'p', affinity: {}, updateStrategy: UpdateStrategy.ROLLING_UPDATE, maxUnavailable: 1, minReadySeconds: 5,
          metrics: { enabled: true, port: 9700, podMonitor: { labels: { a: 'b' }, interval: '30s' }, prometheusRule: { labels: { a: 'b' }, alertLabels: { a: 'b' }, flapThreshold: 3, flapWindowMinutes: 10 }, dashboard: { labels: { a: 'b' }, namespace: 'grafana' } },
        }),
      });
    })).toBeUndefined();
  });

  test('a subclass (and its subclass) may take props of its own, even one named like another shape\'s prop; the objects in its props are checked', () => {
    class TeamVips extends FrontendVips {
      constructor(scope: Chart, id: string, props: FrontendVipsProps & { team: string; groups?: string[] }) {
        super(scope, id, props);
      }
    }
    class EdgeTeamVips extends TeamVips {}
    for (const Kind of [TeamVips, EdgeTeamVips]) {
      // `groups` is the subclass's own here: not KeepalivedCluster's groups.
      let vips!: FrontendVips;
      expect(failure((chart) => { vips = new Kind(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], team: 'net', groups: ['netops'] }); })).toBeUndefined();
      expect(vips.groups).toHaveLength(1);
      expect(failure((chart) => new Kind(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], team: 'net', tolerations: [{ kye: 'k' } as any] })))
        .toContain('[test/front] tolerations[0].kye = "k": is not a field of a toleration. Valid: key, if that is what was meant');
    }
    // The classes themselves still take no other props.
    expect(failure((chart) => new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], groups: [] } as any)))
      .toContain('[test/front] groups = []: is not a prop of FrontendVips');
  });

  test('a value of the wrong type where options go is a type error, not read as options', () => {
    const standalone = (options: object) => front(['203.0.113.1/32'], { target: Target.standalone(options as any) });
    expect(failure(standalone({ metrics: { podMonitor: [{ interval: '30s' }] } }))).toContain('[test/front] target.metrics.podMonitor = [{"interval":"30s"}]: is not a boolean or an object of options');
    expect(failure(standalone({ metrics: { dashboard: 'yes' } }))).toContain('[test/front] target.metrics.dashboard = "yes": is not a boolean or an object of options');
    expect(failure(standalone({ metrics: { enabled: 'false' } }))).toContain('[test/front] target.metrics.enabled = "false": is not a boolean');
    expect(failure(standalone({ resources: { agent: ['200m'] } }))).toContain('[test/front] target.resources.agent = ["200m"]: is not an object of resources');
    expect(failure(standalone({ resources: 'small' }))).toContain('[test/front] target.resources = "small": is not an object of containers\' resources');
  });

  test('a name near a field\'s: the start of one (interval for intervalSeconds), or one with more after it', () => {
    expect(failure(front(['203.0.113.1/32'], { target: Target.standalone({}), healthChecks: [HealthCheck.tcp({ port: 80, interval: 2 } as any)] })))
      .toContain('healthChecks[0].interval = 2: is not a field of HealthCheck.tcp\'s options. Valid: intervalSeconds, if that is what was meant');
    expect(failure(front(['203.0.113.1/32'], { advertIntervalSeconds: 1 })))
      .toContain('advertIntervalSeconds = 1: is not a prop of FrontendVips. Valid: advertInterval, if that is what was meant');
  });
});

describe('target-specific fields', () => {
  test('advertInterval on the Deckhouse target', () => expectRule(
    front(['203.0.113.1/32']), front(['203.0.113.1/32'], { advertInterval: 2 }),
    '[test/front] advertInterval = 2: the Deckhouse KeepalivedInstance has no advert interval'));
  test('preferredNode on the Deckhouse target', () => expectRule(
    (chart) => new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } }),
    (chart) => new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, preferredNode: 'node-a', lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } }),
    '[test/gw] preferredNode = "node-a": the Deckhouse KeepalivedInstance cannot prefer a node'));
});

describe('warnings: valid, but not what the user meant', () => {
  test('preempt: false on the Deckhouse target (the module ignores it) warns at synth, once, and synthesizes', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { chart } = newChart();
      new FrontendVips(chart, 'front', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], preempt: false });
      expect(synth(chart)).toHaveLength(1);
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        'Warning: [test/front] preempt = false: the Deckhouse module ignores preempt: false (its renderer never honours it), so a returning node takes the address back. Valid: Target.standalone(), which renders nopreempt, or accept preemption.',
      ]);
      // The standalone target honours it: no warning.
      warn.mockClear();
      const other = newChart().chart;
      new FrontendVips(other, 'front', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], preempt: false, target: Target.standalone() });
      synth(other);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  test('preferredNode with preempt: false warns (the node that holds the VIP keeps it), and synthesizes', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const gateway = (preempt?: boolean) => {
        const { chart } = newChart();
        new GatewayPair(chart, 'gw', {
          nodeSelector: { a: '' }, preferredNode: 'gw-a', preempt, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' }, target: Target.standalone(),
        });
        synth(chart);
      };
      gateway(false);
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        'Warning: [test/gw] preferredNode = "gw-a": has the top priority, but with preempt false the node that holds the VIP keeps it: gw-a becomes master only when it wins an election (the master failing, or every node starting). Valid: preempt true (the default) to have the VIP move back to gw-a, or no preferredNode.',
      ]);
      warn.mockClear();
      gateway();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  test.each([
    ['not an object', 'x', 'target.affinity = "x": is not an object'],
    ['a misspelt part', { nodeAfinity: {} }, 'target.affinity.nodeAfinity = {}: is not a part of a pod\'s affinity'],
    ['a part that is not an object', { podAntiAffinity: [] }, 'target.affinity.podAntiAffinity = []: is not an object'],
  ])('an affinity that is %s', (_, affinity, message) => expectRule(
    front(['203.0.113.1/32'], { target: Target.standalone({ affinity: { podAntiAffinity: {} } }) }),
    front(['203.0.113.1/32'], { target: Target.standalone({ affinity: affinity as any }) }),
    `[test/front] ${message}`, 'an object with nodeAffinity, podAffinity, podAntiAffinity (each an object), as in a pod spec'));

  test('app.synth() prints each warning once; a chart namespace the standalone objects do not live in is one', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const app = testApp();
      const chart = new Chart(app, 'c', { namespace: 'infra' });
      new FrontendVips(chart, 'edge', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], target: Target.standalone() });
      new FrontendVips(chart, 'core', { nodeSelector: { b: '' }, addresses: ['203.0.113.2/32'], target: Target.standalone({ namespace: 'infra' }) });
      app.synth();
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        'Warning: [c/edge] target.namespace = "keepalived": the chart\'s namespace infra does not apply to the standalone objects, which live in the target\'s namespace. Valid: Target.standalone({ namespace: \'infra\' }) to put them in the chart\'s.',
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});

test('a label the package sets, to the value the package gives it, is no error', () => {
  expect(failure((chart) => {
    new KeepalivedNamespace(chart, 'ns', { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } });
    new FrontendVips(chart, 'front', {
      nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], target: Target.standalone({ labels: { 'app.kubernetes.io/managed-by': 'keepalived-constructs' } }),
    });
  })).toBeUndefined();
});

describe('props are taken when a construct is declared', () => {
  test('changing the same objects afterwards (for the next cluster\'s props, say) reaches nothing emitted, checked or not', () => {
    // GIVEN a cluster and a namespace owner declared from objects the program keeps
    const { chart } = newChart();
    const nodeSelector: Record<string, string> = { 'node-role.kubernetes.io/edge': '' };
    const tolerations: any[] = [{ key: 'edge', operator: 'Exists' }];
    const images: any = { keepalived: 'registry.example/keepalived:2.2.7', keepalivedVersion: '2.2.7' };
    const groups: any[] = [{ name: 'front', addresses: [{ address: '203.0.113.1/32' }] }];
    const labels: Record<string, string> = { team: 'net' };
    new KeepalivedNamespace(chart, 'ns', { name: 'keepalived', labels });
    new KeepalivedCluster(chart, 'edge', { nodeSelector, tolerations, groups, target: Target.standalone({ images, nodeOrder: ['a', 'b'] }) });
    // WHEN the program changes them, into values the checks would refuse
    nodeSelector['not a valid key!'] = 'x';
    tolerations.push({ operator: 'Bogus' });
    images.keepalived = 'has spaces in it';
    groups[0].addresses[0].address = 'bogus';
    labels.team = 'ops';
    // THEN the synth emits what was declared
    const objects = synth(chart);
    const pod = objects.find((o) => o.kind === 'DaemonSet').spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'node-role.kubernetes.io/edge': '' });
    expect(pod.tolerations.filter((t: any) => t.key === 'edge' || t.operator === 'Bogus')).toEqual([{ key: 'edge', operator: 'Exists' }]);
    expect(pod.containers.find((c: any) => c.name === 'keepalived').image).toBe('registry.example/keepalived:2.2.7');
    const spec = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.data['spec.json']).data['spec.json']);
    expect(spec.groups[0].addresses).toEqual([{ address: '203.0.113.1/32' }]);
    expect(objects.find((o) => o.kind === 'Namespace').metadata.labels.team).toBe('net');
  });

  test('a subclass\'s props of its own may hold a cycle', () => {
    interface SiteProps extends FrontendVipsProps { readonly site: { name: string; self?: unknown } }
    class Site extends FrontendVips {
      constructor(scope: Chart, id: string, props: SiteProps) { super(scope, id, props); }
    }
    const site: { name: string; self?: unknown } = { name: 'ams' };
    site.self = site;
    expect(failure((chart) => new Site(chart, 'front', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], site }))).toBeUndefined();
  });
});
