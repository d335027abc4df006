/**
 * Where keepalived runs. `Target` is what users pass; behind it, a `TargetStrategy` owns everything
 * that differs between targets: the names, the target-specific validation and the objects.
 */
import { IpFamily } from './address';
import { DeckhouseOptions, DeckhouseTargetStrategy } from './deckhouse/target';
import { ValidationIssue } from './errors';
import { ClusterObject } from './manifest';
import { ClusterDefinition, GroupDefinition } from './model';
import { StandaloneOptions } from './standalone/options';
import { StandaloneTargetStrategy } from './standalone/target';

/** Reports one issue of a cluster's props. */
export type IssueReport = (field: string, value: unknown, problem: string, expected: string) => void;

/**
 * What a target's objects need from the app, resolved at synth time. When the adapters only want the
 * objects' heads (which objects there are, their kinds, metadata and fields), nothing is resolved:
 * every value that needs the app, or that is costly, is built through `content`.
 */
export interface BuildContext {
  /** The VRID of the cluster's group by index. Only called from `content`. */
  readonly vridOf: (groupIndex: number) => number;
  /**
   * The value of a content field (or of what one is made of): built, or left undefined when only the
   * heads are wanted. The field itself is there either way.
   */
  content<T>(build: () => T): T | undefined;
}

/**
 * Everything that differs between targets. Core and the adapters call these; nothing else branches
 * on the target.
 */
export interface TargetStrategy {
  /** The longest cluster name on this target. */
  readonly maxNameLength: number;
  /** Whether the target takes IPv6 addresses and networks. */
  readonly ipv6: boolean;
  /** Whether the target can run health checks. */
  readonly healthChecks: boolean;
  /** The namespace of the cluster's namespaced objects; undefined when it has none. */
  readonly namespace: string | undefined;
  /** Whether the cluster's pods mount its namespace's agent ConfigMap. */
  readonly needsAgentConfigMap: boolean;
  /** Why a name longer than `maxNameLength` does not work here. */
  nameLengthReason(name: string): string;
  /** Where a cluster's name must be unique, in words (e.g. `namespace keepalived`). */
  readonly nameScope: string;
  /** The target's own checks of a cluster's props. */
  validateCluster(def: ClusterDefinition, report: IssueReport): void;
  /** The target's own checks of a group whose addresses are of `family`. */
  validateGroup(def: ClusterDefinition, group: GroupDefinition, family: IpFamily, report: IssueReport): void;
  /** Props that are valid but do not do what the user probably meant. */
  warnings(def: ClusterDefinition): ValidationIssue[];
  /** The target's checks that need the app-wide VRIDs. */
  resolvedIssues(def: ClusterDefinition, vridOf: (groupIndex: number) => number | undefined): ValidationIssue[];
  /**
   * The port the cluster's pods listen on in the node's network (hostNetwork), with the prop that sets
   * it, if any: two clusters on one node cannot share it.
   */
  hostPort(def: ClusterDefinition): { readonly field: string; readonly port: number } | undefined;
  /** The cluster's objects, in apply order. */
  objects(def: ClusterDefinition, ctx: BuildContext): ClusterObject[];
}

/** Where keepalived runs. */
export class Target {
  /** The Deckhouse keepalived module: emits `deckhouse.io/v1alpha1` KeepalivedInstance objects. */
  public static deckhouse(options: DeckhouseOptions = {}): Target {
    return new Target(new DeckhouseTargetStrategy(options));
  }

  /**
   * keepalived as a DaemonSet that this package emits, for clusters without Deckhouse: ServiceAccount,
   * ConfigMap, DaemonSet with the node agent, optional RBAC and policies for VRRP; the Namespace and
   * the agent's ConfigMap come from the namespace's `KeepalivedNamespace`.
   */
  public static standalone(options: StandaloneOptions = {}): Target {
    return new Target(new StandaloneTargetStrategy(options));
  }

  private constructor(
    /**
     * What the target does.
     *
     * @internal
     */
    public readonly _strategy: TargetStrategy,
  ) {}

  /** The standalone options, or undefined on the Deckhouse target. */
  public get standaloneOptions(): StandaloneOptions | undefined {
    return this._strategy instanceof StandaloneTargetStrategy ? this._strategy.options : undefined;
  }
}
