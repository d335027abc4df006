/**
 * Calico `projectcalico.org/v3` GlobalNetworkPolicy: protocol 112 between the selected nodes. Calico
 * applies it to host traffic through HostEndpoints.
 */
import { ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';

/** A Calico selector for the nodes (their HostEndpoints) that a nodeSelector selects. */
export function calicoSelector(nodeSelector: Record<string, string>): string {
  const terms = Object.entries(nodeSelector).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} == '${v}'`);
  return terms.length > 0 ? terms.join(' && ') : 'all()';
}

export function calicoPolicy(def: ClusterDefinition, metadata: ManifestObject['metadata'], metricsPort?: number): ManifestObject {
  const selector = calicoSelector(def.nodeSelector);
  // Scrapes of the agent's metrics port reach the nodes from anywhere in the cluster.
  const metrics = metricsPort === undefined ? [] : [{ action: 'Allow', protocol: 'TCP', destination: { ports: [metricsPort] } }];
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata,
    spec: {
      order: 100,
      selector,
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 112, source: { selector } }, ...metrics],
      egress: [{ action: 'Allow', protocol: 112 }],
    },
  };
}
