/**
 * The last node set the API gave, kept in `<state-dir>/nodes.json` (a hostPath per cluster), so that a
 * node that restarts while the API is away renders from what it last knew rather than from the
 * static fallback. `run` writes it (once a set passes its guard); `render` reads it.
 */
import { mkdirSync } from 'fs';
import { readBoundedFile } from './bounded-read';
import { join } from 'path';
import { AgentSpec } from '../core/agent-spec';
import { DiscoveredNode } from '../core/discovered-nodes';
import { writeFileAtomic } from './atomic-file';

/** The largest nodes.json that is read. */
export const MAX_NODE_SET_FILE_BYTES = 1024 * 1024;

/** The file in the state directory. */
export const NODE_SET_FILE = 'nodes.json';

/** The file's content. */
export interface SavedNodeSet {
  readonly version: 1;
  /** When it was saved (ISO 8601). */
  readonly savedAt: string;
  /** The spec's cluster and nodeSelector: a node set of another cluster or selector is not used. */
  readonly cluster: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Sorted by name. */
  readonly nodes: readonly DiscoveredNode[];
}

/** Where the node set of a state directory is. */
export function nodeSetFile(stateDir: string): string {
  return join(stateDir, NODE_SET_FILE);
}

/** Saves the node set atomically (the directory is made when missing); returns the file. Throws on failure. */
export function saveNodeSet(stateDir: string, spec: Pick<AgentSpec, 'cluster' | 'discovery'>, nodes: readonly DiscoveredNode[], now: Date = new Date()): string {
  mkdirSync(stateDir, { recursive: true });
  const saved: SavedNodeSet = {
    version: 1,
    savedAt: now.toISOString(),
    cluster: spec.cluster,
    nodeSelector: spec.discovery?.nodeSelector ?? {},
    nodes: [...nodes].map(plainNode).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  const file = nodeSetFile(stateDir);
  writeFileAtomic(file, `${JSON.stringify(saved, undefined, 2)}\n`, 0o644);
  return file;
}

/** A loaded node set, or why there is none to use. */
export type LoadedNodeSet =
  | { readonly nodes: readonly DiscoveredNode[]; readonly savedAt: string; readonly file: string }
  | { readonly problem: string; readonly file: string };

/** Loads the node set saved for this spec's cluster and selector. */
export function loadNodeSet(stateDir: string, spec: Pick<AgentSpec, 'cluster' | 'discovery'>): LoadedNodeSet {
  const file = nodeSetFile(stateDir);
  let text: string;
  try {
    // A saved set of the most nodes discovery takes is a few tens of KiB; a bigger file is not ours.
    text = readBoundedFile(file, MAX_NODE_SET_FILE_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? `no node set was saved at ${file}` : `cannot read ${file}: ${(e as Error).message}`, file };
  }
  let saved: SavedNodeSet;
  try {
    saved = JSON.parse(text);
  } catch (e) {
    return { problem: `${file} is not JSON: ${(e as Error).message}`, file };
  }
  if (saved === null || typeof saved !== 'object' || saved.version !== 1 || !Array.isArray(saved.nodes) || typeof saved.savedAt !== 'string') {
    return { problem: `${file} is not a saved node set`, file };
  }
  if (saved.cluster !== spec.cluster || canonical(saved.nodeSelector) !== canonical(spec.discovery?.nodeSelector ?? {})) {
    return { problem: `${file} was saved for cluster ${JSON.stringify(saved.cluster)} with nodeSelector ${canonical(saved.nodeSelector)}, not this spec's`, file };
  }
  return { nodes: nodesOf(saved.nodes), savedAt: saved.savedAt, file };
}

/** The nodes of a node set read from a file: the known fields of each entry that has a name. */
export function nodesOf(entries: readonly unknown[]): DiscoveredNode[] {
  return entries.filter((n): n is DiscoveredNode => n !== null && typeof n === 'object' && typeof (n as DiscoveredNode).name === 'string' && (n as DiscoveredNode).name !== '').map(plainNode);
}

function plainNode(n: DiscoveredNode): DiscoveredNode {
  return {
    name: n.name,
    ...(typeof n.internalIPv4 === 'string' ? { internalIPv4: n.internalIPv4 } : {}),
    ...(typeof n.internalIPv6 === 'string' ? { internalIPv6: n.internalIPv6 } : {}),
    ready: n.ready === true,
    unschedulable: n.unschedulable === true,
    ...(n.excludedFromLoadBalancers === true ? { excludedFromLoadBalancers: true } : {}),
  };
}

function canonical(selector: unknown): string {
  if (selector === null || typeof selector !== 'object') return JSON.stringify(selector);
  const record = selector as Record<string, unknown>;
  return JSON.stringify(Object.keys(record).sort().map((k) => [k, record[k]]));
}
