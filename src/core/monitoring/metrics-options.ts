/**
 * Monitoring of a standalone cluster: what the user sets (`MetricsOptions`), the port rules, and the
 * names of the metrics that the node agent serves. The names are shared by the agent (which registers
 * them), the alert rules and the dashboard, so that each exists once.
 *
 * Where mehdy/keepalived-exporter (the de facto exporter) has a name, the agent uses it with the same
 * labels; the rest is what only the agent knows (`keepalived_agent_*`, priorities, health checks).
 */
import { ValidationIssue } from '../errors';
import { enumNames, enumValues, knownFields } from '../fields';
import { checkLabels, isPlainObject } from '../metadata';
import { dnsLabelProblem } from '../names';

/**
 * The agent's default metrics port on the node. The package uses no other host port (keepalived
 * listens on none; VRRP is IP protocol 112), and this one is clear of the ports that usually listen
 * on a Kubernetes node: kubelet 10248/10250, kube-proxy 10249/10256, node-exporter 9100,
 * keepalived-exporter 9165, Calico 9091/9099, Cilium 4240/9879/9962-9964, Prometheus 9090/9093.
 */
export const DEFAULT_METRICS_PORT = 9654;

/** The lowest port the agent may listen on: it runs without NET_BIND_SERVICE. */
export const MIN_METRICS_PORT = 1024;

/** The name of the agent container's port (the PodMonitor scrapes it by this name). */
export const METRICS_PORT_NAME = 'metrics';

/** The HTTP path of the metrics. */
export const METRICS_PATH = '/metrics';

/**
 * The label that the PodMonitor puts on every series of a cluster, from the pod's
 * `app.kubernetes.io/instance` label: the cluster's name. The alert rules select a cluster by it.
 */
export const CLUSTER_LABEL = 'keepalived_cluster';

/** The label that the PodMonitor puts on every series: the node's name. */
export const NODE_LABEL = 'node';

/** Options of the Prometheus Operator `PodMonitor`. */
export interface PodMonitorOptions {
  /**
   * Extra labels on the PodMonitor, for the Prometheus' `podMonitorSelector` (the kube-prometheus-stack
   * chart selects `release: <its release name>` by default).
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * How often Prometheus scrapes the agents, as a Prometheus duration (`30s`, `1m`).
   *
   * @default - the Prometheus' own scrape interval
   */
  readonly interval?: string;
}

/** Options of the Prometheus Operator `PrometheusRule` with the alert rules. */
export interface PrometheusRuleOptions {
  /**
   * Extra labels on the PrometheusRule, for the Prometheus' `ruleSelector`.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Labels added to every alert (routing in Alertmanager, e.g. `{ team: 'network' }`). Plain text:
   * Prometheus reads label values as templates, and one it cannot parse loses the whole rule file.
   * Not `severity`, which each alert sets (`critical` or `warning`).
   *
   * @default - none
   */
  readonly alertLabels?: { [key: string]: string };

  /**
   * The external labels that tell Kubernetes clusters apart, where one ruler evaluates the rules over
   * the series of several (Thanos Ruler, Grafana Mimir), e.g. `['cluster']`: the alerts aggregate
   * per value of them too, so that one master in each of two Kubernetes clusters is no split brain.
   *
   * @default - none (a Prometheus per Kubernetes cluster)
   */
  readonly externalLabels?: string[];

  /**
   * A VIP is flapping when its master changed more than this many times within `flapWindowMinutes`.
   * A normal failover is one change (two when the node comes back and preempts).
   *
   * @default 4
   */
  readonly flapThreshold?: number;

  /**
   * The window of the flapping alert, in minutes.
   *
   * @default 15
   */
  readonly flapWindowMinutes?: number;
}

/** Options of the Grafana dashboard ConfigMap. */
export interface DashboardOptions {
  /**
   * Labels on the ConfigMap. The Grafana sidecar of the usual charts loads ConfigMaps labelled
   * `grafana_dashboard: "1"`, which is always set.
   *
   * @default - `{ grafana_dashboard: '1' }`
   */
  readonly labels?: { [key: string]: string };

  /**
   * The ConfigMap's namespace (the Grafana sidecar may watch only its own).
   *
   * @default - the cluster's namespace
   */
  readonly namespace?: string;
}

