/** The node order that spreads masters: one rule for synth-time validation and for the agent. */
import { dnsSubdomainProblem } from '../names';
import { MAX_NODE_ORDER } from '../priority';

/** One problem of a node order: of the entry at `index`, or of the whole list. */
export interface NodeOrderIssue {
  /** The offending entry's index; undefined when the problem is the list's. */
  readonly index?: number;
  readonly problem: string;
  readonly expected: string;
}

const NODE_NAMES_EXPECTED = 'node names (DNS subdomains)';

/** Problems of a node order: not a list of node names, too long, a name that is none, a node twice. */
export function nodeOrderIssues(order: unknown): NodeOrderIssue[] {
  if (order === undefined) return [];
  if (!Array.isArray(order)) return [{ problem: 'is not a list of node names', expected: NODE_NAMES_EXPECTED }];
  const issues: NodeOrderIssue[] = [];
  if (order.length > MAX_NODE_ORDER) {
    issues.push({ problem: `lists ${order.length} nodes; VRRP priorities leave room for at most ${MAX_NODE_ORDER}`, expected: `at most ${MAX_NODE_ORDER} nodes; the others are ranked by hash` });
  }
  // (Linear: a hand-edited spec.json may hold a long list, which is the problem above.)
  const seen = new Set<unknown>();
  order.forEach((node: unknown, index) => {
    const nameProblem = dnsSubdomainProblem(node);
    if (nameProblem) issues.push({ index, problem: `${nameProblem}, so it cannot be a node name`, expected: NODE_NAMES_EXPECTED });
    // A node listed twice would take two ranks, and some rank's groups would get no master of their own.
    else if (seen.has(node)) issues.push({ index, problem: 'is listed more than once', expected: 'each node once' });
    seen.add(node);
  });
  return issues;
}

/** `nodeOrderIssues` as sentences about the order called `what`. */
export function nodeOrderProblems(order: unknown, what: string): string[] {
  return nodeOrderIssues(order).map(({ index, problem }) =>
    (index === undefined ? `${what} ${problem}` : `${what}[${index}] ${JSON.stringify((order as unknown[])[index])} ${problem}`));
}
