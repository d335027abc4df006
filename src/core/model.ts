import { knownFields } from './fields';
import { HealthCheck } from './health-check';
import { InterfaceSelector } from './interface-selector';
import { Target } from './target';

/** A virtual IP address that a VRRP group holds on its master node. */
export interface VirtualIp {
  /**
   * The address with its prefix length, e.g. `192.0.2.10/32` or `2001:db8::10/64`.
   * The Deckhouse target accepts IPv4 only.
   */
  readonly address: string;

  /**
   * The interface that carries this address, when it is not the group's VRRP interface
   * (for example a WAN address on `ens7` while VRRP runs on the LAN).
   *
   * @default - the group's interface
   */
  readonly interface?: InterfaceSelector;
}

/** A VRRP group (a keepalived `vrrp_instance`): addresses that move together between nodes. */
export interface VrrpGroup {
  /**
   * The VRRP router id (VRID), 1..255, unique in the app and on the L2 segment.
   *
   * @default - allocated automatically and stably from the group's name, its cluster's name and where
   * that name is unique (the Deckhouse target, or the standalone namespace)
   */
  readonly id?: number;

  /**
   * A stable name for the group. It is the key for automatic VRID allocation, and it names the group in
   * messages and on the node.
   *
   * @default - none: the group's first address keys its VRID, and on the node it is named `vrid-<VRID>`
   */
  readonly name?: string;

  /**
   * The interface on each node that sends and receives the VRRP adverts.
   *
   * @default InterfaceSelector.defaultRoute()
   */
  readonly interface?: InterfaceSelector;

  /** The virtual IPs of the group; at least one. */
  readonly addresses: VirtualIp[];

  /**
   * Whether a higher-priority node takes the addresses back when it returns. With `false`, keepalived
   * runs with `nopreempt` (and `state BACKUP`), so addresses stay where they are until their holder fails.
   * Note: the Deckhouse module (as of its current source) ignores this field.
   *
   * @default true
   */
  readonly preempt?: boolean;

  /**
   * The VRRP advert interval in seconds. Failover takes about three intervals. Fractional values
   * (down to 0.01) need VRRPv3, which IPv6 groups always use and IPv4 groups use unless the standalone
   * target says `vrrpVersion: VrrpVersion.V2`, `profile: FailoverProfile.CLASSIC` or `auth`. Standalone
   * target only.
   *
   * @default - the standalone target's profile: 0.1 s (DEFAULT and FAST), 1 s (CLASSIC or VRRPv2)
   */
  readonly advertInterval?: number;

  /**
   * How often (seconds) this group's master re-announces its addresses with a gratuitous ARP (IPv4) or
   * an unsolicited neighbour advertisement (IPv6), besides the burst at failover. Whole seconds from
   * 0 (off) to 86400; rendered as keepalived's `garp_master_refresh`. Standalone target only (the
   * Deckhouse module always refreshes every 30 s).
   *
   * @default - the standalone target's `garpRefreshSeconds` (30 s unless set)
   */
  readonly garpRefreshSeconds?: number;

  /**
   * The node that should hold this group's addresses while it is healthy: it gets the highest priority.
   * This is the declarative form of the manual switchover (edit the priority, `kill -HUP 1`).
   * Standalone target only.
   *
   * @default - masters are spread across nodes by `nodeOrder` or a rendezvous hash
   */
  readonly preferredNode?: string;

  /**
   * Health checks that the node agent runs on each node for this group: while one fails, the node
   * releases the group or lowers its priority (each check's `onFailure`). They replace the cluster's
   * `healthChecks`; `[]` turns them off for this group. Standalone target only.
   *
   * @example
   * healthChecks: [HealthCheck.http({ port: 10254, path: '/healthz' })]
   * @default - the cluster's `healthChecks`
   */
  readonly healthChecks?: HealthCheck[];
}

/** A Kubernetes toleration, so that keepalived runs on tainted nodes. */
export interface Toleration {
  /**
   * The taint key. Empty with `operator: 'Exists'` tolerates every taint.
   *
   * @default - every key (only with operator Exists)
   */
  readonly key?: string;

  /**
   * `Equal` matches `value`; `Exists` matches any value.
   *
   * @default 'Equal'
   */
  readonly operator?: string;

  /**
   * The taint value to match (operator `Equal` only).
   *
   * @default - the empty value
   */
  readonly value?: string;

