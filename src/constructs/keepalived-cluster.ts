import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  clusterGroupDefinition, clusterName, clusterObjectHeads, clusterObjects, ClusterObject, declareCluster, declareGroup, DeclaredCluster,
  describeIssue, describeIssueAt, DomainResolution, KeepalivedClusterProps, missingGroupIssues, Target, VrrpGroup,
  ValidationIssue, vridsOf, VrrpDomain, warningsOf, ClusterShape, KEEPALIVED_CLUSTER_SHAPE, shapeOfClass, isVrrpPolicyId,
} from '../core';
import { domainOf, validateInDomain } from './domain';
import { KeepalivedNamespace } from './keepalived-namespace';
import { emitObject } from './manifest-object';

/**
 * A keepalived cluster: a set of nodes (by `nodeSelector`) that hold VRRP groups of virtual IPs.
 * On the Deckhouse target it is one KeepalivedInstance; on the standalone target, a DaemonSet and
 * what it needs. Every object is a cdk8s ApiObject in this construct's tree (the main one has the id
 * `Resource`), so Chart labels, `ApiObject.of(x).addJsonPatch(...)` and `metadata.addLabel()` apply.
 *
 * @example
 * const edge = new KeepalivedCluster(chart, 'edge', { nodeSelector: { 'node-role.kubernetes.io/edge': '' } });
 * edge.addGroup({ id: 10, addresses: [{ address: '192.0.2.10/24' }] });
 */
export class KeepalivedCluster extends Construct {
  /** The cluster's resource name. */
  public readonly name: string;

  /** Where keepalived runs. */
  public readonly target: Target;

  /** The main object: the KeepalivedInstance (Deckhouse target) or the DaemonSet (standalone target). */
  public readonly resource: ApiObject;

  /** The DaemonSet (standalone target). */
  public readonly daemonSet?: ApiObject;

  /**
   * The cluster's ConfigMap with its model for the node agent (standalone target). Its name ends in a
   * hash of its content, which is known once the app is declared: read `name` at synth time.
   */
  public readonly configMap?: ApiObject;

  /** The pods' ServiceAccount (standalone target). */
  public readonly serviceAccount?: ApiObject;

  /** The Secret with a literal VRRP password (standalone target with `VrrpAuth.literal`). */
  public readonly secret?: ApiObject;

  /** The RBAC objects: ClusterRole, ClusterRoleBinding, and the Leases' Role and RoleBinding (discovery mode). */
  public readonly rbac: ApiObject[];

  /** The policies that let VRRP through, in the order of the target's `policies` (Calico's after its Tier). */
  public readonly policies: ApiObject[];

  /** The PodMonitor that scrapes the agents (standalone target with `metrics.podMonitor`). */
  public readonly podMonitor?: ApiObject;

  /** The PrometheusRule with the cluster's alerts (standalone target with `metrics.prometheusRule`). */
  public readonly prometheusRule?: ApiObject;

  /** The ConfigMap with the Grafana dashboard (standalone target with `metrics.dashboard`). */
  public readonly dashboard?: ApiObject;

  private readonly definition: DeclaredCluster;

  /**
   * The props' fields, and the groups the class makes of its props.
   *
   * @internal
   */
  public static readonly _shape: ClusterShape = KEEPALIVED_CLUSTER_SHAPE;

