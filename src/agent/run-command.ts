/**
 * `keepalived-agent run`: the sidecar next to keepalived (same pod). With `spec.healthChecks` it
 * probes them and keeps their track files (see health.ts); it needs no API server for that. With
 * `spec.discovery` (shared process namespace, keepalived's uid) it also watches the Nodes that match the cluster's nodeSelector and, when the node set changes
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
 * node is master (see leases.ts).
 * With `spec.metrics` (or `--metrics-port`), it serves Prometheus metrics (see metrics.ts), fed by the
 * notify_fifo and its own state; this works without discovery too (then `run` only serves metrics).
 * SIGTERM stops it (exit 0) within a second.
 */
import { readFileSync } from 'fs';
import { isIP } from 'net';
import { parseCidr } from '../core/address';
import { AgentSpec, leaseName } from '../core/agent-spec';
import { describeNodeSetChange, diffNodeSets, DiscoveredNode, isDraining } from '../core/discovered-nodes';
import { DiscoveryLimits, discoveryLimitsOf, nodeSetProblem } from '../core/discovery-limits';
import { formatKeepalivedConf, NodePlan } from '../core/keepalived-conf';
import { metricsPortIssues } from '../core/monitoring/metrics-options';
import { RunOptions } from './cli';
import { podClient } from './discovery';
import { loadNodeSet, saveNodeSet } from './discovery-state';
import { HealthProber, healthProberFor, HealthSetupError, HealthStatusSource } from './health';
import { probeKeepalived, Reloader } from './keepalived-process';
import { KubeClient } from './kube-client';
import { LeaseKeeper, leaseGroupsOf } from './leases';
import { AgentMetrics, groupLabelsOfPlan, groupLabelsOfSpec, MetricsEndpoint, MetricsServer, serveMetrics } from './metrics';
import { backoffDelay, labelSelectorOf, Logger, NodeWatch } from './node-watch';
import { NotifyFifoReader } from './notify-fifo';
import { AgentEnvironment, AgentInputError, excludedPeersOf, loadConfigSource, planFor, readAddresses, readSpec, saveConfigSource, summaryOf, writeConfig } from './render-command';

/** How much later than the others a node that has just been drained applies the change (ms). */
export const DRAIN_RELEASE_DELAY_MS = 2000;

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
  /**
   * Resolves once the metrics endpoint has had its first try (at once without one). A port that cannot
   * be had is logged and tried again with backoff, and nothing else waits for it: the agent is a native
   * sidecar, and one that exits at start keeps keepalived from starting on the node.
   */
  readonly ready: Promise<void>;
  /** The agent's metrics (health checks report through `metrics.setHealthCheck`). */
  readonly metrics: AgentMetrics;
  /** Stops everything (releasing held Leases within half a second); resolves when done. */
  stop(): Promise<void>;
  /** Whether the latest node set was applied, and why not. */
  nodeSetStatus(): NodeSetStatus;
  /** The health checks' status, when the spec has health checks. */
  readonly health?: HealthStatusSource;
}

/** Starts the sidecar; throws (exit 1) when the spec cannot be read or its discovery or metrics are malformed. */
export function startRun(options: RunOptions, env: AgentEnvironment, logger: Logger): RunningAgent {
  const spec = readSpec(options.specFile);
  const discovery = spec.discovery;
  if (discovery !== undefined && (discovery === null || typeof discovery !== 'object')) {
    throw new AgentInputError(`spec.discovery in ${options.specFile} is not an object`);
  }
  if (discovery) labelSelectorOf(discovery.nodeSelector ?? {}); // throws on a selector the API would misread
  let health: HealthProber | undefined;
  try {
    health = healthProberFor(spec, options.trackDir, logger, { sysRoot: env.KEEPALIVED_AGENT_SYS || undefined });
  } catch (e) {
    if (e instanceof HealthSetupError) throw new AgentInputError(e.message);
    throw e;
  }
  const sidecar = new Sidecar(spec, options, env, logger, metricsEndpointOf(spec, options), health);
  health?.start();
  return sidecar;
}

