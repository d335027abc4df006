// Property: every random VALID app synthesizes, every object validates against its real schema
// (test/support/synth.ts), synthesis is deterministic, and the model round-trips: each VIP and each
// VRID of the input appears exactly once in the output, and explicit VRIDs are kept.
//
// Reproduce a run: FC_SEED=<seed> npx jest test/property-valid.test.ts (FC_RUNS=<n> to change the runs).
import * as fs from 'fs';
import * as fc from 'fast-check';
import {
  AppOptions, AppSpec, buildApp, ClusterSpec, effectiveName, groupsOf, namespaceOfSpec, validApp,
} from './support/arbitraries';
import { Construct } from 'constructs';
import { ClusterObject, clusterObjectHeads, clusterObjects, KeepalivedCluster } from '../src/internal';
import { domainOf } from '../src/constructs/domain';
import { keepalivedPrefixed } from '../src/core/standalone/names';
import { passwordLeaks } from './support/secrets';
import { newChart, synth } from './support/synth';

// Random apps put `preempt: false` on the Deckhouse target, which warns at synth (tested in validation.test.ts).
beforeAll(() => { jest.spyOn(console, 'warn').mockImplementation(() => undefined); });

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 0x100000000) | 0;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : undefined;

/**
 * The objects a cluster declares up front (their heads: ids, kinds, metadata, fields, built without
 * content) are the objects it builds at synth: a field missing from a head would be missing from the
 * output, since the adapters emit the heads' fields.
 */
function expectHeadsMatch(chart: Construct): void {
  for (const cluster of chart.node.findAll().filter((c): c is KeepalivedCluster => c instanceof KeepalivedCluster)) {
    const def = (cluster as any).definition;
    const shape = (objects: readonly ClusterObject[]) => objects.map(({ id, object, contentNamed }) => ({
      id, contentNamed, apiVersion: object.apiVersion, kind: object.kind, fields: Object.keys(object),
      metadata: contentNamed ? { ...object.metadata, name: undefined } : object.metadata,
    }));
    const built = shape(clusterObjects(def, domainOf(cluster)));
    expect(shape(clusterObjectHeads(def))).toEqual(built);
    // FrontendVips and GatewayPair add their groups after the heads: they depend on no group.
    expect(shape(clusterObjectHeads({ ...def, groups: [] }))).toEqual(built);
  }
}

/** Builds the app in a fresh App and Chart; returns the app's YAML, and the chart's objects when `validate`. */
function build(spec: AppSpec, validate: boolean): { yaml: string; objects?: any[] } {
  const { app, chart } = newChart();
  try {
    buildApp(spec, app, chart);
    if (validate) expectHeadsMatch(chart);
    const objects = validate ? synth(chart) : undefined;
    return { yaml: app.synthYaml(), objects };
  } finally {
    fs.rmSync(app.outdir, { recursive: true, force: true });
  }
}

interface OutGroup { vrid: number; addresses: string[]; advertInterval?: number }

