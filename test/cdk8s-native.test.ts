// The constructs' output behaves like every other cdk8s object: escape hatches, Chart labels, cluster
// scope, handles to the children, and a Namespace that no cluster's order decides.
import { ApiObject, App, Chart, JsonPatch, Testing, YamlOutputType } from 'cdk8s';
import { Construct } from 'constructs';
import * as fs from 'fs';
import * as path from 'path';
import {
  FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, KeepalivedNamespace, Target, UpdateStrategy, VrrpAuth, VrrpPolicyFlavor,
} from '../src';
import { KeepalivedInstance } from '../src/imports/deckhouse.io';
import { expectValidAgainstSchemas } from './support/schemas';
import { synth, testApp } from './support/synth';

const SELECTOR = { 'node-role.kubernetes.io/edge': '' };
/** The nodes of one of several standalone clusters: nodes of its own (on the same nodes, each would need a metrics port of its own). */
const nodesOf = (id: string) => ({ ...SELECTOR, 'example.com/keepalived-cluster': id });
const standalone = (extra: object = {}) => Target.standalone({
  discovery: {}, auth: VrrpAuth.literal('pw'), policies: [VrrpPolicyFlavor.CALICO, VrrpPolicyFlavor.CILIUM], ...extra,
});

describe.each([
  ['Deckhouse', () => Target.deckhouse(), 'KeepalivedInstance'],
  ['standalone', () => standalone(), 'DaemonSet'],
])('%s target: cdk8s escape hatches reach the objects', (_, target, mainKind) => {
  const build = (chartProps: object = {}) => {
    const app = testApp();
    const chart = new Chart(app, 'c', chartProps);
    const cluster = new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], vrids: [10], target: target() });
    return { chart, cluster };
  };

  test('the main object is the child `Resource`, and a JSON patch on it lands', () => {
    // GIVEN a cluster, WHEN a user patches its main object through the cdk8s API
    const { chart, cluster } = build();
    expect(cluster.node.findChild('Resource')).toBe(cluster.resource);
    expect(cluster.resource.kind).toBe(mainKind);
    ApiObject.of(cluster.resource).addJsonPatch(JsonPatch.add('/metadata/annotations', { patched: 'yes' }));
    // THEN the synthesized object carries it
    const main = synth(chart).find((o) => o.kind === mainKind);
    expect(main.metadata.annotations).toEqual({ patched: 'yes' });
  });

  test('metadata.addLabel / addAnnotation and Chart labels reach every object the cluster emits', () => {
    const { chart, cluster } = build({ labels: { team: 'netops' } });
    const children = cluster.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
    for (const child of children) {
      child.metadata.addLabel('extra', 'label');
      child.metadata.addAnnotation('note', 'kept');
    }
    const objects = synth(chart);
    const own = objects.filter((o) => o.metadata.labels?.extra === 'label');
    expect(own.length).toBe(children.length);
    expect(own.map((o) => o.kind).sort()).toEqual(children.map((c) => c.kind).sort());
    for (const o of own) expect(o.metadata.annotations).toMatchObject({ note: 'kept' });
    // Chart labels apply to every object of the chart, the namespace's shared ones too.
    for (const o of objects) expect(o.metadata.labels).toMatchObject({ team: 'netops' });
  });

  test('a chart\'s namespace never lands on a cluster-scoped object', () => {
    const { chart } = build({ namespace: 'apps' });
    const CLUSTER_SCOPED = ['KeepalivedInstance', 'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'Tier', 'GlobalNetworkPolicy', 'CiliumClusterwideNetworkPolicy'];
    const objects = synth(chart);
    for (const o of objects) {
      if (CLUSTER_SCOPED.includes(o.kind)) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, undefined]);
      else expect([o.kind, o.metadata.namespace]).toEqual([o.kind, 'keepalived']);
    }
  });
});

