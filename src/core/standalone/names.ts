/** The names and labels of a standalone cluster's objects. */
import { ClusterDefinition, VrrpGroup } from '../model';
import { clusterName, shortenedLabel } from '../names';
import { StandaloneOptions } from './options';

/** The namespace of the standalone objects when none is given. */
export const DEFAULT_NAMESPACE = 'keepalived';

/**
 * The longest standalone cluster name: the DaemonSet is `keepalived-<name>` and its pods
 * `keepalived-<name>-<5 chars>`, which must be a DNS label (63): 63 - 11 - 6 = 46.
 */
export const STANDALONE_NAME_MAX = 46;

/** The namespace of a standalone cluster. */
export function namespaceOf(options: StandaloneOptions): string {
  return options.namespace ?? DEFAULT_NAMESPACE;
}

/** `keepalived-<name>`, or the name itself when it already starts with `keepalived` (no stutter). */
export function keepalivedPrefixed(name: string): string {
  return /^keepalived(-|$)/.test(name) ? name : `keepalived-${name}`;
}

/** The longest name of a Calico Tier: a DNS label (Calico's validator). */
const CALICO_TIER_NAME_MAX = 63;

/** The object names of a standalone cluster. */
export function standaloneNames(def: Pick<ClusterDefinition, 'name' | 'id' | 'target'>, options: StandaloneOptions) {
  const name = clusterName(def);
  const namespace = namespaceOf(options);
  const base = keepalivedPrefixed(name);
  // Cluster-scoped objects carry the namespace in their name, unless it is the default one.
  const scoped = namespace === DEFAULT_NAMESPACE ? base : `${base}-${namespace}`;
  // A Calico tier's name is a DNS label without dots; its policies' names are `<tier>.<name>`.
  const calicoTier = shortenedLabel(scoped, CALICO_TIER_NAME_MAX);
  return {
    name,
    namespace,
    daemonSet: base,
    serviceAccount: base,
    secret: `${base}-auth`,
    policy: `${base}-vrrp`,
    clusterPolicy: `${scoped}-vrrp`,
    calicoTier,
    calicoPolicy: `${calicoTier}.vrrp`,
    configMapPrefix: `${base}-spec`,
    clusterRole: `keepalived:${namespace}:${name}:nodes`,
    leaseRole: `${base}-leases`,
    /** Lease names are `<leasePrefix>-vrid-<vrid>`. */
    leasePrefix: base,
  };
}

/** The names of a standalone cluster's objects. */
export type StandaloneNames = ReturnType<typeof standaloneNames>;

/** The labels the DaemonSet selects its pods by. */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': name };
}

/** The labels every object of the cluster carries: the user's, then the package's own (which win). */
export function standaloneLabels(name: string, options: StandaloneOptions = {}): Record<string, string> {
  return { ...options.labels, ...selectorLabels(name), 'app.kubernetes.io/managed-by': 'keepalived-constructs' };
}

/** The keys of the labels the package sets on every object of a standalone cluster. */
export const CLUSTER_LABEL_KEYS: readonly string[] = Object.keys(standaloneLabels(''));

/** A group's name on the node (its `vrrp_instance` is named after it): the given one, or from its VRID. */
export function groupNameOf(group: VrrpGroup, vrid: number): string {
  return group.name ?? `vrid-${vrid}`;
}
