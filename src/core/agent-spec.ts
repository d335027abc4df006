/**
 * The contract between the standalone manifests and the node agent: the cluster model that the
 * ConfigMap carries as `spec.json`. Plain JSON, versioned, with everything the agent needs to render
 * keepalived.conf on a node, and nothing secret (the password comes from `--auth-pass-file`).
 */
import { IpFamily } from './address';
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
}