describe('Deckhouse target: the KeepalivedInstance is the CRD\'s own JSON', () => {
  test('a JSON patch addresses the CRD\'s field names (virtualIPAddresses), and a field the import does not know is kept', () => {
    const chart = new Chart(testApp(), 'c');
    const cluster = new FrontendVips(chart, 'front', { nodeSelector: SELECTOR, addresses: ['203.0.113.1/32'], vrids: [1] });
    ApiObject.of(cluster.resource).addJsonPatch(
      JsonPatch.add('/spec/vrrpInstances/0/virtualIPAddresses/-', { address: '203.0.113.9/32' }),
      JsonPatch.add('/spec/futureField', 'kept'),
    );
    // (Testing.synth: the field the schema lacks would fail the helper's schema check.)
    const [instance] = Testing.synth(chart);
    expect(instance.spec.vrrpInstances[0].virtualIPAddresses).toEqual([{ address: '203.0.113.1/32' }, { address: '203.0.113.9/32' }]);
    expect(instance.spec.futureField).toBe('kept');
  });

  test('apiVersion and kind are the imported CRD\'s', () => {
    const chart = new Chart(testApp(), 'c');
    const cluster = new FrontendVips(chart, 'front', { nodeSelector: SELECTOR, addresses: ['203.0.113.1/32'] });
    expect({ apiVersion: cluster.resource.apiVersion, kind: cluster.resource.kind }).toEqual(KeepalivedInstance.GVK);
  });
});

describe('objects named after their content (the cluster\'s and the agent ConfigMap)', () => {
  const build = () => {
    const chart = new Chart(testApp(), 'c');
    const cluster = new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], vrids: [10], target: Target.standalone() });
    return { chart, cluster };
  };

  test('labels, annotations and a patch of the metadata apply', () => {
    const { chart, cluster } = build();
    cluster.configMap!.metadata.addLabel('team', 'net');
    ApiObject.of(cluster.namespace!.agentConfigMap!).addJsonPatch(JsonPatch.add('/metadata/annotations', { owner: 'net' }));
    const objects = synth(chart);
    expect(objects.find((o) => o.data?.['spec.json']).metadata.labels.team).toBe('net');
    expect(objects.find((o) => o.data?.['keepalived-agent.js']).metadata.annotations).toEqual({ owner: 'net' });
  });

  test('the name is a string wherever cdk8s reads it: each object\'s own file, the construct metadata, the handle', () => {
    // GIVEN two standalone clusters (three ConfigMaps named after their content), synthesized a file per object
    const app = testApp({ yamlOutputType: YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE, recordConstructMetadata: true });
    const chart = new Chart(app, 'c');
    const clusters = ['edge', 'core'].map((id, i) => new FrontendVips(chart, id, { nodeSelector: nodesOf(id), addresses: [`203.0.113.${i + 1}/32`], target: Target.standalone() }));
    app.synth();
    // THEN each ConfigMap has a file of its own, named after its synthesized name, which the handles give
    const files = fs.readdirSync(path.join(app.outdir, 'c')).filter((f) => f.startsWith('ConfigMap.')).sort();
    const names = [...clusters.map((c) => c.configMap!.name), clusters[0].namespace!.agentConfigMap!.name];
    expect(files).toEqual(names.map((n) => `ConfigMap.${n}.k8s.yaml`).sort());
    for (const n of names) expect(n).toMatch(/^keepalived-(edge-spec|core-spec|agent)-[0-9a-f]{10}$/);
    const metadata = JSON.parse(fs.readFileSync(path.join(app.outdir, 'construct-metadata.json'), 'utf8'));
    expect(metadata.resources[names[0]]).toEqual({ path: 'c/edge/ConfigMap' });
  });

  test.each([
    ['renames the cluster\'s ConfigMap', (c: FrontendVips) => ApiObject.of(c.configMap!).addJsonPatch(JsonPatch.replace('/metadata/name', 'my-spec')),
      /\[c\/edge\/ConfigMap\] metadata.name = "my-spec": a JSON patch renamed this ConfigMap, which the pods mount by the name made from its content, "keepalived-edge-spec-[0-9a-f]{10}". Valid: change the content through the props/],
    ['changes the spec', (c: FrontendVips) => ApiObject.of(c.configMap!).addJsonPatch(JsonPatch.replace('/data/spec.json', '{}')),
      /\[c\/edge\/ConfigMap\] ConfigMap "keepalived-edge-spec-[0-9a-f]{10}": a JSON patch changed its content, but its name is made from the content it was built with/],
    ['adds to the agent ConfigMap', (c: FrontendVips) => ApiObject.of(c.namespace!.agentConfigMap!).addJsonPatch(JsonPatch.add('/data/extra.sh', 'true')),
      /\[c\/KeepalivedNamespace-keepalived\/AgentConfigMap\] ConfigMap "keepalived-agent-[0-9a-f]{10}": a JSON patch changed its content/],
  ])('a JSON patch that %s fails the synth, naming the object and what would be valid', (_, patch, message) => {
    const { chart, cluster } = build();
    patch(cluster);
    expect(() => synth(chart)).toThrow(message);
  });

  test('a JSON patch that leaves the name and the content as built passes, and applies', () => {
    const { chart, cluster } = build();
    ApiObject.of(cluster.configMap!).addJsonPatch(JsonPatch.add('/metadata/labels/team', 'netops'));
    const configMap = synth(chart).find((o: any) => o.kind === 'ConfigMap' && o.data?.['spec.json']);
    expect(configMap.metadata.labels.team).toBe('netops');
  });
});