  constructor(scope: Construct, id: string, props: KeepalivedClusterProps) {
    super(scope, id);
    this.definition = declareCluster(domainOf(this), this.node.path, id, props, shapeOfClass(new.target as typeof KeepalivedCluster));
    this.target = this.definition.target;
    this.name = clusterName(this.definition);
    validateInDomain(this);
    this.node.addValidation({ validate: () => missingGroupIssues(this.definition).map(describeIssue) });
    let warned = false;
    this.node.addValidation({
      validate: () => {
        // Warnings do not fail the synth: each is printed once (cdk8s may validate twice), as the
        // message an error would have.
        if (warned) return [];
        warned = true;
        for (const warning of [...warningsOf(this.definition), ...this.chartNamespaceWarnings()]) console.warn(`Warning: ${describeIssueAt(warning)}`);
        return [];
      },
    });

    const namespace = this.target._strategy.namespace;
    if (namespace !== undefined) {
      // The namespace's owner also sees to it that its objects come before the cluster's.
      KeepalivedNamespace._forCluster(this, namespace, this.target.standaloneOptions?.createNamespace, this.target._strategy.needsAgentConfigMap);
      this.node.addValidation({
        validate: () => {
          const problem = KeepalivedNamespace._of(this, namespace)?._problemFor(this);
          return problem ? [problem] : [];
        },
      });
    }

    const emitted = new Map<string, ApiObject>();
    for (const head of clusterObjectHeads(this.definition)) {
      const object = emitObject(this, head, () => this.objects().get(head.id)!.object);
      for (const id of head.dependsOn ?? []) object.node.addDependency(emitted.get(id)!);
      emitted.set(head.id, object);
    }
    this.resource = emitted.get('Resource')!;
    this.daemonSet = this.resource.kind === 'DaemonSet' ? this.resource : undefined;
    this.configMap = emitted.get('ConfigMap');
    this.serviceAccount = emitted.get('ServiceAccount');
    this.secret = emitted.get('Secret');
    this.rbac = ['ClusterRole', 'ClusterRoleBinding', 'LeaseRole', 'LeaseRoleBinding'].flatMap((i) => emitted.get(i) ?? []);
    this.policies = [...emitted.entries()].filter(([i]) => isVrrpPolicyId(i)).map(([, o]) => o);
    this.podMonitor = emitted.get('PodMonitor');
    this.prometheusRule = emitted.get('PrometheusRule');
    this.dashboard = emitted.get('DashboardConfigMap');
  }

  /** The namespace's owner of the Namespace and the agent ConfigMap (standalone target). */
  public get namespace(): KeepalivedNamespace | undefined {
    const namespace = this.target._strategy.namespace;
    return namespace === undefined ? undefined : KeepalivedNamespace._of(this, namespace);
  }

  /** Adds a VRRP group. Throws at once when the group is invalid. */
  public addGroup(group: VrrpGroup): void {
    declareGroup(domainOf(this), this.definition, clusterGroupDefinition(group, this.definition.groups.length));
  }

  /** The groups declared so far. */
  public get groups(): VrrpGroup[] {
    return this.definition.groups.map((g) => g.group);
  }

  /**
   * The VRID of each group, in order. Final only once the whole app is declared (allocation is
   * app-wide), so read it at synth time, not while constructs are still being added.
   */
  public resolveVrids(): number[] {
    return vridsOf(domainOf(this).resolve(), this.definition);
  }


  /** A chart namespace that differs from the standalone target's, which the objects live in. */
  private chartNamespaceWarnings(): ValidationIssue[] {
    const chart = Chart.of(this).namespace;
    const namespace = this.target._strategy.namespace;
    if (chart === undefined || namespace === undefined || chart === namespace) return [];
    return [{
      path: this.node.path, field: 'target.namespace', value: namespace,
      problem: `the chart's namespace ${chart} does not apply to the standalone objects, which live in the target's namespace`,
      expected: `Target.standalone({ namespace: '${chart}' }) to put them in the chart's`,
    }];
  }

  /** The objects of this cluster by id, from the app-wide resolution. */
  private objects(): Map<string, ClusterObject> {
    const domain = domainOf(this);
    const resolution = domain.resolve();
    const last = lastProduced.get(domain);
    if (last?.cluster === this && last.resolution === resolution) return last.objects;
    const objects = new Map(clusterObjects(this.definition, domain).map((o) => [o.id, o]));
    lastProduced.set(domain, { cluster: this, resolution, objects });
    return objects;
  }
}

/**
 * The objects last built, per app: cdk8s resolves a cluster's objects one after another, so each
 * cluster builds them once, and only one cluster's are held at a time, not every cluster's until the
 * process exits (megabytes of garbage-collected heap at 255 standalone clusters).
 */
const lastProduced = new WeakMap<VrrpDomain, { cluster: KeepalivedCluster; resolution: DomainResolution; objects: Map<string, ClusterObject> }>();
