// The Pulumi example program (examples/pulumi) runs under mocks and reproduces the seed's two manifests
// exactly, and the standalone cluster exactly as the cdk8s example synthesizes it. Importing the program
// here also type-checks it: ts-jest compiles it with full diagnostics.
import * as fs from 'fs';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import * as YAML from 'yaml';
import { StandaloneEdgeChart } from '../examples/standalone-edge';
import { newProgram, plain, Registration, value } from './support/pulumi';
import { synth, testApp } from './support/synth';

const EXAMPLE = path.join(__dirname, '..', 'examples', 'pulumi');

let registrations: Registration[];
let program: typeof import('../examples/pulumi');

beforeAll(async () => {
  // GIVEN mocks in place before the program declares anything, WHEN the program runs to its end ...
  registrations = await newProgram();
  program = await import('../examples/pulumi');
  await pulumi.runtime.disconnect(); // as the Pulumi language host does: wait for every registration
}, 60_000);

const kubernetesObjects = () => registrations.filter((r) => r.custom && r.type.startsWith('kubernetes:')).map((r) => plain(r.inputs));

test('Pulumi.yaml: a Node.js program whose entry point is index.ts', () => {
  const project = YAML.parse(fs.readFileSync(path.join(EXAMPLE, 'Pulumi.yaml'), 'utf8'));
  expect(project).toMatchObject({ runtime: 'nodejs', main: 'index.ts' });
  expect(fs.existsSync(path.join(EXAMPLE, project.main))).toBe(true);
});

test.each([
  ['seed-front.yaml', 'front'],
  ['seed-mygateway.yaml', 'mygateway'],
])('%s: the KeepalivedInstance is the seed, field for field', (fixture, name) => {
  const expected = YAML.parse(fs.readFileSync(path.join(__dirname, 'fixtures', fixture), 'utf8'));
  const actual = kubernetesObjects().filter((o) => o.kind === 'KeepalivedInstance' && o.metadata.name === name);
  expect(actual).toHaveLength(1);
  // THEN the whole registered object (apiVersion, kind, metadata, spec) is the seed's, and nothing more
  expect(actual[0]).toStrictEqual(expected);
  expect(registrations.find((r) => r.name === `${name}-keepalivedinstance`)?.type).toBe('kubernetes:deckhouse.io/v1alpha1:KeepalivedInstance');
});

test('the standalone cluster: exactly the objects of the cdk8s example\'s `edge`', async () => {
  const cdk8sObjects = synth(new StandaloneEdgeChart(testApp(), 'standalone-edge'))
    .filter((o) => o.metadata.labels?.['app.kubernetes.io/instance'] === 'edge');
  const names = await value(program.objects.edge);
  const byName = new Map(kubernetesObjects().map((o) => [`${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`, o]));
  expect(names.map((n) => byName.get(n))).toEqual(plain(cdk8sObjects));
  expect(names.map((n) => n.split('/')[0])).toEqual([
    'ServiceAccount', 'ConfigMap', 'DaemonSet', 'Tier', 'GlobalNetworkPolicy', 'CiliumClusterwideNetworkPolicy',
  ]);
  // The namespace's shared objects, once, as cdk8s emits them.
  const shared = (objects: any[]) => objects.filter((o) => o.kind === 'Namespace' || o.data?.['keepalived-agent.js'] !== undefined);
  expect(shared(kubernetesObjects())).toEqual(plain(shared(synth(new StandaloneEdgeChart(testApp(), 'standalone-edge')))));
});

test('nothing else is created, and the stack outputs resolve', async () => {
  expect(kubernetesObjects()).toHaveLength(2 + 6 + 2); // seed, edge, the namespace's Namespace and agent ConfigMap
  expect(await value(pulumi.output(program.vrids))).toEqual({ front: [1, 2, 3], mygateway: [4], edge: [10, 11, 12] });
  expect(await value(pulumi.output(program.objects)))
    .toMatchObject({ front: ['KeepalivedInstance/front'], mygateway: ['KeepalivedInstance/mygateway'] });
});
