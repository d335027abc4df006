/**
 * The bounds of discovery mode: which discovered addresses may be unicast peers, how many nodes the
 * agent takes from the API, how much of the node set may change at once, and how often keepalived may
 * be reloaded. Each rule is one function that the synth-time validator (src/core/validate.ts) and the
 * node agent (which reads spec.json, and the API, as untrusted input) both call.
 *
 * Why these bounds: in discovery mode any Node that carries the nodeSelector's labels takes part. A
 * compromised kubelet can label and re-address its own Node, and whoever may create Nodes can add
 * any number of them. Without bounds, a few hundred fake Nodes push every real node to priority 1 and
 * thousands render thousands of `unicast_peer` lines to addresses the attacker chose.
 */
import { IpAddress, IpFamily, parseCidr, parseIp } from './address';
import { MAX_NODE_ORDER } from './priority';

/** The most nodes discovery takes part with, by default. */
export const DEFAULT_MAX_NODES = 64;
/** The largest share of the node set one update may add, remove or re-address, by default. */
export const DEFAULT_MAX_NODE_SET_CHANGE = 0.5;
/** How many nodes one update may always add, remove or re-address, whatever the fraction allows. */
export const MIN_NODE_SET_CHANGE = 2;
/** The least time between two reloads that a spec may ask for (0 would reload on every Node event). */
export const MIN_RELOAD_INTERVAL_FLOOR_SECONDS = 1;
/** The longest `minReloadIntervalSeconds`. */
export const MAX_RELOAD_INTERVAL_SECONDS = 3600;
/** A group's Lease lasts this long unless renewed, by default; the agent renews it every third of it. */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;
/** The shortest and longest `leaseDurationSeconds`: renewals at most every second, and within the timers' range. */
export const MIN_LEASE_DURATION_SECONDS = 3;
export const MAX_LEASE_DURATION_SECONDS = 3600;

/** Why `leaseDurationSeconds` is not usable, or undefined when it is (an integer 3..3600). */
export function leaseDurationProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < MIN_LEASE_DURATION_SECONDS || seconds > MAX_LEASE_DURATION_SECONDS) {
    return `is not a lease duration the agent can renew in time (an integer from ${MIN_LEASE_DURATION_SECONDS} to ${MAX_LEASE_DURATION_SECONDS})`;
  }
  return undefined;
}

/** Why `minReloadIntervalSeconds` is not usable, or undefined when it is (1..3600 seconds). */
export function minReloadIntervalProblem(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return 'is not a number of seconds';
  if (seconds < MIN_RELOAD_INTERVAL_FLOOR_SECONDS) {
    return `is below ${MIN_RELOAD_INTERVAL_FLOOR_SECONDS} s: every Node event (a hostile or flapping Node sends many) would reload keepalived`;
  }
  if (seconds > MAX_RELOAD_INTERVAL_SECONDS) return `is above ${MAX_RELOAD_INTERVAL_SECONDS} s`;
  return undefined;
}

/** Why `maxNodes` is not usable, or undefined when it is (an integer 1..MAX_NODE_ORDER). */
export function maxNodesProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_NODE_ORDER) {
    return `is not a node count from 1 to ${MAX_NODE_ORDER} (VRRP priorities leave room for ${MAX_NODE_ORDER} ranked nodes)`;
  }
  return undefined;
}

/** Why `maxNodeSetChange` is not usable, or undefined when it is (a fraction in (0, 1]). */
export function maxNodeSetChangeProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) return 'is not a fraction above 0 and at most 1';
  return undefined;
}

/** The bounds the agent applies, from spec.json; a missing or unusable value is the default. */
export interface DiscoveryLimits {
  readonly maxNodes: number;
  readonly maxNodeSetChange: number;
  readonly minReloadIntervalSeconds: number;
  /** How long a group's Lease lasts unless renewed. */
  readonly leaseDurationSeconds: number;
}

/**
 * The limits of a spec's discovery block, read as untrusted input: each value the validator would
 * refuse is replaced by its default (the floor for the reload interval) and reported in `problems`.
 */
export function discoveryLimitsOf(discovery: {
  readonly maxNodes?: unknown; readonly maxNodeSetChange?: unknown; readonly minReloadIntervalSeconds?: unknown; readonly leaseDurationSeconds?: unknown;
} | undefined): { readonly limits: DiscoveryLimits; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const pick = <T>(field: string, value: unknown, problemOf: (v: unknown) => string | undefined, fallback: T): T => {
    if (value === undefined) return fallback;
    const problem = problemOf(value);
    if (problem === undefined) return value as T;
    problems.push(`spec.discovery.${field} ${JSON.stringify(value)} ${problem}; using ${fallback}`);
    return fallback;
  };
  return {
    limits: {
      maxNodes: pick('maxNodes', discovery?.maxNodes, maxNodesProblem, DEFAULT_MAX_NODES),
      maxNodeSetChange: pick('maxNodeSetChange', discovery?.maxNodeSetChange, maxNodeSetChangeProblem, DEFAULT_MAX_NODE_SET_CHANGE),
      minReloadIntervalSeconds: pick('minReloadIntervalSeconds', discovery?.minReloadIntervalSeconds, minReloadIntervalProblem, MIN_RELOAD_INTERVAL_FLOOR_SECONDS),
      leaseDurationSeconds: pick('leaseDurationSeconds', discovery?.leaseDurationSeconds, leaseDurationProblem, DEFAULT_LEASE_DURATION_SECONDS),
    },
    problems,
  };
}

