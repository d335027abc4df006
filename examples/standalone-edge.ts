// keepalived on a cluster without Deckhouse: the package emits the DaemonSet, its node agent and policies.
import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { FailoverProfile, FrontendVips, GatewayPair, InterfaceSelector, Target, VrrpAuth, VrrpPolicyFlavor } from '../src';

export class StandaloneEdgeChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    // Three public addresses on three edge nodes, one master per node, failing over in about 0.35 s.
    new FrontendVips(this, 'edge', {
      name: 'edge',
      nodeSelector: { 'node-role.kubernetes.io/edge': '' },
      tolerations: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists', effect: 'NoSchedule' }],
      addresses: ['203.0.113.10/32', '203.0.113.11/32', '203.0.113.12/32'],
      vrids: [10, 11, 12],
      target: Target.standalone({
        namespace: 'keepalived',
        nodeOrder: ['edge-a', 'edge-b', 'edge-c'],
        profile: FailoverProfile.FAST,
        policies: [VrrpPolicyFlavor.CALICO, VrrpPolicyFlavor.CILIUM],
      }),
    });

    // A dual-homed gateway: LAN and WAN move together, edge-a holds them while it is healthy.
    new GatewayPair(this, 'gateway', {
      name: 'gateway',
      nodeSelector: { 'node-role.kubernetes.io/gateway': '' },
      vrid: 20,
      preferredNode: 'gw-a',
      lan: { address: '198.51.100.1/24', interface: InterfaceSelector.networkAddress('198.51.100.0/24') },
      wan: { address: '203.0.113.129/28', interface: InterfaceSelector.name('ens7') },
      target: Target.standalone({
        namespace: 'keepalived',
        auth: VrrpAuth.fromSecret('keepalived-vrrp', 'password'),
        policies: [VrrpPolicyFlavor.NETWORK_POLICY],
        nodeNetworks: ['198.51.100.0/24'],
      }),
    });
  }
}