/** Where to serve metrics: the flags win over `spec.metrics`; undefined for none. */
export function metricsEndpointOf(spec: AgentSpec, options: Pick<RunOptions, 'specFile' | 'metricsPort' | 'metricsAddress'>): MetricsEndpoint | undefined {
  const fromSpec = spec.metrics;
  if (fromSpec !== undefined && (fromSpec === null || typeof fromSpec !== 'object')) {
    throw new AgentInputError(`spec.metrics in ${options.specFile} is not an object`);
  }
  const port = options.metricsPort ?? fromSpec?.port;
  if (port === undefined) return undefined;
  const issues = metricsPortIssues(options.specFile, port, [], options.metricsPort !== undefined ? '--metrics-port' : 'spec.metrics.port');
  if (issues.length > 0) throw new AgentInputError(`${issues[0].field} ${JSON.stringify(port)} ${issues[0].problem}: ${issues[0].expected}`);
  const address = options.metricsAddress ?? fromSpec?.address;
  if (address !== undefined && (typeof address !== 'string' || isIP(address) === 0)) {
    throw new AgentInputError(`spec.metrics.address ${JSON.stringify(address)} in ${options.specFile} is not an IP address`);
  }
  return { port: port as number, ...(address === undefined ? {} : { address }) };
}

/** The longest wait between tries of a metrics port that another listener holds. */
const METRICS_RETRY_MAX_MS = 60_000;

class Sidecar implements RunningAgent {
  readonly ready: Promise<void>;
  readonly metrics: AgentMetrics;
  private server: MetricsServer | undefined;
  private metricsRetry: NodeJS.Timeout | undefined;
  /** What keepalived last said per group, for a LeaseKeeper made after the fifo was read. */
  private readonly states = new Map<string, string>();
  readonly health?: HealthStatusSource;
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
  /**
   * The config on disk at start came from `applied` (render or an earlier run saved the set it rendered
   * from): the first list is held to the rate-of-change guard against it too. Not so after a static
   * fallback, whose config no set describes.
   */
  private startedFromApplied = false;
  private window: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private connectAttempts = 0;
  private stopped = false;

  constructor(
    private readonly spec: AgentSpec,
    private readonly options: RunOptions,
    private readonly env: AgentEnvironment,
    private readonly logger: Logger,
    endpoint: MetricsEndpoint | undefined,
    private readonly prober?: HealthProber,
  ) {
    this.health = prober;
    const discovery = spec.discovery;
    // spec.json is read as untrusted: the synth-time validator's predicates, with a floor/default.
    const { limits, problems } = discoveryLimitsOf(discovery);
    for (const problem of problems) logger.error(problem);
    this.limits = limits;
    this.intervalMs = limits.minReloadIntervalSeconds * 1000;
    this.reloader = new Reloader({
      pidFile: options.pidFile,
      logger,
      retryMs: options.retryMs,
      onReloaded: () => {
        this.metrics.configReloaded();
        // keepalived makes a new notify fifo on every reload: look for it soon.
        setTimeout(() => this.fifo?.check(), 100).unref();
      },
    });
    // The set the config on disk came from: render's (or an earlier run's) record of it, else the
    // set saved on the node (a record from before records held sets).
    const origin = loadConfigSource(options.outFile);
    this.applied = origin?.nodes;
    if (discovery && this.applied === undefined && options.stateDir !== undefined) {
      const saved = loadNodeSet(options.stateDir, spec);
      if ('nodes' in saved) this.applied = saved.nodes;
    }
    this.metrics = new AgentMetrics({
      keepalived: () => probeKeepalived(options.pidFile),
      holdsAddresses: (group) => this.holdsAddressesOf(group),
      discovery: discovery !== undefined,
    });
    this.labelGroups();
    const source = origin?.source ?? (discovery ? undefined : 'static');
    this.startedFromApplied = this.applied !== undefined && (source === 'api' || source === 'saved');
    if (source !== undefined) this.metrics.configSource(source);
    this.metrics.watchApi(() => this.watch !== undefined && this.watch.snapshot !== undefined && this.watch.lastError === undefined);
    if (prober) this.reportHealth(prober);
    if (discovery) {
      logger.info(`watching the Nodes with ${JSON.stringify(labelSelectorOf(discovery.nodeSelector ?? {}))} for cluster ${spec.cluster} on node ${options.nodeName}; `
        + `reloads at most every ${this.intervalMs / 1000} s; at most ${limits.maxNodes} nodes, at most ${limits.maxNodeSetChange} of them changed at once`
        + `${discovery.leases ? `; Leases in namespace ${discovery.namespace}` : ''}`);
    }
    const readsFifo = discovery?.leases === true || endpoint !== undefined;
    if (readsFifo && options.notifyFifo !== undefined) {
      this.startFifo(options.notifyFifo);
    } else if (endpoint !== undefined) {
      this.logger.warn('metrics without --notify-fifo: keepalived\'s states are not known (keepalived_vrrp_state stays INIT)');
    }
    if (endpoint !== undefined && spec.metrics === undefined && options.notifyFifo !== undefined) {
      this.logger.warn('--metrics-port without spec.metrics: render puts notify_fifo in keepalived.conf only with spec.metrics (or discovery.leases), so keepalived may not report its states');
    }
    this.ready = endpoint === undefined ? Promise.resolve() : this.serve(endpoint, 0);
    if (!discovery && endpoint === undefined && !prober) {
      logger.info(`spec has no discovery, no metrics and no health checks: nothing to do for cluster ${spec.cluster} on node ${options.nodeName} until SIGTERM`);
    }
    if (discovery) this.connect();
  }

