/** The node order that spreads masters: one rule for synth-time validation and for the agent. */
import { MAX_NODE_ORDER } from '../priority';

/** Problems of a node order (too long, a node twice), each as a sentence about `what`. */
export function nodeOrderProblems(order: unknown, what: string): string[] {
  if (order === undefined) return [];
  if (!Array.isArray(order) || !order.every((n) => typeof n === 'string')) return [`${what} is not a list of node names`];
  const problems: string[] = [];
  if (order.length > MAX_NODE_ORDER) problems.push(`${what} lists ${order.length} nodes; VRRP priorities leave room for at most ${MAX_NODE_ORDER}`);
  const duplicates = [...new Set(order.filter((n, i) => order.indexOf(n) !== i))];
  // A node listed twice would take two ranks, and some rank's groups would get no master of their own.
  if (duplicates.length > 0) problems.push(`${what} lists ${duplicates.map((d) => JSON.stringify(d)).join(', ')} more than once`);
  return problems;
}
