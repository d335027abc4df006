// What the README says about the output, checked against the output.
import * as fs from 'fs';
import * as path from 'path';
import { DeckhouseSeedChart } from '../examples/deckhouse-seed';
import { StandaloneEdgeChart } from '../examples/standalone-edge';
import * as agentBundle from '../src/core/agent-bundle';
import { FrontendVips, Target, VrrpAuth } from '../src';
import { newChart, synth, testApp } from './support/synth';

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

test('the README\'s Lease command selects the leases of the README\'s example cluster', () => {
  const [, namespace, cluster] = /kubectl get leases -n (\S+) -l keepalived-constructs\/cluster=(\S+)/.exec(README)!;
  const objects = synth(new StandaloneEdgeChart(testApp(), 'standalone-edge'));
  const specs = objects.filter((o) => o.data?.['spec.json']).map((o) => ({ ns: o.metadata.namespace, spec: JSON.parse(o.data['spec.json']) }));
  expect(specs.filter((s) => s.ns === namespace).map((s) => s.spec.cluster)).toContain(cluster);
  // The agent labels each Lease with the spec's cluster name.
  const leases = fs.readFileSync(path.join(__dirname, '..', 'src', 'agent', 'leases.ts'), 'utf8');
  expect(leases).toMatch(/'keepalived-constructs\/cluster': this\.options\.cluster/);
});

test('"the render container runs as nobody in every mode" holds, with and without discovery', () => {
  expect(README).toMatch(/The `render` init container runs as `nobody` with no capabilities in\s+every mode/);
  for (const discovery of [undefined, {}]) {
    const { chart } = newChart();
    new FrontendVips(chart, 'edge', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], target: Target.standalone({ discovery }) });
    const render = synth(chart).find((o) => o.kind === 'DaemonSet').spec.template.spec.initContainers[0];
    expect(render.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: ['ALL'] } });
  }
});

test('"VrrpAuth.literal lands in plain text, as stringData" holds', () => {
  expect(README).toMatch(/in plain text in the synthesized YAML\*\*, as the Secret's `stringData`/);
  const { chart } = newChart();
  new FrontendVips(chart, 'edge', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], target: Target.standalone({ auth: VrrpAuth.literal('pw') }) });
  expect(synth(chart).find((o) => o.kind === 'Secret')).toMatchObject({ stringData: { password: 'pw' } });
});

test('names do not stutter', () => {
  const objects = synth(new StandaloneEdgeChart(testApp(), 'standalone-edge'));
  for (const o of objects) expect(o.metadata.name).not.toMatch(/keepalived-keepalived/);
  const { chart } = newChart();
  new FrontendVips(chart, 'keepalived-gw', { nodeSelector: { a: '' }, addresses: ['203.0.113.1/32'], target: Target.standalone({ policies: ['calico' as any] }) });
  expect(synth(chart).map((o) => o.metadata.name).filter((n) => /keepalived-keepalived/.test(n))).toEqual([]);
});

test('a Deckhouse-only app never needs the bundled agent', () => {
  const read = jest.spyOn(agentBundle, 'agentBundleSource');
  synth(new DeckhouseSeedChart(testApp(), 'deckhouse-seed'));
  expect(read).not.toHaveBeenCalled();
  read.mockRestore();
});