describe('handles to the children', () => {
  test('standalone: the DaemonSet, ConfigMap, ServiceAccount, Secret, RBAC, policies and the namespace', () => {
    const { chart } = { chart: new Chart(testApp(), 'c') };
    const cluster = new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: standalone() });
    expect(cluster.daemonSet).toBe(cluster.resource);
    expect([cluster.configMap?.kind, cluster.serviceAccount?.kind, cluster.secret?.kind]).toEqual(['ConfigMap', 'ServiceAccount', 'Secret']);
    expect(cluster.rbac.map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(cluster.policies.map((o) => o.kind)).toEqual(['Tier', 'GlobalNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);
    expect(cluster.namespace?.name).toBe('keepalived');
    expect(cluster.namespace?.namespace?.kind).toBe('Namespace');
    expect(cluster.namespace?.agentConfigMap?.kind).toBe('ConfigMap');
    // A handle is the object that is synthesized: a label added through it lands.
    cluster.configMap!.metadata.addLabel('via', 'handle');
    expect(synth(chart).find((o) => o.data?.['spec.json'] !== undefined).metadata.labels.via).toBe('handle');
  });

  test('standalone with metrics: the PodMonitor, the PrometheusRule and the dashboard', () => {
    const chart = new Chart(testApp(), 'c');
    const metrics = { podMonitor: true, prometheusRule: true, dashboard: { namespace: 'monitoring' } };
    const cluster = new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone({ metrics }) });
    expect([cluster.podMonitor?.kind, cluster.prometheusRule?.kind, cluster.dashboard?.kind]).toEqual(['PodMonitor', 'PrometheusRule', 'ConfigMap']);
    cluster.dashboard!.metadata.addAnnotation('via', 'handle');
    expect(synth(chart).find((o) => o.metadata.namespace === 'monitoring').metadata.annotations).toEqual({ via: 'handle' });
    const plain = new FrontendVips(chart, 'plain', { nodeSelector: nodesOf('plain'), addresses: ['203.0.113.11/32'], target: Target.standalone() });
    expect([plain.podMonitor, plain.prometheusRule, plain.dashboard]).toEqual([undefined, undefined, undefined]);
  });

  test('Deckhouse: labels and annotations for the KeepalivedInstance; bad keys fail', () => {
    const chart = new Chart(testApp(), 'c');
    new FrontendVips(chart, 'front', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], vrids: [10],
      target: Target.deckhouse({ labels: { 'argocd.argoproj.io/instance': 'vips' }, annotations: { owner: 'net' } }),
    });
    const [instance] = synth(chart);
    expect(instance.metadata).toEqual({ name: 'front', labels: { 'argocd.argoproj.io/instance': 'vips' }, annotations: { owner: 'net' } });
    expectValidAgainstSchemas([instance]);
    expect(() => new FrontendVips(new Chart(testApp(), 'c'), 'front', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.deckhouse({ labels: { 'team name': 'x' } }),
    })).toThrow('[c/front] target.labels["team name"] = "team name": is not a valid key');
  });

  test('Deckhouse: only the KeepalivedInstance', () => {
    const chart = new Chart(testApp(), 'c');
    const cluster = new GatewayPair(chart, 'gw', {
      nodeSelector: SELECTOR,
      lan: { address: '192.0.2.1/24', interface: InterfaceSelector.networkAddress('192.0.2.0/24') },
      wan: { address: '203.0.113.1/28' },
    });
    expect([cluster.resource.kind, cluster.daemonSet, cluster.configMap, cluster.rbac, cluster.policies, cluster.namespace])
      .toEqual(['KeepalivedInstance', undefined, undefined, [], [], undefined]);
  });
});

