// The same input gives byte-identical YAML, across processes and builds: two builds of the package
// (projenrc/bundle.js, what `npm pack` ships) into two directories, each synthesizing the examples and an
// app with every kind of derived name (shortened names carry a hash, content-named ConfigMaps, the
// agent's ConfigMap, a dashboard) in its own process, with its own working directory, time zone and
// locale. A name derived from anything but the input (a time, a process id, a path, a random number)
// differs between the two.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { bundle, ROOT } from './support/agent-bundle';

/** An app beside the examples: long names (shortened, with a hash), every policy flavour, monitoring, health checks, discovery, a literal password. */
const RICH_APP = `
const { App, Chart } = require('cdk8s');
const kc = require(process.env.KC_LIB);
const app = new App({ outdir: 'dist' });
const chart = new Chart(app, 'rich');
new kc.FrontendVips(chart, 'a-construct-id-that-is-long-enough-to-be-shortened-somewhere', {
  name: 'edge-with-a-long-name-for-the-calico-tier-xyz',
  nodeSelector: { 'node-role.kubernetes.io/edge': '' },
  addresses: ['203.0.113.10/32', '2001:db8::10/128'],
  healthChecks: [kc.HealthCheck.http({ port: 8080, path: '/healthz' }), kc.HealthCheck.tcp({ port: 443 })],
  target: kc.Target.standalone({
    namespace: 'a-namespace-with-a-long-name-too',
    discovery: {},
    policies: [kc.VrrpPolicyFlavor.CALICO, kc.VrrpPolicyFlavor.CILIUM, kc.VrrpPolicyFlavor.NETWORK_POLICY],
    nodeNetworks: ['192.0.2.0/24', '2001:db8:1::/64'],
    metrics: { podMonitor: true, prometheusRule: true, dashboard: true },
  }),
});
new kc.GatewayPair(chart, 'gw', {
  nodeSelector: { 'node-role.kubernetes.io/gateway': '' },
  lan: { address: '198.51.100.1/24' },
  wan: { address: '203.0.113.129/28' },
  target: kc.Target.standalone({ nodeOrder: ['gw-a', 'gw-b'], auth: kc.VrrpAuth.literal('pw4test') }),
});
app.synth();
`;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-determinism-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every file under `dir`, by its path relative to it. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath ?? (entry as any).path, entry.name);
      out.set(path.relative(dir, file), fs.readFileSync(file));
    }
  }
  return out;
}

const digests = (m: Map<string, Buffer>) => Object.fromEntries([...m].map(([f, b]) => [f, crypto.createHash('sha256').update(b).digest('hex')]));

test('two builds, two processes (other directory, time zone and locale): byte-identical bundles and YAML', async () => {
  const runs = [
    { name: 'one', env: { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' } },
    { name: 'two', env: { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' } },
  ];
  const outputs: Array<Map<string, Buffer>> = [];
  const builds: Array<Map<string, Buffer>> = [];
  for (const run of runs) {
    const lib = path.join(work, run.name, 'lib');
    // Each build in its own working directory, time zone and locale too.
    fs.mkdirSync(path.join(work, run.name, 'build'), { recursive: true });
    bundle(['lib', 'agent'], lib, { ...process.env, ...run.env }, path.join(work, run.name, 'build'));
    builds.push(new Map([...files(lib)].filter(([f]) => f.endsWith('.js'))));
    // The examples as cdk8s synth runs them, with the package's import pointed at this build.
    const app = path.join(work, run.name, 'app');
    fs.mkdirSync(app, { recursive: true });
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'examples', 'main.ts')], outfile: path.join(app, 'examples.js'), bundle: true, platform: 'node', format: 'cjs', logLevel: 'error',
      external: ['cdk8s', 'constructs'],
      plugins: [{ name: 'package', setup: (b) => b.onResolve({ filter: /^\.\.\/src$/ }, () => ({ path: path.join(lib, 'index.js'), external: true })) }],
    });
    fs.writeFileSync(path.join(app, 'rich.js'), RICH_APP);
    const env = { ...process.env, ...run.env, NODE_PATH: path.join(ROOT, 'node_modules'), KC_LIB: path.join(lib, 'index.js') };
    for (const program of ['examples.js', 'rich.js']) execFileSync(process.execPath, [program], { cwd: app, env, stdio: 'pipe' });
    outputs.push(files(path.join(app, 'dist')));
  }
  // The output is all there: the examples' two charts and the rich app, with the names that carry hashes.
  expect([...outputs[0].keys()].sort()).toEqual(['deckhouse-seed.k8s.yaml', 'rich.k8s.yaml', 'standalone-edge.k8s.yaml']);
  const rich = outputs[0].get('rich.k8s.yaml')!.toString();
  expect(rich).toMatch(/name: keepalived-agent-[0-9a-f]{10}\n/);
  expect(rich).toMatch(/kind: Tier\n/);
  expect(rich).toMatch(/kind: PrometheusRule\n/);
  expect(rich).toMatch(/grafana_dashboard/);
  // THEN both builds are the same bytes, and so is what they synthesized
  expect(digests(builds[1])).toEqual(digests(builds[0]));
  expect(digests(outputs[1])).toEqual(digests(outputs[0]));
}, 180_000);
