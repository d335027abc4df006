/** The policies that let VRRP through, one file per flavour. */
import { ClusterObject, ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';
import { metricsPortOf } from '../../monitoring/metrics-options';
import { StandaloneNames } from '../names';
import { StandaloneOptions, VrrpPolicyFlavor } from '../options';
import { calicoPolicy } from './calico';
import { ciliumPolicy } from './cilium';
import { networkPolicy } from './network-policy';

export { calicoSelector } from './calico';

/** The cluster's policies, in the order of `options.policies`. */
export function vrrpPolicies(def: ClusterDefinition, options: StandaloneOptions, n: StandaloneNames,
  meta: (name: string, clusterScoped?: boolean) => ManifestObject['metadata']): ClusterObject[] {
  return (options.policies ?? []).map((flavor) => {
    switch (flavor) {
      case VrrpPolicyFlavor.CALICO: return { id: 'CalicoPolicy', object: calicoPolicy(def, meta(n.clusterPolicy, true), metricsPortOf(options.metrics)) };
      case VrrpPolicyFlavor.CILIUM: return { id: 'CiliumPolicy', object: ciliumPolicy(def, meta(n.clusterPolicy, true), metricsPortOf(options.metrics)) };
      case VrrpPolicyFlavor.NETWORK_POLICY: return { id: 'NetworkPolicy', object: networkPolicy(n.name, options, meta(n.policy)) };
    }
  });
}
