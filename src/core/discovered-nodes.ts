/**
 * Discovery mode's derived view: from the nodes the agent discovered in the Kubernetes API, the node
 * order that spreads masters and the unicast peers. Framework-free and deterministic: every node that
 * sees the same node set derives the same order and peers, and two equal views render byte-identical
 * configs.
 */
import { IpFamily, parseIp } from './address';
import { AgentSpec } from './agent-spec';
import { peerAddressProblem, vipAddressesOf } from './discovery-limits';
import { MAX_NODE_ORDER } from './priority';

/** A node as discovery sees it (the agent's `NodeInfo` has this shape). */
export interface DiscoveredNode {
  /** metadata.name */
  readonly name: string;
  /** The node's first IPv4 InternalIP. */
  readonly internalIPv4?: string;
  /** The node's first IPv6 InternalIP. */
  readonly internalIPv6?: string;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** spec.unschedulable (cordoned). */
  readonly unschedulable: boolean;
  /** Labelled `node.kubernetes.io/exclude-from-external-load-balancers`; absent means false. */
  readonly excludedFromLoadBalancers?: boolean;
}

/**
 * The well-known label that takes a node out of external load balancers (any value); Kubernetes'
 * service controller honours it, and so does discovery mode: such a node hands its VIPs over.
 */
export const EXCLUDE_FROM_LOAD_BALANCERS_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * Whether a node is being drained for maintenance: cordoned (`kubectl cordon` / `drain`), or labelled
 * `node.kubernetes.io/exclude-from-external-load-balancers`. `kubectl drain` evicts no DaemonSet pod,
 * so the handover must come from this, not from the pod going away. A drained node ranks below every
 * other node for every group, and gives up its `nopreempt` groups (see `renderKeepalivedConf`).
 */
export function isDraining(node: Pick<DiscoveredNode, 'unschedulable' | 'excludedFromLoadBalancers'>): boolean {
  return node.unschedulable === true || node.excludedFromLoadBalancers === true;
}

/**
 * What discovery decides for the renderer; it overrides the spec's static `nodeOrder` (always) and
 * `unicastPeers` (when `unicastPeers` is set).
 */
export interface DiscoveredView {
  /** Every participating node: the leaders first, then the drained ones (`isDraining`). At most `MAX_NODE_ORDER`. */
  readonly nodeOrder: readonly string[];
  /**
   * How many of `nodeOrder`'s first nodes take masters in rotation (those not drained); the rest
   * (cordoned or excluded from load balancers) rank below all of them. See `priorityOf`.
   */
  readonly leaderCount: number;
  /**
   * How many of the leaders are Ready. A drained node gives its `nopreempt` groups up (see `planNode`)
   * only while one of them is: a NotReady leader may have no keepalived to take the VIP.
   */
  readonly readyLeaderCount: number;
  /**
   * With `discovery.unicast`: the InternalIPs of every participating node, this node's own included,
   * by node name (IPv4 and IPv6). Absent: the spec's static `unicastPeers` (or multicast) apply.
   */
  readonly unicastPeers?: readonly string[];
  /** With `discovery.unicast`: this node's own address per family, its `unicast_src_ip`. */
  readonly unicastSource?: { readonly ipv4?: string; readonly ipv6?: string };
  /**
   * With `discovery.unicast`: the discovered addresses that were refused as peers, each as
   * `node-x: 127.0.0.1 is a loopback address` (see `peerAddressProblem`), for the agent's logs.
   */
  readonly refusedPeers?: readonly string[];
}

/** This node, as far as the derived view needs it. */
export interface DiscoveringNode {
  readonly nodeName: string;
  /** `--host-ip` (status.hostIP): the node's address when its Node lists no InternalIP of that family. */
  readonly hostIp?: string;
}

/**
 * The derived view for one node.
 *
 * Order: the static `spec.nodeOrder`'s nodes that were discovered, in its order, then the other
 * discovered nodes by name; drained nodes (cordoned, or labelled exclude-from-external-load-balancers:
 * `isDraining`) are moved after all the others, keeping their relative order, and `leaderCount` stops
 * before them, so that draining a node moves every master it had to the other nodes (all drained: all lead). NotReady nodes keep their
 * place: VRRP decides whether their keepalived is alive, and dropping a live node would make it a
 * second master. With L leaders, L groups on those L nodes put exactly one master on each.
 *
 * This node is always part of the view (with `hostIp` as its address): its Node may be missing from
 * the API's answer for a moment (just labelled), and the config is rendered for it regardless.
 *
 * Unicast (with `discovery.unicast`): every node's InternalIPv4 and InternalIPv6, by node name, with
 * this node's own InternalIP of a family (else `hostIp` when it is of that family) as the source.
 * Nodes without an address of a family are simply not peers of that family. Addresses that
 * `peerAddressProblem` refuses (loopback, unspecified, multicast, link-local, another family, one of
 * the spec's VIPs) are never peers nor the source; they are listed in `refusedPeers`, and another node
 * left without any usable address is not a participant at all (nobody could exchange adverts with it),
 * so it takes no rank in the order either.
 */