/** Which of the node's addresses the agent's metrics endpoint listens on (the pod is on the host network). */
export enum MetricsListenAddress {
  /**
   * The node's address that Kubernetes reports (`status.hostIP`; on the host network the pod's IP is
   * the same): the address a PodMonitor scrapes. The endpoint does not answer on the node's other
   * addresses, the virtual IPs among them, which may face the Internet.
   */
  NODE_IP = 'nodeIP',
  /** Every address of the node, the virtual IPs it holds included. */
  ALL = 'all',
}

/**
 * Prometheus metrics of a standalone cluster: `Target.standalone({ metrics: { port, podMonitor, prometheusRule } })`.
 * The agent serves them on a host port of every node, from keepalived's `notify_fifo` and its own
 * state, never by signalling keepalived.
 *
 * @example
 * Target.standalone({ metrics: { port: 9654, podMonitor: { labels: { release: 'prometheus' } }, prometheusRule: true } })
 */
export interface MetricsOptions {
  /**
   * Whether the agent serves metrics at all.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The TCP port of the node that the agent serves `/metrics` on (the pod is on the host network),
   * 1024..65535, distinct from the ports the cluster's health checks probe.
   *
   * @default 9654
   */
  readonly port?: number;

  /**
   * Which of the node's addresses the endpoint listens on.
   *
   * @default MetricsListenAddress.NODE_IP
   */
  readonly listenAddress?: MetricsListenAddress;

  /**
   * Emit a `monitoring.coreos.com/v1` PodMonitor that scrapes the agents. Opt-in: the Prometheus
   * Operator's CRDs may not be installed. `true` means the default options.
   *
   * @default false
   */
  readonly podMonitor?: boolean | PodMonitorOptions;

  /**
   * Emit a `monitoring.coreos.com/v1` PrometheusRule with the alert rules (see the README's
   * Monitoring section). Opt-in, like `podMonitor`.
   *
   * @default false
   */
  readonly prometheusRule?: boolean | PrometheusRuleOptions;

  /**
   * Emit the Grafana dashboard as a ConfigMap labelled for the Grafana sidecar.
   *
   * @default false
   */
  readonly dashboard?: boolean | DashboardOptions;
}

/** The fields of the metrics options (`podMonitor`, `prometheusRule` and `dashboard` when objects). */
export const METRICS_OPTIONS_FIELDS = knownFields<MetricsOptions>('a field of the metrics options', {
  enabled: true, port: true, listenAddress: true, podMonitor: true, prometheusRule: true, dashboard: true,
}, {
  podMonitor: knownFields<PodMonitorOptions>('a field of the PodMonitor options', { labels: true, interval: true }),
  prometheusRule: knownFields<PrometheusRuleOptions>('a field of the PrometheusRule options', { labels: true, alertLabels: true, externalLabels: true, flapThreshold: true, flapWindowMinutes: true }),
  dashboard: knownFields<DashboardOptions>('a field of the dashboard options', { labels: true, namespace: true }),
});

/** The labels of the agent's metrics (the PodMonitor adds the target's): which metric has which, see `METRIC`. */
export const METRIC_LABELS = {
  /** `vrrpState`: one VIP of a group on its interface. */
  vip: ['iname', 'intf', 'vrid', 'ip_address'],
  /** `becomeMaster`, `releaseMaster`, `priority`, `reportedPriority`: a group on its interface. */
  group: ['iname', 'intf', 'vrid'],
  /** `healthCheckUp`. */
  healthCheck: ['group', 'check'],
  /** `configSource`, `configRenders`. */
  configSource: ['source'],
  /** `leaseWrites`. */
  leaseWrite: ['group', 'operation', 'result'],
  /** `leaseHeld`. */
  lease: ['group'],
} as const;

/** The metric names the agent serves; see the README's metrics table. */
export const METRIC = {
  // mehdy/keepalived-exporter's names and labels.
  up: 'keepalived_up',
  vrrpState: 'keepalived_vrrp_state',
  becomeMaster: 'keepalived_become_master_total',
  releaseMaster: 'keepalived_release_master_total',
  // The agent's own.
  priority: 'keepalived_vrrp_priority',
  reportedPriority: 'keepalived_vrrp_reported_priority',
  healthCheckUp: 'keepalived_health_check_up',
  configSource: 'keepalived_agent_config_source',
  configRenders: 'keepalived_agent_config_renders_total',
  configRenderErrors: 'keepalived_agent_config_render_errors_total',
  configReloads: 'keepalived_agent_config_reloads_total',
  discoveryEnabled: 'keepalived_agent_discovery_enabled',
  apiWatchUp: 'keepalived_agent_api_watch_up',
  apiWatchErrors: 'keepalived_agent_api_watch_errors_total',
  discoveredNodes: 'keepalived_agent_discovered_nodes',
  leaseHeld: 'keepalived_agent_lease_held',
  leaseWrites: 'keepalived_agent_lease_writes_total',
  notifyEvents: 'keepalived_agent_notify_events_total',
} as const;

