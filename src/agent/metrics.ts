/**
 * The agent's Prometheus metrics (served by `run`): keepalived's VRRP states as keepalived reports
 * them in its notify_fifo, whether keepalived runs (its pid file and /proc, as for reloads), and the
 * agent's own state: the config's source, renders, reloads, the API watch, Leases, health checks.
 * Nothing here signals keepalived. Names and labels are in core/monitoring (`METRIC`); where
 * mehdy/keepalived-exporter has a name, the labels are the exporter's:
 * `keepalived_vrrp_state{iname,intf,vrid,ip_address}` (one series per VIP; `intf` is the VIP's
 * interface, `ip_address` the address without its prefix) and
 * `keepalived_become_master_total` / `keepalived_release_master_total{iname,intf,vrid}` (`intf` is the
 * interface of the group's adverts). The counters count the transitions keepalived reported to this
 * agent since it started (the exporter reads keepalived's own counters, which restart with keepalived).
 *
 * `keepalived_vrrp_state` is only served while keepalived runs (as the exporter does), so that a
 * dead keepalived's last state never counts as a master. A state is keepalived's word for its current
 * process; until the process says anything, a group is INIT (0), except for the keepalived that was
 * already running when the agent started (the agent restarted next to it, and keepalived does not
 * repeat itself): there a group whose addresses are all on the node counts as MASTER, else BACKUP.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import type * as PromClient from 'prom-client';
import { parseCidr } from '../core/address';
import { AgentSpec } from '../core/agent-spec';
import { NodePlan, vrrpInstanceName } from '../core/keepalived-conf';
import { ConfigSource, CONFIG_SOURCES, METRIC, METRIC_LABELS, METRICS_PATH, VRRP_STATE_VALUE } from '../core/monitoring/metrics-options';
import { KeepalivedProcess } from './keepalived-process';
import { Logger } from './node-watch';
import { NotifyEvent } from './notify-fifo';

// The three classes the agent uses, from their own modules: prom-client's index also loads its
// histograms, summaries, cluster support and OpenTelemetry, which would triple the agent's bundle.
/* eslint-disable @typescript-eslint/no-require-imports */
const Registry: typeof PromClient.Registry = require('prom-client/lib/registry');
const Gauge: typeof PromClient.Gauge = require('prom-client/lib/gauge');
const Counter: typeof PromClient.Counter = require('prom-client/lib/counter');
type Registry = PromClient.Registry;
type Gauge<T extends string = string> = PromClient.Gauge<T>;
type Counter<T extends string = string> = PromClient.Counter<T>;

/** What the metrics know of one group on this node (from the rendered plan, else the spec). */
export interface GroupLabels {
  /** The spec's group name (the `group` label of Lease and health-check metrics). */
  readonly group: string;
  /** The `vrrp_instance` name (`iname`). */
  readonly iname: string;
  readonly vrid: number;
  /** The interface of its adverts ('' when not resolved). */
  readonly intf: string;
  /** Each VIP: the address without prefix, and its interface. */
  readonly addresses: readonly { readonly ip: string; readonly intf: string }[];
  /** The priority in the config, when known. */
  readonly priority?: number;
}

/** The groups' labels from a rendered plan. */
export function groupLabelsOfPlan(plan: NodePlan): GroupLabels[] {
  return plan.instances.map((i) => ({
    group: i.group.name,
    iname: i.instanceName,
    vrid: i.group.vrid,
    intf: i.interface,
    addresses: i.addresses.map((a) => ({ ip: parseCidr(a.address)?.address.text ?? a.address.split('/')[0], intf: a.dev })),
    priority: i.priority,
  }));
}

/** The groups' labels from the spec alone (the interfaces unresolved), when no plan could be made. */
export function groupLabelsOfSpec(spec: AgentSpec): GroupLabels[] {
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  return groups.map((g) => ({
    group: g.name,
    iname: vrrpInstanceName(spec.cluster, g.name),
    vrid: g.vrid,
    intf: '',
    addresses: (Array.isArray(g.addresses) ? g.addresses : []).map((a: { readonly address: string }) => ({ ip: parseCidr(a.address)?.address.text ?? String(a.address).split('/')[0], intf: '' })),
  }));
}

