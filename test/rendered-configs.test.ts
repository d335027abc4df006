// Every config the standalone examples and random valid standalone apps render, on each node, passes
// `keepalived -t` on every keepalived version the package is proven on (2.0.20, 2.2.7, 2.3.4).
//
// Reproduce a run: FC_SEED=<seed> npx jest test/rendered-configs.test.ts (FC_RUNS=<n> to change the runs).
import * as fs from 'fs';
import * as fc from 'fast-check';
import { StandaloneEdgeChart } from '../examples/standalone-edge';
import { AgentSpec } from '../src/core/agent-spec';
import { renderKeepalivedConf } from '../src/core/keepalived-conf';
import { buildApp, validApp } from './support/arbitraries';
import { fixtureNodeFor } from './support/fixture-view';
import { KeepalivedConfigCheck } from './support/keepalived-check';
import { newChart, synth, testApp } from './support/synth';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 0x100000000) | 0;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 25;

const keepalived = new KeepalivedConfigCheck('kc-rendered', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

/** The agent specs of the synthesized standalone clusters. */
function specsOf(objects: readonly any[]): AgentSpec[] {
  return objects.filter((o) => o.kind === 'ConfigMap' && o.data?.['spec.json'] !== undefined).map((o) => JSON.parse(o.data['spec.json']));
}

/**
 * Renders the spec on up to three fixture nodes (its node order's, or node-1..3; with unicast peers, no
 * more nodes than each group family has peers) and checks each config.
 */
function renderAndCheck(spec: AgentSpec): void {
  const families = [...new Set(spec.groups.map((g) => g.family))];
  const peers = spec.unicastPeers;
  const count = Math.min(3, ...(peers === undefined ? [] : families.map((f) => peers.filter((p) => p.includes(':') === (f === 6)).length)));
  const nodes = (spec.nodeOrder ?? ['node-1', 'node-2', 'node-3']).slice(0, count);
  nodes.forEach((nodeName, i) => {
    const { view, node } = fixtureNodeFor(spec, nodeName, i + 1);
    keepalived.ensureInterfaces(view.interfaces.map((f) => f.name));
    keepalived.expectAccepts(renderKeepalivedConf(spec, view, node));
  });
}

test('the standalone examples: every node\'s config', () => {
  const app = testApp();
  const specs = specsOf(synth(new StandaloneEdgeChart(app, 'standalone-edge')));
  expect(specs.length).toBeGreaterThanOrEqual(2);
  for (const spec of specs) renderAndCheck(spec);
});

test(`random valid standalone apps (${RUNS}): every node's config`, () => {
  // eslint-disable-next-line no-console
  console.log(`fc.assert with seed=${SEED} numRuns=${RUNS} (reproduce: FC_SEED=${SEED} FC_RUNS=${RUNS} npx jest test/rendered-configs.test.ts)`);
  fc.assert(fc.property(validApp({ targets: 'standalone', maxClusters: 2 }), (appSpec) => {
    const { app, chart } = newChart();
    try {
      buildApp(appSpec, app, chart);
      for (const spec of specsOf(synth(chart))) renderAndCheck(spec);
    } finally {
      fs.rmSync(app.outdir, { recursive: true, force: true });
    }
  }), { seed: SEED, numRuns: RUNS });
});

test('keepalived -t really ran on every version (unless skipped loudly)', () => {
  if (!keepalived.active) return;
  expect(keepalived.versions.map((v) => v.version)).toEqual(expect.arrayContaining(['2.2.7']));
  expect(keepalived.checked).toBeGreaterThan(RUNS);
});