/**
 * Why a discovered address cannot be a unicast peer (or this node's unicast source), or undefined when
 * it can. Refused: anything that is not an address of `family`, the unspecified address, loopback,
 * multicast, link-local, the IPv4 broadcast address, IPv4-mapped IPv6 addresses, and the cluster's own
 * virtual IPs (`vips`, canonical address texts): keepalived would send adverts there, or accept them
 * from there.
 */
export function peerAddressProblem(text: unknown, family: IpFamily, vips: ReadonlySet<string> = new Set()): string | undefined {
  const ip = typeof text === 'string' ? parseIp(text) : undefined;
  if (ip === undefined) return 'is not an IP address';
  if (ip.family !== family) return `is not an IPv${family} address`;
  const special = specialAddressKind(ip);
  if (special !== undefined) return `is ${special}`;
  if (vips.has(ip.text)) return 'is one of the cluster\'s virtual IPs';
  return undefined;
}

/** The kind of a special-purpose address that is never a VRRP peer, or undefined for an ordinary one. */
function specialAddressKind(ip: IpAddress): string | undefined {
  const b = ip.bytes;
  if (ip.family === 4) {
    if (b.every((x) => x === 0)) return 'the unspecified address';
    if (b[0] === 0) return 'in 0.0.0.0/8 ("this network")';
    if (b[0] === 127) return 'a loopback address';
    if (b[0] === 169 && b[1] === 254) return 'a link-local address';
    if (b.every((x) => x === 255)) return 'the broadcast address';
    if (b[0] >= 224 && b[0] <= 239) return 'a multicast address';
    if (b[0] >= 240) return 'a reserved (class E) address';
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'the unspecified address';
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return 'the loopback address';
  if (b[0] === 0xff) return 'a multicast address';
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'a link-local address';
  if (b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return 'an IPv4-mapped address';
  return undefined;
}

/** The canonical address texts of a spec's virtual IPs (malformed entries are skipped). */
export function vipAddressesOf(groups: readonly { readonly addresses?: readonly { readonly address?: string }[] }[] | undefined): Set<string> {
  const vips = new Set<string>();
  for (const g of Array.isArray(groups) ? groups : []) {
    for (const v of Array.isArray(g?.addresses) ? g.addresses : []) {
      const cidr = parseCidr(v?.address as string);
      if (cidr) vips.add(cidr.address.text);
    }
  }
  return vips;
}

/** A node set as far as the change guard looks at it. */
export interface GuardedNode {
  readonly name: string;
  readonly internalIPv4?: string;
  readonly internalIPv6?: string;
}

/**
 * Why a discovered node set must not be applied, or undefined when it may.
 *
 * - More than `maxNodes` nodes: never applied.
 * - Compared with `previous` (the set the config on disk came from; none at a pod's start): more
 *   nodes added, removed or re-addressed at once than `maxNodeSetChange` of the previous set, rounded
 *   up; `MIN_NODE_SET_CHANGE` nodes may always change (replacing a node is one removal and one addition). Cordons and readiness are not counted: draining many nodes at once is
 *   ordinary maintenance, and they do not change who the peers are.
 *
 * The agent then keeps keepalived's config as it is and says why; restarting the pod (whose `render`
 * starts from the API's current answer, bounded by `maxNodes` alone) is how an operator accepts a
 * large change on purpose.
 */
export function nodeSetProblem(nodes: readonly GuardedNode[], previous: readonly GuardedNode[] | undefined, limits: Pick<DiscoveryLimits, 'maxNodes' | 'maxNodeSetChange'>): string | undefined {
  if (nodes.length > limits.maxNodes) {
    return `${nodes.length} nodes match the nodeSelector, more than discovery.maxNodes (${limits.maxNodes})`;
  }
  if (previous === undefined) return undefined;
  const before = new Map(previous.map((n) => [n.name, n]));
  const after = new Map(nodes.map((n) => [n.name, n]));
  let changed = 0;
  for (const [name, node] of after) {
    const old = before.get(name);
    if (old === undefined || old.internalIPv4 !== node.internalIPv4 || old.internalIPv6 !== node.internalIPv6) changed++;
  }
  for (const name of before.keys()) if (!after.has(name)) changed++;
  const allowed = Math.max(MIN_NODE_SET_CHANGE, Math.ceil(limits.maxNodeSetChange * previous.length));
  if (changed > allowed) {
    return `${changed} nodes were added, removed or re-addressed at once, more than discovery.maxNodeSetChange `
      + `(${limits.maxNodeSetChange} of the ${previous.length} applied, i.e. ${allowed}); restart the pods to accept it on purpose`;
  }
  return undefined;
}
