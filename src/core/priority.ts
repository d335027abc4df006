/**
 * A node's VRRP priority for each group: the one place that decides which node is master.
 */
import { AgentGroup } from './agent-spec';
import { fnv1a32 } from './hash';

/** The priority of a group's preferred node: above every computed one, below the address owner (255). */
export const PREFERRED_PRIORITY = 254;
/** The priority of the node ranked first for a group in `nodeOrder`. */
export const TOP_ORDERED_PRIORITY = 250;
/**
 * The longest `nodeOrder` that keeps every listed node at priority 2 or more, so that unlisted nodes
 * still have priority 1 below them.
 */
export const MAX_NODE_ORDER = TOP_ORDERED_PRIORITY - 1;
/** The lowest priority that hashing gives (1 is left for nodes below a full band). */
const LOWEST_HASHED_PRIORITY = 2;
/** How many priorities lie from the lowest hashed one up to just below the top ordered one (2..249): ranks spread over them, hashes fall in them. */
const PRIORITY_BAND = TOP_ORDERED_PRIORITY - LOWEST_HASHED_PRIORITY;

/** The node order that priorities follow: the spec's static one, or the one discovery derived. */
export interface PriorityOrder {
  /** Nodes in the order that spreads masters; absent means rendezvous hashing. */
  readonly nodeOrder?: readonly string[];
  /**
   * How many of `nodeOrder`'s first nodes take masters in rotation; the others (cordoned nodes, in
   * discovery mode) rank below all of them. Absent, 0 or more than the order's length: all of them.
   */
  readonly leaderCount?: number;
}

/** The group fields that decide priorities. `advertInterval` defaults to 1 s. */
export type PriorityGroup = Pick<AgentGroup, 'name' | 'index' | 'preferredNode'> & { readonly advertInterval?: number };

/**
 * The distance between two neighbouring ranks' priorities. A backup takes over after
 * 3 x advert_int + (256 - priority) / 256 x advert_int, so neighbouring priorities are
 * advert_int / 256 apart in time: 0.39 ms at 0.1 s adverts, close enough that two backups both take
 * over (measured: 12 of 30 dead-node failovers). A step that keeps them >= 10 ms apart avoids that,
 * as long as the order leaves room for it.
 */
export function rankStep(group: Pick<PriorityGroup, 'advertInterval'>, n: number): number {
  const wanted = Math.ceil((0.01 * 256) / (group.advertInterval ?? 1));
  return Math.max(1, Math.min(Math.floor(PRIORITY_BAND / Math.max(n, 1)), wanted));
}

/**
 * This node's priority for a group (1..254; never 255, which means the address owner):
 *
 * 1. `group.preferredNode === nodeName`: 254, unless the node trails the leaders (`isTrailingIn`: a
 *    drained node in discovery mode), which ranks it as in 2.
 * 2. With `spec.nodeOrder` (N nodes, the first L of them leaders: `leaderCount`, all by default)
 *    listing the node at rank r (0-based, first occurrence), and `step = rankStep(group, N)`: for a
 *    leader (r < L) `250 - step x ((r - group.index) mod L)`, a non-negative mod. The leader at rank
 *    `group.index mod L` gets 250, the next one 250 - step, and so on; L groups on L nodes put exactly
 *    one master on each node, as the Deckhouse module does. A node after the leaders (r >= L) gets
 *    `250 - step x r`, below every leader and above every unlisted node.
 * 3. With `spec.nodeOrder` not listing the node: a hash band strictly below every listed node,
 *    `2 + (fnv1a32(nodeName + '/' + group.name) mod (248 - step x (N - 1)))`; or 1 when no band is left.
 * 4. Without `spec.nodeOrder` (rendezvous hashing): `2 + (fnv1a32(nodeName + '/' + group.name) mod 248)`,
 *    i.e. 2..249. Every node computes every other node's priority the same way, so the masters
 *    spread and only the groups of a leaving node move. (Hashing cannot space priorities apart: with
 *    sub-second adverts, prefer a node order or discovery.)
 *
 * Equal priorities are possible with hashing; keepalived then elects the higher primary address.
 * Throws a RangeError when `nodeOrder` is longer than `MAX_NODE_ORDER`.
 */
