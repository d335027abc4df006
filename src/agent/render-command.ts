/**
 * `keepalived-agent render`: reads the spec and the node, writes keepalived.conf atomically, and
 * returns the lines to print. Nothing is written unless every group renders.
 *
 * With `spec.discovery`, the node set comes from the API (one list, bounded in time), else from the
 * last node set saved in `--state-dir` (by `run`: `render` only reads it, and may run as a user that
 * cannot write there), else from the spec's static order and peers. The first line says which source
 * was used. Next to the config, a record says where its node set came from, and holds that set.
 */
import { existsSync } from 'fs';
import { readBoundedFile } from './bounded-read';
import { AgentSpec } from '../core/agent-spec';
import { deriveDiscoveredView, DiscoveredNode, DiscoveredView } from '../core/discovered-nodes';
import { formatKeepalivedConf, NodePlan, planNode, RenderNode } from '../core/keepalived-conf';
import { ConfigSource, CONFIG_SOURCES } from '../core/monitoring/metrics-options';
import { TRACK_FILE_FAILING } from '../core/health-spec';
import { NodeView } from '../core/node-view';
import { writeFileAtomic } from './atomic-file';
import { NodeOptions, RenderOptions } from './cli';
import { discoverNodes } from './discovery';
import { MAX_NODE_SET_FILE_BYTES, nodesOf } from './discovery-state';
import { InterfaceTable, readNodeAddresses, readNodeView } from './node-view-linux';

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
  let source: ConfigSource = 'static';
  if (spec.discovery !== undefined && spec.discovery !== null) {
    const found = await discoverNodes(spec, { env, serviceAccountDir: options.serviceAccountDir }, options.stateDir, options.apiTimeoutMs);
    source = found.kind;
    lines.push(found.kind === 'static' ? `${found.message}: ${staticDescription(spec)}` : found.message);
    if (found.kind !== 'static') nodes = found.nodes;
  }
  const plan = planFor(spec, options, env, nodes);
  warnings.push(...excludedPeersOf(plan));
  writeConfig(options.outFile, formatKeepalivedConf(plan));
  seedTrackFiles(plan);
  lines.push(summaryOf(plan, options.outFile));
  // `run` reads the record: its metrics, and in discovery mode its guard (which set the config came
  // from). Without either, the volume holds keepalived.conf alone.
  if (spec.metrics !== undefined || (spec.discovery !== undefined && spec.discovery !== null)) try {
    saveConfigSource(options.outFile, { source, nodes });
  } catch (e) {
    warnings.push(`cannot record where the config's node set came from in ${configSourceFile(options.outFile)}: ${(e as Error).message}`);
  }
  return { lines, warnings };
}

/** Where `render` and `run` record the source of the config they wrote: next to it, in the same volume. */
export function configSourceFile(outFile: string): string {
  return `${outFile}.source`;
}

/** Where the node set of a config came from, and the set itself (none for the static fallback). */
export interface ConfigOrigin {
  readonly source: ConfigSource;
  readonly nodes?: readonly DiscoveredNode[];
}

/**
 * Records where the node set of the config in `outFile` came from, and that set: `run`'s metrics,
 * and its guard, which compares each new set with the one the config on disk came from. Throws on failure.
 */
export function saveConfigSource(outFile: string, origin: ConfigOrigin, now: Date = new Date()): void {
  const record = { version: 1, source: origin.source, renderedAt: now.toISOString(), ...(origin.nodes === undefined ? {} : { nodes: origin.nodes }) };
  writeFileAtomic(configSourceFile(outFile), `${JSON.stringify(record)}\n`, 0o644);
}

