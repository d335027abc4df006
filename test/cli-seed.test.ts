// The CLI on the seed's two manifests: render (both targets), import (cdk8s and Pulumi) and validate.
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { DeckhouseSeedChart } from '../examples/deckhouse-seed';
import { FrontendVips, GatewayPair, InterfaceSelector, Target } from '../src';
import { cli, runCdk8sProgram, runPulumiProgram, typeCheckPrograms } from './support/cli';
import { newProgram, plain, registered } from './support/pulumi';
import { expectValidAgainstSchemas } from './support/schemas';
import { testApp } from './support/synth';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const SEEDS = { 'seed-front.yaml': fixture('seed-front.yaml'), 'seed-mygateway.yaml': fixture('seed-mygateway.yaml') };
const FILES = Object.keys(SEEDS);
const seedObjects = () => FILES.map((f) => YAML.parse(SEEDS[f as keyof typeof SEEDS]));
const docs = (text: string) => YAML.parseAllDocuments(text).map((d) => d.toJSON());

describe('render --target deckhouse', () => {
  test('reproduces the seed manifests, byte for byte as cdk8s synthesizes the examples', async () => {
    // GIVEN the seed's two files
    // WHEN they are rendered for the Deckhouse target
    const run = await cli(['render', '-f', ...FILES], SEEDS);

    // THEN the exit status is 0 and each document is the seed's, field for field
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(docs(run.stdout)).toStrictEqual(seedObjects());
    // ... and the text is what `cdk8s synth` writes for the examples' constructs (the seed files
    // themselves carry comments and unindented lists, which cdk8s's YAML does not)
    const app = testApp();
    new DeckhouseSeedChart(app, 'deckhouse-seed');
    expect(run.stdout).toBe(app.synthYaml());
  });

  test('stdin (-) is read like a file, and -o writes one file per document', async () => {
    const run = await cli(['render', '-f', '-', 'seed-mygateway.yaml', '-o', 'out'], SEEDS, SEEDS['seed-front.yaml']);
    expect(run.status).toBe(0);
    expect([...run.written.keys()]).toEqual([path.join('out', 'front.k8s.yaml'), path.join('out', 'mygateway.k8s.yaml')]);
    expect(docs(run.written.get(path.join('out', 'front.k8s.yaml'))!)).toStrictEqual([seedObjects()[0]]);
    expect(run.stdout).toContain('KeepalivedInstance/mygateway');
  });

  test('short options take their value after = as kubectl does (-f=FILE, -o=DIR)', async () => {
    const run = await cli(['render', '-f=seed-front.yaml', '-o=out'], SEEDS);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(docs(run.written.get(path.join('out', 'front.k8s.yaml'))!)).toStrictEqual([seedObjects()[0]]);
  });
});

