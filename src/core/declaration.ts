/**
 * How an adapter (a cdk8s construct, a Pulumi component) declares clusters and VRID reservations in
 * its app's `VrrpDomain`, and reads back what the domain concluded for them. Both adapters call these,
 * so that the defaults, the order of the checks and the messages exist once.
 */
import { throwIfIssues, ValidationIssue } from './errors';
import { checkKnownFields, KnownFields, knownFields } from './fields';
import { DomainResolution, VrrpDomain } from './domain';
import { NamespaceOwner } from './namespace-owner';
import { checkAnnotations, checkLabels, checkPackageLabels, isPlainObject, listIn, snapshotOf } from './metadata';
import { NAMESPACE_PACKAGE_LABELS } from './standalone/namespace';
import { dnsLabelProblem } from './names';
import { DEFAULT_NAMESPACE } from './standalone/names';
import { ClusterDefinition, GroupDefinition, KeepalivedClusterBaseProps } from './model';
import { ClusterShape } from './shapes';
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
 * Turns a cluster's props into its definition, checks them and its first groups (which its shape
 * makes once the props are checked), and adds the cluster to the domain. `path` is the construct path
 * (cdk8s) or the resource name (Pulumi): it names the cluster in messages. `id` is the construct id or
 * the resource name: the default name derives from it. `shape` has the props' fields (a key that is not
 * one of them is an error, but for top-level keys when `ownKeys` is false: a user's subclass may have
 * props of its own) and makes the first groups. Throws a KeepalivedConfigError for invalid props or
 * groups, before the domain has the cluster.
 */
export function declareCluster(domain: VrrpDomain, path: string, id: string, given: KeepalivedClusterBaseProps,
  { shape, ownKeys }: { readonly shape: ClusterShape; readonly ownKeys: boolean }): DeclaredCluster {
  throwIfNotProps(path, given, '{ nodeSelector: { ... }, ... }');
  const props = snapshotOf(given);
  const cluster: DeclaredCluster = {
    path,
    id,
    name: props.name,
    selectAllNodes: props.selectAllNodes,
    nodeSelector: props.nodeSelector,
    tolerations: props.tolerations ?? [],
    target: props.target ?? Target.deckhouse(),
    groups: [],
    healthChecks: props.healthChecks,
  };
  throwIfIssues([...unknownFieldIssues(path, props, shape.fields, ownKeys), ...validateCluster(cluster)]);
  // Every group's issues at once (the props that make the groups are sound by now).
  cluster.groups.push(...shape.groupsOf(path, props));
  throwIfIssues(cluster.groups.flatMap((group) => validateGroup(cluster, group)));
  domain.addCluster(cluster);
  return cluster;
}

/** Checks a group and adds it to its cluster. Throws a KeepalivedConfigError when the group is invalid. */
export function declareGroup(domain: VrrpDomain, cluster: DeclaredCluster, given: GroupDefinition): void {
  const group = { ...given, group: snapshotOf(given.group) };
  throwIfIssues(validateGroup(cluster, group));
  cluster.groups.push(group);
  domain.changed();
}

/** Reserves VRIDs in the domain for `owner` (a construct path or resource name), and returns them. */
export function declareReservation(domain: VrrpDomain, owner: string, props: ReservedVridsProps): readonly number[] {
  throwIfNotProps(owner, props, '{ ids: [...] }');
  const issues = unknownFieldIssues(owner, props, RESERVED_VRIDS_FIELDS);
  listIn('ids', props.ids, (field, value, problem, expected) => issues.push({ path: owner, field, value, problem, expected }), 'a list of VRIDs (1..255)');
  if (props.ids === undefined) issues.push({ path: owner, field: 'ids', value: undefined, problem: 'is missing', expected: 'a list of VRIDs (1..255)' });
  throwIfIssues(issues);
  const ids = [...props.ids];
  domain.reserve({ owner, field: 'ids', ids });
  return ids;
}

const RESERVED_VRIDS_FIELDS = knownFields<ReservedVridsProps>('a prop of ReservedVrids', { ids: true });