/** The groups of one cluster as the output carries them. */
function outputGroups(c: ClusterSpec, objects: any[]): OutGroup[] {
  if (c.target.kind === 'deckhouse') {
    const found = objects.filter((o) => o.kind === 'KeepalivedInstance' && o.metadata.name === effectiveName(c));
    expect(found).toHaveLength(1);
    // Target.deckhouse({ labels, annotations }) reach the instance, and nothing else does.
    expect(found[0].metadata.labels).toStrictEqual(c.target.metadata?.labels);
    expect(found[0].metadata.annotations).toStrictEqual(c.target.metadata?.annotations);
    return found[0].spec.vrrpInstances.map((g: any) => ({ vrid: g.id, addresses: g.virtualIPAddresses.map((a: any) => a.address) }));
  }
  const found = objects
    .filter((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined && o.metadata.namespace === namespaceOfSpec(c))
    .map((o) => JSON.parse(o.data['spec.json']))
    .filter((s) => s.cluster === effectiveName(c));
  expect(found).toHaveLength(1);
  // Each group is its own vrrp_instance, named after the group: keepalived rejects a name used twice.
  const names: string[] = found[0].groups.map((g: any) => g.name);
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  return found[0].groups.map((g: any) => ({ vrid: g.vrid, addresses: g.addresses.map((a: any) => a.address), advertInterval: g.advertInterval }));
}

function checkRoundTrip(spec: AppSpec, objects: any[]): void {
  // No object twice: the API server would keep only the last one.
  const identities = objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  expect(identities.filter((id, i) => identities.indexOf(id) !== i)).toEqual([]);

  const deckhouse = spec.clusters.filter((c) => c.target.kind === 'deckhouse').length;
  expect(objects.filter((o) => o.kind === 'KeepalivedInstance')).toHaveLength(deckhouse);
  expect(objects.filter((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined)).toHaveLength(spec.clusters.length - deckhouse);
  // The agent ships once per namespace, in one ConfigMap of the namespace's own.
  const namespaces = new Set(spec.clusters.filter((c) => c.target.kind === 'standalone').map(namespaceOfSpec));
  expect(objects.filter((o) => o.kind === 'ConfigMap' && o.data['keepalived-agent.js'] !== undefined).map((o) => o.metadata.namespace).sort())
    .toEqual([...namespaces].sort());

  const inVips: string[] = [];
  const outVips: string[] = [];
  const outVrids: number[] = [];
  const explicit: number[] = [];
  for (const c of spec.clusters) {
    const groups = groupsOf(c);
    const out = outputGroups(c, objects);
    expect(out.map((g) => g.addresses)).toEqual(groups.map((g) => g.vips.map((v) => v.vip.canonical)));
    groups.forEach((g, i) => {
      if (g.id !== undefined) {
        expect(out[i].vrid).toBe(g.id);
        explicit.push(g.id);
      }
      if (g.advertInterval !== undefined) expect(out[i].advertInterval).toBe(g.advertInterval);
      inVips.push(...g.vips.map((v) => v.vip.canonical));
    });
    for (const g of out) {
      outVips.push(...g.addresses);
      outVrids.push(g.vrid);
    }
  }
  // Every VIP exactly once, app-wide.
  expect([...outVips].sort()).toEqual([...inVips].sort());
  // Every group has a VRID in 1..255, unique in the app, never a reserved one; explicit ones exactly once.
  for (const vrid of outVrids) expect(Number.isInteger(vrid) && vrid >= 1 && vrid <= 255).toBe(true);
  expect(outVrids.filter((v, i) => outVrids.indexOf(v) !== i)).toEqual([]);
  const reserved = new Set(spec.reserved.flat());
  expect(outVrids.filter((v) => reserved.has(v))).toEqual([]);
  for (const id of explicit) expect(outVrids.filter((v) => v === id)).toHaveLength(1);

  // A literal password is in its cluster's Secret and nowhere else.
  for (const c of spec.clusters) {
    const auth = c.target.kind === 'standalone' ? c.target.options.auth : undefined;
    if (auth?.kind !== 'literal') continue;
    const secret = { namespace: namespaceOfSpec(c)!, name: `${keepalivedPrefixed(effectiveName(c))}-auth` };
    expect(objects.filter((o) => o.kind === 'Secret' && o.metadata.name === secret.name && o.metadata.namespace === secret.namespace).map((o) => o.stringData))
      .toEqual([{ password: auth.password }]);
    // (A shorter one could equal a random label value or name by chance.)
    if (auth.password.length >= 6) expect(passwordLeaks(objects, auth.password, secret)).toEqual([]);
  }
}

/** What an app exercises, counted over a run and printed, so that a weak generator shows. */
function features(spec: AppSpec): string[] {
  const out: string[] = [];
  if (spec.reserved.length > 0) out.push('app:reservedVrids');
  for (const c of spec.clusters) {
    out.push(`${c.target.kind}/${c.shape}`);
    if (c.name !== undefined) out.push('name:explicit');
    if (Object.keys(c.nodeSelector).length > 0) out.push('nodeSelector');
    if ((c.tolerations ?? []).length > 0) out.push('tolerations');
    for (const g of groupsOf(c)) {
      out.push(`group:IPv${g.family}`, g.id === undefined ? 'vrid:auto' : 'vrid:explicit');
      if (g.advertInterval !== undefined) out.push('advertInterval');
    }
    if (c.target.kind === 'standalone') {
      const o = c.target.options;
      for (const [k, v] of Object.entries(o)) {
        if (k === 'auth') out.push(`auth:${(v as any).kind}`);
        else if (k === 'policies') out.push(...(v as string[]).map((p) => `policy:${p}`));
        else out.push(k);
      }
    }
  }
  return out;
}

function runProperty(label: string, options: AppOptions, numRuns: number, stats: Map<string, number>) {
  const runs = RUNS ?? numRuns;
  // eslint-disable-next-line no-console
  console.log(`${label}: fc.assert with seed=${SEED} numRuns=${runs} (reproduce: FC_SEED=${SEED} FC_RUNS=${runs} npx jest test/property-valid.test.ts -t '${label}')`);
  const started = Date.now();
  fc.assert(fc.property(validApp(options), (spec) => {
    const first = build(spec, true);
    checkRoundTrip(spec, first.objects!);
    // Determinism: the same props in a fresh App give the same bytes.
    const second = build(spec, false);
    expect(second.yaml).toBe(first.yaml);
    for (const key of features(spec)) stats.set(key, (stats.get(key) ?? 0) + 1);
  }), { seed: SEED, numRuns: runs });
  // eslint-disable-next-line no-console
  console.log(`${label}: ${runs} apps passed in ${((Date.now() - started) / 1000).toFixed(1)} s; features (clusters): ${JSON.stringify(Object.fromEntries([...stats].sort()))}`);
}

describe('random valid apps synthesize, validate against their schemas, deterministically, and round-trip', () => {
  test('Deckhouse target: 1,000 apps', () => {
    runProperty('deckhouse', { targets: 'deckhouse', maxClusters: 4 }, 1000, new Map());
  });

  test('standalone target (with some Deckhouse clusters mixed in): 1,000 apps', () => {
    runProperty('standalone', { targets: 'standalone', maxClusters: 3 }, 800, new Map());
    runProperty('mixed', { targets: 'mixed', maxClusters: 3 }, 200, new Map());
  });
});
