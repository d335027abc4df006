// The measured process: a `cdk8s synth`-equivalent app built with keepalived-constructs (compiled lib/).
//   node synth-library.js --target deckhouse|standalone --shape one|many --groups N --outdir DIR
// (KC_LIB=/path/to/index.js measures another build of lib/, to compare a change against the last one)
// shape one:  one FrontendVips with N addresses (N VRRP groups in one cluster, VRIDs allocated)
// shape many: N FrontendVips with one address each (N clusters of one group, VRIDs allocated app-wide)
'use strict';
const path = require('path');
const { parseArgs } = require('util');

const { values: a } = parseArgs({
  options: { target: { type: 'string' }, shape: { type: 'string' }, groups: { type: 'string' }, outdir: { type: 'string' } },
});
const marks = (globalThis.__benchMarks = {});
const t0 = performance.now();
const { App, Chart } = require('cdk8s');
const kc = require(process.env.KC_LIB || path.join(__dirname, '..', '..', 'lib', 'index.js'));
marks.requireMs = performance.now() - t0;

/** The i-th VIP: 198.51.100.1..254, then 203.0.113.1.. (TEST-NET only). */
function address(i) {
  return i < 254 ? `198.51.100.${i + 1}/32` : `203.0.113.${i - 253}/32`;
}

const n = Number(a.groups);
// Standalone clusters on the same nodes each need a metrics port of their own (hostNetwork): the i-th's is 9654 + i.
const target = a.target === 'standalone'
  ? (i) => kc.Target.standalone({ namespace: 'keepalived', nodeOrder: ['node-a', 'node-b', 'node-c'], ...(i > 0 ? { metrics: { port: 9654 + i } } : {}) })
  : () => kc.Target.deckhouse();
const common = {
  nodeSelector: { 'node-role.kubernetes.io/frontend': '' },
  tolerations: [{ key: 'node-role.kubernetes.io/frontend', operator: 'Exists' }],
};

const t1 = performance.now();
const app = new App({ outdir: a.outdir });
const chart = new Chart(app, 'keepalived');
if (a.shape === 'one') {
  new kc.FrontendVips(chart, 'front', { ...common, name: 'front', addresses: Array.from({ length: n }, (_, i) => address(i)), target: target(0) });
} else {
  for (let i = 0; i < n; i++) {
    new kc.FrontendVips(chart, `front-${i}`, { ...common, name: `front-${i}`, addresses: [address(i)], target: target(i) });
  }
}
const t2 = performance.now();
app.synth();
const t3 = performance.now();
marks.constructMs = t2 - t1;
marks.synthMs = t3 - t2;
