import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
  clusterGroupDefinition, clusterName, clusterObjectHeads, clusterObjects, contentFields, declareCluster, declareGroup, DeclaredCluster,
  describeIssueAt, issuesOf, KeepalivedClusterProps, KeepalivedConfigError, ManifestObject, missingGroupIssues, namespaceUseOf, Target,
  VrrpGroup, vridsOf, warningsOf, ClusterShape, KEEPALIVED_CLUSTER_SHAPE, shapeOfClass, isVrrpPolicyId,
} from '../core';
import { asProgramError, describeOutcome, Membership, programDomain, ProgramDomain } from './domain';
import { isProtected, kubernetesProviderOf, namespaceResources } from './keepalived-namespace';
import { kubernetesObject, objectName } from './kubernetes-object';

/** What a cluster produces once the program's declarations have settled. */
interface ProducedCluster {
  readonly objects: ManifestObject[];
  readonly vrids: number[];
}

/**
 * A keepalived cluster: a set of nodes (by `nodeSelector`) that hold VRRP groups of virtual IPs, as a
 * Pulumi component. On the Deckhouse target it is one KeepalivedInstance; on the standalone target, a
 * DaemonSet and what it needs. It takes the same props, and creates the same objects, as the cdk8s
 * construct of the same name.
 *
 * Children are named `${name}-<kind in lower case>` (e.g. `edge-daemonset`) and get `{ parent: this }`,
 * so the component's options (provider, dependsOn, protect, ...) reach them. The component's resource
 * name plays the part of the cdk8s construct path: it names the cluster in error messages, it keys its
 * automatic VRIDs, and the cluster's `name` is derived from it when not given.
 *
 * VRIDs are allocated program-wide, so the objects' content, `vrids` and `objectNames` are produced
 * once the program has declared every component: one turn of the event loop after the last
 * declaration. Declare all components before the program first awaits; a component declared later
 * fails the program if it would change what was already produced. Invalid props throw at once;
 * program-wide problems (a VRID used twice, an address held twice, no groups) fail these outputs and
 * the program, with the same messages as `cdk8s synth`.
 *
 * @example
 * const edge = new KeepalivedCluster('edge', {
 *   nodeSelector: { 'node-role.kubernetes.io/edge': '' },
 *   groups: [{ id: 10, addresses: [{ address: '192.0.2.10/24' }] }],
 * });
 * export const vrids = edge.vrids;
 */
export class KeepalivedCluster extends pulumi.ComponentResource {
  /** The component's type token. Subclasses declare their own. */
  public static readonly __pulumiType: string = 'keepalived-constructs:index:KeepalivedCluster';

  /** The cluster's resource name: `name` from the props, or derived from the component's resource name. */
  public readonly name: string;

  /** Where keepalived runs. */
  public readonly target: Target;

  /** The VRID of each group, in order, once the program's VRRP domain has settled. */
  public readonly vrids: pulumi.Output<number[]>;

  /**
   * The objects this cluster creates, in apply order, as `Kind/namespace/name`, or `Kind/name` for
   * cluster-scoped kinds; e.g. `['KeepalivedInstance/front']`.
   */
  public readonly objectNames: pulumi.Output<string[]>;

  /** The Kubernetes resources this cluster creates, in apply order (children of this component). */
  public readonly resources: pulumi.CustomResource[];

  /** The main resource: the KeepalivedInstance (Deckhouse target) or the DaemonSet (standalone target). */
  public readonly resource: pulumi.CustomResource;

  /** The DaemonSet (standalone target). */
  public readonly daemonSet?: k8s.apps.v1.DaemonSet;

  /** The cluster's ConfigMap with its model for the node agent (standalone target). */
  public readonly configMap?: k8s.core.v1.ConfigMap;

  /** The pods' ServiceAccount (standalone target). */
  public readonly serviceAccount?: k8s.core.v1.ServiceAccount;

  /** The Secret with a literal VRRP password (standalone target with `VrrpAuth.literal`). */
  public readonly secret?: k8s.core.v1.Secret;

  /** The RBAC resources: ClusterRole, ClusterRoleBinding, and the Leases' Role and RoleBinding (discovery mode). */
  public readonly rbac: pulumi.CustomResource[];

  /** The policies that let VRRP through, in the order of the target's `policies` (Calico's after its Tier). */
  public readonly policies: pulumi.CustomResource[];

  /** The PodMonitor that scrapes the agents (standalone target with `metrics.podMonitor`). */
  public readonly podMonitor?: k8s.apiextensions.CustomResource;

  /** The PrometheusRule with the cluster's alerts (standalone target with `metrics.prometheusRule`). */
  public readonly prometheusRule?: k8s.apiextensions.CustomResource;

  /** The ConfigMap with the Grafana dashboard (standalone target with `metrics.dashboard`). */
  public readonly dashboard?: k8s.core.v1.ConfigMap;

  private readonly definition: DeclaredCluster;
  private readonly program: ProgramDomain;
  private readonly produced: Membership<ProducedCluster>;