describe('render --target standalone', () => {
  const ORDER = ['node-a', 'node-b', 'node-c'];

  test('gives what the constructs give on the standalone target, with the same VRIDs and node order', async () => {
    // GIVEN the seed's files, WHEN rendered for the standalone target with a namespace and a node order
    const run = await cli(['render', '-f', ...FILES, '--target', 'standalone', '--namespace', 'vrrp', '--node-order', ORDER.join(',')], SEEDS);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const objects = docs(run.stdout);

    // THEN it is what the constructs with the same model synthesize on that target
    const app = testApp();
    const chart = new Chart(app, 'seed');
    const target = Target.standalone({ namespace: 'vrrp', nodeOrder: ORDER });
    new FrontendVips(chart, 'front', {
      name: 'front', target,
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
      addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'], vrids: [1, 2, 3],
    });
    new GatewayPair(chart, 'mygateway', {
      name: 'mygateway', target,
      nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
      tolerations: [{ key: 'node-role.deckhouse.io/mygateway', operator: 'Exists' }],
      vrid: 4,
      lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
      wan: { address: '42.43.44.1/28', interface: InterfaceSelector.name('ens7') },
    });
    const synthesized = Testing.synth(chart);
    expect(objects).toStrictEqual(synthesized);
    // ... byte for byte: the constructs' objects are real ApiObjects, serialized as cdk8s does
    expect(run.stdout).toBe(app.synthYaml());
    expectValidAgainstSchemas(objects);

    // ... a DaemonSet per instance in the namespace, on the instance's nodes,
    const daemonSets = objects.filter((o) => o.kind === 'DaemonSet');
    expect(daemonSets.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['vrrp/keepalived-front', 'vrrp/keepalived-mygateway']);
    expect(daemonSets[0].spec.template.spec.nodeSelector).toEqual({ 'node-role.deckhouse.io/frontend': '' });
    // ... whose node agents get the module's VRIDs and the node order
    const specs = objects.filter((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined).map((c) => JSON.parse(c.data['spec.json']));
    expect(specs.map((s) => s.groups.map((g: any) => g.vrid))).toEqual([[1, 2, 3], [4]]);
    expect(specs.map((s) => s.nodeOrder)).toEqual([ORDER, ORDER]);
  });

  test('--discovery and the images: what the constructs give with those options', async () => {
    const run = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--discovery',
      '--keepalived-image', 'registry.example/keepalived:2.2.7', '--agent-image', 'registry.example/node:20'], SEEDS);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const app = testApp();
    new FrontendVips(new Chart(app, 'seed'), 'front', {
      name: 'front',
      target: Target.standalone({ discovery: {}, images: { keepalived: 'registry.example/keepalived:2.2.7', agent: 'registry.example/node:20' } }),
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
      addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'], vrids: [1, 2, 3],
    });
    expect(docs(run.stdout)).toStrictEqual(Testing.synth(app.charts[0]));
    expect(docs(run.stdout).map((o) => o.kind)).toContain('ClusterRole');
  });

  test('--keepalived-version and --agent-in-image: what the constructs give with those images', async () => {
    const image = 'registry.example/keepalived-constructs:1';
    const run = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--keepalived-image', image,
      '--keepalived-version', '2.2.7', '--agent-image', image, '--agent-in-image'], SEEDS);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const app = testApp();
    new FrontendVips(new Chart(app, 'seed'), 'front', {
      name: 'front',
      target: Target.standalone({ images: { keepalived: image, keepalivedVersion: '2.2.7', agent: image, agentInImage: true } }),
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
      addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'], vrids: [1, 2, 3],
    });
    expect(docs(run.stdout)).toStrictEqual(Testing.synth(app.charts[0]));
    expect(docs(run.stdout).filter((o) => o.data?.['keepalived-agent.js'] !== undefined)).toEqual([]);
    const bad = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--keepalived-version', '2.x'], SEEDS);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--keepalived-version = "2.x"/);
    // The default agent image has no agent baked in: --agent-in-image alone would give pods that cannot start.
    const alone = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--agent-in-image'], SEEDS);
    expect(alone.status).toBe(2);
    expect(alone.stdout).toBe('');
    expect(alone.stderr).toMatch(/^--agent-in-image = true: needs --agent-image: the default agent image \(docker\.io\/library\/node:24-alpine\) has no agent baked in.*Valid: --agent-image set to an image with this package's agent/m);
  });

  test('--namespace and --node-order need the standalone target; a bad node name is a usage error', async () => {
    const run = await cli(['render', '-f', 'seed-front.yaml', '--node-order', 'a,b'], SEEDS);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--node-order applies to --target standalone only/);
    const bad = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--node-order', 'a,Not_A_Node'], SEEDS);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^--node-order\[1\] = "Not_A_Node": .*node name/m);
    expect(bad.stdout).toBe('');
  });
});

