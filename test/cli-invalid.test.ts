// Random INVALID KeepalivedInstance documents: a valid app's documents (from the property generators)
// with one field broken. validate exits 1, names the broken field with its file, line and column, and
// the line it names holds that field; render and import refuse the same input with the same errors.
//
// Reproduce a run: FC_SEED=<seed> npx jest test/cli-invalid.test.ts (FC_RUNS=<n> to change the runs).
import * as fs from 'fs';
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import { AppSpec, buildApp, deepCopy, validApp } from './support/arbitraries';
import { cli } from './support/cli';
import { newChart } from './support/synth';

// Random apps put `preempt: false` on the Deckhouse target, which warns at synth (tested in validation.test.ts).
beforeAll(() => { jest.spyOn(console, 'warn').mockImplementation(() => undefined); });

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 0x100000000) | 0;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 500;

function synthDocs(spec: AppSpec): any[] {
  const { app, chart } = newChart();
  try {
    buildApp(spec, app, chart);
    return YAML.parseAllDocuments(app.synthYaml()).map((d) => d.toJSON());
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** The broken field: its document, its path as the CLI names it, and whether it is missing now. */
interface Broken {
  readonly doc: number;
  readonly field: string;
  readonly missing?: boolean;
}

type Mutation = (docs: any[], pick: (n: number) => number) => Broken | undefined;

/** Every group of the app as [document, group], in the app's order. */
const groupsOf = (docs: any[]) => docs.flatMap((d, i) => d.spec.vrrpInstances.map((_: unknown, j: number) => [i, j] as const));
const vipsOf = (docs: any[]) => groupsOf(docs).flatMap(([i, j]) => docs[i].spec.vrrpInstances[j].virtualIPAddresses.map((_: unknown, k: number) => [i, j, k] as const));
const g = (j: number) => `spec.vrrpInstances[${j}]`;

const MUTATIONS: Record<string, Mutation> = {
  'VRID out of range or not an integer': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].id = [0, 256, 1.5, -3, 'seven'][pick(5)];
    return { doc: i, field: `${g(j)}.id` };
  },
  'VRID used twice in the app': (docs, pick) => {
    const all = groupsOf(docs);
    if (all.length < 2) return undefined;
    const later = 1 + pick(all.length - 1);
    const [ei, ej] = all[pick(later)];
    const [i, j] = all[later];
    docs[i].spec.vrrpInstances[j].id = docs[ei].spec.vrrpInstances[ej].id;
    return { doc: i, field: `${g(j)}.id` };
  },
  'not an IPv4 host address with a prefix': (docs, pick) => {
    const [i, j, k] = vipsOf(docs)[pick(vipsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].virtualIPAddresses[k].address = ['300.1.2.3/32', '192.0.2.77', '192.0.2.77/33', '2001:db8::7/64', 'x', '203.0.113.0/24', '127.0.0.9/32'][pick(7)];
    return { doc: i, field: `${g(j)}.virtualIPAddresses[${k}].address` };
  },
  'one virtual IP in two places': (docs, pick) => {
    const all = vipsOf(docs);
    if (all.length < 2) return undefined;
    const later = 1 + pick(all.length - 1);
    const [ei, ej, ek] = all[pick(later)];
    const [i, j, k] = all[later];
    docs[i].spec.vrrpInstances[j].virtualIPAddresses[k].address = docs[ei].spec.vrrpInstances[ej].virtualIPAddresses[ek].address;
    return { doc: i, field: `${g(j)}.virtualIPAddresses[${k}].address` };
  },
  'instance name not a short DNS label': (docs, pick) => {
    const i = pick(docs.length);
    docs[i].metadata.name = ['Upper', 'a_b', 'x'.repeat(42), '-lead', 'dot.ted'][pick(5)];
    return { doc: i, field: 'metadata.name' };
  },
  'instance name used twice': (docs, pick) => {
    if (docs.length < 2) return undefined;
    const i = 1 + pick(docs.length - 1);
    docs[i].metadata.name = docs[pick(i)].metadata.name;
    return { doc: i, field: 'metadata.name' };
  },
  'interface name Linux rejects': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].interface = { detectionStrategy: 'Name', name: ['waytoolongname01', 'a/b', 'eth 0', '..'][pick(4)] };
    return { doc: i, field: `${g(j)}.interface.name` };
  },
  'network with host bits': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].interface = { detectionStrategy: 'NetworkAddress', networkAddress: ['192.0.2.1/24', '198.51.100.7/16', 'net'][pick(3)] };
    return { doc: i, field: `${g(j)}.interface.networkAddress` };
  },
  'unknown detection strategy': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].interface = { detectionStrategy: ['Bogus', 'name', 'defaultroute'][pick(3)] };
    return { doc: i, field: `${g(j)}.interface.detectionStrategy` };
  },
  'unknown field': (docs, pick) => {
    const i = pick(docs.length);
    const [, j] = groupsOf(docs).filter(([d]) => d === i)[0];
    const where = pick(5);
    if (where === 0) { docs[i].colour = 'blue'; return { doc: i, field: 'colour' }; }
    if (where === 1) { docs[i].spec.colour = 'blue'; return { doc: i, field: 'spec.colour' }; }
    if (where === 2) { docs[i].metadata.namespace = 'default'; return { doc: i, field: 'metadata.namespace' }; }
    if (where === 3) { docs[i].spec.vrrpInstances[j].advertInterval = 1; return { doc: i, field: `${g(j)}.advertInterval` }; }
    docs[i].spec.vrrpInstances[j].virtualIPAddresses[0].label = 'x';
    return { doc: i, field: `${g(j)}.virtualIPAddresses[0].label` };
  },
  'node selector label Kubernetes rejects': (docs, pick) => {
    const i = pick(docs.length);
    if (pick(2) === 0) {
      docs[i].spec.nodeSelector['bad key!'] = '';
      return { doc: i, field: 'spec.nodeSelector["bad key!"]' };
    }
    docs[i].spec.nodeSelector.zone = ['bad value!', true, 'x'.repeat(64)][pick(3)];
    return { doc: i, field: 'spec.nodeSelector.zone' };
  },
  'instance label or annotation Kubernetes rejects': (docs, pick) => {
    const i = pick(docs.length);
    const which = pick(4);
    const labels = docs[i].metadata.labels ?? (docs[i].metadata.labels = {});
    const annotations = docs[i].metadata.annotations ?? (docs[i].metadata.annotations = {});
    if (which === 0) { labels['bad key!'] = 'x'; return { doc: i, field: 'metadata.labels["bad key!"]' }; }
    if (which === 1) { labels.team = ['bad value!', 7, 'x'.repeat(64)][pick(3)]; return { doc: i, field: 'metadata.labels.team' }; }
    if (which === 2) { annotations['-lead/x'] = 'y'; return { doc: i, field: 'metadata.annotations["-lead/x"]' }; }
    annotations.replicas = [3, true, 1.5][pick(3)];
    return { doc: i, field: 'metadata.annotations.replicas' };
  },
  'toleration Kubernetes rejects': (docs, pick) => {
    const i = pick(docs.length);
    const tolerations = docs[i].spec.tolerations ?? (docs[i].spec.tolerations = []);
    const t = [{ key: 'k', operator: 'Sometimes' }, { key: 'k', operator: 'Exists', value: 'v' }, { key: 'k', effect: 'NoWay' }][pick(3)];
    tolerations.push(t);
    const field = 'effect' in t ? 'effect' : 'value' in t ? 'value' : 'operator';
    return { doc: i, field: `spec.tolerations[${tolerations.length - 1}].${field}` };
  },
  'preempt not a boolean': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    docs[i].spec.vrrpInstances[j].preempt = ['maybe', 1, 'false'][pick(3)];
    return { doc: i, field: `${g(j)}.preempt` };
  },
  'required field missing': (docs, pick) => {
    const [i, j] = groupsOf(docs)[pick(groupsOf(docs).length)];
    const which = pick(4);
    if (which === 0) { delete docs[i].spec.vrrpInstances[j].interface; return { doc: i, field: `${g(j)}.interface`, missing: true }; }
    if (which === 1) { delete docs[i].spec.vrrpInstances[j].id; return { doc: i, field: `${g(j)}.id`, missing: true }; }
    if (which === 2) { docs[i].spec.vrrpInstances[j].virtualIPAddresses = []; return { doc: i, field: `${g(j)}.virtualIPAddresses` }; }
    delete docs[i].spec.nodeSelector;
    return { doc: i, field: 'spec.nodeSelector', missing: true };
  },
  'another kind or apiVersion': (docs, pick) => {
    const i = pick(docs.length);
    if (pick(2) === 0) { docs[i].kind = ['KeepalivedInstances', 'ConfigMap'][pick(2)]; return { doc: i, field: 'kind' }; }
    docs[i].apiVersion = ['deckhouse.io/v1', 'v1'][pick(2)];
    return { doc: i, field: 'apiVersion' };
  },
};

