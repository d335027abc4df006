import { javascript, typescript } from 'projen';

const project = new typescript.TypeScriptProject({
  name: 'keepalived-constructs',
  description:
    'Typed, validated keepalived / VRRP virtual IPs on Kubernetes: cdk8s constructs and Pulumi components for the Deckhouse KeepalivedInstance CRD and a standalone DaemonSet target.',
  keywords: ['cdk8s', 'pulumi', 'keepalived', 'vrrp', 'kubernetes', 'deckhouse', 'high-availability', 'virtual-ip'],
  license: 'Apache-2.0',
  copyrightOwner: 'keepalived-constructs authors',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',
  repository: 'https://github.com/keepalived-constructs/keepalived-constructs.git',
  homepage: 'https://github.com/keepalived-constructs/keepalived-constructs#readme',

  // No release machinery and no GitHub workflows: CI is .ci/run.
  release: false,
  github: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  eslint: false,
  // cdk8s synth of the examples owns dist/, so the npm tarball goes elsewhere.
  artifactsDirectory: 'pkg',

  typescriptVersion: '~5.9.3',
  jestOptions: {
    jestVersion: '^29',
    // The test task must never rewrite snapshots; `npm run test:update` does it on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    junitReporting: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      collectCoverage: false,
      testTimeout: 60_000,
    },
  },
  tsconfig: {
    compilerOptions: {
      lib: ['es2022'],
      target: 'ES2022',
      esModuleInterop: true,
      skipLibCheck: true,
      // tsc checks and writes the declarations; the JavaScript is bundled (projenrc/bundle.js).
      emitDeclarationOnly: true,
      inlineSourceMap: false,
      inlineSources: false,
    },
  },
  tsconfigDev: {
    compilerOptions: {
      lib: ['es2022'],
      target: 'ES2022',
      esModuleInterop: true,
      skipLibCheck: true,
    },
    include: ['../examples/**/*.ts'],
    // The newcomer install test's programs import the published package, which only resolves in its fresh app.
    exclude: ['node_modules', 'install'],
  },

  // The CLI (src/cli) parses and prints YAML with positions; it needs nothing else at run time.
  deps: ['yaml@^2.8.0'],
  peerDeps: [
    'cdk8s@^2.70.0',
    'constructs@^10.3.0',
    '@pulumi/pulumi@^3.142.0',
    '@pulumi/kubernetes@^4.18.0',
  ],
  peerDependencyOptions: { pinnedDevDependency: false },
  devDeps: [
    'cdk8s@2.70.106',
    'constructs@10.8.1',
    'cdk8s-cli@2.207.60',
    // @pulumi/pulumi 3.249+ requires Node 22; 3.248 is the newest that runs on Node 20.
    '@pulumi/pulumi@3.248.0',
    '@pulumi/kubernetes@4.34.2',
    '@types/node@^20',
    'ajv@^8.17.1',
    'esbuild@^0.25.0',
    // ts-jest requires jest-util, which npm does not always hoist.
    'jest-util@^29',
    'kubernetes-models@~4.5.1',
    'fast-check@^4.3.0',
    // The agent's Prometheus exposition (bundled into the agent file, so a devDependency).
    'prom-client@^15.1.3',
  ],
});