test('render --target standalone --sidecar classic: the agent as a plain container (clusters older than 1.29)', async () => {
  const run = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--sidecar', 'classic'], SEEDS);
  expect(run.stderr).toBe('');
  const pod = docs(run.stdout).find((o) => o.kind === 'DaemonSet').spec.template.spec;
  expect(pod.initContainers.map((c: any) => c.name)).toEqual(['render']);
  expect(pod.containers.map((c: any) => c.name)).toEqual(['keepalived', 'agent']);
  const bad = await cli(['render', '-f', 'seed-front.yaml', '--target', 'standalone', '--sidecar', 'old'], SEEDS);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--sidecar old is not a sidecar mode; valid: native or classic/);
  const deckhouse = await cli(['render', '-f', 'seed-front.yaml', '--sidecar', 'classic'], SEEDS);
  expect(deckhouse.status).toBe(2);
  expect(deckhouse.stderr).toMatch(/--sidecar applies to --target standalone only/);
});

test('render --target standalone: instances on the same nodes get metrics ports of their own (hostNetwork), by name, in any order of files', async () => {
  // GIVEN the seed's gateway instance again, renamed, on the gateway nodes, and a third on every node
  const gateway = YAML.parse(SEEDS['seed-mygateway.yaml']);
  const again = { ...gateway, metadata: { name: 'mygateway2' }, spec: { ...gateway.spec, vrrpInstances: gateway.spec.vrrpInstances.map((g: any) => ({ ...g, id: 5, virtualIPAddresses: [{ address: '192.168.42.2/24' }] })) } };
  const everywhere = { ...again, metadata: { name: 'all' }, spec: { ...again.spec, nodeSelector: {}, vrrpInstances: [{ ...again.spec.vrrpInstances[0], id: 6, virtualIPAddresses: [{ address: '192.168.42.3/24' }] }] } };
  const files = { ...SEEDS, 'more.yaml': `${YAML.stringify(again)}---\n${YAML.stringify(everywhere)}` };
  const run = await cli(['render', '-f', ...FILES, 'more.yaml', '--target', 'standalone'], files);
  expect(run.stderr).toBe('');
  // THEN in the order of names, the first on some nodes keeps the default port, and the others take
  // the next free one on their nodes: all (every node) 9654; front and mygateway (each shares nodes
  // with all only) 9655; mygateway2 (with all and mygateway) 9656
  const portsOf = (yaml: string) => new Map(docs(yaml).filter((o) => o.kind === 'DaemonSet')
    .map((o) => [o.metadata.name, [...o.spec.template.spec.initContainers ?? [], ...o.spec.template.spec.containers].flatMap((c: any) => c.ports ?? []).map((p: any) => p.hostPort)]));
  expect(portsOf(run.stdout)).toEqual(new Map([['keepalived-front', [9655]], ['keepalived-mygateway', [9655]], ['keepalived-mygateway2', [9656]], ['keepalived-all', [9654]]]));
  // ... and the files in another order give each instance the same port
  const reordered = await cli(['render', '-f', 'more.yaml', ...[...FILES].reverse(), '--target', 'standalone'], files);
  expect(reordered.status).toBe(0);
  expect(portsOf(reordered.stdout)).toEqual(portsOf(run.stdout));
});

describe('import', () => {
  test('prints a cdk8s program with FrontendVips and GatewayPair that synthesizes exactly the seed', async () => {
    // GIVEN the seed's files, WHEN imported
    const run = await cli(['import', '-f', ...FILES], SEEDS);
    expect(run.status).toBe(0);
    const program = run.stdout;

    // THEN the shapes fit the constructs, against the public API
    expect(program).toContain("from 'keepalived-constructs';");
    expect(program).toContain("new FrontendVips(chart, 'front', {");
    expect(program).toContain("new GatewayPair(chart, 'mygateway', {");
    expect(program).toContain('vrids: [1, 2, 3]');
    // ... and it synthesizes the seed, byte for byte as render prints it
    const synthesized = runCdk8sProgram(program);
    expect(docs(synthesized)).toStrictEqual(seedObjects());
    expect(synthesized).toBe((await cli(['render', '-f', ...FILES], SEEDS)).stdout);
  });

  test('prints a Pulumi program that creates exactly the seed under mocks', async () => {
    const run = await cli(['import', '-f', ...FILES, '--framework', 'pulumi'], SEEDS);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("from 'keepalived-constructs/pulumi';");
    expect(run.stdout).toContain("new FrontendVips('front', {");

    const registrations = await newProgram();
    const components = runPulumiProgram(run.stdout);
    const urns = await registered(components.flatMap((c) => c.resources));
    const byName = new Map(registrations.map((r) => [r.name, r]));
    const created = urns.map((urn) => byName.get(urn.slice(urn.lastIndexOf('::') + 2))!);
    expect(created.map((r) => r.type)).toEqual(['kubernetes:deckhouse.io/v1alpha1:KeepalivedInstance', 'kubernetes:deckhouse.io/v1alpha1:KeepalivedInstance']);
    expect(created.map((r) => plain(r.inputs))).toStrictEqual(seedObjects());
  });
});