test(`every randomly broken document exits 1 and names the field, file, line and column (seed ${SEED}, ${RUNS} runs)`, async () => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(
      validApp({ targets: 'deckhouse', maxClusters: 3, maxReservations: 0 }),
      fc.constantFrom(...Object.keys(MUTATIONS)),
      fc.infiniteStream(fc.nat()),
      fc.boolean(),
      async (spec, name, randoms, split) => {
        const docs = deepCopy(synthDocs(spec));
        const stream = randoms[Symbol.iterator]();
        const broken = MUTATIONS[name](docs, (n) => stream.next().value % n);
        fc.pre(broken !== undefined);
        const texts = docs.map((d) => YAML.stringify(d, { version: '1.1' }));
        const files: Record<string, string> = split
          ? Object.fromEntries(texts.map((t, i) => [`doc${i}.yaml`, t]))
          : { 'app.yaml': texts.join('---\n') };
        const file = split ? `doc${broken!.doc}.yaml` : 'app.yaml';

        const run = await cli(['validate', '-f', ...Object.keys(files)], files);
        expect(run.status).toBe(1);
        expect(run.stdout).toBe('');
        // THEN one error names the file, a line and column, and the broken field
        const escaped = broken!.field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        const match = new RegExp(`^${file.replace('.', '\\.')}:(\\d+):(\\d+): ${escaped}[ =]`, 'm').exec(run.stderr);
        if (!match) throw new Error(`no error names ${file}: ${broken!.field} (${name}):\n${run.stderr}\n${files[file]}`);
        // ... on the line of that field (a missing field: on its parent's)
        if (!broken!.missing) {
          const line = files[file].split('\n')[Number(match[1]) - 1];
          const lastKey = /(?:\.|\["?)([^.[\]"]+)"?\]?$/.exec(broken!.field)?.[1] ?? broken!.field;
          if (!line.includes(lastKey)) throw new Error(`line ${match[1]} of ${file} ("${line}") is not where ${broken!.field} is:\n${files[file]}`);
        }
        // ... no stack trace, ever
        expect(run.stderr).not.toMatch(/^\s+at .+\(.*\)$/m);
        // ... and render and import refuse it the same way (import, which has no --target, names the program's)
        for (const command of ['render', 'import']) {
          const other = await cli([command, '-f', ...Object.keys(files)], files);
          expect(other.status).toBe(1);
          expect(other.stdout).toBe('');
          expect(other.stderr).toBe(command === 'import'
            ? run.stderr.replace(/--target standalone/g, 'target: Target.standalone() in the imported program') : run.stderr);
        }
        seen.set(name, (seen.get(name) ?? 0) + 1);
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  // Every kind of breakage was tried.
  expect([...seen.keys()].sort()).toEqual(Object.keys(MUTATIONS).sort());
});
