// Round trips of the CLI on random valid KeepalivedInstance documents (those cdk8s synthesizes for random
// valid Deckhouse apps of the property generators):
// - `render --target deckhouse` reproduces the input byte for byte;
// - `import` then cdk8s synth reproduces it byte for byte (the programs run in this process, with the
//   package name mapped to src/), and a sample of the programs type-checks; a sample of the Pulumi
//   programs creates exactly the input under mocks;
// - `render --target standalone` gives what the imported constructs give on the standalone target.
//
// Reproduce a run: FC_SEED=<seed> npx jest test/cli-roundtrip.test.ts
import * as fs from 'fs';
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import * as src from '../src';
import { DEFAULT_METRICS_PORT, freeHostPorts } from '../src/internal';
import { AppSpec, buildApp, validApp } from './support/arbitraries';
import { cli, runCdk8sProgram, runPulumiProgram, typeCheckPrograms } from './support/cli';
import { newProgram, plain, registered } from './support/pulumi';
import { newChart } from './support/synth';

// Random apps put `preempt: false` on the Deckhouse target, which warns at synth (tested in validation.test.ts).
beforeAll(() => { jest.spyOn(console, 'warn').mockImplementation(() => undefined); });

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 0x100000000) | 0;
const MIN_DOCUMENTS = 1000;

