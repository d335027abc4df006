/**
 * Cilium `cilium.io/v2` CiliumClusterwideNetworkPolicy with a `nodeSelector`: a host firewall policy
 * that allows protocol VRRP between the nodes.
 */
import { ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';

export function ciliumPolicy(def: ClusterDefinition, metadata: ManifestObject['metadata']): ManifestObject {
  const vrrp = [{ ports: [{ port: '0', protocol: 'VRRP' }] }];
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    metadata,
    spec: {
      nodeSelector: { matchLabels: { ...def.nodeSelector } },
      // An allow rule must not switch the hosts to default-deny for everything else.
      enableDefaultDeny: { ingress: false, egress: false },
      ingress: [{ fromEntities: ['host', 'remote-node'], toPorts: vrrp }],
      egress: [{ toEntities: ['host', 'remote-node'], toPorts: vrrp }],
    },
  };
}
