// Module load: the time to require the given modules in this fresh process, printed as JSON.
//   node require-time.js [MODULE...]      e.g. `cdk8s constructs`, or `keepalived-constructs`
// `keepalived-constructs` resolves to lib/index.js through the package's own "exports" (self-reference).
'use strict';
const t0 = process.hrtime.bigint();
for (const m of process.argv.slice(2)) require(m);
const requireMs = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ requireMs, resolved: process.argv.slice(2).map((m) => require.resolve(m)) }));
