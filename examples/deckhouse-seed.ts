// The two manifests of the Deckhouse keepalived documentation, as typed code.
import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { FrontendVips, GatewayPair, InterfaceSelector } from '../src';

export class DeckhouseSeedChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    // Three public IPs on three front nodes: each address is its own VRRP group, so each has its own master.
    new FrontendVips(this, 'front', {
      name: 'front',
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
      addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'],
      vrids: [1, 2, 3],
    });

    // A gateway whose LAN and WAN addresses move together; VRRP runs on the LAN.
    new GatewayPair(this, 'mygateway', {
      name: 'mygateway',
      nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
      tolerations: [{ key: 'node-role.deckhouse.io/mygateway', operator: 'Exists' }],
      vrid: 4, // 1, 2 and 3 are taken by `front`; the synth fails if two groups share a VRID.
      lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
      wan: { address: '42.43.44.1/28', interface: InterfaceSelector.name('ens7') },
    });
  }
}
