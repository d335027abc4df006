// The Pulumi components as Pulumi resources: type tokens, names, parents, options, outputs, and the
// program-wide VRRP domain (errors and messages as cdk8s reports them). Parity of the objects
// themselves is in pulumi-parity.test.ts.
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { Chart } from 'cdk8s';
import * as cdk8s from '../src/internal';
import { describeIssueAt, FrontendVipsProps } from '../src/internal';
import {
  FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, KeepalivedConfigError, KeepalivedNamespace, ReservedVrids, Target,
  VrrpAuth, VrrpPolicyFlavor, VrrpVersion,
} from '../src/pulumi';
import { programDomain, resetVrrpDomainForTests } from '../src/pulumi/domain';
import { isProtected, namespaceResources } from '../src/pulumi/keepalived-namespace';
import { kubernetesObject } from '../src/pulumi/kubernetes-object';
import { nameOfUrn, newProgram, plain, programFailures, Registration, registered, settled, value } from './support/pulumi';
import { newChart, synth } from './support/synth';

const front = { nodeSelector: { 'node-role.deckhouse.io/frontend': '' }, addresses: ['203.0.113.101/32', '203.0.113.102/32'], vrids: [1, 2] };
const edge = {
  name: 'edge',
  nodeSelector: { 'node-role.kubernetes.io/edge': '' },
  addresses: ['203.0.113.10/32'],
  vrids: [10],
  target: Target.standalone({ policies: [VrrpPolicyFlavor.CALICO] }),
};
/** A second standalone cluster in edge's namespace, on other nodes (the same nodes would need another metrics port). */
const edgeB = { ...edge, name: 'edge-b', nodeSelector: { 'node-role.kubernetes.io/edge-b': '' }, addresses: ['203.0.113.20/32'], vrids: [20] };

/** The messages cdk8s reports for what `declare` adds to a chart `test`: thrown at once, or at synth. */
function cdk8sMessages(declare: (chart: Chart) => void): string[] {
  const { chart } = newChart();
  try {
    declare(chart);
    synth(chart);
  } catch (e) {
    return (e as Error).message.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('['));
  }
  throw new Error('cdk8s reported nothing');
}

/** The one error that fails a Pulumi program, and the messages of its issues. */
function onlyFailure(errors: unknown[]): { error: KeepalivedConfigError; messages: string[] } {
  expect(errors).toHaveLength(1);
  const error = errors[0] as KeepalivedConfigError;
  expect(error).toBeInstanceOf(KeepalivedConfigError);
  const messages: string[] = error.issues.map(describeIssueAt);
  // Each problem once, as cdk8s prints it: no "error serializing property ..." prefix, and Pulumi
  // reports it as a RunError (the message alone, no stack trace).
  expect(error.message).toBe(messages.join('\n'));
  expect(pulumi.RunError.isInstance(error)).toBe(true);
  return { error, messages };
}

let registrations: Registration[];
beforeEach(async () => { registrations = await newProgram(); });
afterEach(() => resetVrrpDomainForTests());

/**
 * A fresh program whose mocks log each creation (`create <name>`) and hold the creation of `gated`
 * until `release()`.
 */
async function gatedProgram(gated: string): Promise<{ events: string[]; release: () => void }> {
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  registrations = await newProgram(async (args) => {
    events.push(`create ${args.name}`);
    if (args.name === gated) await gate;
  });
  return { events, release };
}

