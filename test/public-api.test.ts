// The public surface: what users can import, pinned, so that nothing internal leaks out again.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import * as main from '../src';
import * as pulumi from '../src/pulumi';
import { bundle, ROOT } from './support/agent-bundle';

const SHARED = [
  'FailoverProfile', 'HealthAction', 'HealthActionKind', 'HealthCheck', 'HttpScheme', 'ImagePullPolicy', 'InterfaceSelector', 'KeepalivedConfigError', 'MetricsListenAddress', 'SidecarMode', 'Target',
  'UpdateStrategy', 'VrrpAuth',
  'VrrpPolicyFlavor', 'VrrpVersion',
];
const COMPONENTS = ['FrontendVips', 'GatewayPair', 'KeepalivedCluster', 'KeepalivedNamespace', 'ReservedVrids'];
/** The type-only exports: props and the plain-data types they use. */
const PROPS_TYPES = [
  'ContainerResources', 'DashboardOptions', 'DeckhouseOptions', 'DiscoveryOptions', 'FrontendVipsProps', 'GatewayAddress', 'GatewayPairProps', 'HealthCheckOptions',
  'HttpHealthCheckOptions', 'KeepalivedClusterBaseProps', 'KeepalivedClusterProps', 'KeepalivedNamespaceProps', 'KubeApiserverHealthCheckOptions',
  'MetricsOptions', 'PodMonitorOptions', 'PrometheusRuleOptions', 'ReservedVridsProps', 'StandaloneImages', 'StandaloneOptions', 'StandaloneResources',
  'TcpHealthCheckOptions', 'Toleration', 'ValidationIssue', 'VirtualIp', 'VrrpGroup',
];

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
  // TypeScript on moduleResolution node ignores exports: typesVersions maps the two entry points, and
  // every other path to nothing (a deep import would type-check, then fail at run time).
  expect(pkg.typesVersions).toEqual({
    '*': { 'pulumi': ['lib/pulumi/index.d.ts'], 'lib/index.d.ts': ['lib/index.d.ts'], 'package.json': ['package.json'], '*': [expect.stringMatching(/^no-deep-imports/)] },
  });
});

