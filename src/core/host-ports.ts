/**
 * Ports in the node's network: pods with hostNetwork of two clusters on one node cannot listen on one
 * port. Which clusters share nodes for certain, and the ports the CLI gives instances that do.
 */
import { ClusterDefinition } from './model';

type NodeSelector = ClusterDefinition['nodeSelector'];

/** Whether two node selectors select some node in common for certain: one within the other (an empty one selects every node). */
export function sharesNodes(a: NodeSelector, b: NodeSelector): boolean {
  const within = (inner: NodeSelector, outer: NodeSelector) => Object.entries(inner ?? {}).every(([k, v]) => outer?.[k] === v);
  return within(a, b) || within(b, a);
}

/**
 * Host ports for clusters, each of which listens on one: `wanted`, or the next port that no cluster on
 * the same nodes whose name sorts before its own listens on (the CLI renders YAML, which has no prop to
 * set it, so). By name, not by the order given: the same clusters get the same ports in any order of
 * files. Returned in the order given.
 */
export function freeHostPorts(clusters: readonly { readonly name: string; readonly nodeSelector: NodeSelector }[], wanted: number): number[] {
  const taken: { nodeSelector: NodeSelector; port: number }[] = [];
  const ports: number[] = [];
  const byName = clusters.map((c, i) => ({ ...c, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i));
  for (const { nodeSelector, i } of byName) {
    let port = wanted;
    while (taken.some((t) => t.port === port && sharesNodes(t.nodeSelector, nodeSelector))) port++;
    taken.push({ nodeSelector, port });
    ports[i] = port;
  }
  return ports;
}
