/**
 * `keepalived-agent render`: reads the spec and the node, writes keepalived.conf atomically, and
 * returns the lines to print. Nothing is written unless every group renders.
 *
 * With `spec.discovery`, the node set comes from the API (one list, bounded in time), else from the
 * last node set saved in `--state-dir`, else from the spec's static order and peers; a node set from
 * the API is saved for the next time. The first line says which source was used.
 */
import { readFileSync } from 'fs';
import { AgentSpec } from '../core/agent-spec';
import { deriveDiscoveredView, DiscoveredNode, DiscoveredView } from '../core/discovered-nodes';
import { formatKeepalivedConf, NodePlan, planNode, RenderNode } from '../core/keepalived-conf';
import { NodeView } from '../core/node-view';
import { writeFileAtomic } from './atomic-file';
import { NodeOptions, RenderOptions } from './cli';
import { discoverNodes } from './discovery';
import { saveNodeSet } from './discovery-state';
import { InterfaceTable, readNodeView } from './node-view-linux';

/** A file the agent was pointed at cannot be read, parsed or written: exit 1. */
export class AgentInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentInputError';
  }
}

/** Environment the agent reads. */
export interface AgentEnvironment {
  /** Overrides the /proc root for network files, for tests. */
  readonly KEEPALIVED_AGENT_PROC?: string;
  /** Overrides the /sys root for interface link states, for tests. */
  readonly KEEPALIVED_AGENT_SYS?: string;
  /** The API server, as the kubelet sets them. */
  readonly KUBERNETES_SERVICE_HOST?: string;
  readonly KUBERNETES_SERVICE_PORT?: string;
  readonly [name: string]: string | undefined;
}

/** What `render` prints: lines for stdout, and warnings for stderr. */
export interface RenderOutcome {
  readonly lines: readonly string[];
  readonly warnings: readonly string[];
}

/** Renders and writes this node's keepalived.conf; returns what to print. Throws on any failure. */
export async function renderCommand(options: RenderOptions, env: AgentEnvironment): Promise<RenderOutcome> {
  const spec = readSpec(options.specFile);
  const lines: string[] = [];
  const warnings: string[] = [];
  let nodes: readonly DiscoveredNode[] | undefined;
  if (spec.discovery !== undefined && spec.discovery !== null) {
    const source = await discoverNodes(spec, { env, serviceAccountDir: options.serviceAccountDir }, options.stateDir, options.apiTimeoutMs);
    lines.push(source.kind === 'static' ? `${source.message}: ${staticDescription(spec)}` : source.message);
    if (source.kind !== 'static') nodes = source.nodes;
    if (source.kind === 'api' && options.stateDir !== undefined) {
      try {
        saveNodeSet(options.stateDir, spec, source.nodes);
      } catch (e) {
        warnings.push(`cannot save the node set in --state-dir ${options.stateDir}: ${(e as Error).message}`);
      }
    }
  }
  const plan = planFor(spec, options, env, nodes);
  writeConfig(options.outFile, formatKeepalivedConf(plan));
  lines.push(summaryOf(plan, options.outFile));
  return { lines, warnings };
}

/** The plan for this node: from a discovered node set when given, else the spec's static view. */
export function planFor(spec: AgentSpec, options: NodeOptions, env: AgentEnvironment, nodes: readonly DiscoveredNode[] | undefined, view?: NodeView): NodePlan {
  const authPass = options.authPassFile === undefined ? undefined : readAuthPass(options.authPassFile);
  const node: RenderNode = {
    nodeName: options.nodeName,
    hostIp: options.hostIp,
    authPass,
    // notify_fifo only where something reads it: discovery with Leases.
    notifyFifo: spec.discovery?.leases === true ? options.notifyFifo : undefined,
    trackDir: options.trackDir,
  };
  const discovered: DiscoveredView | undefined = nodes === undefined
    ? undefined
    : deriveDiscoveredView(spec, nodes, { nodeName: options.nodeName, hostIp: options.hostIp });
  return planNode(spec, view ?? readView(options, env), node, discovered);
}

/** The node's interfaces and routes (or the test hook's). */
export function readView(options: NodeOptions, env: AgentEnvironment): NodeView {
  return readNodeView({
    procRoot: env.KEEPALIVED_AGENT_PROC || undefined,
    interfaces: options.interfacesJsonFile === undefined ? undefined : readJson(options.interfacesJsonFile, '--interfaces-json') as InterfaceTable,
  });
}

/** Reads spec.json. */
export function readSpec(file: string): AgentSpec {
  return readJson(file, '--spec') as AgentSpec;
}

/**
 * Writes keepalived.conf atomically, mode 0640 (it may hold the auth password; the group, the pod's
 * fsGroup on its emptyDir, lets a non-root keepalived read it); `AgentInputError` on failure.
 */
export function writeConfig(outFile: string, text: string): void {
  try {
    writeFileAtomic(outFile, text, 0o640);
  } catch (e) {
    throw new AgentInputError(`cannot write --out ${outFile}: ${(e as Error).message}`);
  }
}

/** `wrote FILE for node N (cluster C): front-1 on eth0 priority 250 (master); ...` */
export function summaryOf(plan: NodePlan, outFile: string): string {
  const groups = plan.instances.map((i) => `${i.group.name} on ${i.interface} priority ${i.priority} (${i.role})`);
  const tracks = plan.trackFiles.length === 0 ? '' : `; health checks tracked in ${plan.trackFiles.map((t) => t.path).join(', ')}`;
  return `wrote ${outFile} for node ${plan.nodeName} (cluster ${plan.cluster}): ${groups.join('; ') || 'no groups'}${tracks}`;
}

function staticDescription(spec: AgentSpec): string {
  const order = Array.isArray(spec.nodeOrder) ? `spec.nodeOrder (${spec.nodeOrder.length} nodes)` : 'rendezvous hashing';
  const peers = Array.isArray(spec.unicastPeers) ? 'spec.unicastPeers' : 'multicast';
  return `${order} and ${peers}`;
}

/** The password without the line end that `echo` or an editor leaves in a Secret's file. */
function readAuthPass(file: string): string {
  return readText(file, '--auth-pass-file').replace(/\r?\n$/, '');
}

function readJson(file: string, flag: string): unknown {
  const text = readText(file, flag);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AgentInputError(`${flag} ${file} is not JSON: ${(e as Error).message}`);
  }
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AgentInputError(`cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
}