// jsii (which takes cdk8s libraries to Python, Go, Java and .NET) accepts no literal types, tuples,
// function types, anonymous object types, readonly arrays or type aliases on the public surface, and
// every public type must be exported. Every type reachable from both entry points (props, classes' public and
// protected members, parameters and results) is walked with the type checker; `_`-prefixed members
// are internal (`@internal`, stripped from the declarations), as jsii requires.
test('the public surface is jsii-shaped: every reachable type exported and named, no literals, tuples or functions', () => {
  const root = path.join(__dirname, '..');
  const entries = [path.join(root, 'src', 'index.ts'), path.join(root, 'src', 'pulumi', 'index.ts')];
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
  const program = ts.createProgram(entries, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const ours = (node: ts.Node) => !node.getSourceFile().fileName.includes('node_modules');
  const resolved = (symbol: ts.Symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
  const exported = new Set<ts.Symbol>();
  for (const entry of entries) {
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    // Both entry points export the same names, types included: the runtime ones and the props types.
    expect(exports.map((s) => s.name).sort()).toEqual([...SHARED, ...COMPONENTS, ...PROPS_TYPES].sort());
    for (const symbol of exports) exported.add(resolved(symbol));
  }
  const offenders: string[] = [];
  const queue = [...exported];
  const seen = new Set<ts.Symbol>();
  const where = (node: ts.Node) => `${path.relative(root, node.getSourceFile().fileName)}:${node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const checkType = (type: ts.TypeNode | undefined, owner: string) => {
    const visit = (n: ts.Node): void => {
      const offence = ts.isLiteralTypeNode(n) ? 'a literal type' : ts.isTupleTypeNode(n) ? 'a tuple' : ts.isFunctionTypeNode(n) ? 'a function type'
        : ts.isTypeOperatorNode(n) && n.operator === ts.SyntaxKind.ReadonlyKeyword ? 'a readonly array'
        : ts.isTypeLiteralNode(n) && !(n.members.length === 1 && ts.isIndexSignatureDeclaration(n.members[0])) ? 'an anonymous object type' : undefined;
      if (offence) offenders.push(`${where(n)} ${owner}: ${offence}`);
      if (ts.isTypeReferenceNode(n)) {
        const symbol = checker.getSymbolAtLocation(n.typeName);
        const target = symbol && resolved(symbol);
        const declaration = target?.declarations?.[0];
        if (target && declaration && ours(declaration) && !(target.flags & ts.SymbolFlags.TypeParameter)) {
          if (!exported.has(target)) offenders.push(`${where(n)} ${owner}: ${target.name} is not exported`);
          queue.push(target);
        }
      }
      ts.forEachChild(n, visit);
    };
    if (type) visit(type);
  };
  while (queue.length > 0) {
    const symbol = queue.shift()!;
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    for (const declaration of symbol.declarations ?? []) {
      if (!ours(declaration)) continue;
      if (ts.isTypeAliasDeclaration(declaration)) offenders.push(`${where(declaration)} ${symbol.name}: a type alias`);
      if (!ts.isInterfaceDeclaration(declaration) && !ts.isClassDeclaration(declaration)) continue;
      // The types a class or an interface extends are public too.
      for (const clause of declaration.heritageClauses ?? []) for (const base of clause.types) checkType(base, `${symbol.name} extends`);
      // A constructor's parameter properties are members, a private constructor's too.
      const parameterProperties = declaration.members.filter(ts.isConstructorDeclaration)
        .flatMap((c) => c.parameters.filter((p) => ts.getCombinedModifierFlags(p) & (ts.ModifierFlags.Public | ts.ModifierFlags.Protected | ts.ModifierFlags.Readonly)));
      for (const member of [...declaration.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>, ...parameterProperties]) {
        const name = member.name?.getText() ?? 'constructor';
        const modifiers = ts.getCombinedModifierFlags(member as ts.Declaration);
        // jsii: a member is `@internal` exactly when its name starts with `_`.
        const internal = ts.getJSDocTags(member).some((t) => t.tagName.text === 'internal');
        if (!(modifiers & ts.ModifierFlags.Private) && internal !== name.startsWith('_') && !name.startsWith('__pulumi')) {
          offenders.push(`${where(member)} ${symbol.name}.${name}: ${internal ? '@internal without a _ prefix' : 'a _ prefix without @internal'}`);
        }
        if (modifiers & ts.ModifierFlags.Private || name.startsWith('_') || name.startsWith('#')) continue;
        if (ts.isParameter(member)) {
          checkType(member.type, `${symbol.name}.${name}`);
          continue;
        }
        const owner = `${symbol.name}.${name}`;
        if (ts.isPropertySignature(member) || ts.isPropertyDeclaration(member)) {
          checkType(member.type, owner);
          if (member.questionToken && ts.isInterfaceDeclaration(declaration) && !ts.getJSDocTags(member).some((t) => t.tagName.text === 'default')) {
            offenders.push(`${where(member)} ${owner}: optional without @default`);
          }
        }
        if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member) || ts.isConstructorDeclaration(member) || ts.isGetAccessorDeclaration(member)) {
          if (ts.isConstructorDeclaration(member) && modifiers & ts.ModifierFlags.Private) continue;
          for (const parameter of member.parameters) checkType(parameter.type, `${owner}(${parameter.name.getText()})`);
          checkType(member.type, `${owner}()`);
        }
      }
    }
  }
  expect(offenders).toEqual([]);
  // It walked the props and the classes, not an empty set.
  expect([...seen].map((s) => s.name)).toEqual(expect.arrayContaining(['StandaloneOptions', 'VrrpGroup', 'MetricsOptions', 'HealthCheck', 'KeepalivedNamespace']));
});
