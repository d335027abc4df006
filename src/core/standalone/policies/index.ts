/** The policies that let VRRP through, one file per flavour. */
import { ClusterObject, ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';
import { metricsPortOf } from '../../monitoring/metrics-options';
import { StandaloneNames } from '../names';
import { StandaloneOptions, VrrpPolicyFlavor } from '../options';
import { calicoPolicy, calicoTier } from './calico';
import { ciliumPolicy } from './cilium';
import { networkPolicy } from './network-policy';

export { calicoSelector } from './calico';

/** The id of the Calico Tier that holds the cluster's Calico policy. */
export const CALICO_TIER_ID = 'CalicoTier';

/** The cluster's policies, in the order of `options.policies` (Calico's after the tier that holds it). */
export function vrrpPolicies(def: ClusterDefinition, options: StandaloneOptions, n: StandaloneNames,
  meta: (name: string, clusterScoped?: boolean) => ManifestObject['metadata']): ClusterObject[] {
  return (options.policies ?? []).flatMap((flavor): ClusterObject[] => {
    switch (flavor) {
      case VrrpPolicyFlavor.CALICO: return [
        { id: CALICO_TIER_ID, object: calicoTier(meta(n.calicoTier, true)) },
        { id: 'CalicoPolicy', object: calicoPolicy(def, n.calicoTier, meta(n.calicoPolicy, true)), dependsOn: [CALICO_TIER_ID] },
      ];
      case VrrpPolicyFlavor.CILIUM: return [{ id: 'CiliumPolicy', object: ciliumPolicy(def, meta(n.clusterPolicy, true), metricsPortOf(options.metrics)) }];
      case VrrpPolicyFlavor.NETWORK_POLICY: return [{ id: 'NetworkPolicy', object: networkPolicy(n.name, options, meta(n.policy)) }];
    }
  });
}

/** Whether a cluster object (by its id) is one of the policies that let VRRP through, or the Calico policy's tier. */
export function isVrrpPolicyId(id: string): boolean {
  return id.endsWith('Policy') || id === CALICO_TIER_ID;
}