/** The issues of the keys of `props` that are not among `fields`. */
function unknownFieldIssues(path: string, props: unknown, fields: KnownFields, ownKeys = true): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkKnownFields('', props, fields, (field, value, problem, expected) => issues.push({ path, field, value, problem, expected }), ownKeys);
  return issues;
}

/** Props that are not an object (a plain-JavaScript caller's missing or wrong argument). */
function throwIfNotProps(path: string, props: unknown, expected: string): void {
  if (!isPlainObject(props)) throwIfIssues([{ path, field: 'props', value: props, problem: 'is not an object of props', expected }]);
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

/** Properties for `KeepalivedNamespace`. */
export interface KeepalivedNamespaceProps {
  /**
   * The namespace.
   *
   * @default 'keepalived'
   */
  readonly name?: string;

  /**
   * Whether to emit the Namespace (labelled for Pod Security `privileged`). Set `false` for an existing
   * namespace that admits privileged pods.
   *
   * @default true
   */
  readonly createNamespace?: boolean;

  /**
   * Whether to emit the ConfigMap with the bundled node agent. Set `false` when every standalone
   * cluster in the namespace runs an agent image with the agent baked in (`images.agentInImage`); a
   * cluster whose pods mount it is then a synth-time error.
   *
   * @default true
   */
  readonly agentConfigMap?: boolean;

  /**
   * Extra labels for the Namespace and the agent ConfigMap.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations for the Namespace.
   *
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

const KEEPALIVED_NAMESPACE_FIELDS = knownFields<KeepalivedNamespaceProps>('a prop of KeepalivedNamespace', {
  name: true, createNamespace: true, agentConfigMap: true, labels: true, annotations: true,
});

/**
 * Checks a namespace owner's props and adds it to the domain. Throws a KeepalivedConfigError when
 * invalid, or when the namespace has an owner already. `implicit`: the package made it for the
 * namespace's clusters, none being declared (an adapter removes it before declaring one in its place).
 */
export function declareNamespace(domain: VrrpDomain, path: string, given: KeepalivedNamespaceProps, implicit = false): NamespaceOwner {
  throwIfNotProps(path, given, '{ name, createNamespace, labels, ... }, or no props');
  const props = snapshotOf(given);
  const owner: NamespaceOwner = {
    path, name: props.name ?? DEFAULT_NAMESPACE, createNamespace: props.createNamespace !== false, agentConfigMap: props.agentConfigMap !== false,
    ...(implicit ? { implicit } : {}),
    ...(props.labels !== undefined ? { labels: props.labels } : {}),
    ...(props.annotations !== undefined ? { annotations: props.annotations } : {}),
  };
  const issues = unknownFieldIssues(path, props, KEEPALIVED_NAMESPACE_FIELDS);
  const report = (field: string, value: unknown, problem: string, expected: string) => issues.push({ path, field, value, problem, expected });
  const problem = dnsLabelProblem(owner.name, 63);
  if (problem) report('name', owner.name, problem, 'a namespace name: a DNS label of at most 63 characters');
  checkLabels('labels', props.labels, report);
  checkPackageLabels('labels', props.labels, NAMESPACE_PACKAGE_LABELS, report);
  checkAnnotations('annotations', props.annotations, report);
  const existing = domain.namespaceOwner(owner.name);
  if (existing?.implicit) {
    report('name', owner.name, `namespace ${owner.name} already has the KeepalivedNamespace made for its clusters declared before this one (the program awaited in between)`,
      'a KeepalivedNamespace declared before the program first awaits');
  } else if (existing) {
    report('name', owner.name, `${existing.path} already owns namespace ${owner.name}`, 'one KeepalivedNamespace per namespace in the app');
  }
  throwIfIssues(issues);
  domain.addNamespace(owner);
  return owner;
}

/** Props that are valid but probably not what the user meant, to print as warnings at synth. */
export function warningsOf(cluster: ClusterDefinition): ValidationIssue[] {
  return cluster.target._strategy.warnings(cluster);
}