  /** Serves the metrics; when the port cannot be had (another listener), says so and tries again later. */
  private serve(endpoint: MetricsEndpoint, attempt: number): Promise<void> {
    return serveMetrics(this.metrics, endpoint, this.logger).then(async (server) => {
      if (this.stopped) await server.close();
      else this.server = server;
    }, (e) => {
      if (this.stopped) return;
      const delay = backoffDelay(attempt, { initialMs: this.options.retryMs ?? 1000, maxMs: METRICS_RETRY_MAX_MS });
      this.logger.error(`${(e as Error).message}; keepalived runs on without them, tried again in ${(delay / 1000).toFixed(1)} s`);
      this.metricsRetry = setTimeout(() => { void this.serve(endpoint, attempt + 1); }, delay);
    });
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
    if (this.metricsRetry !== undefined) clearTimeout(this.metricsRetry);
    this.reloader.stop();
    this.fifo?.stop();
    await Promise.all([this.watch?.stop(), this.keeper?.stop(500), this.server?.close(), this.prober?.stop()]);
  }

  /** Each check's state as `keepalived_health_check_up{group,check}`, for every group that follows it. */
  private reportHealth(prober: HealthStatusSource): void {
    const groups = Array.isArray(this.spec.groups) ? this.spec.groups : [];
    const followers = (check: string) => groups.filter((g) => Array.isArray(g.tracks) && g.tracks.some((t: { check: string }) => t.check === check)).map((g) => g.name);
    const report = (status: { name: string; healthy: boolean }) => {
      for (const group of followers(status.name)) this.metrics.setHealthCheck(group, status.name, status.healthy);
    };
    for (const status of prober.statuses()) report(status);
    prober.subscribe(report);
  }

  /** The metrics' labels from the plan of the config in effect (as `render` made it), else from the spec. */
  private labelGroups(): void {
    try {
      this.metrics.setGroups(groupLabelsOfPlan(planFor(this.spec, this.options, this.env, this.applied)));
    } catch (e) {
      this.logger.warn(`metrics: cannot plan this node's config (${(e as Error).message.split('\n')[0]}); interfaces are left out of the labels`);
      this.metrics.setGroups(groupLabelsOfSpec(this.spec));
    }
  }

  /** Reads keepalived's state changes: for the metrics, and for the Leases once their keeper runs. */
  private startFifo(path: string): void {
    this.fifo = new NotifyFifoReader({
      path,
      pollMs: this.options.retryMs,
      logger: this.logger,
      onEvent: (event) => {
        const group = this.metrics.vrrpEvent(event);
        if (event.kind !== 'INSTANCE') return;
        if (group === undefined) {
          this.logger.debug(`notify fifo: instance ${JSON.stringify(event.name)} is not one of this cluster's groups`);
          return;
        }
        this.logger.info(`group ${group}: keepalived says ${event.state}${event.priority === undefined ? '' : ` (priority ${event.priority})`}`);
        this.states.set(group, event.state);
        this.keeper?.setState(group, event.state);
      },
    });
    this.fifo.start();
  }

