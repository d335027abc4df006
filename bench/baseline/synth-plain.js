// The baseline process: a bare cdk8s app that emits the same objects as synth-library.js, as plain
// ApiObjects from JSON precomputed once by our library. Its cost is cdk8s's own; the ratio of
// synth-library.js to this is the library's overhead.
//   node synth-plain.js --input FILE.json --outdir DIR      (FILE: { charts: [{ id, objects: [...] }] })
'use strict';
const fs = require('fs');
const { parseArgs } = require('util');

const { values: a } = parseArgs({ options: { input: { type: 'string' }, outdir: { type: 'string' } } });
const marks = (globalThis.__benchMarks = {});
const t0 = performance.now();
const { ApiObject, App, Chart } = require('cdk8s');
marks.requireMs = performance.now() - t0;

const t1 = performance.now();
const input = JSON.parse(fs.readFileSync(a.input, 'utf8'));
const app = new App({ outdir: a.outdir });
for (const c of input.charts) {
  const chart = new Chart(app, c.id);
  c.objects.forEach((manifest, i) => new ApiObject(chart, `o${i}`, manifest));
}
const t2 = performance.now();
app.synth();
const t3 = performance.now();
marks.constructMs = t2 - t1;
marks.synthMs = t3 - t2;
