/**
 * `networking.k8s.io/v1` NetworkPolicy: the API cannot name protocol 112, so the closest rule is an
 * ingress rule from the nodes' networks with no ports.
 */
import { parseCidr } from '../../address';
import { ManifestObject } from '../../manifest';
import { selectorLabels } from '../names';
import { StandaloneOptions } from '../options';

export function networkPolicy(name: string, options: StandaloneOptions, metadata: ManifestObject['metadata']): ManifestObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {
      podSelector: { matchLabels: selectorLabels(name) },
      policyTypes: ['Ingress'],
      ingress: [{ from: (options.nodeNetworks ?? []).map((cidr) => ({ ipBlock: { cidr: parseCidr(cidr)!.text } })) }],
    },
  };
}
