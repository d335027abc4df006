/**
 * Discovery's one-shot side, for `render` (the init container): one list of the Nodes that match the
 * cluster's nodeSelector, within a bounded time, and where the node set comes from when it fails.
 */
import { AgentSpec } from '../core/agent-spec';
import { DiscoveredNode } from '../core/discovered-nodes';
import { discoveryLimitsOf, nodeSetProblem } from '../core/discovery-limits';
import { loadNodeSet } from './discovery-state';
import { inClusterConfig, KubeClient, KubeListTooLargeError } from './kube-client';
import { KubeNode, labelSelectorOf, nodeInfoOf } from './node-watch';

/** How long `render` waits for the API by default. */
export const DEFAULT_API_TIMEOUT_MS = 5000;

/** Where the API is. */
export interface ApiAccess {
  /** The environment with KUBERNETES_SERVICE_HOST/PORT. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default the pod's service account directory */
  readonly serviceAccountDir?: string;
}

/** A client as a pod makes it; throws `KubeConfigError` outside a pod. */
export function podClient(access: ApiAccess, requestTimeoutMs?: number): KubeClient {
  return new KubeClient(inClusterConfig({ env: access.env, serviceAccountDir: access.serviceAccountDir, requestTimeoutMs }));
}

/**
 * Lists the matching Nodes once, sorted by name; rejects after `timeoutMs` at the latest, and as soon
 * as more than `discovery.maxNodes` match (without reading the rest).
 */
export async function listNodesOnce(spec: AgentSpec, access: ApiAccess, timeoutMs = DEFAULT_API_TIMEOUT_MS): Promise<DiscoveredNode[]> {
  const selector = labelSelectorOf(spec.discovery?.nodeSelector ?? {});
  const client = podClient(access, timeoutMs);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer from ${client.endpoint} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const list = await Promise.race([
      client.list<KubeNode>('/api/v1/nodes', { labelSelector: selector || undefined }, {
        signal: controller.signal,
        maxItems: discoveryLimitsOf(spec.discovery).limits.maxNodes,
      }),
      deadline,
    ]);
    return list.items.map(nodeInfoOf).filter((n) => n.name !== '').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    clearTimeout(timer);
  }
}

/** The node set `render` uses, and the line that says where it came from. */
export type NodeSource =
  | { readonly kind: 'api'; readonly nodes: readonly DiscoveredNode[]; readonly message: string }
  | { readonly kind: 'saved'; readonly nodes: readonly DiscoveredNode[]; readonly message: string }
  | { readonly kind: 'static'; readonly message: string };

/**
 * The API once; else the last node set saved in `stateDir`; else the static fallback (the spec's
 * nodeOrder and unicastPeers, or hashing and multicast).
 */
export async function discoverNodes(spec: AgentSpec, access: ApiAccess, stateDir: string | undefined, timeoutMs?: number): Promise<NodeSource> {
  let apiProblem: string;
  try {
    const nodes = await listNodesOnce(spec, access, timeoutMs);
    return { kind: 'api', nodes, message: `rendered from the API (${count(nodes.length)})` };
  } catch (e) {
    apiProblem = e instanceof KubeListTooLargeError
      ? `the API was not used: more than discovery.maxNodes (${e.maxItems}) nodes match the nodeSelector`
      : `the API was unreachable: ${(e as Error).message}`;
  }
  let savedProblem: string;
  if (stateDir === undefined) {
    savedProblem = 'no --state-dir was given';
  } else {
    const saved = loadNodeSet(stateDir, spec);
    if ('nodes' in saved) {
      const overCap = nodeSetProblem(saved.nodes, undefined, discoveryLimitsOf(spec.discovery).limits);
      if (overCap === undefined) {
        return {
          kind: 'saved',
          nodes: saved.nodes,
          message: `rendered from the last known node set saved at ${saved.savedAt} in ${saved.file} (${count(saved.nodes.length)}); ${apiProblem}`,
        };
      }
      savedProblem = `the node set saved in ${saved.file} is not used: ${overCap}`;
    } else {
      savedProblem = saved.problem;
    }
  }
  return { kind: 'static', message: `rendered from the static fallback (${apiProblem}; ${savedProblem})` };
}

function count(n: number): string {
  return `${n} node${n === 1 ? '' : 's'}`;
}