export function deriveDiscoveredView(
  spec: Pick<AgentSpec, 'nodeOrder' | 'discovery'> & { readonly groups?: AgentSpec['groups'] },
  nodes: readonly DiscoveredNode[],
  self: DiscoveringNode,
): DiscoveredView {
  const unicast = spec.discovery?.unicast === true;
  const vips = vipAddressesOf(spec.groups);
  const refusedPeers: string[] = [];
  /** The node's usable address of a family; a refused one is noted once. */
  const usable = (node: DiscoveredNode, family: IpFamily): string | undefined => {
    const address = family === 4 ? node.internalIPv4 : node.internalIPv6;
    if (address === undefined) return undefined;
    const problem = peerAddressProblem(address, family, vips);
    if (problem === undefined) return parseIp(address)!.text;
    if (unicast) refusedPeers.push(`${node.name}: InternalIPv${family} ${JSON.stringify(address)} ${problem}`);
    return undefined;
  };
  const byName = new Map<string, DiscoveredNode>();
  for (const node of nodes) {
    if (node && typeof node.name === 'string' && node.name !== '' && !byName.has(node.name)) byName.set(node.name, node);
  }
  const own = byName.get(self.nodeName);
  const ownAddress = (family: IpFamily): string | undefined => {
    const internal = own === undefined ? undefined : usable(own, family);
    if (internal !== undefined) return internal;
    return self.hostIp !== undefined && peerAddressProblem(self.hostIp, family, vips) === undefined ? parseIp(self.hostIp)!.text : undefined;
  };
  const ownIpv4 = ownAddress(4);
  const ownIpv6 = ownAddress(6);
  for (const [name, node] of byName) {
    if (name === self.nodeName) continue;
    const ipv4 = usable(node, 4);
    const ipv6 = usable(node, 6);
    if (unicast && ipv4 === undefined && ipv6 === undefined) {
      byName.delete(name);
      continue;
    }
    byName.set(name, { ...node, internalIPv4: ipv4, internalIPv6: ipv6 });
  }
  byName.set(self.nodeName, {
    name: self.nodeName,
    internalIPv4: ownIpv4,
    internalIPv6: ownIpv6,
    ready: own?.ready ?? true,
    unschedulable: own?.unschedulable ?? false,
    ...(own?.excludedFromLoadBalancers === true ? { excludedFromLoadBalancers: true } : {}),
  });

  const staticOrder = Array.isArray(spec.nodeOrder) ? spec.nodeOrder : [];
  const named = [...byName.keys()].sort(compareText);
  const ordered = [...new Set([...staticOrder.filter((n) => byName.has(n)), ...named])];
  const schedulable = ordered.filter((n) => !isDraining(byName.get(n)!));
  const cordoned = ordered.filter((n) => isDraining(byName.get(n)!));
  const nodeOrder = [...schedulable, ...cordoned].slice(0, MAX_NODE_ORDER);
  const leaderCount = Math.min(schedulable.length, nodeOrder.length);
  const readyLeaderCount = nodeOrder.slice(0, leaderCount).filter((n) => byName.get(n)!.ready).length;

  if (!unicast) return { nodeOrder, leaderCount, readyLeaderCount };
  const peers: string[] = [];
  for (const name of named) {
    const node = byName.get(name)!;
    for (const address of [node.internalIPv4, node.internalIPv6]) {
      if (address !== undefined && !peers.includes(address)) peers.push(address);
    }
  }
  return {
    nodeOrder,
    leaderCount,
    readyLeaderCount,
    unicastPeers: peers,
    unicastSource: { ...(ownIpv4 === undefined ? {} : { ipv4: ownIpv4 }), ...(ownIpv6 === undefined ? {} : { ipv6: ownIpv6 }) },
    ...(refusedPeers.length === 0 ? {} : { refusedPeers }),
  };
}

/** What changed between two node sets, for the agent's reload messages. Empty strings: nothing. */
export interface NodeSetChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** `name (what changed)`, e.g. `node-b (cordoned)`, `node-c (InternalIPv4 198.51.100.13 -> 198.51.100.23)`. */
  readonly changed: readonly string[];
}

/** The difference between two node sets (by name). */
export function diffNodeSets(before: readonly DiscoveredNode[], after: readonly DiscoveredNode[]): NodeSetChange {
  const old = new Map(before.map((n) => [n.name, n]));
  const now = new Map(after.map((n) => [n.name, n]));
  const added = [...now.keys()].filter((n) => !old.has(n)).sort(compareText);
  const removed = [...old.keys()].filter((n) => !now.has(n)).sort(compareText);
  const changed: string[] = [];
  for (const name of [...now.keys()].sort(compareText)) {
    const a = old.get(name);
    const b = now.get(name)!;
    if (!a) continue;
    const what: string[] = [];
    if (a.unschedulable !== b.unschedulable) what.push(b.unschedulable ? 'cordoned' : 'uncordoned');
    if ((a.excludedFromLoadBalancers === true) !== (b.excludedFromLoadBalancers === true)) {
      what.push(b.excludedFromLoadBalancers ? 'excluded from load balancers' : 'no longer excluded from load balancers');
    }
    if (a.ready !== b.ready) what.push(b.ready ? 'Ready' : 'NotReady');
    if (a.internalIPv4 !== b.internalIPv4) what.push(`InternalIPv4 ${a.internalIPv4 ?? 'none'} -> ${b.internalIPv4 ?? 'none'}`);
    if (a.internalIPv6 !== b.internalIPv6) what.push(`InternalIPv6 ${a.internalIPv6 ?? 'none'} -> ${b.internalIPv6 ?? 'none'}`);
    if (what.length > 0) changed.push(`${name} (${what.join(', ')})`);
  }
  return { added, removed, changed };
}

/** `added node-d; removed node-c; changed node-b (cordoned)`, or `no node added, removed or changed`. */
export function describeNodeSetChange(change: NodeSetChange): string {
  const parts = [
    ...(change.added.length > 0 ? [`added ${change.added.join(', ')}`] : []),
    ...(change.removed.length > 0 ? [`removed ${change.removed.join(', ')}`] : []),
    ...(change.changed.length > 0 ? [`changed ${change.changed.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'no node added, removed or changed';
}

/** Code-unit order: the same on every node whatever its locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
