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
 * Host ports for clusters in order, each of which listens on one: `wanted`, or the next port that no
 * earlier cluster on the same nodes listens on (the CLI renders YAML, which has no prop to set it, so).
 */
export function freeHostPorts(clusters: readonly { readonly nodeSelector: NodeSelector }[], wanted: number): number[] {
  const taken: { nodeSelector: NodeSelector; port: number }[] = [];
  return clusters.map(({ nodeSelector }) => {
    let port = wanted;
    while (taken.some((t) => t.port === port && sharesNodes(t.nodeSelector, nodeSelector))) port++;
    taken.push({ nodeSelector, port });
    return port;
  });
}