/** keepalived's VRRP states as `keepalived_vrrp_state` values (keepalived's own numbering). */
export const VRRP_STATE_VALUE = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 } as const;

/** Where a config's node set came from: the API, the last set saved on the node, or the spec's static list. */
export type ConfigSource = 'api' | 'saved' | 'static';

/** Every `ConfigSource`, in the order of preference. */
export const CONFIG_SOURCES: readonly ConfigSource[] = ['api', 'saved', 'static'];

/** Another port on the node that the metrics port must not equal, and what uses it. */
export interface ReservedPort {
  readonly port: number;
  readonly usedBy: string;
}

/**
 * The problems of a metrics port (empty when valid): an integer in 1024..65535, not one of `reserved`
 * (e.g. the ports the cluster's health checks probe on the node's loopback: the agent would probe itself).
 */
export function metricsPortIssues(path: string, port: unknown, reserved: readonly ReservedPort[] = [], field = 'metrics.port'): ValidationIssue[] {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < MIN_METRICS_PORT || port > 65535) {
    return [{
      path,
      field,
      value: port,
      problem: 'is not a TCP port the agent can listen on (it runs without NET_BIND_SERVICE)',
      expected: `an integer from ${MIN_METRICS_PORT} to 65535 (default ${DEFAULT_METRICS_PORT})`,
    }];
  }
  const clash = reserved.find((r) => r.port === port);
  if (clash) {
    return [{ path, field, value: port, problem: `is also used by ${clash.usedBy} on the node`, expected: `a port that nothing else on the node uses (default ${DEFAULT_METRICS_PORT})` }];
  }
  return [];
}

/**
 * The labels of the agents' series: the PodMonitor's target labels and the metrics' own. An alert that
 * aggregated by one of them as by an external label would count each node apart.
 */
const SERIES_LABELS: readonly string[] = [
  'namespace', CLUSTER_LABEL, NODE_LABEL, 'instance', 'job', 'pod', 'container', 'endpoint', 'service',
  ...new Set(Object.values(METRIC_LABELS).flat()),
];