test('both programs compile against the public API (strict)', async () => {
  const cdk8sProgram = (await cli(['import', '-f', ...FILES], SEEDS)).stdout;
  const pulumiProgram = (await cli(['import', '-f', ...FILES, '--framework', 'pulumi'], SEEDS)).stdout;
  expect(typeCheckPrograms({ 'seed.ts': cdk8sProgram, 'seed-pulumi.ts': pulumiProgram })).toEqual([]);
});

describe('validate', () => {
  test('a v1 List as `kubectl get -o yaml` prints it: the server\'s fields are dropped, errors name the item', async () => {
    const item = (text: string) => `${text.trimEnd()}\n`.replace(/^#.*\n/gm, '').replace(/^(?=.)/gm, '  ').replace(/^  apiVersion/m, '- apiVersion')
      .replace(/^  metadata:\n/m, '  metadata:\n    uid: 0b7c\n    resourceVersion: "42"\n    creationTimestamp: "2024-01-01T00:00:00Z"\n'
        + '    finalizers:\n    - example.com/cleanup\n    ownerReferences:\n    - { apiVersion: v1, kind: ConfigMap, name: owner, uid: 1d2e }\n'
        + '    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n        {"apiVersion":"deckhouse.io/v1alpha1"}\n');
    const list = `apiVersion: v1\nkind: List\nitems:\n${item(SEEDS['seed-front.yaml'])}${item(SEEDS['seed-mygateway.yaml'])}`;
    const run = await cli(['render', '-f', 'list.yaml'], { 'list.yaml': list });
    expect(run.stderr).toBe('');
    expect(docs(run.stdout)).toStrictEqual(seedObjects());
    const bad = await cli(['validate', '-f', 'list.yaml'], { 'list.yaml': list.replace('- id: 4', '- id: 3') });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^list\.yaml:\d+:\d+: items\[1\]\.spec\.vrrpInstances\[0\]\.id = 3: VRID 3 is already used by list\.yaml items\[0\] \(spec\.vrrpInstances\[2\]\.id\)/m);
  });

  test('metadata that YAML makes into something else than a map of strings is an error, never dropped: a "__proto__" key, !!set, !!omap', async () => {
    const withMetadata = (lines: string) => SEEDS['seed-front.yaml'].replace(/^  name: front$/m, `  name: front\n${lines}`);
    const cases: Array<[string, RegExp]> = [
      ['  labels:\n    __proto__: x', /^front\.yaml:8:5: metadata\.labels\.__proto__ = "__proto__": is not a valid key/m],
      ['  annotations: !!set\n    ? example.com/a', /^front\.yaml:8:5: metadata\.annotations is a set \(!!set\)\. Valid: a mapping/m],
      ['  labels: !!omap\n    - team: net', /^front\.yaml:8:5: metadata\.labels is an ordered map \(!!omap\)\. Valid: a mapping/m],
    ];
    for (const [lines, message] of cases) {
      const run = await cli(['render', '-f', 'front.yaml'], { 'front.yaml': withMetadata(lines) });
      expect({ lines, status: run.status, stdout: run.stdout }).toEqual({ lines, status: 1, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
  });

  test("an instance's labels and annotations are carried: onto the KeepalivedInstance, or onto every standalone object", async () => {
    // GIVEN the front instance with a GitOps tool's label and an annotation, beside kubectl's own
    const front = SEEDS['seed-front.yaml'].replace(/^  name: front$/m, [
      '  name: front',
      '  labels:',
      '    argocd.argoproj.io/instance: edge',
      '  annotations:',
      '    example.com/owner: "netops: on call"',
      "    kubectl.kubernetes.io/last-applied-configuration: '{}'",
    ].join('\n'));
    expect(front).not.toBe(SEEDS['seed-front.yaml']);
    // THEN render keeps the label and the annotation, and drops kubectl's
    const deckhouse = await cli(['render', '-f', 'front.yaml'], { 'front.yaml': front });
    expect(deckhouse.stderr).toBe('');
    expect(docs(deckhouse.stdout)[0].metadata).toStrictEqual({
      name: 'front', labels: { 'argocd.argoproj.io/instance': 'edge' }, annotations: { 'example.com/owner': 'netops: on call' },
    });
    // ... import writes them as the target's, and the program synthesizes the same instance
    const program = (await cli(['import', '-f', 'front.yaml'], { 'front.yaml': front })).stdout;
    expect(program).toContain("target: Target.deckhouse({\n    labels: { 'argocd.argoproj.io/instance': 'edge' },");
    expect(program).toMatch(/^import \{ FrontendVips, Target \} from 'keepalived-constructs';$/m);
    expect(runCdk8sProgram(program)).toBe(deckhouse.stdout);
    const pulumiProgram = (await cli(['import', '-f', 'front.yaml', '--framework', 'pulumi'], { 'front.yaml': front })).stdout;
    expect(typeCheckPrograms({ 'labels.ts': program, 'labels-pulumi.ts': pulumiProgram })).toEqual([]);
    // ... and on the standalone target every object of the instance carries them (the shared Namespace and agent do not)
    const standalone = await cli(['render', '-f', 'front.yaml', '--target', 'standalone', '--namespace', 'vrrp', '--node-order', 'a,b'], { 'front.yaml': front });
    expect(standalone.stderr).toBe('');
    const objects = docs(standalone.stdout).filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === 'front');
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'ServiceAccount']);
    for (const o of objects) {
      expect(o.metadata.labels['argocd.argoproj.io/instance']).toBe('edge');
      expect(o.metadata.annotations).toStrictEqual({ 'example.com/owner': 'netops: on call' });
    }
  });

  test("an instance's app.kubernetes.io labels (Helm's, kubectl's) give way to the package's own on the standalone target", async () => {
    const front = SEEDS['seed-front.yaml'].replace(/^  name: front$/m, ['  name: front', '  labels:', '    app.kubernetes.io/managed-by: Helm', '    team: net'].join('\n'));
    const standalone = await cli(['render', '-f', 'front.yaml', '--target', 'standalone', '--node-order', 'a,b'], { 'front.yaml': front });
    expect([standalone.status, standalone.stderr]).toEqual([0, '']);
    const daemonSet = docs(standalone.stdout).find((o) => o.kind === 'DaemonSet');
    expect(daemonSet.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'keepalived-constructs', team: 'net' });
  });

  test('YAML as kubectl reads it: 22:30 and 2001-12-14 are strings (no base-60 number, no timestamp); a null field is absent', async () => {
    const front = SEEDS['seed-front.yaml'].replace(/^  name: front$/m, '  name: front\n  annotations:\n    example.com/window: 22:30\n    example.com/since: 2001-12-14')
      .replace('- address: 42.43.44.102/32', '- address: 42.43.44.102/32\n      interface:');
    const run = await cli(['render', '-f', 'front.yaml'], { 'front.yaml': front });
    expect(run.stderr).toBe('');
    expect(docs(run.stdout)[0].metadata.annotations).toStrictEqual({ 'example.com/window': '22:30', 'example.com/since': '2001-12-14' });
    expect(docs(run.stdout)[0].spec).toStrictEqual(seedObjects()[0].spec);
    // ... so `id: 1:25` is no VRID 85 but a string, which the API server would reject
    const bad = await cli(['validate', '-f', 'front.yaml'], { 'front.yaml': SEEDS['seed-front.yaml'].replace('- id: 2', '- id: 1:25') });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^front\.yaml:\d+:\d+: spec\.vrrpInstances\[1\]\.id = "1:25": /m);
  });

  test('an empty List (kubectl get with nothing to get) is an error, and one file named twice is a usage error', async () => {
    const empty = await cli(['validate', '-f', 'none.yaml'], { 'none.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/^none\.yaml:3:8: items is empty: the List holds no KeepalivedInstance/m);
    const twice = await cli(['validate', '-f', 'dir', 'dir/seed-front.yaml'], { 'dir/seed-front.yaml': SEEDS['seed-front.yaml'] });
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/^error: dir\/seed-front\.yaml is named twice/m);
    const aliased = await cli(['validate', '-f', './seed-front.yaml', 'seed-front.yaml'], { ...SEEDS, './seed-front.yaml': SEEDS['seed-front.yaml'] });
    expect(aliased.status).toBe(2);
    expect(aliased.stderr).toMatch(/^error: seed-front\.yaml is named twice \(also as \.\/seed-front\.yaml\)/m);
  });

  test('a wrong key is pointed at where the key stands, and a byte-order mark is no column', async () => {
    const front = `\uFEFF${SEEDS['seed-front.yaml'].replace(/^# .*\n/gm, '')}`.replace(/^  name: front$/m, '  name: front\n  labels:\n    "bad key!": x');
    const run = await cli(['validate', '-f', 'front.yaml'], { 'front.yaml': front });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^front\.yaml:6:5: metadata\.labels\["bad key!"\] = "bad key!": is not a valid key/m);
    const version = await cli(['validate', '-f', 'front.yaml'], { 'front.yaml': front.replace('apiVersion: deckhouse.io/v1alpha1', 'apiVersion: deckhouse.io/v1') });
    expect(front.split('\n')[0]).toBe('\uFEFFapiVersion: deckhouse.io/v1alpha1');
    expect(version.stderr).toMatch(/^front\.yaml:1:13: apiVersion is the string "deckhouse\.io\/v1"/m);
    // ... and an alias without its anchor is pointed at
    const alias = await cli(['validate', '-f', 'front.yaml'], { 'front.yaml': SEEDS['seed-front.yaml'].replace('name: front', 'name: *front') });
    expect(alias.status).toBe(1);
    expect(alias.stderr).toMatch(/^front\.yaml:6:9: YAML error: Unresolved alias/m);
  });

  test('the seed is valid (exit 0)', async () => {
    const run = await cli(['validate', '-f', ...FILES], SEEDS);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('valid: 2 KeepalivedInstance documents in 2 files, VRIDs 1, 2, 3, 4\n');
  });

  test('a VRID used in two files, and one VIP in two groups: each error names the file, line, column and field', async () => {
    // GIVEN the gateway with front's VRID 3 and front's first address as its LAN address
    const gateway = SEEDS['seed-mygateway.yaml'].replace('- id: 4', '- id: 3').replace('address: 192.168.42.1/24', 'address: 42.43.44.101/32');
    const run = await cli(['validate', '-f', 'seed-front.yaml', 'gw.yaml'], { ...SEEDS, 'gw.yaml': gateway });
    expect(run.status).toBe(1);
    expect(run.stderr.split('\n')).toEqual([
      'gw.yaml:14:9: spec.vrrpInstances[0].id = 3: VRID 3 is already used by seed-front.yaml (spec.vrrpInstances[2].id); '
        + 'a VRID must be unique in the app, as the Deckhouse webhook requires cluster-wide. Valid: another VRID in 1..255.',
      'gw.yaml:19:16: spec.vrrpInstances[0].virtualIPAddresses[0].address = "42.43.44.101/32": address 42.43.44.101 is already held by '
        + 'seed-front.yaml (spec.vrrpInstances[0].virtualIPAddresses[0].address); two VRRP groups would both claim it. '
        + 'Valid: each virtual IP in exactly one group in the app.',
      '2 errors in 1 file',
      '',
    ]);
  });
});