  /** Makes the API client (retried with backoff outside a pod or without a token), then starts. */
  private connect(): void {
    if (this.stopped) return;
    try {
      this.client = podClient({ env: this.env, serviceAccountDir: this.options.serviceAccountDir });
    } catch (e) {
      this.metrics.apiWatchFailed();
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
      onError: () => this.metrics.apiWatchFailed(),
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
    this.metrics.nodesDiscovered(nodes.length);
    if (nodes.length > this.limits.maxNodes) {
      this.refuse('over-cap', nodeSetProblem(nodes, undefined, this.limits)!, 'error');
      return;
    }
    if (first) {
      this.apply();
      return;
    }
    if (this.window === undefined) {
      // A node that has just been drained applies the change after the others have reloaded theirs:
      // its reload releases its nopreempt groups with a priority-0 advert, which a backup that is
      // itself reloading at that moment would miss (it would then wait out its master-down interval).
      const self = (set: readonly DiscoveredNode[] | undefined) => set?.find((n) => n.name === this.options.nodeName);
      const drained = self(nodes) !== undefined && isDraining(self(nodes)!) && !(self(this.applied) !== undefined && isDraining(self(this.applied)!));
      const delay = this.intervalMs + (drained ? DRAIN_RELEASE_DELAY_MS : 0);
      this.logger.debug(`the node set changed; applying it in ${delay} ms (minReloadIntervalSeconds${drained ? ', and later on a node just drained' : ''})`);
      this.window = setTimeout(() => {
        this.window = undefined;
        this.apply();
      }, delay);
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
    // Every set is compared with the set the config on disk came from: at start, the one render (or,
    // when only this container restarted, an earlier run) recorded next to it. A static fallback's config came from
    // no set: the first one after it is held to maxNodes alone.
    const problem = nodeSetProblem(nodes, this.appliedOnce || this.startedFromApplied ? this.applied : undefined, this.limits);
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
      this.metrics.configRenderFailed();
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
      this.rendered(plan, nodes);
      return;
    }
    try {
      writeConfig(this.options.outFile, text);
    } catch (e) {
      this.metrics.configRenderFailed();
      this.logger.error(`${(e as Error).message}; keepalived keeps its config`);
      return;
    }
    const writtenAt = Date.now();
    this.applied = nodes;
    this.rendered(plan, nodes);
    this.logger.info(`reloading keepalived: ${why}; ${summaryOf(plan, this.options.outFile)}`);
    this.reloader.request(writtenAt, why);
  }

  /** The config in effect now comes from the API's node set, `nodes`. */
  private rendered(plan: NodePlan, nodes: readonly DiscoveredNode[]): void {
    this.metrics.configRendered('api');
    this.metrics.setGroups(groupLabelsOfPlan(plan));
    try {
      saveConfigSource(this.options.outFile, { source: 'api', nodes });
    } catch (e) {
      this.logger.warn(`cannot record the config's source next to ${this.options.outFile}: ${(e as Error).message}`);
    }
  }

  private startLeases(client: KubeClient): void {
    const discovery = this.spec.discovery!;
    if (discovery.leases !== true) return;
    if (this.options.notifyFifo === undefined) {
      this.logger.warn('discovery.leases is set but --notify-fifo is not: this node cannot know when it is master, so it publishes no Lease');
      return;
    }
    const groups = Array.isArray(this.spec.groups) ? this.spec.groups : [];
    const keeper = new LeaseKeeper({
      client,
      namespace: discovery.namespace,
      nodeName: this.options.nodeName,
      cluster: this.spec.cluster,
      leaseDurationSeconds: this.limits.leaseDurationSeconds,
      groups: leaseGroupsOf(groups, (vrid) => leaseName(discovery, vrid)),
      logger: this.logger,
      keepalivedProblem: () => {
        const found = probeKeepalived(this.options.pidFile);
        return 'problem' in found ? found.problem : undefined;
      },
      looksMaster: (group) => this.holdsAddressesOf(group),
      onWrite: (group, operation, ok) => this.metrics.leaseWrite(group, operation, ok),
    });
    this.keeper = keeper;
    this.metrics.watchLeases(() => keeper.held);
    // What keepalived said before the API client existed.
    for (const [group, state] of this.states) keeper.setState(group, state);
    keeper.start();
  }

  /** Whether every address of a group is on this node right now. */
  private holdsAddressesOf(groupName: string): boolean {
    const group = this.spec.groups.find((g) => g.name === groupName);
    if (!group || !Array.isArray(group.addresses) || group.addresses.length === 0) return false;
    try {
      // Addresses only: a scrape asks this for every group whose state keepalived has not reported.
      const held = new Set(readAddresses(this.options).map((a) => parseCidr(a)?.address.text));
      return group.addresses.every((v) => held.has(parseCidr(v.address)?.address.text));
    } catch {
      return false;
    }
  }
}