describe('objects resolved in any order', () => {
  test('each object\'s JSON is its synthesized one, however the clusters\' objects are interleaved', () => {
    // GIVEN two standalone clusters (each builds its objects at synth, and only the last cluster's are kept)
    const chart = new Chart(testApp(), 'c');
    const a = new FrontendVips(chart, 'a', { nodeSelector: nodesOf('a'), addresses: ['203.0.113.10/32'], target: standalone() });
    const b = new FrontendVips(chart, 'b', { nodeSelector: nodesOf('b'), addresses: ['203.0.113.11/32'], target: standalone() });
    const expected = synth(chart);
    // WHEN their objects are resolved alternately, a's and b's, and a's again
    const interleaved = [a.daemonSet!, b.daemonSet!, a.configMap!, b.configMap!, a.daemonSet!, b.serviceAccount!, a.serviceAccount!];
    // THEN each is what the synth gave for it
    for (const object of interleaved) {
      const json = object.toJson();
      expect(expected.find((o) => o.kind === json.kind && o.metadata.name === json.metadata.name)).toEqual(json);
    }
  });

  test('a synth builds each cluster\'s objects once: nothing before it (validation included) builds them', () => {
    // GIVEN three standalone clusters whose builds are counted (their heads, at declaration, are one build each)
    const chart = new Chart(testApp(), 'c');
    const builds = new Map<string, number>();
    for (const id of ['a', 'b', 'c']) {
      const target = Target.standalone({ metrics: { dashboard: true } });
      const strategy = target._strategy;
      const objects = strategy.objects.bind(strategy);
      strategy.objects = (def, ctx) => { builds.set(id, (builds.get(id) ?? 0) + 1); return objects(def, ctx); };
      new FrontendVips(chart, id, { nodeSelector: nodesOf(id), addresses: [`203.0.113.${id.charCodeAt(0)}/32`], target });
    }
    // WHEN the app synthesizes
    synth(chart);
    // THEN each cluster was built twice: its heads, and its content at synth
    expect(Object.fromEntries(builds)).toEqual({ a: 2, b: 2, c: 2 });
  });
});

