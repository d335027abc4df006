/**
 * Calico `projectcalico.org/v3`: a Tier of the cluster's own, holding one GlobalNetworkPolicy that
 * lets protocol 112 through between the selected nodes. Calico applies it to host traffic through
 * HostEndpoints.
 *
 * Why a tier of its own: once a policy of a tier applies to an endpoint, Calico drops what no rule of
 * that tier decides (end of tier). In the default tier, a policy that only allows VRRP would thus deny
 * all other traffic of nodes whose HostEndpoints otherwise allow everything (auto-created ones carry
 * the allow-all `projectcalico-default-allow` profile): kubelet, NodePorts, everything but Calico's
 * failsafe ports. A `Pass` rule there would skip the rest of the default tier, the user's own policies
 * with it. In a tier of its own whose default action is `Pass`, what the policy does not allow goes on
 * to the next tier that applies to the node, or to its profiles, exactly as without the policy.
 * Tiers and their `defaultAction` exist in Calico Open Source since 3.29; a policy of a tier is named
 * `<tier>.<name>` (required from 3.29.4 to 3.31, accepted by every release with tiers).
 */
import { ManifestObject } from '../../manifest';
import { ClusterDefinition } from '../../model';

/**
 * The order of the cluster's tier: before the default tier (1,000,000) and the Kubernetes admin
 * network policy tier (1,000, which applies to pods only). Lower is evaluated first.
 */
export const CALICO_TIER_ORDER = 100;

/** A Calico selector for the nodes (their HostEndpoints) that a nodeSelector selects. */
export function calicoSelector(nodeSelector: Record<string, string>): string {
  const terms = Object.entries(nodeSelector).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} == '${v}'`);
  return terms.length > 0 ? terms.join(' && ') : 'all()';
}

/** The cluster's tier: evaluated before the default tier, and passing on whatever its policy does not allow. */
export function calicoTier(metadata: ManifestObject['metadata']): ManifestObject {
  return { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata, spec: { order: CALICO_TIER_ORDER, defaultAction: 'Pass' } };
}

/**
 * The policy of the cluster's tier (`metadata.name` is `<tier>.<name>`): VRRP in and out, from any
 * source. A source selector would match only the addresses Calico expects of each HostEndpoint (its
 * node's addresses), not an IPv6 group's link-local source or a group's address on a secondary
 * interface; keepalived itself drops multicast adverts whose TTL is not 255 (sent from off the link)
 * and, with unicast, adverts from addresses that are not its peers. Everything else, the agent's
 * metrics port included, passes on to the next tier as if the policy were not there.
 */
export function calicoPolicy(def: ClusterDefinition, tier: string, metadata: ManifestObject['metadata']): ManifestObject {
  const selector = calicoSelector(def.nodeSelector);
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata,
    spec: {
      tier,
      selector,
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 112 }],
      egress: [{ action: 'Allow', protocol: 112 }],
    },
  };
}
