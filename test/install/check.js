// Checks what `cdk8s synth` wrote in the newcomer's app: the seed objects and the standalone cluster.
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const dir = process.argv[2];
const objects = fs.readdirSync(dir).flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON()));
const fail = (m) => { console.error(`install check: ${m}`); process.exit(1); };
const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
for (const want of ['KeepalivedInstance/front', 'KeepalivedInstance/mygateway', 'DaemonSet/keepalived-edge', 'Namespace/keepalived']) {
  if (!kinds.includes(want)) fail(`missing ${want}; got ${kinds.join(', ')}`);
}
const front = objects.find((o) => o.metadata.name === 'front');
if (JSON.stringify(front.spec.vrrpInstances.map((g) => g.id)) !== '[1,2,3]') fail('front VRIDs are not 1, 2, 3');
const agent = objects.find((o) => o.kind === 'ConfigMap' && o.data['keepalived-agent.js'] !== undefined);
if (!agent || agent.data['keepalived-agent.js'].length < 1000) fail('no agent ConfigMap with the bundled agent');
const cm = objects.find((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined);
const spec = JSON.parse(cm.data['spec.json']);
if (spec.groups[0].vrid !== 10 || spec.groups[0].preempt !== false) fail('spec.json does not carry the group');
console.log(`install check: ${objects.length} objects OK (${kinds.join(', ')})`);
