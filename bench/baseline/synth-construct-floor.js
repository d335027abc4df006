// The structural floor of a construct library over the same objects: what synth-plain.js does, plus
// what any cdk8s construct library pays whatever its own logic: `require` of the library (ours), one
// construct per cluster (objects grouped by their `app.kubernetes.io/instance` label; a namespace's
// shared objects together; an unlabelled object, a KeepalivedInstance, alone) with the objects as its
// children, and each object's content produced at synth time (a Lazy per top-level field), as
// cdk8s-plus does. The library's own logic (validation, VRID allocation, building the objects) is
// what ours costs on top of this.
//   node synth-construct-floor.js --input FILE.json --outdir DIR      (FILE as for synth-plain.js)
'use strict';
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');

const { values: a } = parseArgs({ options: { input: { type: 'string' }, outdir: { type: 'string' } } });
const marks = (globalThis.__benchMarks = {});
const t0 = performance.now();
const { ApiObject, App, Chart, Lazy } = require('cdk8s');
const { Construct } = require('constructs');
require(path.join(__dirname, '..', '..', 'lib', 'index.js'));
marks.requireMs = performance.now() - t0;

const t1 = performance.now();
const input = JSON.parse(fs.readFileSync(a.input, 'utf8'));
const app = new App({ outdir: a.outdir });
for (const c of input.charts) {
  const chart = new Chart(app, c.id);
  const owners = new Map();
  c.objects.forEach(({ apiVersion, kind, metadata, ...content }, i) => {
    const labels = metadata.labels ?? {};
    const key = labels['app.kubernetes.io/instance'] ?? (labels['app.kubernetes.io/managed-by'] !== undefined ? 'namespace' : `${kind}/${metadata.name}`);
    if (!owners.has(key)) owners.set(key, new Construct(chart, `c${owners.size}`));
    const fields = Object.fromEntries(Object.keys(content).map((k) => [k, Lazy.any({ produce: () => content[k] })]));
    new ApiObject(owners.get(key), `o${i}`, { apiVersion, kind, metadata, ...fields });
  });
}
const t2 = performance.now();
app.synth();
const t3 = performance.now();
marks.constructMs = t2 - t1;
marks.synthMs = t3 - t2;