  /**
   * The taint effect to match.
   *
   * @default - every effect
   */
  readonly effect?: string;

  /**
   * How long the pod stays bound to a node after a matching `NoExecute` taint appears.
   *
   * @default - forever
   */
  readonly tolerationSeconds?: number;
}

/** The props every keepalived cluster construct has. */
export interface KeepalivedClusterBaseProps {
  /**
   * The name of the cluster: `metadata.name` of the KeepalivedInstance, or the base name of the
   * standalone objects. A DNS label of at most 41 characters on the Deckhouse target (the module
   * derives a StatefulSet name from it) and 46 on the standalone target.
   *
   * @default - derived from the construct id (cdk8s) or the resource name (Pulumi), so that both
   * frameworks give the same name and the same automatic VRIDs
   */
  readonly name?: string;

  /**
   * The labels of the nodes that run keepalived, e.g. `{ 'node-role.deckhouse.io/frontend': '' }`.
   * An empty selector is an error unless `selectAllNodes` is set.
   */
  readonly nodeSelector: { [key: string]: string };

  /**
   * Allow an empty `nodeSelector`, which runs keepalived on every schedulable node.
   *
   * @default false
   */
  readonly selectAllNodes?: boolean;

  /**
   * Tolerations for the keepalived pods.
   *
   * @default - none
   */
  readonly tolerations?: Toleration[];

  /**
   * Where keepalived runs: the Deckhouse module, or a DaemonSet this package emits.
   *
   * @default Target.deckhouse()
   */
  readonly target?: Target;

  /**
   * Health checks for every group of the cluster that has none of its own (FrontendVips: every
   * address; GatewayPair: the pair). The node agent probes them on each node; while one fails, the
   * node releases the group or lowers its priority (each check's `onFailure`). Standalone target only:
   * the Deckhouse KeepalivedInstance CRD has no health checks.
   *
   * @default - none: only a dead node or keepalived moves the addresses
   */
  readonly healthChecks?: HealthCheck[];
}

/** The fields of a VIP. */
export const VIRTUAL_IP_FIELDS = knownFields<VirtualIp>('a field of a VIP', { address: true, interface: true });
/** The fields of a VRRP group (a KeepalivedCluster's, as given), with its VIPs'. */
export const VRRP_GROUP_FIELDS = knownFields<VrrpGroup>('a field of a VRRP group', {
  id: true, name: true, interface: true, addresses: true, preempt: true, advertInterval: true, garpRefreshSeconds: true, preferredNode: true, healthChecks: true,
}, { addresses: [VIRTUAL_IP_FIELDS] });
/** The fields of a toleration. */
export const TOLERATION_FIELDS = knownFields<Toleration>('a field of a toleration', { key: true, operator: true, value: true, effect: true, tolerationSeconds: true });

/** The props that every cluster shape has. */
export const CLUSTER_BASE_FIELDS = {
  name: true, nodeSelector: true, selectAllNodes: true, tolerations: true, target: true, healthChecks: true,
} as const satisfies { readonly [K in keyof Required<KeepalivedClusterBaseProps>]: true };

/**
 * A group as a construct declared it, with the way to name its fields in the user's terms
 * (FrontendVips' `addresses[1]` is the first address of its second group).
 */
export interface GroupDefinition {
  readonly group: VrrpGroup;
  /** Maps a field of the group (`id`, `interface`, `addresses[0].address`, ...) to the user's prop. */
  readonly fieldOf: (field: string) => string;
  /** The group is the user's own object (a KeepalivedCluster's), whose keys are checked; not one a shape made from its props. */
  readonly userObject?: boolean;
}

/** A cluster as a construct declared it: the input of validation, VRID allocation and the builders. */
export interface ClusterDefinition {
  /** The construct path (cdk8s) or resource name (Pulumi), for messages. */
  readonly path: string;
  /** The construct id (cdk8s) or resource name (Pulumi): the default name derives from it. */
  readonly id: string;
  /** Whether an empty nodeSelector is meant. */
  readonly selectAllNodes?: boolean;
  /** The name the user gave, if any. */
  readonly name?: string;
  readonly nodeSelector: { [key: string]: string };
  readonly tolerations: readonly Toleration[];
  readonly target: Target;
  readonly groups: readonly GroupDefinition[];
  /** The cluster's default health checks (`healthChecks` of its props). */
  readonly healthChecks?: readonly HealthCheck[];
}
