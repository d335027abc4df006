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
      ingress: [{ fromEntities: ['host', 'remote-node'], toPorts: vrrp }, ...metrics],
      egress: [{ toEntities: ['host', 'remote-node'], toPorts: vrrp }],
    },
  };
}
