// Synthesizes the cluster the failover bench runs, with our library (compiled lib/), and prints the
// object the nodes consume as JSON on stdout:
//   --profile default|classic : the standalone ConfigMap's spec.json (the agent renders each node from it)
//   --profile deckhouse    : the KeepalivedInstance's spec (the bench renders it in the module's form)
//   --advert S             : (standalone) VRRPv3 with the group's advertInterval S (bench/intervals.ts)
//   node failover-spec.js --profile P --vrid ID --vip CIDR --network CIDR --nodes n1,n2,n3
'use strict';
const path = require('path');
const { parseArgs } = require('util');
const { App, Chart } = require('cdk8s');
const kc = require(path.join(__dirname, '..', '..', 'lib', 'index.js'));

const { values: a } = parseArgs({
  options: {
    profile: { type: 'string' }, vrid: { type: 'string' }, vip: { type: 'string' },
    network: { type: 'string' }, nodes: { type: 'string' }, advert: { type: 'string' },
  },
});
const app = new App({ outdir: path.join(require('os').tmpdir(), 'keepalived-constructs-bench-unused') });
const chart = new Chart(app, 'bench');
const target = a.profile === 'deckhouse'
  ? kc.Target.deckhouse()
  : kc.Target.standalone({
    nodeOrder: a.nodes.split(','),
    ...(a.profile === 'classic' ? { profile: kc.FailoverProfile.CLASSIC } : {}),
    ...(a.advert !== undefined ? { vrrpVersion: 3 } : {}),
  });
const cluster = new kc.KeepalivedCluster(chart, 'bench', { name: 'bench', nodeSelector: { 'bench/vrrp': '' }, target });
cluster.addGroup({
  id: Number(a.vrid),
  name: 'vip',
  interface: kc.InterfaceSelector.networkAddress(a.network),
  addresses: [{ address: a.vip }],
  ...(a.advert !== undefined ? { advertInterval: Number(a.advert) } : {}),
});
const objects = chart.toJson();
if (a.profile === 'deckhouse') {
  process.stdout.write(JSON.stringify(objects.find((o) => o.kind === 'KeepalivedInstance').spec));
} else {
  process.stdout.write(objects.find((o) => o.kind === 'ConfigMap' && o.data?.['spec.json'] !== undefined).data['spec.json']);
}