// Every framework is optional: a cdk8s-only user installs nothing from Pulumi, a Pulumi-only user
// nothing from cdk8s (npm installs required peers on its own).
project.package.addField('peerDependenciesMeta', {
  'cdk8s': { optional: true },
  'constructs': { optional: true },
  '@pulumi/pulumi': { optional: true },
  '@pulumi/kubernetes': { optional: true },
});
project.package.addField('version', '0.2.0');
project.package.addField('bugs', { url: 'https://github.com/keepalived-constructs/keepalived-constructs/issues' });
// `npx keepalived-constructs validate|render|import`: runs from the compiled lib/, on core alone.
project.addBins({ 'keepalived-constructs': 'lib/cli/main.js' });
project.package.addField('engines', { node: '>=20' });
project.package.addField('exports', {
  '.': { types: './lib/index.d.ts', default: './lib/index.js' },
  './pulumi': { types: './lib/pulumi/index.d.ts', default: './lib/pulumi/index.js' },
  './package.json': './package.json',
});
// For TypeScript consumers on `moduleResolution: node` (cdk8s init's tsconfig), which ignores `exports`:
// the two entry points, and no deep import (`keepalived-constructs/lib/core` type-checked there, then
// failed at run time, since `exports` has no such path).
project.package.addField('typesVersions', {
  '*': {
    'pulumi': ['lib/pulumi/index.d.ts'], 'lib/index.d.ts': ['lib/index.d.ts'], 'package.json': ['package.json'],
    '*': ['no-deep-imports: use keepalived-constructs or keepalived-constructs/pulumi'],
  },
});

// The node agent is bundled into one dependency-free file that the standalone ConfigMap carries.
const bundleAgent = project.addTask('bundle:agent', {
  description: 'Bundle src/agent into lib/agent/keepalived-agent.js (one dependency-free file)',
  exec: 'node projenrc/bundle.js agent',
});
// The package's JavaScript: one core module that the entry points share, and one module per entry point.
const bundleLib = project.addTask('bundle:lib', {
  description: 'Bundle lib/core/index.js and the entry points (lib/index.js, lib/pulumi/index.js, lib/cli/main.js)',
  exec: 'node projenrc/bundle.js lib',
});
project.postCompileTask.spawn(bundleLib);
project.postCompileTask.spawn(bundleAgent);
// Tests run the exact bundled file, so the test task builds it first. The suites that run keepalived
// in network namespaces measure failover times: they run after the others, one file at a time, so that
// they never share the two cores with the rest. --forceExit: a keepalived left over by a failed test
// must fail that test, not hang the run.
project.testTask.reset();
project.testTask.spawn(bundleAgent);
project.testTask.exec('jest --passWithNoTests --ci --forceExit --testPathIgnorePatterns /node_modules/ /test/netns-', { receiveArgs: true });
project.testTask.exec('jest --passWithNoTests --ci --forceExit --runInBand --testPathPattern /test/netns- --testPathIgnorePatterns /node_modules/');
// The pod test alone (root), also part of the test task above.
project.addTask('test:podman', {
  description: 'The synthesized pod under podman kube play (root; see test/netns-podman.test.ts)',
  exec: 'jest --ci --forceExit --runInBand test/netns-podman.test.ts',
});

project.addTask('import', {
  description: 'Regenerate src/imports from the Deckhouse KeepalivedInstance schema in schemas/',
  exec: 'cdk8s import schemas/deckhouse-keepalivedinstance-schema.yaml --language typescript --output src/imports',
});

project.addTask('test:install', {
  description: 'Newcomer install test: npm pack, install into a fresh cdk8s app from the registry, type-check and synth',
  exec: 'bash test/install/newcomer.sh',
});

project.addTask('bench', {
  description: 'Benchmarks, each a ratio to a baseline measured in the same run; writes bench/RESULTS.md',
  exec: 'ts-node --project test/tsconfig.json bench/run.ts',
  receiveArgs: true,
});

// The main job. The standalone example needs the bundled agent, so synth builds it first: a fresh
// clone runs `npm ci && npm run synth` and nothing else.
const synth = project.addTask('synth', {
  description: 'cdk8s synth of the examples into dist/',
});
synth.spawn(bundleAgent);
synth.exec('cdk8s synth --check-upgrade false');

// `npm pack` (and so a git dependency) builds what the tarball ships.
project.addTask('prepack', {
  description: 'Build lib/ and the bundled agent before packing',
  exec: 'tsc --build && node projenrc/bundle.js lib agent',
});

project.gitignore.exclude('/dist/', '/pkg/', '/bench/tmp/');
project.npmignore?.exclude('/examples/', '/schemas/', '/bench/', '/.ci/', 'cdk8s.yaml', '/dist/');

project.synth();