/** Options of `AgentMetrics`. */
export interface AgentMetricsOptions {
  /** Whether keepalived runs, and its pid. */
  readonly keepalived: () => KeepalivedProcess;
  /** Whether all of a group's addresses are on this node (for a keepalived that was running before the agent). */
  readonly holdsAddresses: (group: string) => boolean;
  /** Whether discovery is on: only then are the API-watch and Lease metrics served. */
  readonly discovery: boolean;
}

interface GroupState {
  labels: GroupLabels;
  /** keepalived's last word, and the pid of the keepalived that said it. */
  state?: string;
  pid?: number;
  reportedPriority?: number;
}

/** Upper bounds on label sets that come from outside the spec (health checks), so a bug cannot grow memory without end. */
const MAX_HEALTH_CHECKS = 256;

/** The agent's metrics, in a registry of their own (no process or Node.js metrics). */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly groups = new Map<string, GroupState>();
  private readonly firstPid: number | undefined;
  private readonly healthChecks = new Set<string>();
  private readonly becomeMaster: Counter<'iname' | 'intf' | 'vrid'>;
  private readonly releaseMaster: Counter<'iname' | 'intf' | 'vrid'>;
  private readonly renders: Counter<'source'>;
  private readonly renderErrors: Counter;
  private readonly reloads: Counter;
  private readonly notifyEvents: Counter;
  private readonly healthCheck: Gauge<'group' | 'check'>;
  private readonly apiWatchErrors: Counter | undefined;
  private readonly leaseWrites: Counter<'group' | 'operation' | 'result'> | undefined;
  private readonly discoveredNodes: Gauge | undefined;
  private source: ConfigSource | undefined;
  private apiWatch: () => boolean = () => false;
  private leasesHeld: () => readonly string[] = () => [];

  constructor(private readonly options: AgentMetricsOptions) {
    // The keepalived already running when the agent starts (its states are inferred until it speaks).
    const atStart = options.keepalived();
    this.firstPid = 'problem' in atStart ? undefined : atStart.pid;
    const registers = [this.registry];
    const self = this;
    let up = false;
    let pid: number | undefined;
    // keepalived_up is collected first (registration order), so the VRRP gauges use the same probe.
    new Gauge({
      name: METRIC.up, help: 'Whether keepalived runs on this node (1) or not (0): its pid file names a live keepalived process.', registers,
      collect() {
        const found = self.options.keepalived();
        up = !('problem' in found);
        pid = up ? (found as { pid: number }).pid : undefined;
        this.set(up ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC.vrrpState,
      help: 'VRRP state of each VIP on this node, as keepalived reported it: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT. Absent while keepalived is not running.',
      labelNames: METRIC_LABELS.vip,
      registers,
      collect() {
        this.reset();
        if (!up) return;
        for (const g of self.groups.values()) {
          const value = self.stateValue(g, pid);
          for (const a of g.labels.addresses) this.set({ iname: g.labels.iname, intf: a.intf, vrid: String(g.labels.vrid), ip_address: a.ip }, value);
        }
      },
    });
    this.becomeMaster = new Counter({ name: METRIC.becomeMaster, help: 'Times keepalived reported that this node became MASTER of the group (since the agent started).', labelNames: METRIC_LABELS.group, registers });
    this.releaseMaster = new Counter({ name: METRIC.releaseMaster, help: 'Times keepalived reported that this node left MASTER of the group (since the agent started).', labelNames: METRIC_LABELS.group, registers });
    new Gauge({
      name: METRIC.priority, help: 'The priority of the group in the config the agent rendered for this node.', labelNames: METRIC_LABELS.group, registers,
      collect() {
        this.reset();
        for (const g of self.groups.values()) if (g.labels.priority !== undefined) this.set(self.groupLabels(g), g.labels.priority);
      },
    });
    new Gauge({
      name: METRIC.reportedPriority, help: 'The priority keepalived reported with its last state change of the group (with health-check weights applied).', labelNames: METRIC_LABELS.group, registers,
      collect() {
        this.reset();
        if (!up) return;
        for (const g of self.groups.values()) if (g.reportedPriority !== undefined && g.pid === pid) this.set(self.groupLabels(g), g.reportedPriority);
      },
    });
    this.healthCheck = new Gauge({ name: METRIC.healthCheckUp, help: 'Whether a health check of a group passes on this node (1) or fails (0).', labelNames: METRIC_LABELS.healthCheck, registers });
    new Gauge({
      name: METRIC.configSource, help: 'Where the node set of the config in effect came from: api, saved (the last set from the API, kept on the node) or static (the spec\'s list); 1 for the current one.', labelNames: METRIC_LABELS.configSource, registers,
      collect() {
        this.reset();
        if (self.source === undefined) return;
        for (const s of CONFIG_SOURCES) this.set({ source: s }, s === self.source ? 1 : 0);
      },
    });
    this.renders = new Counter({ name: METRIC.configRenders, help: 'Configs the agent rendered for this node, by the source of the node set (written or found unchanged).', labelNames: METRIC_LABELS.configSource, registers });
    this.renderErrors = new Counter({ name: METRIC.configRenderErrors, help: 'Renders that failed (keepalived kept its config).', registers });
    this.reloads = new Counter({ name: METRIC.configReloads, help: 'Reloads of keepalived (SIGHUP) after the agent rewrote its config.', registers });
    this.notifyEvents = new Counter({ name: METRIC.notifyEvents, help: 'State changes read from keepalived\'s notify_fifo for this cluster\'s groups.', registers });
    new Gauge({
      name: METRIC.discoveryEnabled, help: 'Whether the agent learns the nodes from the Kubernetes API (1) or uses the spec\'s static list (0).', registers,
      collect() {
        this.set(self.options.discovery ? 1 : 0);
      },
    });
    if (options.discovery) {
      new Gauge({
        name: METRIC.apiWatchUp, help: 'Whether the agent\'s list/watch of the Nodes works (1) or fails (0).', registers,
        collect() {
          this.set(self.apiWatch() ? 1 : 0);
        },
      });
      this.apiWatchErrors = new Counter({ name: METRIC.apiWatchErrors, help: 'Failures of the agent\'s list/watch of the Nodes (each retried with backoff).', registers });
      this.discoveredNodes = new Gauge({ name: METRIC.discoveredNodes, help: 'Nodes in the latest node set from the API.', registers });
      this.leaseWrites = new Counter({ name: METRIC.leaseWrites, help: 'Writes of a group\'s Lease: operation hold (create, take over, renew) or release; result ok or error.', labelNames: METRIC_LABELS.leaseWrite, registers });
      new Gauge({
        name: METRIC.leaseHeld, help: 'Whether this node holds the group\'s Lease (1) or not (0).', labelNames: METRIC_LABELS.lease, registers,
        collect() {
          this.reset();
          const held = new Set(self.leasesHeld());
          for (const g of self.groups.values()) this.set({ group: g.labels.group }, held.has(g.labels.group) ? 1 : 0);
        },
      });
    }
  }

  /** Sets the groups' labels and configured priorities (from the plan in effect); counters start at 0. */
  setGroups(groups: readonly GroupLabels[]): void {
    const next = new Map<string, GroupState>();
    for (const labels of groups) {
      const old = this.groups.get(labels.iname);
      next.set(labels.iname, { ...old, labels });
      this.becomeMaster.inc(this.groupLabels({ labels }), 0);
      this.releaseMaster.inc(this.groupLabels({ labels }), 0);
    }
    this.groups.clear();
    for (const [k, v] of next) this.groups.set(k, v);
  }

  /** A notify_fifo line; returns the group's name when it is one of the cluster's groups. */
  vrrpEvent(event: NotifyEvent): string | undefined {
    if (event.kind !== 'INSTANCE') return undefined;
    const g = this.groups.get(event.name);
    if (g === undefined) return undefined;
    this.notifyEvents.inc();
    const found = this.options.keepalived();
    const pid = 'problem' in found ? undefined : found.pid;
    // A report from a new keepalived starts from nothing: its first MASTER is a change.
    const previous = g.pid === pid ? g.state : undefined;
    if (event.state === 'MASTER' && previous !== 'MASTER') this.becomeMaster.inc(this.groupLabels(g));
    if (event.state !== 'MASTER' && previous === 'MASTER') this.releaseMaster.inc(this.groupLabels(g));
    g.state = event.state;
    g.pid = pid;
    g.reportedPriority = event.priority;
    return g.labels.group;
  }

  /** The config in effect now comes from `source` (after a render, or as `render` recorded it). */
  configSource(source: ConfigSource): void {
    this.source = source;
  }

  /** The agent rendered the config from a node set of `source`. */
  configRendered(source: ConfigSource): void {
    this.renders.inc({ source });
    this.source = source;
  }

  /** A render failed. */
  configRenderFailed(): void {
    this.renderErrors.inc();
  }

  /** keepalived was sent SIGHUP. */
  configReloaded(): void {
    this.reloads.inc();
  }

  /** Where the API watch's health is read at scrape time. */
  watchApi(healthy: () => boolean): void {
    this.apiWatch = healthy;
  }

  /** A list or watch of the Nodes failed. */
  apiWatchFailed(): void {
    this.apiWatchErrors?.inc();
  }

  /** The latest node set from the API has `count` nodes. */
  nodesDiscovered(count: number): void {
    this.discoveredNodes?.set(count);
  }

  /** Where the held Leases are read at scrape time. */
  watchLeases(held: () => readonly string[]): void {
    this.leasesHeld = held;
  }

  /** One write of a group's Lease. */
  leaseWrite(group: string, operation: 'hold' | 'release', ok: boolean): void {
    this.leaseWrites?.inc({ group, operation, result: ok ? 'ok' : 'error' });
  }

  /**
   * Sets a health check's status: `keepalived_health_check_up{group, check}` 1 (healthy) or 0
   * (failing). At most 256 checks; more are ignored (and the call returns false).
   */
  setHealthCheck(group: string, check: string, healthy: boolean): boolean {
    const key = JSON.stringify([group, check]);
    if (!this.healthChecks.has(key)) {
      if (this.healthChecks.size >= MAX_HEALTH_CHECKS) return false;
      this.healthChecks.add(key);
    }
    this.healthCheck.set({ group, check }, healthy ? 1 : 0);
    return true;
  }

  /** Forgets a health check (it is no longer in the config). */
  removeHealthCheck(group: string, check: string): void {
    if (this.healthChecks.delete(JSON.stringify([group, check]))) this.healthCheck.remove({ group, check });
  }

  /** The exposition, as a scrape gets it. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private groupLabels(g: Pick<GroupState, 'labels'>): { iname: string; intf: string; vrid: string } {
    return { iname: g.labels.iname, intf: g.labels.intf, vrid: String(g.labels.vrid) };
  }

  /** keepalived_vrrp_state of a group while keepalived `pid` runs. */
  private stateValue(g: GroupState, pid: number | undefined): number {
    if (g.state !== undefined && g.pid === pid) return stateValueOf(g.state);
    if (pid !== undefined && pid === this.firstPid) {
      return this.options.holdsAddresses(g.labels.group) ? VRRP_STATE_VALUE.MASTER : VRRP_STATE_VALUE.BACKUP;
    }
    return VRRP_STATE_VALUE.INIT;
  }
}

/** keepalived's state word as a `keepalived_vrrp_state` value (STOP and anything unknown: INIT). */
export function stateValueOf(state: string): number {
  switch (state) {
    case 'MASTER': return VRRP_STATE_VALUE.MASTER;
    case 'BACKUP': return VRRP_STATE_VALUE.BACKUP;
    case 'FAULT': return VRRP_STATE_VALUE.FAULT;
    default: return VRRP_STATE_VALUE.INIT;
  }
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address and port it listens on. */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Where to listen. */
export interface MetricsEndpoint {
  readonly port: number;
  /** @default - every address */
  readonly address?: string;
}

/**
 * Serves `GET /metrics` (and `GET /healthz`); anything else is 404 or 405. Resolves once listening;
 * rejects when the port cannot be had (in use, or a bad address).
 */
export function serveMetrics(metrics: AgentMetrics, endpoint: MetricsEndpoint, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH && path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the agent serves /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    metrics.exposition().then(({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, (e) => {
      logger.error(`metrics: ${(e as Error).message}`);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot collect the metrics\n');
    });
  });
  // A scrape is small and quick: bound what a slow or hostile client can hold.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`cannot serve metrics on ${endpoint.address ?? '*'}:${endpoint.port}: ${e.message}`));
    server.once('error', onError);
    server.listen({ port: endpoint.port, host: endpoint.address }, () => {
      server.off('error', onError);
      server.on('error', (e) => logger.error(`metrics server: ${e.message}`));
      const address = server.address() as AddressInfo;
      logger.info(`serving Prometheus metrics on ${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}${METRICS_PATH}`);
      resolve({
        address,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
