/**
 * The contract between the standalone manifests and the node agent: the cluster model that the
 * ConfigMap carries as `spec.json`. Plain JSON, versioned, with everything the agent needs to render
 * keepalived.conf on a node, and nothing secret (the password comes from `--auth-pass-file`).
 */
import { IpFamily } from './address';
import type { HealthCheckKind } from './health-spec';
import { InterfaceSelectorSpec } from './interface-selector';

/** The version of the spec.json format. */
export const AGENT_SPEC_VERSION = 1;

/** A virtual IP in the agent's spec. */
export interface AgentVirtualIp {
  /** Canonical `address/prefix`. */
  readonly address: string;
  /** Its own interface, when it is not the group's. */
  readonly interface?: InterfaceSelectorSpec;
}

/** A VRRP group (one keepalived `vrrp_instance`) in the agent's spec. */
export interface AgentGroup {
  /** The group's stable name: `vrrp_instance` is named after it. */
  readonly name: string;
  /** Its position among the cluster's groups (0-based): spreads masters with a node order. */
  readonly index: number;
  /** The VRID, 1..255. */
  readonly vrid: number;
  /** The address family of every address in the group. */
  readonly family: IpFamily;
  /** 2 or 3 (always 3 for IPv6). */
  readonly vrrpVersion: 2 | 3;
  /** The interface that sends and receives adverts. */
  readonly interface: InterfaceSelectorSpec;
  readonly addresses: readonly AgentVirtualIp[];
  /** false renders `nopreempt` with `state BACKUP`. */
  readonly preempt: boolean;
  /** Seconds; fractional only with VRRPv3. */
  readonly advertInterval: number;
  /** The node that gets the top priority. */
  readonly preferredNode?: string;
  /** Seconds between a master's gratuitous ARP / unsolicited NA refreshes; absent or 0: none. */
  readonly garpRefreshSeconds?: number;
  /**
   * The health checks this group follows (`track_file` in its `vrrp_instance`), by name in
   * `spec.healthChecks`, with keepalived's weight: 0 gives the group up (FAULT) while the check
   * fails, -n lowers its priority by n. Absent: none.
   */
  readonly tracks?: readonly AgentTrack[];
}

/** A group's use of a health check. */
export interface AgentTrack {
  /** The check's `name` in `spec.healthChecks`. */
  readonly check: string;
  /** keepalived's `track_file` weight: 0 (release) or -1..-253 (lower the priority). */
  readonly weight: number;
}

/**
 * A health check the agent's `run` probes on the node, writing its state to a track file
 * (`<track dir>/<cluster>_<name>`: 0 healthy, 1 failing) that keepalived watches. Identical checks of
 * several groups are one entry, probed once.
 */
export interface AgentHealthCheck {
  /** Names the check in `tracks` and its track file: 1..16 lower-case letters and digits. */
  readonly name: string;
  readonly kind: HealthCheckKind;
  /** http, kube-apiserver, tcp: the port on 127.0.0.1. */
  readonly port?: number;
  /** http, kube-apiserver: the request path. */
  readonly path?: string;
  /** http: the Host header (and TLS server name). */
  readonly host?: string;
  /** http, kube-apiserver: over TLS. */
  readonly https?: boolean;
  /** https: accept any certificate. */
  readonly insecureSkipTlsVerify?: boolean;
  /** interface: the interface's name. */
  readonly interface?: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  /** Consecutive failures that make it failing. */
  readonly fall: number;
  /** Consecutive successes that make it healthy. */
  readonly rise: number;
}

/**
 * Discovery mode: the agent learns the participating nodes from the Kubernetes API (list and watch of
 * Nodes matching `nodeSelector`), and publishes each group's master as a Lease.
 *
 * Derived node order: the static `nodeOrder`'s nodes first (in its order), then the other discovered
 * nodes by name; unschedulable (cordoned) nodes go last, so that cordoning a node moves its masters
 * away. NotReady nodes keep their place: VRRP itself decides whether their keepalived is alive, and
 * dropping a live node from the peers would make it a second master.
 */
export interface AgentDiscovery {
  /** The labels of the participating nodes (the DaemonSet's nodeSelector). */
  readonly nodeSelector: { readonly [key: string]: string };
  /** The namespace of the Leases (the cluster's namespace). */
  readonly namespace: string;
  /** Whether to publish a `coordination.k8s.io/v1` Lease per group, held by the master's node name. */
  readonly leases: boolean;
  /** Lease names are `<leasePrefix>-vrid-<vrid>`. */
  readonly leasePrefix: string;
  /** Lease duration: a master renews its Lease well within it. */
  readonly leaseDurationSeconds: number;
  /** Whether to derive unicast peers (and `unicast_src_ip`) from the nodes' InternalIPs. */
  readonly unicast: boolean;
  /** The least time between two reloads of keepalived (`minReloadIntervalProblem`: at least 1 s). */
  readonly minReloadIntervalSeconds: number;
  /** The most nodes taken part with; a larger node set is not applied. Absent: `DEFAULT_MAX_NODES`. */
  readonly maxNodes?: number;
  /**
   * The largest share of the applied node set one update may add, remove or re-address; a larger
   * change is not applied. Absent: `DEFAULT_MAX_NODE_SET_CHANGE`.
   */
  readonly maxNodeSetChange?: number;
  /** With `unicast`: peers only inside the networks of each group's VRRP interface on this node. */
  readonly peersInInterfaceNetwork?: boolean;
}

/** The name of a group's Lease in discovery mode. */
export function leaseName(discovery: Pick<AgentDiscovery, 'leasePrefix'>, vrid: number): string {
  return `${discovery.leasePrefix}-vrid-${vrid}`;
}

/**
 * The agent's Prometheus endpoint: `run` serves `/metrics` on this port of the node (the pod is on the
 * host network). See `src/core/monitoring/metrics-options.ts` for the names it serves.
 */
export interface AgentMetrics {
  /** The TCP port, 1024..65535 (`metricsPortIssues`). */
  readonly port: number;
  /** The address to listen on; absent means every address of the node (IPv4 and IPv6). */
  readonly address?: string;
}

/** The whole `spec.json`. */
export interface AgentSpec {
  readonly version: typeof AGENT_SPEC_VERSION;
  /** The cluster's name: prefixes the `vrrp_instance` names (router_id is the node's name). */
  readonly cluster: string;
  /** Nodes in the order that spreads masters; absent means rendezvous hashing. */
  readonly nodeOrder?: readonly string[];
  /** Unicast peers (node addresses); absent means multicast. */
  readonly unicastPeers?: readonly string[];
  /** Whether groups use VRRPv2 PASS authentication, with the password from `--auth-pass-file`. */
  readonly auth: boolean;
  readonly groups: readonly AgentGroup[];
  /** The health checks the groups' `tracks` name; absent: none. */
  readonly healthChecks?: readonly AgentHealthCheck[];
  /** Discovery mode; absent means the static `nodeOrder` / `unicastPeers` (or hashing) alone. */
  readonly discovery?: AgentDiscovery;
  /** Prometheus metrics from `run`; absent means no endpoint (the `--metrics-port` flag can still ask for one). */
  readonly metrics?: AgentMetrics;
}