describe('as Pulumi resources', () => {
  test.each([
    ['FrontendVips', () => new FrontendVips('front', front)],
    ['GatewayPair', () => new GatewayPair('front', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } })],
    ['KeepalivedCluster', () => new KeepalivedCluster('front', { nodeSelector: {}, selectAllNodes: true, groups: [{ addresses: [{ address: '192.0.2.1/24' }] }] })],
  ])('%s: type token, child named after it, with it as parent', async (kind, declare) => {
    // WHEN
    const cluster = declare();
    const [urn] = await registered(cluster.resources);
    // THEN the component is registered under its token ...
    expect(registrations.find((r) => r.name === 'front')).toMatchObject({ type: `keepalived-constructs:index:${kind}`, custom: false });
    expect(await value(cluster.urn)).toBe(`urn:pulumi:stack::project::keepalived-constructs:index:${kind}::front`);
    // ... and its KeepalivedInstance is its child (the URN's type chain names the parent), named `${name}-...`
    expect(urn).toBe(`urn:pulumi:stack::project::keepalived-constructs:index:${kind}$kubernetes:deckhouse.io/v1alpha1:KeepalivedInstance::front-keepalivedinstance`);
    expect(registrations.find((r) => r.name === 'front-keepalivedinstance')).toMatchObject({
      custom: true, inputs: { apiVersion: 'deckhouse.io/v1alpha1', kind: 'KeepalivedInstance', metadata: { name: 'front' } },
    });
  });

  test('ReservedVrids: type token, no children, its VRIDs as output', async () => {
    const reserved = new ReservedVrids('routers', { ids: [1, 2, 50] });
    expect(await value(reserved.vrids)).toEqual([1, 2, 50]);
    expect(await value(reserved.urn)).toBe('urn:pulumi:stack::project::keepalived-constructs:index:ReservedVrids::routers');
    expect(registrations.map((r) => r.type)).toEqual(['keepalived-constructs:index:ReservedVrids']);
  });

  test('standalone children: one typed resource per object, each named after the component and its kind', async () => {
    const cluster = new FrontendVips('edge', edge);
    const urns = await registered(cluster.resources);
    expect(urns.map(nameOfUrn)).toEqual(['edge-serviceaccount', 'edge-configmap', 'edge-daemonset', 'edge-tier', 'edge-globalnetworkpolicy']);
    for (const urn of urns) expect(urn).toMatch(/::keepalived-constructs:index:FrontendVips\$kubernetes:/);
    expect(cluster.resources.map((r) => r.constructor)).toEqual([
      k8s.core.v1.ServiceAccount, k8s.core.v1.ConfigMap, k8s.apps.v1.DaemonSet, k8s.apiextensions.CustomResource, k8s.apiextensions.CustomResource,
    ]);
    expect([cluster.daemonSet, cluster.configMap, cluster.serviceAccount, ...cluster.policies]).toEqual(
      [cluster.resources[2], cluster.resources[1], cluster.resources[0], cluster.resources[3], cluster.resources[4]]);
    // The namespace's shared objects belong to no cluster: a KeepalivedNamespace named after the namespace.
    const shared = registrations.filter((r) => r.name.startsWith('keepalived'));
    expect(shared.map((r) => [r.type, r.name])).toEqual(expect.arrayContaining([
      ['keepalived-constructs:index:KeepalivedNamespace', 'keepalived'],
      ['kubernetes:core/v1:Namespace', 'keepalived-namespace'],
      ['kubernetes:core/v1:ConfigMap', 'keepalived-agent'],
    ]));
  });

  test('handles to the monitoring children: the PodMonitor, the PrometheusRule and the dashboard', async () => {
    const cluster = new FrontendVips('edge', { ...edge, target: Target.standalone({ metrics: { podMonitor: true, prometheusRule: true, dashboard: true } }) });
    const urns = await registered([cluster.podMonitor!, cluster.prometheusRule!, cluster.dashboard!]);
    expect(urns.map(nameOfUrn)).toEqual(['edge-podmonitor', 'edge-prometheusrule', 'edge-configmap-2']);
    expect(registrations.find((r) => r.name === 'edge-configmap-2')!.inputs.metadata.name).toBe('keepalived-edge-dashboard');
    expect(cluster.dashboard).toBeInstanceOf(k8s.core.v1.ConfigMap);
    // (the types the handles declare)
    expect(cluster.podMonitor).toBeInstanceOf(k8s.apiextensions.CustomResource);
    expect(cluster.prometheusRule).toBeInstanceOf(k8s.apiextensions.CustomResource);
  });

  test('removing the first of two clusters that share a namespace keeps the Namespace\'s URN', async () => {
    const urnOfNamespace = async (declare: () => void) => {
      registrations = await newProgram();
      declare();
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A URN is the stack, the chain of parent types and the name: the Namespace's parent is the
      // namespace's KeepalivedNamespace, which no cluster owns.
      return registrations.filter((r) => r.type.endsWith(':Namespace') || r.type.endsWith(':KeepalivedNamespace')).map((r) => `${r.type}::${r.name}`);
    };
    const second = edgeB;
    const both = await urnOfNamespace(() => { new FrontendVips('edge', edge); new FrontendVips('edge-b', second); });
    const onlySecond = await urnOfNamespace(() => { new FrontendVips('edge-b', second); });
    expect(both).toEqual(['keepalived-constructs:index:KeepalivedNamespace::keepalived', 'kubernetes:core/v1:Namespace::keepalived-namespace']);
    expect(onlySecond).toEqual(both);
  });

  test('an agent image with the agent baked in: the namespace emits the agent ConfigMap only while some cluster mounts it', async () => {
    const agentConfigMaps = async (declare: () => void) => {
      registrations = await newProgram();
      declare();
      await new Promise((resolve) => setTimeout(resolve, 100));
      return registrations.filter((r) => r.type === 'kubernetes:core/v1:ConfigMap' && r.inputs.data?.['keepalived-agent.js'] !== undefined).map((r) => r.name);
    };
    const inImage = { ...edgeB,
      target: Target.standalone({ images: { agent: 'registry.example/keepalived-constructs:1', agentInImage: true } }) };
    expect(await agentConfigMaps(() => { new FrontendVips('edge-b', inImage); })).toEqual([]);
    expect(await agentConfigMaps(() => { new FrontendVips('edge-b', inImage); new FrontendVips('edge', edge); })).toEqual(['keepalived-agent']);
    expect(await agentConfigMaps(() => { new FrontendVips('edge', edge); new FrontendVips('edge-b', inImage); })).toEqual(['keepalived-agent']);
  });

  test('outputs: the VRIDs in use and the names of the objects, matching what was registered', async () => {
    const deckhouse = new FrontendVips('front', { ...front, vrids: undefined });
    const standalone = new FrontendVips('edge', edge);
    const vrids = await value(deckhouse.vrids);
    expect(vrids).toHaveLength(2);
    await registered([...deckhouse.resources, ...standalone.resources]);
    const instance = registrations.find((r) => r.name === 'front-keepalivedinstance')!;
    expect(instance.inputs.spec.vrrpInstances.map((g: any) => g.id)).toEqual(vrids);
    expect(await value(deckhouse.objectNames)).toEqual(['KeepalivedInstance/front']);
    const configMap = registrations.find((r) => r.name === 'edge-configmap')!.inputs.metadata.name;
    expect(configMap).toMatch(/^keepalived-edge-spec-[0-9a-f]{10}$/);
    expect(await value(standalone.objectNames)).toEqual([
      'ServiceAccount/keepalived/keepalived-edge', `ConfigMap/keepalived/${configMap}`,
      'DaemonSet/keepalived/keepalived-edge', 'Tier/keepalived-edge', 'GlobalNetworkPolicy/keepalived-edge.vrrp',
    ]);
    expect(await value(standalone.vrids)).toEqual([10]);
    expect([deckhouse.name, standalone.name, standalone.target.standaloneOptions !== undefined]).toEqual(['front', 'edge', true]);
  });

  test('a provider given to the component reaches every child', async () => {
    const provider = new k8s.Provider('kube', { namespace: 'ignored' });
    const cluster = new FrontendVips('edge', edge, { provider });
    await registered(cluster.resources);
    const providerRef = `${await value(provider.urn)}::${await value(provider.id)}`;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const children = registrations.filter((r) => r.name.startsWith('edge-') || r.name.startsWith('keepalived-'));
    expect(children).toHaveLength(7);
    for (const child of children) expect(child.provider).toBe(providerRef);
  });

  test('dependsOn on the component holds back every child until the dependency exists; the namespace\'s shared objects do not wait', async () => {
    // GIVEN a resource whose creation takes a while
    const { events, release } = await gatedProgram('crds');
    const crds = new k8s.core.v1.Namespace('crds', {});
    // WHEN the component depends on it
    const cluster = new FrontendVips('edge', edge, { dependsOn: [crds] });
    await value(cluster.vrids);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.filter((e) => e.startsWith('create edge-'))).toEqual([]);
    events.push('crds ready');
    release();
    // THEN the children are created after it
    await registered(cluster.resources);
    const ready = events.indexOf('crds ready');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const children = events.filter((e) => e.startsWith('create edge-'));
    expect(children).toHaveLength(5);
    for (const child of children) expect(events.indexOf(child)).toBeGreaterThan(ready);
    // The Namespace and the agent ConfigMap are the namespace's, not the cluster's: what the cluster
    // depends on may live in that namespace (a Secret for VrrpAuth.fromSecret), so they wait for nothing.
    const shared = events.filter((e) => e.startsWith('create keepalived-'));
    expect(shared).toEqual(['create keepalived-namespace', 'create keepalived-agent']);
    for (const object of shared) expect(events.indexOf(object)).toBeLessThan(ready);
  });

  test('a transformation changes the children\'s metadata as it does any resource\'s, and their content through apply', async () => {
    // GIVEN the usual transformation idioms: metadata spread with a label, a spec field set through apply
    const addTeam: pulumi.ResourceTransformation = ({ props, opts }) => (props.metadata === undefined ? undefined : {
      props: { ...props, metadata: { ...props.metadata, labels: { ...props.metadata.labels, team: 'netops' } } }, opts,
    });
    const priority: pulumi.ResourceTransformation = ({ type, props, opts }) => (type !== 'kubernetes:apps/v1:DaemonSet' ? undefined : {
      props: { ...props, spec: pulumi.output(props.spec).apply((s: any) => ({ ...s, template: { ...s.template, spec: { ...s.template.spec, priorityClassName: 'edge' } } })) }, opts,
    });
    const cluster = new FrontendVips('edge', edge, { transformations: [addTeam, priority] });
    await registered(cluster.resources);
    // THEN every child is registered with them, and the ConfigMap keeps the name made from its content
    const inputs = (name: string) => plain(registrations.find((r) => r.name === name)!.inputs);
    for (const child of ['edge-serviceaccount', 'edge-configmap', 'edge-daemonset', 'edge-tier', 'edge-globalnetworkpolicy']) {
      expect([child, inputs(child).metadata.labels.team]).toEqual([child, 'netops']);
    }
    expect(inputs('edge-configmap').metadata.name).toMatch(/^keepalived-edge-spec-[0-9a-f]{10}$/);
    expect(inputs('edge-daemonset').metadata.labels['app.kubernetes.io/instance']).toBe('edge');
    expect(inputs('edge-daemonset').spec.template.spec.priorityClassName).toBe('edge');
  });

  test('the Calico policy is created once its tier exists (Calico refuses a policy of a tier that does not)', async () => {
    // GIVEN a Tier whose creation takes a while
    const { events, release } = await gatedProgram('edge-tier');
    const cluster = new FrontendVips('edge', edge);
    await value(cluster.vrids);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // THEN the policy waits for it, and nothing else does
    expect(events).toContain('create edge-daemonset');
    expect(events).not.toContain('create edge-globalnetworkpolicy');
    release();
    await registered(cluster.resources);
    expect(events.indexOf('create edge-globalnetworkpolicy')).toBeGreaterThan(events.indexOf('create edge-tier'));
  });

  test('a provider inherited from a parent component reaches the namespace\'s shared objects too', async () => {
    // GIVEN a cluster inside a component of the user's, which has the Kubernetes provider
    const provider = new k8s.Provider('site-kube', {});
    const site = new pulumi.ComponentResource('example:index:Site', 'site', {}, { providers: { kubernetes: provider } });
    const cluster = new FrontendVips('edge', edge, { parent: site });
    await registered(cluster.resources);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // THEN every Kubernetes resource, the Namespace and the agent ConfigMap included, uses it
    const providerRef = `${await value(provider.urn)}::${await value(provider.id)}`;
    const kube = registrations.filter((r) => r.type.startsWith('kubernetes:') && r.custom && !r.type.startsWith('pulumi:providers'));
    expect(kube.map((r) => r.name).sort()).toEqual(['edge-configmap', 'edge-daemonset', 'edge-globalnetworkpolicy', 'edge-serviceaccount', 'edge-tier', 'keepalived-agent', 'keepalived-namespace']);
    for (const r of kube) expect(r.provider).toBe(providerRef);
  });

  test('clusters of one namespace with different Kubernetes providers fail the program, naming both', async () => {
    const [one, two] = [new k8s.Provider('kube-one', {}), new k8s.Provider('kube-two', {})];
    const errors = await programFailures(async () => {
      new FrontendVips('edge', edge, { provider: one });
      new FrontendVips('edge-b', edgeB, { provider: two });
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    const { messages } = onlyFailure(errors);
    expect(messages).toEqual(['[edge, edge-b] target.namespace = "keepalived": is used with different Kubernetes providers ([edge] with provider kube-one; '
      + '[edge-b] with provider kube-two), but its Namespace and agent ConfigMap are created with one. Valid: one provider for the clusters of a namespace '
      + 'and its KeepalivedNamespace (a namespace name of its own per provider), or a Pulumi stack per Kubernetes cluster.']);
    expect(registrations.filter((r) => r.type === 'kubernetes:core/v1:Namespace')).toEqual([]);
  });

  test('a KeepalivedNamespace declared under another name takes over the URNs of the one the program made (aliases)', async () => {
    // GIVEN a namespace owner declared later, named as in the README, for a namespace whose objects a
    // program without it created under a KeepalivedNamespace named after the namespace
    const declared = new KeepalivedNamespace('keepalived-ns', { name: 'keepalived', labels: { team: 'net' } });
    new FrontendVips('edge', edge);
    await registered(declared.resources);
    // THEN its URN has an alias to that one's, which its children inherit (`<name>-namespace`)
    const aliases = async (r: pulumi.Resource) => Promise.all(((r as any).__aliases as pulumi.Output<string>[]).map(value));
    expect(await aliases(declared)).toEqual(['urn:pulumi:stack::project::keepalived-constructs:index:KeepalivedNamespace::keepalived']);
    // and one named after its namespace, at the top of the stack, is that URN already
    resetVrrpDomainForTests();
    expect(await aliases(new KeepalivedNamespace('keepalived', {}))).toEqual([]);
  });

  test('kinds map to typed @pulumi/kubernetes resources; other kinds to CustomResource', async () => {
    const rules = { rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get'] }] };
    const binding = (kind: string) => ({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'x', namespace: 'x' }] });
    const kinds: Array<[string, string, string, object]> = [
      ['v1', 'Secret', 'kubernetes:core/v1:Secret', { type: 'Opaque', stringData: { a: 'b' } }],
      ['networking.k8s.io/v1', 'NetworkPolicy', 'kubernetes:networking.k8s.io/v1:NetworkPolicy', { spec: { podSelector: {} } }],
      ['rbac.authorization.k8s.io/v1', 'Role', 'kubernetes:rbac.authorization.k8s.io/v1:Role', rules],
      ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding', binding('Role')],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole', rules],
      ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding', binding('ClusterRole')],
      ['coordination.k8s.io/v1', 'Lease', 'kubernetes:coordination.k8s.io/v1:Lease', { spec: { holderIdentity: 'node-a' } }],
      ['cilium.io/v2', 'CiliumClusterwideNetworkPolicy', 'kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy', { spec: { nodeSelector: {} } }],
    ];
    const resources = kinds.map(([apiVersion, kind, , fields]) => {
      const object = { apiVersion, kind, metadata: { name: `x-${kind.toLowerCase()}` }, ...fields };
      return kubernetesObject(`r-${kind}`, { id: kind, object }, ['metadata', ...Object.keys(fields)], Promise.resolve(object), {});
    });
    await registered(resources);
    for (const [apiVersion, kind, token, fields] of kinds) {
      const r = registrations.find((x) => x.name === `r-${kind}`)!;
      expect(r.type).toBe(token);
      expect(plain(r.inputs)).toEqual({ apiVersion, kind, metadata: { name: `x-${kind.toLowerCase()}` }, ...fields });
    }
  });
});

