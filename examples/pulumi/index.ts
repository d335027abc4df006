// A Pulumi program: the seed's two KeepalivedInstances, and one cluster on the standalone target.
// Users import from the package's Pulumi entry point:
//   import { FrontendVips, GatewayPair, InterfaceSelector, Target } from 'keepalived-constructs/pulumi';
// Inside this repository the program imports the sources, so that tests run it as it is.
import { FailoverProfile, FrontendVips, GatewayPair, InterfaceSelector, Target, VrrpPolicyFlavor } from '../../src/pulumi';

// Three public IPs on three front nodes: each address is its own VRRP group, so each has its own master.
const front = new FrontendVips('front', {
  name: 'front',
  nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
  tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'frontend' }],
  addresses: ['42.43.44.101/32', '42.43.44.102/32', '42.43.44.103/32'],
  vrids: [1, 2, 3],
});

// A gateway whose LAN and WAN addresses move together; VRRP runs on the LAN.
const gateway = new GatewayPair('mygateway', {
  name: 'mygateway',
  nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
  tolerations: [{ key: 'node-role.deckhouse.io/mygateway', operator: 'Exists' }],
  vrid: 4, // 1, 2 and 3 are taken by `front`; the program fails if two groups share a VRID.
  lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
  wan: { address: '42.43.44.1/28', interface: InterfaceSelector.name('ens7') },
});

// Without Deckhouse: the package creates the namespace, the DaemonSet with its node agent, and the
// Calico and Cilium policies that let VRRP through. One master per node, failing over in about 0.35 s.
const edge = new FrontendVips('edge', {
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

/** The VRIDs in use on the segment, by cluster. */
export const vrids = { front: front.vrids, mygateway: gateway.vrids, edge: edge.vrids };

/** What the program creates in the cluster. */
export const objects = { front: front.objectNames, mygateway: gateway.objectNames, edge: edge.objectNames };
