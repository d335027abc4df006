// The public surface: what users can import, pinned, so that nothing internal leaks out again.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as main from '../src';
import * as pulumi from '../src/pulumi';
import { bundle, ROOT } from './support/agent-bundle';

const SHARED = [
  'FailoverProfile', 'HealthAction', 'HealthActionKind', 'HealthCheck', 'HttpScheme', 'ImagePullPolicy', 'InterfaceSelector', 'KeepalivedConfigError', 'SidecarMode', 'Target', 'VrrpAuth',
  'VrrpPolicyFlavor', 'VrrpVersion',
];
const COMPONENTS = ['FrontendVips', 'GatewayPair', 'KeepalivedCluster', 'KeepalivedNamespace', 'ReservedVrids'];

test('keepalived-constructs exports the constructs, their enums and factories, and nothing internal', () => {
  expect(Object.keys(main).sort()).toEqual([...SHARED, ...COMPONENTS].sort());
});

test('keepalived-constructs/pulumi exports the components and the same enums and factories', () => {
  expect(Object.keys(pulumi).sort()).toEqual([...SHARED, ...COMPONENTS].sort());
});

test('the bundles the package ships export the same, both entry points share one core (one Target class), and core exports what they use', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-lib-'));
  try {
    bundle(['lib'], dir);
    const probe = `
      const main = require(${JSON.stringify(path.join(dir, 'index.js'))});
      const pulumi = require(${JSON.stringify(path.join(dir, 'pulumi', 'index.js'))});
      const core = require(${JSON.stringify(path.join(dir, 'core', 'index.js'))});
      const defined = (m) => Object.keys(m).filter((k) => m[k] !== undefined).sort();
      const t = main.Target.standalone();
      console.log(JSON.stringify({
        main: defined(main), pulumi: defined(pulumi), sameTarget: pulumi.Target === main.Target,
        instanceOf: t instanceof pulumi.Target, sameEnum: pulumi.FailoverProfile === main.FailoverProfile, core: defined(core),
      }));`;
    // The packages the bundles leave out (cdk8s, Pulumi) resolve from the project's node_modules.
    const out = JSON.parse(execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, encoding: 'utf8' }));
    // The shared core module exports exactly what the entry points use of it (src/core/index.ts): nothing
    // that every require would load for no one, and nothing they use is missing.
    const used = new Set(['index.js', 'pulumi/index.js', 'cli/main.js']
      .flatMap((file) => [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/\bimport_core\d*\.(\w+)/g)].map((m) => m[1])));
    expect(out).toEqual({
      main: Object.keys(main).sort(), pulumi: Object.keys(pulumi).sort(), sameTarget: true, instanceOf: true, sameEnum: true, core: [...used].sort(),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('FailoverProfile offers the default (VRRPv3 at 0.1 s, chosen by the interval study), FAST and the Deckhouse-compatible CLASSIC', () => {
  expect(Object.entries(main.FailoverProfile)).toEqual([['DEFAULT', 'default'], ['FAST', 'fast'], ['CLASSIC', 'classic']]);
  expect(pulumi.FailoverProfile).toBe(main.FailoverProfile);
});

test('package.json exposes only the two entry points (and the CLI)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  expect(Object.keys(pkg.exports)).toEqual(['.', './pulumi', './package.json']);
  expect(pkg.bin).toEqual({ 'keepalived-constructs': 'lib/cli/main.js' });
});

// jsii (which takes cdk8s libraries to Python, Go, Java and .NET) accepts no literal-union or tuple
// types and no function-typed fields in public props: the declarations of the public types say so.
test('public props are jsii-shaped: no literal unions, tuples or function-typed fields', () => {
  const files = ['core/model.ts', 'core/shapes.ts', 'core/standalone/options.ts', 'core/declaration.ts', 'core/health-check.ts', 'core/monitoring/metrics-options.ts'];
  // The public types: those src/public.ts re-exports.
  const exported = new Set(fs.readFileSync(path.join(__dirname, '..', 'src', 'public.ts'), 'utf8').match(/\b[A-Z]\w+\b/g));
  const publicInterfaces = /export interface (\w+) (?:extends [\w, ]+ )?\{([\s\S]*?)\n\}/g;
  const offenders: string[] = [];
  for (const file of files) {
    const source = fs.readFileSync(path.join(__dirname, '..', 'src', file), 'utf8');
    for (const [, name, body] of source.matchAll(publicInterfaces)) {
      if (!exported.has(name)) continue;
      for (const line of body.split('\n').filter((l) => /^\s+readonly \w+\??:/.test(l))) {
        if (/:\s*(['"\d][^;]*\|)|\[\s*\w+\s*,|=>/.test(line)) offenders.push(`${file} ${name}: ${line.trim()}`);
      }
    }
  }
  expect(offenders).toEqual([]);
});
