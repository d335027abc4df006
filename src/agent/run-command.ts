/**
 * `keepalived-agent run`: the discovery sidecar next to keepalived (same pod, shared process namespace,
 * same uid). It watches the Nodes that match the cluster's nodeSelector and, when the node set changes
 * the rendered config, rewrites keepalived.conf atomically and sends keepalived SIGHUP:
 * - no change to the config, no reload (kubelet heartbeats, readiness flaps);
 * - at most one reload per `discovery.minReloadIntervalSeconds`: a change opens a window of that
 *   length, and the latest node set at its end is applied (a burst becomes one reload); the first
 *   node list after start is applied at once;
 * - each node set that passes the bounds below is saved in `--state-dir` for `render` after a restart;
 * - while the API is away it keeps retrying with backoff and touches nothing; a node set without this
 *   node (its label removed, the pod about to go) is not applied either;
 * - a node set over `discovery.maxNodes`, or one that adds, removes or re-addresses more than
 *   `discovery.maxNodeSetChange` of the applied set at once, is not applied: keepalived keeps its
 *   config, the log says why at error level, and `nodeSetStatus()` says so (see discovery-limits.ts).
 *   The informer never holds more than `maxNodes` nodes, whatever the API server sends.
 *
 * Participants come from Nodes, not from the DaemonSet's own pods: with NodeRestriction a kubelet can
 * change only its own Node and its own pods' status, so a compromised kubelet adds one participant at
 * an address of its choosing either way; the bounds here and the README's nodeSelector advice
 * (node-restriction.kubernetes.io/ labels) are what limit it. See the README's Security section.
 * With `discovery.leases`, it follows keepalived's notify_fifo and holds each group's Lease while this
 * node is master (see leases.ts). SIGTERM stops it (exit 0) within a second.
 */
import { readFileSync } from 'fs';
import { parseCidr } from '../core/address';
import { AgentSpec, leaseName } from '../core/agent-spec';
import { describeNodeSetChange, diffNodeSets, DiscoveredNode } from '../core/discovered-nodes';
import { DiscoveryLimits, discoveryLimitsOf, nodeSetProblem } from '../core/discovery-limits';
import { formatKeepalivedConf, NodePlan, vrrpInstanceName } from '../core/keepalived-conf';
import { RunOptions } from './cli';
import { podClient } from './discovery';
import { loadNodeSet, saveNodeSet } from './discovery-state';
import { probeKeepalived, Reloader } from './keepalived-process';
import { KubeClient } from './kube-client';
import { LeaseKeeper, leaseGroupsOf } from './leases';
import { backoffDelay, labelSelectorOf, Logger, NodeWatch } from './node-watch';
import { NotifyFifoReader } from './notify-fifo';
import { AgentEnvironment, AgentInputError, excludedPeersOf, planFor, readSpec, readView, summaryOf, writeConfig } from './render-command';

/** Whether the last node set the API gave was applied, for logs and metrics. */
export interface NodeSetStatus {
  /**
   * `applied`: keepalived.conf follows the API's node set (or none has come yet);
   * `over-cap`: more nodes match than `discovery.maxNodes`; `change-too-large`: the set changed by
   * more than `discovery.maxNodeSetChange` at once; `not-member`: this node is not in the set;
   * `render-failed`: the set did not render. In every state but `applied`, keepalived keeps its config.
   */
  readonly state: 'applied' | 'over-cap' | 'change-too-large' | 'not-member' | 'render-failed';
  /** Why, when not `applied`. */
  readonly reason?: string;
}

/** A running sidecar. */
export interface RunningAgent {
  /** Stops everything (releasing held Leases within half a second); resolves when done. */
  stop(): Promise<void>;
  /** Whether the latest node set was applied, and why not. */
  nodeSetStatus(): NodeSetStatus;
}

/** Starts the sidecar; throws (exit 1) when the spec cannot be read or has no discovery. */
export function startRun(options: RunOptions, env: AgentEnvironment, logger: Logger): RunningAgent {
  const spec = readSpec(options.specFile);
  const discovery = spec.discovery;
  if (discovery === undefined || discovery === null || typeof discovery !== 'object') {
    throw new AgentInputError(`run watches the API for spec.discovery, and ${options.specFile} has none: without discovery, render alone is enough`);
  }
  labelSelectorOf(discovery.nodeSelector ?? {}); // throws on a selector the API would misread
  return new Sidecar(spec, options, env, logger);
}

class Sidecar implements RunningAgent {
  private readonly reloader: Reloader;
  private readonly intervalMs: number;
  private readonly limits: DiscoveryLimits;
  private status: NodeSetStatus = { state: 'applied' };
  private client: KubeClient | undefined;
  private watch: NodeWatch | undefined;
  private fifo: NotifyFifoReader | undefined;
  private keeper: LeaseKeeper | undefined;
  /** The node set the config on disk was last rendered from (or, at start, the saved one). */
  private applied: readonly DiscoveredNode[] | undefined;
  private latest: readonly DiscoveredNode[] | undefined;
  /** The first node list has been applied (its message names every node). */
  private appliedOnce = false;
  private window: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private connectAttempts = 0;
  private stopped = false;