/** The app's YAML as `cdk8s synth` writes it: the input of the round trips. */
function synthYaml(spec: AppSpec): string {
  const { app, chart } = newChart();
  try {
    buildApp(spec, app, chart);
    return app.synthYaml();
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

interface Case {
  readonly spec: AppSpec;
  readonly yaml: string;
  /** The documents' texts, each as its own file (`split`), or all in one. */
  readonly files: Record<string, string>;
  readonly count: number;
}

/** Random valid apps until their documents number at least MIN_DOCUMENTS. */
function cases(): Case[] {
  const out: Case[] = [];
  let documents = 0;
  let seed = SEED;
  while (documents < MIN_DOCUMENTS) {
    for (const spec of fc.sample(validApp({ targets: 'deckhouse', maxClusters: 4, maxReservations: 0 }), { seed: seed++, numRuns: 50 })) {
      const yaml = synthYaml(spec);
      const texts = yaml.split(/^---\n/m);
      const split = out.length % 2 === 1;
      const files = split ? Object.fromEntries(texts.map((t, i) => [`doc${i}.yaml`, t])) : { 'app.yaml': yaml };
      out.push({ spec, yaml, files, count: texts.length });
      documents += texts.length;
    }
  }
  return out;
}

const ALL = cases();
const total = ALL.reduce((n, c) => n + c.count, 0);
const docs = (text: string) => YAML.parseAllDocuments(text).map((d) => d.toJSON());

test(`the cases hold ${total} documents (at least ${MIN_DOCUMENTS}) in ${ALL.length} apps, of every shape (seed ${SEED})`, async () => {
  expect(total).toBeGreaterThanOrEqual(MIN_DOCUMENTS);
  const shapes = new Set<string>();
  for (const c of ALL.slice(0, 200)) {
    const program = (await cli(['import', '-f', ...Object.keys(c.files)], c.files)).stdout;
    for (const m of program.matchAll(/new (\w+)\(chart/g)) shapes.add(m[1]);
  }
  expect([...shapes].sort()).toEqual(['FrontendVips', 'GatewayPair', 'KeepalivedCluster']);
  // Some instances carry labels and annotations of their own (Target.deckhouse({ labels, annotations })).
  const metadata = ALL.flatMap((c) => docs(c.yaml).map((d) => d.metadata));
  expect(metadata.filter((m) => m.labels !== undefined).length).toBeGreaterThan(20);
  expect(metadata.filter((m) => m.annotations !== undefined).length).toBeGreaterThan(20);
});

test(`render --target deckhouse reproduces every input byte for byte (seed ${SEED})`, async () => {
  for (const c of ALL) {
    const run = await cli(['render', '-f', ...Object.keys(c.files)], c.files);
    if (run.status !== 0 || run.stdout !== c.yaml) {
      throw new Error(`seed ${SEED}: render did not reproduce\n${c.yaml}\n--- status ${run.status}, stderr:\n${run.stderr}\n--- stdout:\n${run.stdout}`);
    }
  }
});

test(`import then cdk8s synth reproduces every input byte for byte (seed ${SEED})`, async () => {
  const sample: Record<string, string> = {};
  for (const [i, c] of ALL.entries()) {
    const run = await cli(['import', '-f', ...Object.keys(c.files)], c.files);
    expect(run.status).toBe(0);
    const output = runCdk8sProgram(run.stdout);
    if (output !== c.yaml) throw new Error(`seed ${SEED}: the imported program synthesized\n${output}\ninstead of\n${c.yaml}\nprogram:\n${run.stdout}`);
    if (i < 15) sample[`program${i}.ts`] = run.stdout;
  }
  // A sample compiles against the public API (one compilation: the programs are modules).
  for (const [i, c] of ALL.slice(0, 5).entries()) {
    sample[`pulumi${i}.ts`] = (await cli(['import', '-f', ...Object.keys(c.files), '--framework', 'pulumi'], c.files)).stdout;
  }
  expect(typeCheckPrograms(sample)).toEqual([]);
});

test(`import --framework pulumi creates exactly the input under mocks (seed ${SEED})`, async () => {
  for (const c of ALL.slice(0, 12)) {
    const run = await cli(['import', '-f', ...Object.keys(c.files), '--framework', 'pulumi'], c.files);
    expect(run.status).toBe(0);
    const registrations = await newProgram();
    const components = runPulumiProgram(run.stdout);
    const urns = await registered(components.flatMap((x) => x.resources));
    const byName = new Map(registrations.map((r) => [r.name, r]));
    const created = urns.map((urn) => plain(byName.get(urn.slice(urn.lastIndexOf('::') + 2))!.inputs));
    expect(created).toStrictEqual(docs(c.yaml));
  }
});

test(`render --target standalone gives what the imported constructs give on the standalone target (seed ${SEED})`, async () => {
  const nodeOrder = ['edge-a', 'edge-b', 'edge-c'];
  // The instances' own labels and annotations, by name: the CLI carries them to the standalone target.
  let metadataOf = new Map<string, { labels?: Record<string, string>; annotations?: Record<string, string> }>();
  // Instances on the same nodes get metrics ports of their own, in the order of their names (the CLI's rule, core's).
  let metricsOf = new Map<string, { metrics?: { port: number } }>();
  const target = (name: string) => src.Target.standalone({ namespace: 'vrrp', nodeOrder, ...metricsOf.get(name), ...metadataOf.get(name) });
  // The imported program's constructs, each with the standalone target in place of its own.
  const withTarget = <T extends new (...args: any[]) => any>(base: T) => class extends base {
    constructor(...args: any[]) {
      super(args[0], args[1], { ...args[2], target: target(args[2].name) });
    }
  };
  const standaloneModule = {
    ...src,
    FrontendVips: withTarget(src.FrontendVips),
    GatewayPair: withTarget(src.GatewayPair),
    KeepalivedCluster: withTarget(src.KeepalivedCluster),
  };
  for (const c of ALL.slice(0, 60)) {
    const files = Object.keys(c.files);
    const program = (await cli(['import', '-f', ...files], c.files)).stdout;
    metadataOf = new Map(docs(c.yaml).map((d) => [d.metadata.name, { labels: d.metadata.labels, annotations: d.metadata.annotations }]));
    const ports = freeHostPorts(docs(c.yaml).map((d) => ({ name: d.metadata.name, nodeSelector: d.spec.nodeSelector })), DEFAULT_METRICS_PORT);
    metricsOf = new Map(docs(c.yaml).map((d, i) => [d.metadata.name, ports[i] === DEFAULT_METRICS_PORT ? {} : { metrics: { port: ports[i] } }]));
    const run = await cli(['render', '-f', ...files, '--target', 'standalone', '--namespace', 'vrrp', '--node-order', nodeOrder.join(',')], c.files);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const expected = runCdk8sProgram(program, standaloneModule);
    expect(docs(run.stdout)).toStrictEqual(docs(expected));
    // The VRIDs are the module's: each ConfigMap's groups carry the instance's ids, in order.
    const vrids = docs(c.yaml).map((d) => d.spec.vrrpInstances.map((g: any) => g.id));
    const rendered = docs(run.stdout).filter((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined).map((o) => JSON.parse(o.data['spec.json']).groups.map((g: any) => g.vrid));
    expect(rendered).toEqual(vrids);
  }
});