/** A Prometheus label name (names starting with `__` are reserved for Prometheus' own use). */
const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The problems of `MetricsOptions` (empty when valid). */
export function metricsOptionsIssues(path: string, options: MetricsOptions | undefined, reserved: readonly ReservedPort[] = []): ValidationIssue[] {
  if (options === undefined) return [];
  if (!isPlainObject(options as unknown)) {
    return [{ path, field: 'metrics', value: options, problem: 'is not an object of metrics options', expected: '{ port, podMonitor, prometheusRule, dashboard }, or { enabled: false }' }];
  }
  const issues: ValidationIssue[] = [];
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    issues.push({ path, field: 'metrics.enabled', value: options.enabled, problem: 'is not a boolean', expected: 'true or false' });
  }
  // (An array is an object too: `podMonitor: [...]` would be read as options.)
  for (const field of ['podMonitor', 'prometheusRule', 'dashboard'] as const) {
    const value: unknown = options[field];
    if (value !== undefined && typeof value !== 'boolean' && !isPlainObject(value)) {
      issues.push({ path, field: `metrics.${field}`, value, problem: 'is not a boolean or an object of options', expected: `true, false, or { ... } with the ${field} options` });
    }
  }
  if (options.listenAddress !== undefined && !enumValues(MetricsListenAddress).includes(options.listenAddress)) {
    issues.push({ path, field: 'metrics.listenAddress', value: options.listenAddress, problem: 'is not a listen address choice', expected: enumNames('MetricsListenAddress', MetricsListenAddress) });
  }
  if (options.port !== undefined || options.enabled !== false) {
    issues.push(...metricsPortIssues(path, options.port ?? DEFAULT_METRICS_PORT, reserved));
  }
  if (options.enabled === false) {
    for (const field of ['podMonitor', 'prometheusRule'] as const) {
      if (options[field]) {
        issues.push({ path, field: `metrics.${field}`, value: options[field], problem: 'needs the metrics that `metrics.enabled: false` turns off', expected: 'false, or metrics.enabled true' });
      }
    }
  }
  const rule = typeof options.prometheusRule === 'object' ? options.prometheusRule : undefined;
  if (rule?.flapThreshold !== undefined && (!Number.isInteger(rule.flapThreshold) || rule.flapThreshold < 1 || rule.flapThreshold > 1000)) {
    issues.push({ path, field: 'metrics.prometheusRule.flapThreshold', value: rule.flapThreshold, problem: 'is not a count of master changes', expected: 'an integer from 1 to 1000 (default 4)' });
  }
  if (rule?.flapWindowMinutes !== undefined && (!Number.isInteger(rule.flapWindowMinutes) || rule.flapWindowMinutes < 1 || rule.flapWindowMinutes > 1440)) {
    issues.push({ path, field: 'metrics.prometheusRule.flapWindowMinutes', value: rule.flapWindowMinutes, problem: 'is not a window in whole minutes', expected: 'an integer from 1 to 1440 (default 15)' });
  }
  const pm = typeof options.podMonitor === 'object' ? options.podMonitor : undefined;
  if (pm?.interval !== undefined && !/^([0-9]+(ms|s|m|h))+$/.test(pm.interval)) {
    issues.push({ path, field: 'metrics.podMonitor.interval', value: pm.interval, problem: 'is not a Prometheus duration', expected: 'e.g. "15s", "1m", "1m30s"' });
  }
  const report = (field: string, value: unknown, problem: string, expected: string) => issues.push({ path, field, value, problem, expected });
  const dashboard = typeof options.dashboard === 'object' ? options.dashboard : undefined;
  checkLabels('metrics.podMonitor.labels', pm?.labels, report);
  checkLabels('metrics.prometheusRule.labels', rule?.labels, report);
  checkLabels('metrics.dashboard.labels', dashboard?.labels, report);
  const dashboardNamespaceProblem = dashboard?.namespace === undefined ? undefined : dnsLabelProblem(dashboard.namespace, 63);
  if (dashboardNamespaceProblem) report('metrics.dashboard.namespace', dashboard!.namespace, dashboardNamespaceProblem, 'a namespace name: a DNS label of at most 63 characters');
  if (rule?.alertLabels !== undefined && !isPlainObject(rule.alertLabels)) {
    report('metrics.prometheusRule.alertLabels', rule.alertLabels, 'is not an object of labels', 'e.g. { team: "network" }');
  }
  for (const [name, value] of Object.entries(isPlainObject(rule?.alertLabels) ? rule!.alertLabels! : {})) {
    const field = `metrics.prometheusRule.alertLabels[${JSON.stringify(name)}]`;
    if (!PROMETHEUS_LABEL_NAME.test(name) || name.startsWith('__')) {
      report(field, name, 'is not a Prometheus label name', 'letters, digits and "_", not starting with a digit or "__"');
    } else if (name === 'severity') {
      report(field, value, 'would replace the severity that each alert sets (critical pages, warning does not)', 'another label (route on severity and it in Alertmanager)');
    } else if (typeof value !== 'string') {
      report(field, value, 'is not a string', 'a string');
    } else if (value.includes('{{')) {
      report(field, value, 'has "{{", which starts a template in a Prometheus label value (one that does not parse loses every rule of the file)', 'plain text');
    }
  }
  if (rule?.externalLabels !== undefined && !Array.isArray(rule.externalLabels)) {
    report('metrics.prometheusRule.externalLabels', rule.externalLabels, 'is not a list of label names', 'e.g. ["cluster"]');
  }
  (Array.isArray(rule?.externalLabels) ? rule!.externalLabels! : []).forEach((name, i) => {
    const field = `metrics.prometheusRule.externalLabels[${i}]`;
    if (typeof name !== 'string' || !PROMETHEUS_LABEL_NAME.test(name) || name.startsWith('__')) {
      report(field, name, 'is not a Prometheus label name', 'letters, digits and "_", not starting with a digit or "__", e.g. "cluster"');
    } else if (SERIES_LABELS.includes(name)) {
      report(field, name, 'is a label of the agents\' own series, not one that tells Kubernetes clusters apart', `an external label of your Prometheus servers, not one of ${SERIES_LABELS.join(', ')}`);
    } else if (rule!.externalLabels!.indexOf(name) !== i) {
      report(field, name, 'is given twice', 'each label once');
    }
  });
  return issues;
}

/** The metrics port in effect: undefined when metrics are off. */
export function metricsPortOf(options: MetricsOptions | undefined): number | undefined {
  if (options?.enabled === false) return undefined;
  return options?.port ?? DEFAULT_METRICS_PORT;
}
