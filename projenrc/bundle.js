// The build's bundles (esbuild), run by the `bundle:lib` and `bundle:agent` tasks:
//   node projenrc/bundle.js lib [--outdir DIR]     the package's JavaScript (tsc emits only declarations)
//   node projenrc/bundle.js agent [--outdir DIR]   the node agent, one dependency-free file
// lib: core is one module, lib/core/index.js, that every entry point requires, so that the cdk8s and
// the Pulumi entry points share its classes (a Target made with one is a Target to the other); each
// entry point is one more module. Packages (cdk8s, constructs, Pulumi, yaml) stay external. One file
// a layer instead of one a source file: `require('keepalived-constructs')` loads 2 modules, not 65.
// Core is built from src/core/index.ts, which exports what the adapters use: the rest of core (the
// agent's, the tests') is not in the module that every require loads.
'use strict';
const esbuild = require('esbuild');
const path = require('path');
const { parseArgs } = require('util');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const CORE = path.join(SRC, 'core');

/** The entry points that users' code reaches, besides core itself: source, output (relative to lib/). */
const ENTRY_POINTS = [
  ['index.ts', 'index.js'],
  ['pulumi/index.ts', 'pulumi/index.js'],
  ['cli/main.ts', 'cli/main.js'],
];

const COMMON = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' };

/**
 * Outside core, an import of core becomes a require of the core module. Only core's index may be
 * imported there: the names an adapter uses are then names that the core module exports (the type
 * checker sees to it), never undefined at run time.
 */
function sharedCore(outfile, coreOutfile) {
  const inCore = (file) => file === CORE || file.startsWith(CORE + path.sep);
  return {
    name: 'shared-core',
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        if (inCore(args.importer)) return undefined;
        const target = path.resolve(args.resolveDir, args.path);
        if (!inCore(target)) return undefined;
        if (target !== CORE && target !== path.join(CORE, 'index')) {
          return { errors: [{ text: `import core through its index ('${path.relative(path.dirname(args.importer), CORE)}'), not '${args.path}': the bundles share one core module` }] };
        }
        let request = path.relative(path.dirname(outfile), coreOutfile).split(path.sep).join('/');
        if (!request.startsWith('.')) request = `./${request}`;
        return { path: request, external: true };
      });
    },
  };
}

async function bundleLib(outdir) {
  const coreOutfile = path.join(outdir, 'core', 'index.js');
  await esbuild.build({ ...COMMON, entryPoints: [path.join(CORE, 'index.ts')], outfile: coreOutfile, packages: 'external', sourcemap: 'linked' });
  for (const [source, output] of ENTRY_POINTS) {
    const outfile = path.join(outdir, output);
    await esbuild.build({
      ...COMMON, entryPoints: [path.join(SRC, source)], outfile, packages: 'external', sourcemap: 'linked', plugins: [sharedCore(outfile, coreOutfile)],
    });
  }
}

async function bundleAgent(outdir) {
  await esbuild.build({
    ...COMMON, entryPoints: [path.join(SRC, 'agent', 'main.ts')], outfile: path.join(outdir, 'agent', 'keepalived-agent.js'),
    minify: true, keepNames: true, legalComments: 'none',
  });
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { outdir: { type: 'string', default: path.join(ROOT, 'lib') } } });
const what = { lib: bundleLib, agent: bundleAgent };
if (positionals.length === 0 || positionals.some((p) => !(p in what))) {
  console.error('usage: node projenrc/bundle.js lib|agent... [--outdir DIR]');
  process.exit(2);
}
(async () => {
  for (const p of positionals) await what[p](path.resolve(values.outdir));
})().catch(() => process.exit(1));
