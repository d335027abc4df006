// A newcomer's cdk8s program, against the public API only, as in the README's quick start.
import { App, Chart } from 'cdk8s';
import { FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, Target, FailoverProfile } from 'keepalived-constructs';

const app = new App();
const chart = new Chart(app, 'keepalived');

new FrontendVips(chart, 'front', {
  name: 'front',
  nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
  tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
  addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'],
  vrids: [1, 2, 3],
});

new GatewayPair(chart, 'mygateway', {
  name: 'mygateway',
  nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
  tolerations: [{ key: 'node-role.deckhouse.io/mygateway', operator: 'Exists' }],
  vrid: 4,
  lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
  wan: { address: '42.43.44.1/28', interface: InterfaceSelector.name('ens7') },
});

const edge = new KeepalivedCluster(chart, 'edge', {
  nodeSelector: { 'node-role.kubernetes.io/edge': '' },
  target: Target.standalone({ namespace: 'keepalived', nodeOrder: ['edge-a', 'edge-b'], profile: FailoverProfile.FAST }),
});
edge.addGroup({ id: 10, interface: InterfaceSelector.name('bond0'), addresses: [{ address: '203.0.113.10/24' }], preempt: false });

app.synth();