export function priorityOf(spec: PriorityOrder, group: PriorityGroup, nodeName: string): number {
  if (group.preferredNode === nodeName && !isTrailingIn(spec, nodeName)) return PREFERRED_PRIORITY;
  const order = spec.nodeOrder;
  if (order === undefined) return LOWEST_HASHED_PRIORITY + (rendezvousHash(nodeName, group.name) % PRIORITY_BAND);
  const n = order.length;
  if (n > MAX_NODE_ORDER) {
    throw new RangeError(`nodeOrder lists ${n} nodes; VRRP priorities leave room for at most ${MAX_NODE_ORDER}`);
  }
  const step = rankStep(group, n);
  const rank = order.indexOf(nodeName);
  const leaders = leaderCountOf(spec.leaderCount, n);
  if (rank >= 0) return TOP_ORDERED_PRIORITY - step * (rank < leaders ? mod(rank - group.index, leaders) : rank);
  const band = PRIORITY_BAND - step * Math.max(n - 1, 0);
  return band >= 1 ? LOWEST_HASHED_PRIORITY + (rendezvousHash(nodeName, group.name) % band) : 1;
}

/**
 * The least a failing master's priority must drop (`HealthAction.lowerPriority`) to fall strictly
 * below the next node's, so that keepalived moves the group: at equal priority a backup does not take
 * over. With a node order of `nodeCount` nodes (undefined in discovery mode, where the count changes:
 * the widest gap, two nodes'), one rank step (a preferred node: at least its lead over the first
 * ranked one); with hashing (`order` undefined), down to the lowest hashed priority.
 */
export function leastPriorityDrop(group: Pick<PriorityGroup, 'preferredNode' | 'advertInterval'>, order: { readonly nodeCount?: number } | undefined): number {
  const preferredLead = group.preferredNode === undefined ? 0 : PREFERRED_PRIORITY - TOP_ORDERED_PRIORITY;
  if (order === undefined) {
    const top = group.preferredNode === undefined ? LOWEST_HASHED_PRIORITY + PRIORITY_BAND - 1 : PREFERRED_PRIORITY;
    return top - LOWEST_HASHED_PRIORITY + 1;
  }
  return Math.max(rankStep(group, order.nodeCount ?? 2), preferredLead) + 1;
}

/** What the node should expect to be for a group, assuming every node in the order is up. */
export type ExpectedRole = 'master' | 'backup' | 'elected by hash';

/** The role `priorityOf` implies for this node, for logs: exact with a preferred node or a node order. */
export function expectedRoleOf(spec: PriorityOrder, group: PriorityGroup, nodeName: string): ExpectedRole {
  if (group.preferredNode !== undefined && !isTrailingIn(spec, group.preferredNode)) return group.preferredNode === nodeName ? 'master' : 'backup';
  if (spec.nodeOrder === undefined || spec.nodeOrder.length === 0) return 'elected by hash';
  return priorityOf(spec, group, nodeName) === TOP_ORDERED_PRIORITY ? 'master' : 'backup';
}

/**
 * Whether the node is listed after the order's leaders (`leaderCount`): in discovery mode, a drained
 * node (cordoned, or excluded from load balancers) while some other node is not. It ranks below every
 * leader for every group, its preferred groups included.
 */
export function isTrailingIn(spec: PriorityOrder, nodeName: string): boolean {
  const order = spec.nodeOrder;
  if (order === undefined) return false;
  const rank = order.indexOf(nodeName);
  return rank >= 0 && rank >= leaderCountOf(spec.leaderCount, order.length);
}

function leaderCountOf(leaderCount: number | undefined, n: number): number {
  if (leaderCount === undefined || !Number.isInteger(leaderCount) || leaderCount <= 0 || leaderCount > n) return n;
  return leaderCount;
}

function rendezvousHash(nodeName: string, groupName: string): number {
  return fnv1a32(`${nodeName}/${groupName}`);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