  constructor(
    private readonly spec: AgentSpec,
    private readonly options: RunOptions,
    private readonly env: AgentEnvironment,
    private readonly logger: Logger,
  ) {
    const discovery = spec.discovery!;
    // spec.json is read as untrusted: the synth-time validator's predicates, with a floor/default.
    const { limits, problems } = discoveryLimitsOf(discovery);
    for (const problem of problems) logger.error(problem);
    this.limits = limits;
    this.intervalMs = limits.minReloadIntervalSeconds * 1000;
    this.reloader = new Reloader({
      pidFile: options.pidFile,
      logger,
      retryMs: options.retryMs,
      // keepalived makes a new notify fifo on every reload: look for it soon.
      onReloaded: () => setTimeout(() => this.fifo?.check(), 100).unref(),
    });
    if (options.stateDir !== undefined) {
      const saved = loadNodeSet(options.stateDir, spec);
      if ('nodes' in saved) this.applied = saved.nodes;
    }
    logger.info(`watching the Nodes with ${JSON.stringify(labelSelectorOf(discovery.nodeSelector ?? {}))} for cluster ${spec.cluster} on node ${options.nodeName}; `
      + `reloads at most every ${this.intervalMs / 1000} s; at most ${limits.maxNodes} nodes, at most ${limits.maxNodeSetChange} of them changed at once`
      + `${discovery.leases ? `; Leases in namespace ${discovery.namespace}` : ''}`);
    this.connect();
  }

  nodeSetStatus(): NodeSetStatus {
    return this.status;
  }