/** The recorded origin of the config in `outFile`, when there is a valid record. */
export function loadConfigSource(outFile: string): ConfigOrigin | undefined {
  try {
    // The record holds at most the node set that nodes.json holds.
    const record = JSON.parse(readBoundedFile(configSourceFile(outFile), MAX_NODE_SET_FILE_BYTES));
    if (record === null || typeof record !== 'object' || record.version !== 1 || !(CONFIG_SOURCES as readonly unknown[]).includes(record.source)) return undefined;
    return { source: record.source, ...(Array.isArray(record.nodes) ? { nodes: nodesOf(record.nodes) } : {}) };
  } catch {
    return undefined;
  }
}

/** The plan for this node: from a discovered node set when given, else the spec's static view. */
export function planFor(spec: AgentSpec, options: NodeOptions, env: AgentEnvironment, nodes: readonly DiscoveredNode[] | undefined, view?: NodeView): NodePlan {
  const authPass = options.authPassFile === undefined ? undefined : readAuthPass(options.authPassFile);
  const node: RenderNode = {
    nodeName: options.nodeName,
    hostIp: options.hostIp,
    authPass,
    // notify_fifo only where something reads it: `run` with discovery's Leases, or with metrics.
    notifyFifo: spec.discovery?.leases === true || spec.metrics !== undefined ? options.notifyFifo : undefined,
    trackDir: options.trackDir,
  };
  const discovered: DiscoveredView | undefined = nodes === undefined
    ? undefined
    : deriveDiscoveredView(spec, nodes, { nodeName: options.nodeName, hostIp: options.hostIp });
  return planNode(spec, view ?? readView(options, env), node, discovered);
}

/** The node's interfaces and routes (or the test hook's). */
export function readView(options: NodeOptions, env: AgentEnvironment): NodeView {
  return readNodeView({ procRoot: env.KEEPALIVED_AGENT_PROC || undefined, interfaces: interfaceTableOf(options) });
}

/** The addresses on this node's interfaces (`readNodeAddresses`). */
export function readAddresses(options: NodeOptions): string[] {
  return readNodeAddresses({ interfaces: interfaceTableOf(options) });
}

/** The interface table of `--interfaces-json` (tests), else the node's own. */
function interfaceTableOf(options: NodeOptions): InterfaceTable | undefined {
  return options.interfacesJsonFile === undefined ? undefined : readJson(options.interfacesJsonFile, '--interfaces-json') as InterfaceTable;
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

/**
 * Creates each track file that does not exist yet as failing, before keepalived starts: keepalived
 * 2.3 resolves a track file's path when it reads its config, and one that is missing is then not
 * watched. The sidecar's prober takes them over (by rename) once its checks rise.
 */
export function seedTrackFiles(plan: NodePlan): void {
  for (const track of plan.trackFiles) {
    if (existsSync(track.path)) continue;
    try {
      writeFileAtomic(track.path, `${TRACK_FILE_FAILING}\n`, 0o664, false);
    } catch (e) {
      throw new AgentInputError(`cannot create the track file ${track.path}: ${(e as Error).message}`);
    }
  }
}

/** `wrote FILE for node N (cluster C): front-1 on eth0 priority 250 (master); ...` */
export function summaryOf(plan: NodePlan, outFile: string): string {
  const groups = [
    ...plan.instances.map((i) => `${i.group.name} on ${i.interface} priority ${i.priority} (${i.role})`),
    ...(plan.releasedGroups ?? []).map((g) => `${g} released (this node is drained)`),
  ];
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
    return readBoundedFile(file);
  } catch (e) {
    throw new AgentInputError(`cannot read ${flag} ${file}: ${(e as Error).message}`);
  }
}

/** Log lines for the discovered peers a plan left out, and why. */
export function excludedPeersOf(plan: NodePlan): string[] {
  const lines = (plan.refusedPeers ?? []).map((p) => `not a unicast peer: ${p}`);
  for (const i of plan.instances) {
    if (i.peersOutsideNetwork !== undefined) {
      lines.push(`group ${i.group.name}: not unicast peers, outside the networks of ${i.interface} (discovery.peersInInterfaceNetwork): ${i.peersOutsideNetwork.join(', ')}`);
    }
  }
  return lines;
}