describe('the Namespace and the agent ConfigMap belong to no cluster', () => {
  const cluster = (chart: Chart, id: string, address: string) =>
    new FrontendVips(chart, id, { nodeSelector: nodesOf(id), addresses: [address], target: Target.standalone() });
  const shared = (objects: any[]) => objects.filter((o) => o.kind === 'Namespace' || o.data?.['keepalived-agent.js'] !== undefined);

  test('two clusters in one namespace: one Namespace, one agent ConfigMap, whatever their order', () => {
    const forward = new Chart(testApp(), 'c');
    cluster(forward, 'a', '203.0.113.1/32');
    cluster(forward, 'b', '203.0.113.2/32');
    const reverse = new Chart(testApp(), 'c');
    cluster(reverse, 'b', '203.0.113.2/32');
    cluster(reverse, 'a', '203.0.113.1/32');
    const [f, r] = [synth(forward), synth(reverse)];
    expect(shared(f).map((o) => o.kind)).toEqual(['Namespace', 'ConfigMap']);
    expect(shared(r)).toEqual(shared(f));
    // Both DaemonSets mount the one agent ConfigMap.
    const agent = shared(f)[1].metadata.name;
    for (const ds of f.filter((o) => o.kind === 'DaemonSet')) {
      expect(ds.spec.template.spec.volumes.find((v: any) => v.name === 'agent').configMap.name).toBe(agent);
    }
  });

  test('removing the first cluster keeps the Namespace where it was: same construct path, same object', () => {
    const both = new Chart(testApp(), 'c');
    cluster(both, 'a', '203.0.113.1/32');
    cluster(both, 'b', '203.0.113.2/32');
    const onlySecond = new Chart(testApp(), 'c');
    cluster(onlySecond, 'b', '203.0.113.2/32');
    const path = (chart: Chart) => chart.node.findAll().filter((c) => c instanceof KeepalivedNamespace).map((c) => c.node.path);
    expect(path(both)).toEqual(['c/KeepalivedNamespace-keepalived']);
    expect(path(onlySecond)).toEqual(path(both));
    expect(shared(synth(onlySecond))).toEqual(shared(synth(both)));
  });

  test('a KeepalivedNamespace declared after its clusters replaces the implicit one', () => {
    const chart = new Chart(testApp(), 'c');
    cluster(chart, 'a', '203.0.113.1/32');
    new KeepalivedNamespace(chart, 'ns', { name: 'keepalived', labels: { team: 'netops' } });
    const objects = shared(synth(chart));
    expect(objects.map((o) => [o.kind, o.metadata.labels.team])).toEqual([['Namespace', 'netops'], ['ConfigMap', 'netops']]);
    expect(chart.node.tryFindChild('KeepalivedNamespace-keepalived')).toBeUndefined();
  });

  test('a KeepalivedNamespace declared after the program took an implicit owner\'s object is an error: the object (and its patches) would be lost', () => {
    for (const take of [(c: any) => c.namespace.namespace, (c: any) => c.namespace.agentConfigMap]) {
      const chart = new Chart(testApp(), 'c');
      const edge = cluster(chart, 'a', '203.0.113.1/32');
      // GIVEN a label on the implicit owner's object, taken through the cluster
      (take(edge) as ApiObject).metadata.addLabel('team', 'net');
      // THEN declaring the namespace now names both owners and says what to do
      expect(() => new KeepalivedNamespace(chart, 'ns', { name: 'keepalived' })).toThrow(
        /^\[c\/ns\] name = "keepalived": would replace c\/KeepalivedNamespace-keepalived, .* whose (Namespace|agent ConfigMap) object the program has already taken .*Valid: this KeepalivedNamespace declared before/);
    }
    // ... reading the cluster's owner without taking an object is no error, and that handle then gives
    // the declared owner's objects, the ones emitted
    const chart = new Chart(testApp(), 'c');
    const owner = cluster(chart, 'a', '203.0.113.1/32').namespace!;
    const declared = new KeepalivedNamespace(chart, 'ns', { name: 'keepalived' });
    expect(owner.namespace).toBe(declared.namespace);
    owner.namespace!.metadata.addLabel('team', 'net');
    expect(synth(chart).find((o) => o.kind === 'Namespace').metadata.labels.team).toBe('net');
  });

  test('clusters that disagree on whether the namespace exists need an explicit owner, whichever comes first', () => {
    // Adding a cluster that says the namespace exists must not drop the Namespace that the others
    // created (a pruning GitOps tool, like Pulumi, would delete it with everything in it).
    const declare = (chart: Chart, id: string, createNamespace?: boolean) => new FrontendVips(chart, id, {
      nodeSelector: nodesOf(id), addresses: [id === 'a' ? '203.0.113.1/32' : '203.0.113.2/32'],
      target: Target.standalone(createNamespace === undefined ? {} : { createNamespace }),
    });
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const chart = new Chart(testApp(), 'c');
      for (const id of order) declare(chart, id, id === 'a' ? false : undefined);
      expect(() => synth(chart)).toThrow('[c/a] target.createNamespace = false: namespace keepalived has no KeepalivedNamespace, and its cluster c/b leaves '
        + 'createNamespace unset, so whether the Namespace is emitted would depend on which clusters there are: adding or removing one would create '
        + 'the namespace, or delete it with everything in it. Valid: a KeepalivedNamespace keepalived, which decides for all its clusters '
        + '(createNamespace: false when the namespace exists already), or createNamespace: false on every cluster in it');
    }
    // WHEN every cluster says so, or a KeepalivedNamespace decides: no Namespace, whichever comes first
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const chart = new Chart(testApp(), 'c');
      for (const id of order) declare(chart, id, false);
      expect(shared(synth(chart)).map((o) => o.kind)).toEqual(['ConfigMap']);
      const owned = new Chart(testApp(), 'c');
      new KeepalivedNamespace(owned, 'ns', { createNamespace: false });
      for (const id of order) declare(owned, id, id === 'a' ? false : undefined);
      expect(shared(synth(owned)).map((o) => o.kind)).toEqual(['ConfigMap']);
    }
  });

  test('clusters of two charts sharing a namespace need an explicit owner', () => {
    const app = new App({ outdir: testApp().outdir });
    cluster(new Chart(app, 'one'), 'a', '203.0.113.1/32');
    cluster(new Chart(app, 'two'), 'b', '203.0.113.2/32');
    expect(() => app.synth()).toThrow(/namespace keepalived is shared by standalone clusters in charts one and two.*Valid: declare `new KeepalivedNamespace/);
  });

  // `kubectl apply -f` creates objects in file order: a namespaced object before its Namespace fails.
  const namespaceFirst = (objects: any[]) => {
    const firstOwn = objects.findIndex((o) => !shared([o]).length);
    return shared(objects).every((o) => objects.indexOf(o) < firstOwn) && shared(objects).length === 2;
  };

  test('the Namespace and the agent ConfigMap come first in the output, however the namespace is declared', () => {
    // GIVEN an implicit owner, made by the first of three clusters
    const implicit = new Chart(testApp(), 'c');
    for (const id of ['a', 'b', 'c']) cluster(implicit, id, `203.0.113.${id.charCodeAt(0)}/32`);
    // a KeepalivedNamespace declared after its clusters
    const after = new Chart(testApp(), 'c');
    cluster(after, 'a', '203.0.113.1/32');
    cluster(after, 'b', '203.0.113.2/32');
    new KeepalivedNamespace(after, 'ns', { name: 'keepalived' });
    // a cluster declared after the namespace, inside a construct that comes before it in the tree
    const nested = new Chart(testApp(), 'c');
    const group = new Construct(nested, 'group');
    cluster(group as Chart, 'a', '203.0.113.1/32');
    new KeepalivedNamespace(nested, 'ns', { name: 'keepalived' });
    cluster(group as Chart, 'b', '203.0.113.2/32');
    // a cluster declared after the implicit owner whose id is an array index: it comes first among
    // its chart's children (JavaScript orders such keys first), though it was added last
    const numbered = new Chart(testApp(), 'c');
    cluster(numbered, 'a', '203.0.113.1/32');
    cluster(numbered, '7', '203.0.113.7/32');
    expect(numbered.node.children.map((c) => c.node.id)).toEqual(['7', 'a', 'KeepalivedNamespace-keepalived']);
    // THEN in each, both shared objects come before every object of a cluster
    for (const chart of [implicit, after, nested, numbered]) expect(namespaceFirst(synth(chart))).toBe(true);
  });

  test('a KeepalivedNamespace in another chart: that chart is applied first', () => {
    const app = new App({ outdir: testApp().outdir });
    const clusters = new Chart(app, 'clusters');
    const namespaces = new Chart(app, 'namespaces');
    new KeepalivedNamespace(namespaces, 'ns', { name: 'keepalived' });
    cluster(clusters, 'a', '203.0.113.1/32');
    app.synth();
    expect(fs.readdirSync(app.outdir).sort()).toEqual(['0000-namespaces.k8s.yaml', '0001-clusters.k8s.yaml']);
  });

  test('a KeepalivedNamespace declared after clusters of two charts, in the second: no dependency on the replaced owner, no cycle', () => {
    // GIVEN clusters in charts one and two (one made an implicit owner), then the namespace in two,
    // as the error for clusters of two charts says to do
    const app = new App({ outdir: testApp().outdir });
    const [one, two] = [new Chart(app, 'one'), new Chart(app, 'two')];
    const a = cluster(one, 'a', '203.0.113.1/32');
    cluster(two, 'b', '203.0.113.2/32');
    const ns = new KeepalivedNamespace(two, 'ns', { name: 'keepalived' });
    // THEN chart one depends on the namespace's chart alone, and two is applied first
    expect(a.node.dependencies.map((d) => d.node.path)).toEqual([ns.node.path]);
    app.synth();
    expect(fs.readdirSync(app.outdir).sort()).toEqual(['0000-two.k8s.yaml', '0001-one.k8s.yaml']);
  });

  test('a second owner of one namespace throws at once; a cluster that disagrees with its owner fails the synth', () => {
    const chart = new Chart(testApp(), 'c');
    new KeepalivedNamespace(chart, 'ns1', { name: 'net' });
    expect(() => new KeepalivedNamespace(chart, 'ns2', { name: 'net' }))
      .toThrow('[c/ns2] name = "net": c/ns1 already owns namespace net. Valid: one KeepalivedNamespace per namespace in the app');
    new KeepalivedCluster(chart, 'x', {
      nodeSelector: SELECTOR, target: Target.standalone({ namespace: 'net', createNamespace: false }),
      groups: [{ addresses: [{ address: '203.0.113.9/32' }] }],
    });
    expect(() => Testing.synth(chart)).toThrow(/\[c\/x\] target.createNamespace = false: namespace net is owned by c\/ns1, which emits the Namespace/);
  });
});

describe('an agent image with the agent baked in: no agent ConfigMap', () => {
  const inImage = { images: { agent: 'registry.example/keepalived-constructs:1', agentInImage: true } };
  const cluster = (chart: Chart, id: string, address: string, extra: object = {}) =>
    new FrontendVips(chart, id, { nodeSelector: nodesOf(id), addresses: [address], target: Target.standalone(extra) });
  const agentConfigMaps = (objects: any[]) => objects.filter((o) => o.data?.['keepalived-agent.js'] !== undefined);
  const agentVolume = (ds: any) => ds.spec.template.spec.volumes.find((v: any) => v.name === 'agent');
  const agentMounts = (ds: any) => [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers]
    .flatMap((c: any) => (c.volumeMounts ?? []).filter((m: any) => m.name === 'agent').map(() => c.name));

  test('the pod mounts none and the namespace emits none', () => {
    const chart = new Chart(testApp(), 'c');
    const c = cluster(chart, 'a', '203.0.113.1/32', inImage);
    const objects = synth(chart);
    expect(agentConfigMaps(objects)).toEqual([]);
    expect(c.namespace?.agentConfigMap).toBeUndefined();
    const ds = objects.find((o) => o.kind === 'DaemonSet');
    expect(agentVolume(ds)).toBeUndefined();
    expect(agentMounts(ds)).toEqual([]);
    // The agent still runs from the image, at the path the image bakes it in.
    expect(ds.spec.template.spec.initContainers[0].command.slice(0, 2)).toEqual(['node', '/opt/keepalived-constructs/keepalived-agent.js']);
  });

  test('a namespace emits one while some cluster in it mounts it, whatever the order', () => {
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const chart = new Chart(testApp(), 'c');
      for (const id of order) cluster(chart, id, id === 'a' ? '203.0.113.1/32' : '203.0.113.2/32', id === 'a' ? inImage : {});
      const objects = synth(chart);
      expect(agentConfigMaps(objects)).toHaveLength(1);
      const byName = (name: string) => objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === name);
      expect(agentVolume(byName('keepalived-a'))).toBeUndefined();
      expect(agentVolume(byName('keepalived-b')).configMap.name).toBe(agentConfigMaps(objects)[0].metadata.name);
    }
  });

  test('a declared namespace without it: a cluster that mounts it is an error naming the field', () => {
    const chart = new Chart(testApp(), 'c');
    new KeepalivedNamespace(chart, 'ns', { name: 'keepalived', agentConfigMap: false });
    cluster(chart, 'a', '203.0.113.1/32', inImage);
    expect(agentConfigMaps(synth(chart))).toEqual([]);
    cluster(chart, 'b', '203.0.113.2/32');
    expect(() => Testing.synth(chart)).toThrow(
      /\[c\/b\] target.images.agentInImage = false: namespace keepalived is owned by c\/ns, which emits no agent ConfigMap, and this cluster's pods mount it/);
  });
});

describe('standalone options users expect to set', () => {
  test('labels, annotations, pod labels and annotations, resources, priority class, pull policy and secrets, affinity, update strategy', () => {
    const chart = new Chart(testApp(), 'c');
    new FrontendVips(chart, 'edge', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'],
      target: Target.standalone({
        labels: { team: 'netops', tier: 'all' }, annotations: { owner: 'netops' }, podLabels: { tier: 'edge' }, podAnnotations: { scrape: 'no' },
        resources: { keepalived: { cpuLimit: 'none', memoryLimit: '96Mi' }, agent: { cpuRequest: '20m' } },
        priorityClassName: 'vip-critical',
        images: { pullPolicy: 'Always' as any, pullSecrets: ['regcred'] },
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
        maxUnavailable: 2, minReadySeconds: 10,
      }),
    });
    const objects = synth(chart);
    const ds = objects.find((o) => o.kind === 'DaemonSet');
    for (const o of objects.filter((x) => x.metadata.labels?.['app.kubernetes.io/instance'] === 'edge')) {
      expect(o.metadata.labels.team).toBe('netops');
      expect(o.metadata.annotations).toEqual({ owner: 'netops' });
    }
    const pod = ds.spec.template;
    // The pods' own labels win over the cluster's, the package's (the selector's) over both.
    expect(pod.metadata).toEqual({ labels: expect.objectContaining({ tier: 'edge', team: 'netops', 'app.kubernetes.io/instance': 'edge' }), annotations: { scrape: 'no' } });
    const keepalived = pod.spec.containers.find((c: any) => c.name === 'keepalived');
    expect(keepalived.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '96Mi' } });
    expect(pod.spec.initContainers[0].resources.requests.cpu).toBe('20m');
    expect([...pod.spec.initContainers, ...pod.spec.containers].every((c: any) => c.imagePullPolicy === 'Always')).toBe(true);
    expect(pod.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.spec.priorityClassName).toBe('vip-critical');
    expect(pod.spec.affinity).toEqual({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } },
    });
    expect(ds.spec.updateStrategy.rollingUpdate.maxUnavailable).toBe(2);
    expect(ds.spec.minReadySeconds).toBe(10);
  });

  test('UpdateStrategy.ON_DELETE: pods are replaced only when deleted; maxUnavailable does not go with it', () => {
    const chart = new Chart(testApp(), 'c');
    new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone({ updateStrategy: UpdateStrategy.ON_DELETE }) });
    const ds = synth(chart).find((o) => o.kind === 'DaemonSet');
    expect(ds.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    expectValidAgainstSchemas([ds]);
    expect(() => new FrontendVips(new Chart(testApp(), 'c'), 'edge', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone({ updateStrategy: UpdateStrategy.ON_DELETE, maxUnavailable: 2 }),
    })).toThrow('[c/edge] target.maxUnavailable = 2: applies to rolling updates only, and the update strategy is ON_DELETE. Valid: no maxUnavailable, or UpdateStrategy.ROLLING_UPDATE.');
    expect(() => new FrontendVips(new Chart(testApp(), 'c'), 'edge', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone({ updateStrategy: 'Sometimes' as UpdateStrategy }),
    })).toThrow('target.updateStrategy = "Sometimes": is not an update strategy. Valid: UpdateStrategy.ROLLING_UPDATE, UpdateStrategy.ON_DELETE.');
  });

  test('a request above a default limit raises that limit; a limit below a default request lowers that request', () => {
    // GIVEN requests above the keepalived container's default limits (100m / 64Mi), a CPU limit below the agent's default request (10m)
    const chart = new Chart(testApp(), 'c');
    new FrontendVips(chart, 'edge', {
      nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'],
      target: Target.standalone({ resources: { keepalived: { cpuRequest: '0.5', memoryRequest: '100Mi' }, agent: { cpuLimit: '5m' } } }),
    });
    // WHEN
    const pod = synth(chart).find((o) => o.kind === 'DaemonSet').spec.template.spec;
    // THEN every container's request is at most its limit, as the API server requires
    const resources = Object.fromEntries([...pod.initContainers, ...pod.containers].map((c: any) => [c.name, c.resources]));
    expect(resources.keepalived).toEqual({ requests: { cpu: '0.5', memory: '100Mi' }, limits: { cpu: '0.5', memory: '100Mi' } });
    expect(resources.render).toEqual({ requests: { cpu: '5m', memory: '32Mi' }, limits: { cpu: '5m', memory: '128Mi' } });
    expect(resources.agent).toEqual({ requests: { cpu: '5m', memory: '48Mi' }, limits: { cpu: '5m', memory: '128Mi' } });
  });

  test.each([
    [{ resources: { keepalived: { cpuLimit: 'lots' } } }, /target.resources.keepalived.cpuLimit = "lots": is not a Kubernetes quantity/],
    [{ maxUnavailable: 0 }, /target.maxUnavailable = 0: is not a positive whole number of nodes/],
    [{ images: { pullPolicy: 'Sometimes' } }, /target.images.pullPolicy = "Sometimes": is not an image pull policy. Valid: ImagePullPolicy.ALWAYS/],
    [{ labels: { team: 'net ops' } }, /target.labels\["team"\] = "net ops": is not a valid label value/],
    [{ resources: { keepalived: { cpuLimit: '1..5' } } }, /target.resources.keepalived.cpuLimit = "1..5": is not a Kubernetes quantity/],
    [{ resources: { agent: { memoryRequest: '1Gi', memoryLimit: '64Mi' } } },
      /target.resources.agent.memoryRequest = "1Gi": is more than target.resources.agent.memoryLimit \(64Mi\), which Kubernetes rejects/],
    [{ labels: { 'bad key!': 'v' } }, /target.labels\["bad key!"\] = "bad key!": is not a valid key/],
    [{ podLabels: { 'Example.com/team': 'v' } }, /target.podLabels\["Example.com\/team"\] = "Example.com\/team": is not a valid key: it has a prefix that is not a DNS subdomain/],
    [{ annotations: { 'a/b/c': 'v' } }, /target.annotations\["a\/b\/c"\] = "a\/b\/c": is not a valid key/],
    [{ podAnnotations: { note: 42 } }, /target.podAnnotations\["note"\] = 42: is not a string/],
    [{ images: { agentInImage: true } }, /target.images.agentInImage = true: needs images.agent: the default agent image \(docker.io\/library\/node:24-alpine\) has no agent baked in/],
  ])('rejects %j', (options, message) => {
    const chart = new Chart(testApp(), 'c');
    expect(() => new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone(options as any) }))
      .toThrow(message);
  });

  test('rejects annotations larger than the API server admits', () => {
    const chart = new Chart(testApp(), 'c');
    const options = { podAnnotations: { big: 'x'.repeat(256 * 1024) } };
    expect(() => new FrontendVips(chart, 'edge', { nodeSelector: SELECTOR, addresses: ['203.0.113.10/32'], target: Target.standalone(options) }))
      .toThrow('target.podAnnotations = "(262147 bytes)": is larger than the 256 KiB the API server admits for an object\'s annotations');
  });
});
