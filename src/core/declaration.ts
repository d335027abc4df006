/**
 * How an adapter (a cdk8s construct, a Pulumi component) declares clusters and VRID reservations in
 * its app's `VrrpDomain`, and reads back what the domain concluded for them. Both adapters call these,
 * so that the defaults, the order of the checks and the messages exist once.
 */
import { throwIfIssues, ValidationIssue } from './errors';
import { DomainResolution, VrrpDomain } from './domain';
import { ClusterDefinition, GroupDefinition, KeepalivedClusterBaseProps } from './model';
import { Target } from './target';
import { validateCluster, validateGroup } from './validate';

/** A cluster's definition whose groups its adapter adds one by one (`declareGroup`). */
export interface DeclaredCluster extends ClusterDefinition {
  readonly groups: GroupDefinition[];
}

/** Properties for `ReservedVrids`. */
export interface ReservedVridsProps {
  /** VRIDs (1..255) that other VRRP routers on the segment already use. */
  readonly ids: number[];
}

/**
 * Turns a cluster's props into its definition, checks them, and adds the cluster to the domain.
 * `path` is the construct path (cdk8s) or the resource name (Pulumi): it names the cluster in messages
 * and keys its automatic VRIDs. Throws a KeepalivedConfigError for invalid props.
 */
export function declareCluster(domain: VrrpDomain, path: string, props: KeepalivedClusterBaseProps): DeclaredCluster {
  const cluster: DeclaredCluster = {
    path,
    name: props.name,
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations ?? [],
    target: props.target ?? Target.deckhouse(),
    groups: [],
    healthChecks: props.healthChecks,
  };
  throwIfIssues(validateCluster(cluster));
  domain.addCluster(cluster);
  return cluster;
}

/** Checks a group and adds it to its cluster. Throws a KeepalivedConfigError when the group is invalid. */
export function declareGroup(domain: VrrpDomain, cluster: DeclaredCluster, group: GroupDefinition): void {
  throwIfIssues(validateGroup(cluster, group));
  cluster.groups.push(group);
  domain.changed();
}

/** Reserves VRIDs in the domain for `owner` (a construct path or resource name), and returns them. */
export function declareReservation(domain: VrrpDomain, owner: string, props: ReservedVridsProps): readonly number[] {
  const ids = [...props.ids];
  domain.reserve({ owner, field: 'ids', ids });
  return ids;
}

/** The app-wide issues (VRIDs, addresses, names) that concern one owner. */
export function issuesOf(domain: VrrpDomain, owner: string): ValidationIssue[] {
  return domain.resolve().issues.filter((i) => i.path === owner);
}

/** A cluster needs a group; checked once the app is declared, since groups may be added after construction. */
export function missingGroupIssues(cluster: ClusterDefinition): ValidationIssue[] {
  if (cluster.groups.length > 0) return [];
  return [{
    path: cluster.path, field: 'groups', value: [],
    problem: 'a keepalived cluster needs at least one VRRP group',
    expected: 'pass `groups`, or call addGroup()',
  }];
}

/** The VRID of each of a cluster's groups, in order (undefined where allocation failed). */
export function vridsOf(resolution: DomainResolution, cluster: ClusterDefinition): number[] {
  return cluster.groups.map((_, i) => resolution.vridOf(cluster, i)!);
}
