/**
 * `keepalived-agent run`: the sidecar next to keepalived (same pod). With `spec.healthChecks` it
 * probes them and keeps their track files (see health.ts); it needs no API server for that. With
 * `spec.discovery` (shared process namespace, keepalived's uid) it also watches the Nodes that match the cluster's nodeSelector and, when the node set changes
 * the rendered config, rewrites keepalived.conf atomically and sends keepalived SIGHUP:
 * - no change to the config, no reload (kubelet heartbeats, readiness flaps);
 * - at most one reload per `discovery.minReloadIntervalSeconds`: a change opens a window of that
 *   length, and the latest node set at its end is applied (a burst becomes one reload); the first
 *   node list after start is applied at once;
 * - each node set the API gives is saved in `--state-dir` for `render` after a restart;
 * - while the API is away it keeps retrying with backoff and touches nothing; a node set without this
 *   node (its label removed, the pod about to go) is not applied either.
 * With `discovery.leases`, it follows keepalived's notify_fifo and holds each group's Lease while this
 * node is master (see leases.ts). SIGTERM stops it (exit 0) within a second.
 */
import { readFileSync } from 'fs';
import { parseCidr } from '../core/address';
import { AgentSpec, leaseName } from '../core/agent-spec';
import { describeNodeSetChange, diffNodeSets, DiscoveredNode } from '../core/discovered-nodes';
import { formatKeepalivedConf, NodePlan, vrrpInstanceName } from '../core/keepalived-conf';
import { RunOptions } from './cli';
import { podClient } from './discovery';
import { loadNodeSet, saveNodeSet } from './discovery-state';
import { HealthProber, healthProberFor, HealthSetupError, HealthStatusSource } from './health';
import { probeKeepalived, Reloader } from './keepalived-process';
import { KubeClient } from './kube-client';
import { LeaseKeeper, leaseGroupsOf } from './leases';
import { backoffDelay, labelSelectorOf, Logger, NodeWatch } from './node-watch';
import { NotifyFifoReader } from './notify-fifo';
import { AgentEnvironment, AgentInputError, planFor, readSpec, readView, summaryOf, writeConfig } from './render-command';

/** A running sidecar. */
export interface RunningAgent {
  /** Stops everything (releasing held Leases within half a second); resolves when done. */
  stop(): Promise<void>;
  /** The health checks' status (for metrics), when the spec has health checks. */
  readonly health?: HealthStatusSource;
}

/**
 * Starts the sidecar: the health checks when the spec has some, discovery when it has
 * `spec.discovery`, and with neither it idles until stopped. Throws (exit 1) when the spec cannot be
 * read, or its health checks or node selector cannot run.
 */
export function startRun(options: RunOptions, env: AgentEnvironment, logger: Logger): RunningAgent {
  const spec = readSpec(options.specFile);
  const discovery = spec.discovery;
  const hasDiscovery = discovery !== undefined && discovery !== null;
  if (hasDiscovery) {
    if (typeof discovery !== 'object') throw new AgentInputError(`spec.discovery in ${options.specFile} is not an object`);
    labelSelectorOf(discovery.nodeSelector ?? {}); // throws on a selector the API would misread
  }
  let health: HealthProber | undefined;
  try {
    health = healthProberFor(spec, options.trackDir, logger, { sysRoot: env.KEEPALIVED_AGENT_SYS || undefined });
  } catch (e) {
    if (e instanceof HealthSetupError) throw new AgentInputError(e.message);
    throw e;
  }
  health?.start();
  const sidecar = hasDiscovery ? new Sidecar(spec, options, env, logger) : undefined;
  if (!health && !sidecar) logger.info(`cluster ${spec.cluster} has no health checks and no discovery: nothing to do until stopped`);
  return {
    health,
    stop: async () => {
      await Promise.all([health?.stop(), sidecar?.stop()]);
    },
  };
}

/** Discovery: the node watch, reloads and Leases. */
class Sidecar {
  private readonly reloader: Reloader;
  private readonly intervalMs: number;
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
    this.intervalMs = Math.max(0, Number(discovery.minReloadIntervalSeconds) || 0) * 1000;
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
      + `reloads at most every ${this.intervalMs / 1000} s${discovery.leases ? `; Leases in namespace ${discovery.namespace}` : ''}`);
    this.connect();
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
    });
    this.watch.start();
    this.startLeases(this.client);
  }

  private onChange(nodes: readonly DiscoveredNode[]): void {
    if (this.stopped) return;
    const first = this.latest === undefined;
    this.latest = nodes;
    if (this.options.stateDir !== undefined) {
      try {
        saveNodeSet(this.options.stateDir, this.spec, nodes);
      } catch (e) {
        this.logger.warn(`cannot save the node set in --state-dir ${this.options.stateDir}: ${(e as Error).message}`);
      }
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
      this.logger.warn(`this node (${this.options.nodeName}) is not among the ${nodes.length} node(s) the API lists for the selector: keepalived keeps its config`);
      return;
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
      this.logger.error(`cannot render keepalived.conf for the node set (${why}); keepalived keeps its config: ${(e as Error).message}`);
      return;
    }
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