describe('errors, as cdk8s reports them', () => {
  // The Pulumi resource name plays the construct path's part, so `test/bad` here is cdk8s's `test/bad`.
  test.each<[string, (chart: Chart) => void, () => void]>([
    ['an address that is not one',
      (chart) => new cdk8s.FrontendVips(chart, 'bad', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.300/32'] }),
      () => new FrontendVips('test/bad', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.300/32'] })],
    ['vrids of the wrong length',
      (chart) => new cdk8s.FrontendVips(chart, 'bad', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [1, 2] }),
      () => new FrontendVips('test/bad', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [1, 2] })],
    ['a name too long for the Deckhouse target',
      (chart) => new cdk8s.GatewayPair(chart, 'bad', { name: 'g'.repeat(42), nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } }),
      () => new GatewayPair('test/bad', { name: 'g'.repeat(42), nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } })],
    ['a bad WAN interface',
      (chart) => new cdk8s.GatewayPair(chart, 'bad', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24', interface: InterfaceSelector.name('a/b') } }),
      () => new GatewayPair('test/bad', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24', interface: InterfaceSelector.name('a/b') } })],
    ['a group id out of range',
      (chart) => new cdk8s.KeepalivedCluster(chart, 'bad', { nodeSelector: {}, selectAllNodes: true, groups: [{ id: 300, addresses: [{ address: '192.0.2.1/24' }] }] }),
      () => new KeepalivedCluster('test/bad', { nodeSelector: {}, selectAllNodes: true, groups: [{ id: 300, addresses: [{ address: '192.0.2.1/24' }] }] })],
  ])('%s: thrown at once, with the same message', (_, withCdk8s, withPulumi) => {
    const expected = cdk8sMessages(withCdk8s);
    expect(expected.length).toBeGreaterThan(0);
    expect(withPulumi).toThrow(KeepalivedConfigError);
    expect(withPulumi).toThrow(expected.join('\n'));
    // The program stops at the throw; forget the half-declared component at once.
    resetVrrpDomainForTests();
  });

  test('a Pulumi Output where a prop takes a value says so (its JSON is Pulumi\'s text, and a secret password is not "empty")', () => {
    const said = 'a Pulumi Output: props take plain values (declare the component inside apply(), or pass the value itself)';
    const standalone = (options: object) => () => new FrontendVips('test/front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], target: Target.standalone(options as any) });
    expect(standalone({ namespace: pulumi.output('kad') })).toThrow(`[test/front] target.namespace = (${said}): is empty or not a string.`);
    resetVrrpDomainForTests();
    expect(standalone({ auth: VrrpAuth.literal(pulumi.secret('pw123456') as any), vrrpVersion: VrrpVersion.V2 }))
      .toThrow(`[test/front] target.auth = "(a literal that is ${said})": is not a string.`);
    resetVrrpDomainForTests();
    // A map prop (an Output is an object too, with Pulumi's fields): one line that says what it is
    const oneLine = (declare: () => unknown, message: string) => {
      resetVrrpDomainForTests();
      let thrown: Error | undefined;
      try { declare(); } catch (e) { thrown = e as Error; }
      expect(thrown?.message).toBe(message);
    };
    oneLine(() => new FrontendVips('test/front', { nodeSelector: pulumi.output({ a: '' }) as any, addresses: ['203.0.113.1/32'] }),
      `[test/front] nodeSelector = (${said}): is not a map of labels. Valid: a map of node labels, e.g. { 'node-role.kubernetes.io/edge': '' }.`);
    oneLine(standalone({ labels: pulumi.output({ team: 'net' }) }),
      `[test/front] target.labels = (${said}): is not a map of labels. Valid: an object of string keys and values, e.g. { team: "network" }.`);
    oneLine(() => new KeepalivedNamespace('ns', { labels: pulumi.output({ team: 'net' }) as any }),
      `[ns] labels = (${said}): is not a map of labels. Valid: an object of string keys and values, e.g. { team: "network" }.`);
    resetVrrpDomainForTests();
  });

  test('addGroup with an invalid group throws at once; after the domain settled it throws too', async () => {
    const cluster = new KeepalivedCluster('test/c', { nodeSelector: {}, selectAllNodes: true, groups: [{ addresses: [{ address: '192.0.2.1/24' }] }] });
    expect(() => cluster.addGroup({ addresses: [] })).toThrow('[test/c] groups[1].addresses = []: a VRRP group needs at least one address');
    cluster.addGroup({ name: 'second', addresses: [{ address: '192.0.2.2/24' }] });
    expect(await value(cluster.vrids)).toHaveLength(2);
    expect(cluster.groups.map((g) => g.name)).toEqual([undefined, 'second']);
    expect(() => cluster.addGroup({ addresses: [{ address: '192.0.2.3/24' }] })).toThrow(/\[test\/c\] addGroup\(\) after the cluster's manifests were produced/);
  });

  test('a VRID used by two components fails the program, naming both; the other one is created', async () => {
    const expected = cdk8sMessages((chart) => {
      new cdk8s.FrontendVips(chart, 'a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [7] });
      new cdk8s.GatewayPair(chart, 'b', { nodeSelector: {}, selectAllNodes: true, vrid: 7, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } });
    });
    let a!: FrontendVips;
    let b!: GatewayPair;
    const errors = await programFailures(async () => {
      a = new FrontendVips('test/a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [7] });
      b = new GatewayPair('test/b', { nodeSelector: {}, selectAllNodes: true, vrid: 7, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } });
      await registered(a.resources);
    });
    const { messages } = onlyFailure(errors);
    expect(messages).toEqual(expected);
    expect(messages).toEqual(['[test/b] vrid = 7: VRID 7 is already used by test/a (vrids[0]); a VRID must be unique in the app, as the Deckhouse webhook requires cluster-wide. Valid: another VRID in 1..255, or omit it for automatic allocation.']);
    await expect(settled(b.vrids)).rejects.toBe(errors[0]);
    expect(await value(a.vrids)).toEqual([7]);
    expect(registrations.map((r) => r.name)).not.toContain('test/b-keepalivedinstance');
  });

  test.each<[string, (chart: Chart) => void, () => void]>([
    ['a cluster without groups',
      (chart) => new cdk8s.KeepalivedCluster(chart, 'empty', { nodeSelector: {}, selectAllNodes: true }),
      () => new KeepalivedCluster('test/empty', { nodeSelector: {}, selectAllNodes: true })],
    ['an address held by two clusters',
      (chart) => {
        new cdk8s.FrontendVips(chart, 'a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
        new cdk8s.FrontendVips(chart, 'b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
      },
      () => {
        new FrontendVips('test/a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
        new FrontendVips('test/b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
      }],
    ['one name for two clusters',
      (chart) => {
        new cdk8s.FrontendVips(chart, 'a', { name: 'x', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
        new cdk8s.FrontendVips(chart, 'b', { name: 'x', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] });
      },
      () => {
        new FrontendVips('test/a', { name: 'x', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
        new FrontendVips('test/b', { name: 'x', nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] });
      }],
    ['a reserved VRID used explicitly',
      (chart) => {
        new cdk8s.ReservedVrids(chart, 'routers', { ids: [5] });
        new cdk8s.FrontendVips(chart, 'a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [5] });
      },
      () => {
        new ReservedVrids('test/routers', { ids: [5] });
        new FrontendVips('test/a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [5] });
      }],
    ['a reserved id that is not a VRID',
      (chart) => new cdk8s.ReservedVrids(chart, 'routers', { ids: [5, 256] }),
      () => new ReservedVrids('test/routers', { ids: [5, 256] })],
  ])('%s: fails the program with the same message', async (_, withCdk8s, withPulumi) => {
    const expected = cdk8sMessages(withCdk8s);
    const errors = await programFailures(withPulumi);
    expect(onlyFailure(errors).messages).toEqual(expected);
  });
});

describe('a namespace\'s shared objects: what can never delete or duplicate them', () => {
  const inNamespace = (name: string, address: string, extra: object = {}) => ({
    name, nodeSelector: { role: name }, addresses: [address], target: Target.standalone({ namespace: 'kad', ...extra }),
  });
  const namespaces = () => registrations.filter((r) => r.type === 'kubernetes:core/v1:Namespace' || r.type.endsWith(':KeepalivedNamespace')).map((r) => r.name);

  test('clusters that disagree on whether the namespace exists fail the program before any shared object is created', async () => {
    // GIVEN a program whose cluster created the Namespace, WHEN a cluster that says it exists is added
    // (the Namespace would leave the program, and Pulumi would delete it with everything in it)
    const errors = await programFailures(async () => {
      new FrontendVips('edge-a', inNamespace('edge-a', '203.0.113.1/32'));
      new FrontendVips('edge-d', inNamespace('edge-d', '203.0.113.4/32', { createNamespace: false }));
    });
    // THEN the program fails, saying what to declare, and nothing of the namespace is registered
    const { messages } = onlyFailure(errors);
    expect(messages).toEqual(['[edge-d] target.createNamespace = false: namespace kad has no KeepalivedNamespace, and its cluster edge-a leaves createNamespace unset, '
      + 'so whether the Namespace is emitted would depend on which clusters there are: adding or removing one would create the namespace, or delete it with '
      + 'everything in it. Valid: a KeepalivedNamespace kad, which decides for all its clusters (createNamespace: false when the namespace exists already), '
      + 'or createNamespace: false on every cluster in it.']);
    expect(namespaces()).toEqual([]);
  });

  test('a second KeepalivedNamespace for a namespace throws at once, as does one declared after the program made one', async () => {
    new KeepalivedNamespace('ns1', { name: 'kad' });
    expect(() => new KeepalivedNamespace('ns2', { name: 'kad' })).toThrow('[ns2] name = "kad": ns1 already owns namespace kad. Valid: one KeepalivedNamespace per namespace in the app');
    expect(registrations.map((r) => r.name)).not.toContain('ns2');
    // WHEN the program made an owner for a namespace's clusters and then declares one (after an await)
    resetVrrpDomainForTests();
    registrations.length = 0;
    const a = new FrontendVips('edge-a', inNamespace('edge-a', '203.0.113.1/32'));
    await registered(a.resources);
    expect(() => new KeepalivedNamespace('kad-ns', { name: 'kad' })).toThrow('[kad-ns] name = "kad": namespace kad already has the KeepalivedNamespace made for '
      + 'its clusters declared before this one (the program awaited in between). Valid: a KeepalivedNamespace declared before the program first awaits');
    expect(registrations.map((r) => r.name)).not.toContain('kad-ns');
  });

  test('a cluster declared after the namespace\'s objects were created with another provider throws at once', async () => {
    const [one, two] = [new k8s.Provider('kube-one', {}), new k8s.Provider('kube-two', {})];
    const a = new FrontendVips('edge-a', inNamespace('edge-a', '203.0.113.1/32'), { provider: one });
    await registered(a.resources);
    expect(() => new FrontendVips('edge-b', inNamespace('edge-b', '203.0.113.2/32'), { provider: two }))
      .toThrow('target.namespace = "kad": is used with different Kubernetes providers ([edge-a] with provider kube-one; [edge-b] with provider kube-two)');
  });

  test('a declared owner of another namespace, with the resource name the program would give this one\'s owner, fails the program by name', async () => {
    const errors = await programFailures(async () => {
      new KeepalivedNamespace('kad', { name: 'vip-system' });
      new FrontendVips('edge-a', inNamespace('edge-a', '203.0.113.1/32'));
    });
    expect(onlyFailure(errors).messages).toEqual(['[kad] name (the resource name) = "kad": is the resource name of the KeepalivedNamespace that the program makes '
      + 'for namespace kad, which has standalone clusters and no KeepalivedNamespace, but this one owns namespace vip-system. Valid: a KeepalivedNamespace for '
      + 'namespace kad too, or another resource name for this one (e.g. vip-system).']);
    expect(registrations.filter((r) => r.name === 'kad')).toHaveLength(1);
  });

  test('the namespace\'s owner made for its clusters is protected when one of them is', async () => {
    const site = new pulumi.ComponentResource('example:index:Site', 'site', {}, { protect: true });
    const a = new FrontendVips('edge-a', inNamespace('edge-a', '203.0.113.1/32'), { parent: site });
    new FrontendVips('edge-b', inNamespace('edge-b', '203.0.113.2/32'));
    await registered(a.resources);
    const shared = await namespaceResources(programDomain(), 'kad', { path: 'probe', createNamespace: undefined, agentConfigMap: true, provider: undefined, protect: false });
    // (the agent ConfigMap is named after its content: a new version replaces it, which protect would block)
    expect(shared.map((r) => [pulumi.resourceName(r), isProtected(r)])).toEqual([['kad-namespace', true], ['kad-agent', false]]);
  });

  test('resource options that follow from what an object is: content-named ones never protected; the main object deleted before its replacement; OnDelete not awaited, its spec ConfigMaps kept; the agent ConfigMap after its Namespace', async () => {
    // GIVEN a protected cluster with OnDelete updates, whose children's options a transformation records
    const options = new Map<string, pulumi.ResourceOptions>();
    const record: pulumi.ResourceTransformation = (args) => {
      options.set(args.name, args.opts);
      return undefined;
    };
    const edge = new FrontendVips('edge', inNamespace('edge', '203.0.113.1/32', { updateStrategy: cdk8s.UpdateStrategy.ON_DELETE }), { protect: true, transformations: [record] });
    const ns = new KeepalivedNamespace('kad-ns', { name: 'kad' }, { transformations: [record] });
    await registered([...edge.resources, ...ns.resources]);
    // THEN the spec ConfigMap (a new name with every change) is not protected, and kept when replaced
    expect(isProtected(edge.configMap!)).toBe(false);
    expect(options.get('edge-configmap')).toMatchObject({ protect: false, retainOnDelete: true });
    // ... the DaemonSet is protected, replaced by deleting first, and its rollout not awaited
    expect(isProtected(edge.daemonSet!)).toBe(true);
    expect(options.get('edge-daemonset')).toMatchObject({ deleteBeforeReplace: true });
    expect(registrations.find((r) => r.name === 'edge-daemonset')!.inputs.metadata.annotations).toEqual({ 'pulumi.com/skipAwait': 'true' });
    // ... and with the default RollingUpdate neither the annotation nor retainOnDelete
    const rolling = new FrontendVips('rolling', inNamespace('rolling', '203.0.113.2/32'), { transformations: [record] });
    await registered(rolling.resources);
    expect(registrations.find((r) => r.name === 'rolling-daemonset')!.inputs.metadata.annotations).toBeUndefined();
    expect(options.get('rolling-configmap')?.retainOnDelete).toBeUndefined();
    // ... and the agent ConfigMap waits for the Namespace
    expect(options.get('kad-ns-agent')?.dependsOn).toEqual([ns.namespace]);
  });

  test.each<[string, () => void]>([
    ['FrontendVips', () => new FrontendVips('front', inNamespace('front', '203.0.113.300/32'))],
    ['GatewayPair', () => new GatewayPair('gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/99' }, target: Target.standalone({ namespace: 'kad' }) })],
    ['KeepalivedCluster', () => new KeepalivedCluster('c', { nodeSelector: {}, selectAllNodes: true, groups: [{ addresses: [] }], target: Target.standalone({ namespace: 'kad' }) })],
    ['KeepalivedNamespace', () => new KeepalivedNamespace('ns', { name: 'Not_A_Namespace' })],
    ['ReservedVrids', () => new ReservedVrids('routers', { ids: 5 as any })],
    ['FrontendVips with a misspelt prop', () => new FrontendVips('front', { ...inNamespace('front', '203.0.113.1/32'), advertIntervall: 1 } as any)],
    ['GatewayPair with a misspelt field of the target', () => new GatewayPair('gw', {
      nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' }, target: Target.standalone({ namespace: 'kad', nodeOrdr: ['a'] } as any),
    })],
    ['KeepalivedNamespace with a misspelt prop', () => new KeepalivedNamespace('ns', { nmae: 'kad' } as any)],
  ])('%s with an invalid group or prop throws before anything is registered, and nothing fails after', async (_, declare) => {
    const errors = await programFailures(() => {
      expect(declare).toThrow(KeepalivedConfigError);
    });
    expect(errors).toEqual([]);
    expect(registrations).toEqual([]);
  });
});

test('a subclass of a component may take props of its own; a misspelt field in the objects of its props still throws', async () => {
  class TeamVips extends FrontendVips {
    constructor(name: string, props: FrontendVipsProps & { team: string }) {
      super(name, props);
    }
  }
  const vips = new TeamVips('team', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], team: 'net' });
  expect(await value(vips.vrids)).toHaveLength(1);
  expect(() => new TeamVips('other', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'], team: 'net', tolerations: [{ kye: 'k' } as any] }))
    .toThrow('[other] tolerations[0].kye = "k": is not a field of a toleration. Valid: key, if that is what was meant');
  expect(() => new FrontendVips('direct', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.3/32'], team: 'net' } as any))
    .toThrow('[direct] team = "net": is not a prop of FrontendVips');
});

describe('a program that declares components after an await', () => {
  test('a later batch that changes nothing produced is created', async () => {
    const a = new FrontendVips('a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [1] });
    expect(await value(a.vrids)).toEqual([1]);
    const b = new FrontendVips('b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'] });
    const vrids = await value(b.vrids);
    expect(vrids).toHaveLength(1);
    expect(vrids).not.toContain(1);
    await registered(b.resources);
  });

  test('a later batch that would move a VRID already produced fails, saying what would change', async () => {
    // GIVEN a produced cluster with an automatic VRID
    const a = new FrontendVips('a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
    const [vrid] = await value(a.vrids);
    // WHEN a later component claims that VRID explicitly
    let b!: FrontendVips;
    const errors = await programFailures(async () => {
      b = new FrontendVips('b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'], vrids: [vrid] });
    });
    // THEN the later one fails, and the earlier one keeps what it produced
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toContain(`[b]: declared after [a] had been produced (the program awaited, or declared them inside apply()), and they change what was produced: [a] VRIDs [${vrid}], no issues -> VRIDs [`);
    expect((errors[0] as Error).message).toContain('Valid: declare every keepalived component before the program first awaits, or pin their VRIDs.');
    await expect(settled(b.vrids)).rejects.toBe(errors[0]);
    expect(await value(a.vrids)).toEqual([vrid]);
    // AND Pulumi reports it as it reports a config error: its message alone, once, however many of the
    // failed component's fields it met it through ("error serializing property ..."), with no stack
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((errors[0] as Error).message).toMatch(/^\[b\]: declared after \[a\]/);
    expect(errors[0]).toMatchObject({ __pulumiRunError: true });
    expect((errors[0] as Error).stack).not.toMatch(/\n\s+at /);
  });

  test("a later cluster that mounts the agent, in a namespace whose shared objects were created without it, fails saying what to declare", async () => {
    // GIVEN a produced cluster whose image has the agent baked in: its namespace's implicit owner emits no agent ConfigMap
    const inImage = { keepalived: 'registry.example/keepalived:2.2.7', keepalivedVersion: '2.2.7', agent: 'registry.example/agent:1', agentInImage: true };
    const a = new FrontendVips('a', { nodeSelector: { role: 'a' }, addresses: ['203.0.113.1/32'], target: Target.standalone({ images: inImage }) });
    await value(a.vrids);
    // WHEN a later cluster in that namespace mounts the agent ConfigMap
    const errors = await programFailures(() => new FrontendVips('b', { nodeSelector: { role: 'b' }, addresses: ['203.0.113.2/32'], target: Target.standalone() }));
    // THEN it fails, naming no owner the user never declared, and saying what would work
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('[b] target.images.agentInImage = false: namespace keepalived is owned by the KeepalivedNamespace made for '
      + "the clusters declared before this one, which emits no agent ConfigMap, and this cluster's pods mount it. Valid: true with an agent image "
      + 'that has the agent baked in, or a KeepalivedNamespace keepalived declared before the program first awaits (it emits the agent ConfigMap by default).');
  });

  test('a later reservation of a VRID already in use fails', async () => {
    const a = new FrontendVips('a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], vrids: [9] });
    await value(a.vrids);
    const errors = await programFailures(() => new ReservedVrids('routers', { ids: [9] }));
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toContain('[routers]: declared after [a] had been produced');
    expect((errors[0] as Error).message).toContain('VRID 9 is reserved by routers (ids)');
  });
});

describe('program runs in one process (the Automation API runs an inline program once per preview, up or stack)', () => {
  test('each run has a domain of its own: the second run of the same program gets the same VRIDs and objects', async () => {
    const registrations = await newProgram();
    const program = async () => {
      const front = new FrontendVips('front', { nodeSelector: { edge: '' }, addresses: ['203.0.113.101/32'], vrids: [1] });
      const edge = new FrontendVips('edge', { nodeSelector: { edge: 'b' }, addresses: ['203.0.113.102/32'], target: Target.standalone() });
      await registered([...front.resources, ...edge.resources]);
      return { vrids: [...await settled(front.vrids), ...await settled(edge.vrids)], objects: await settled(edge.objectNames) };
    };
    // WHEN the program runs twice, as the Automation API runs preview then up
    const first = await pulumi.runtime.runInPulumiStack(program);
    const registeredByFirst = registrations.length;
    const second = await pulumi.runtime.runInPulumiStack(program);
    // THEN the second run produces what the first did, and registers the same resources again
    expect(second).toEqual(first);
    expect(first?.vrids[0]).toBe(1);
    const names = (rs: Registration[]) => rs.map((r) => `${r.type}/${r.name}`).sort();
    expect(names(registrations.slice(registeredByFirst))).toEqual(names(registrations.slice(0, registeredByFirst)));
    expect(names(registrations)).toContain('kubernetes:apps/v1:DaemonSet/edge-daemonset');
  });
});

describe('@pulumi/* stay optional', () => {
  test('nothing outside src/pulumi imports them, and the main entry point does not export src/pulumi', () => {
    const fs = jest.requireActual('fs') as typeof import('fs');
    const path = jest.requireActual('path') as typeof import('path');
    const root = path.join(__dirname, '..', 'src');
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
    const outside = files(root).filter((f) => !f.startsWith(path.join(root, 'pulumi') + path.sep));
    expect(outside.length).toBeGreaterThan(10);
    for (const file of outside) expect([file, fs.readFileSync(file, 'utf8')]).not.toEqual([file, expect.stringMatching(/['"]@pulumi\//)]);
    expect(fs.readFileSync(path.join(root, 'index.ts'), 'utf8')).not.toMatch(/pulumi/);
  });

  test('loading the main entry point loads no @pulumi module', () => {
    const { execFileSync } = jest.requireActual('child_process') as typeof import('child_process');
    const loaded = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', `
      require('./src');
      const modules = Object.keys(require.cache);
      console.log(JSON.stringify({ pulumi: modules.filter((m) => m.includes('@pulumi')), core: modules.some((m) => m.endsWith('core/index.ts')) }));
    `], { cwd: `${__dirname}/..`, encoding: 'utf8' });
    expect(JSON.parse(loaded)).toEqual({ pulumi: [], core: true });
  });
});