  /**
   * @param name the component's resource name; also the cluster's path in messages and its VRID key
   * @param props the same props as the cdk8s `KeepalivedCluster`
   * @param opts passed to the component, and through `parent` to its children
   */
  constructor(name: string, props: KeepalivedClusterProps, opts?: pulumi.ComponentResourceOptions) {
    // The props and every group the component's class makes of them are checked before anything is
    // registered: an invalid one creates nothing (not the namespace's shared objects either).
    const program = programDomain();
    const domain = program.vrrp;
    const kind = new.target as typeof KeepalivedCluster;
    let definition: DeclaredCluster;
    try {
      definition = declareCluster(domain, name, name, props, shapeOfClass(kind));
    } catch (error) {
      throw asProgramError(error);
    }
    super(kind.__pulumiType, name, {}, opts);
    this.program = program;
    this.definition = definition;
    this.name = clusterName(definition);
    this.target = definition.target;

    // Which objects exist, and which top-level fields each has, depends on the props alone.
    const heads = clusterObjectHeads(definition);
    const fields = heads.map((h) => ['metadata', ...contentFields(h.object)]);
    const namespace = this.target._strategy.namespace;
    const namespaced = namespace === undefined ? undefined
      : namespaceResources(this.program, namespace, {
        ...namespaceUseOf(definition), provider: kubernetesProviderOf(this), protect: isProtected(this),
      });
    this.produced = this.program.join(
      name,
      () => describeOutcome(vridsOf(domain.resolve(), definition), issuesOf(domain, name)),
      () => {
        const issues = [...issuesOf(domain, name), ...missingGroupIssues(definition)];
        if (issues.length > 0) throw new KeepalivedConfigError(issues);
        for (const warning of warningsOf(definition)) void pulumi.log.warn(describeIssueAt(warning), this);
        const objects = clusterObjects(definition, domain).map((o) => o.object);
        objects.forEach((object, i) => {
          if (['metadata', ...contentFields(object)].join() !== fields[i].join()) {
            throw new Error(`[${name}] ${objectName(object)} has the fields ${contentFields(object)}, not ${fields[i]} as declared`);
          }
        });
        return { objects, vrids: vridsOf(domain.resolve(), definition) };
      },
    );
    const result = this.produced.result;
    const kinds = new Map<string, number>();
    const byId = new Map<string, pulumi.CustomResource>();
    this.resources = heads.map((head, i) => {
      const kind = head.object.kind.toLowerCase();
      const count = (kinds.get(kind) ?? 0) + 1;
      kinds.set(kind, count);
      const childName = `${name}-${kind}${count > 1 ? `-${count}` : ''}`;
      // Namespaced objects wait for the namespace's shared objects (the Namespace, the agent ConfigMap),
      // and an object for the cluster's objects it needs (a Calico policy for its tier).
      const own = (head.dependsOn ?? []).map((id) => byId.get(id)!);
      const dependsOn = head.object.metadata.namespace !== undefined ? namespaced!.then((shared) => [...shared, ...own]) : own;
      const resource = kubernetesObject(childName, head, fields[i], result.then((p) => p.objects[i]), { parent: this, dependsOn });
      byId.set(head.id, resource);
      return resource;
    });
    this.resource = byId.get('Resource')!;
    this.daemonSet = this.resource instanceof k8s.apps.v1.DaemonSet ? this.resource : undefined;
    this.configMap = byId.get('ConfigMap') as k8s.core.v1.ConfigMap | undefined;
    this.serviceAccount = byId.get('ServiceAccount') as k8s.core.v1.ServiceAccount | undefined;
    this.secret = byId.get('Secret') as k8s.core.v1.Secret | undefined;
    this.rbac = ['ClusterRole', 'ClusterRoleBinding', 'LeaseRole', 'LeaseRoleBinding'].flatMap((i) => byId.get(i) ?? []);
    this.policies = [...byId.entries()].filter(([i]) => isVrrpPolicyId(i)).map(([, r]) => r);
    this.podMonitor = byId.get('PodMonitor') as k8s.apiextensions.CustomResource | undefined;
    this.prometheusRule = byId.get('PrometheusRule') as k8s.apiextensions.CustomResource | undefined;
    this.dashboard = byId.get('DashboardConfigMap') as k8s.core.v1.ConfigMap | undefined;
    this.vrids = pulumi.output(result.then((p) => p.vrids));
    this.objectNames = pulumi.output(result.then((p) => p.objects.map(objectName)));
    this.registerOutputs({ vrids: this.vrids, objectNames: this.objectNames });
  }

  /**
   * The props' fields, and the groups the class makes of its props (checked with the props).
   *
   * @internal
   */
  public static readonly _shape: ClusterShape = KEEPALIVED_CLUSTER_SHAPE;

  /**
   * Adds a VRRP group. Throws at once when the group is invalid, or when the program's domain has
   * already settled (the group must be added in the same turn as the component is declared).
   */
  public addGroup(group: VrrpGroup): void {
    if (this.produced.settled) {
      throw new Error(`[${this.definition.path}] addGroup() after the cluster's manifests were produced. `
        + 'Valid: add groups in the same turn as the component is declared, or pass them as `groups`.');
    }
    try {
      declareGroup(this.program.vrrp, this.definition, clusterGroupDefinition(group, this.definition.groups.length));
    } catch (error) {
      throw asProgramError(error);
    }
    this.program.changed();
  }

  /** The groups declared so far. */
  public get groups(): VrrpGroup[] {
    return this.definition.groups.map((g) => g.group);
  }
}
