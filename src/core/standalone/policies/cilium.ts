/**
 * Cilium `cilium.io/v2` CiliumClusterwideNetworkPolicy with a `nodeSelector`: a host firewall policy
 * that allows protocol VRRP between the nodes.
 */
import { ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';

export function ciliumPolicy(def: ClusterDefinition, metadata: ManifestObject['metadata'], metricsPort?: number): ManifestObject {
  const vrrp = [{ ports: [{ port: '0', protocol: 'VRRP' }] }];
  // Scrapes of the agent's metrics port, from anywhere in the cluster.
  const metrics = metricsPort === undefined ? [] : [{ fromEntities: ['cluster'], toPorts: [{ ports: [{ port: String(metricsPort), protocol: 'TCP' }] }] }];
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    metadata,
    spec: {
      nodeSelector: { matchLabels: { ...def.nodeSelector } },
      // An allow rule must not switch the hosts to default-deny for everything else.
      enableDefaultDeny: { ingress: false, egress: false },
      // VRRP from and to any address: multicast adverts go to 224.0.0.18 or ff02::12, which Cilium
      // counts as `world`, and a group on a secondary interface speaks from addresses that are no
      // node's. keepalived drops multicast adverts whose TTL is not 255 and unicast ones from non-peers.
      ingress: [{ fromEntities: ['all'], toPorts: vrrp }, ...metrics],
      egress: [{ toEntities: ['all'], toPorts: vrrp }],
    },
  };
}