  /** Keeps keepalived's config, and says why once per reason. */
  private refuse(state: NodeSetStatus['state'], reason: string, level: 'warn' | 'error'): void {
    if (this.status.state !== state || this.status.reason !== reason) this.logger[level](`${reason}: keepalived keeps its config`);
    this.status = { state, reason };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.window !== undefined) clearTimeout(this.window);
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.reloader.stop();
    this.fifo?.stop();
    await Promise.all([this.watch?.stop(), this.keeper?.stop(500)]);
  }

  /** Makes the API client (retried with backoff outside a pod or without a token), then starts. */
  private connect(): void {
    if (this.stopped) return;
    try {
      this.client = podClient({ env: this.env, serviceAccountDir: this.options.serviceAccountDir });
    } catch (e) {
      const delay = backoffDelay(this.connectAttempts++, { initialMs: 1000, maxMs: this.options.apiBackoffMs ?? 30_000 });
      this.logger.error(`cannot reach the API: ${(e as Error).message}; retrying in ${delay} ms (keepalived keeps its config)`);
      this.connectTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    const maxMs = this.options.apiBackoffMs ?? 30_000;
    this.watch = new NodeWatch({
      client: this.client,
      nodeSelector: this.spec.discovery!.nodeSelector ?? {},
      onChange: (nodes) => this.onChange(nodes),
      logger: this.logger,
      backoff: { initialMs: Math.min(500, maxMs), maxMs },
      maxNodes: this.limits.maxNodes,
      onTooMany: (seen, max) => {
        // Pending changes must not be applied meanwhile; the next list that fits starts over.
        this.latest = undefined;
        this.refuse('over-cap', `more than discovery.maxNodes (${max}) nodes match the nodeSelector (${seen} seen)`, 'error');
      },
    });
    this.watch.start();
    this.startLeases(this.client);
  }

  private onChange(nodes: readonly DiscoveredNode[]): void {
    if (this.stopped) return;
    const first = !this.appliedOnce && this.latest === undefined;
    this.latest = nodes;
    if (nodes.length > this.limits.maxNodes) {
      this.refuse('over-cap', nodeSetProblem(nodes, undefined, this.limits)!, 'error');
      return;
    }
    if (first) {
      this.apply();
      return;
    }
    if (this.window === undefined) {
      this.logger.debug(`the node set changed; applying it in ${this.intervalMs} ms (minReloadIntervalSeconds)`);
      this.window = setTimeout(() => {
        this.window = undefined;
        this.apply();
      }, this.intervalMs);
    }
  }

  /** Renders from the latest node set; writes and reloads only when the config changes. */
  private apply(): void {
    const nodes = this.latest;
    if (nodes === undefined || this.stopped) return;
    if (!nodes.some((n) => n.name === this.options.nodeName)) {
      // The DaemonSet runs only on matching nodes: a list without this one is a selector that changed
      // under the pod (which is about to go) or a wrong answer. Rendering from it would drop peers.
      this.refuse('not-member', `this node (${this.options.nodeName}) is not among the ${nodes.length} node(s) the API lists for the selector`, 'warn');
      return;
    }
    // The first set after start is what render (or the operator's restart) already accepted; later
    // ones are compared with the set the config on disk came from.
    const problem = nodeSetProblem(nodes, this.appliedOnce ? this.applied : undefined, this.limits);
    if (problem !== undefined) {
      this.refuse(problem.includes('maxNodes') ? 'over-cap' : 'change-too-large', `not applying the node set (${describeNodeSetChange(diffNodeSets(this.applied ?? [], nodes))}): ${problem}`, 'error');
      return;
    }
    // Saved only once it passes the guard, so that a restart without the API never renders a set
    // that was refused.
    if (this.options.stateDir !== undefined) {
      try {
        saveNodeSet(this.options.stateDir, this.spec, nodes);
      } catch (e) {
        this.logger.warn(`cannot save the node set in --state-dir ${this.options.stateDir}: ${(e as Error).message}`);
      }
    }
    let why: string;
    if (!this.appliedOnce) {
      const since = this.applied === undefined ? '' : ` (${describeNodeSetChange(diffNodeSets(this.applied, nodes))} since the saved node set)`;
      why = `${nodes.length} node${nodes.length === 1 ? '' : 's'} from the API: ${nodes.map((n) => n.name).join(', ')}${since}`;
      this.appliedOnce = true;
    } else {
      why = describeNodeSetChange(diffNodeSets(this.applied ?? [], nodes));
    }
    let plan: NodePlan;
    try {
      plan = planFor(this.spec, this.options, this.env, nodes);
    } catch (e) {
      this.refuse('render-failed', `cannot render keepalived.conf for the node set (${why}): ${(e as Error).message}`, 'error');
      return;
    }
    this.status = { state: 'applied' };
    for (const line of excludedPeersOf(plan)) this.logger.warn(line);
    const text = formatKeepalivedConf(plan);
    let current: string | undefined;
    try {
      current = readFileSync(this.options.outFile, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) {
      this.logger.info(`node set: ${why}; keepalived.conf is unchanged: no reload`);
      this.applied = nodes;
      return;
    }
    try {
      writeConfig(this.options.outFile, text);
    } catch (e) {
      this.logger.error(`${(e as Error).message}; keepalived keeps its config`);
      return;
    }
    const writtenAt = Date.now();
    this.applied = nodes;
    this.logger.info(`reloading keepalived: ${why}; ${summaryOf(plan, this.options.outFile)}`);
    this.reloader.request(writtenAt, why);
  }

  private startLeases(client: KubeClient): void {
    const discovery = this.spec.discovery!;
    if (discovery.leases !== true) return;
    if (this.options.notifyFifo === undefined) {
      this.logger.warn('discovery.leases is set but --notify-fifo is not: this node cannot know when it is master, so it publishes no Lease');
      return;
    }
    const groups = Array.isArray(this.spec.groups) ? this.spec.groups : [];
    const byInstance = new Map(groups.map((g) => [vrrpInstanceName(this.spec.cluster, g.name), g.name]));
    const keeper = new LeaseKeeper({
      client,
      namespace: discovery.namespace,
      nodeName: this.options.nodeName,
      cluster: this.spec.cluster,
      leaseDurationSeconds: discovery.leaseDurationSeconds,
      groups: leaseGroupsOf(groups, (vrid) => leaseName(discovery, vrid)),
      logger: this.logger,
      keepalivedProblem: () => {
        const found = probeKeepalived(this.options.pidFile);
        return 'problem' in found ? found.problem : undefined;
      },
      looksMaster: (group) => this.holdsAddressesOf(group),
    });
    this.keeper = keeper;
    this.fifo = new NotifyFifoReader({
      path: this.options.notifyFifo,
      pollMs: this.options.retryMs,
      logger: this.logger,
      onEvent: (event) => {
        if (event.kind !== 'INSTANCE') return;
        const group = byInstance.get(event.name);
        if (group === undefined) {
          this.logger.debug(`notify fifo: instance ${JSON.stringify(event.name)} is not one of this cluster's groups`);
          return;
        }
        this.logger.info(`group ${group}: keepalived says ${event.state}${event.priority === undefined ? '' : ` (priority ${event.priority})`}`);
        keeper.setState(group, event.state);
      },
    });
    this.fifo.start();
    keeper.start();
  }

  /** Whether every address of a group is on this node right now. */
  private holdsAddressesOf(groupName: string): boolean {
    const group = this.spec.groups.find((g) => g.name === groupName);
    if (!group || !Array.isArray(group.addresses) || group.addresses.length === 0) return false;
    try {
      const held = new Set(readView(this.options, this.env).interfaces.flatMap((i) => i.addresses.map((a) => parseCidr(a)?.address.text)));
      return group.addresses.every((v) => held.has(parseCidr(v.address)?.address.text));
    } catch {
      return false;
    }
  }
}
