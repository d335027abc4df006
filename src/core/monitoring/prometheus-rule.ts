/**
 * keepalived's alert rules, and the Prometheus Operator `PrometheusRule` that carries them, as plain
 * data. Every alert selects one cluster's series (`clusterSeriesSelector`), so that two clusters each
 * with their own PrometheusRule never alert twice for the same thing.
 *
 * Paging (severity `critical`) is for a VIP that nobody serves or that two nodes serve. A normal
 * failover (a master stops, another takes over within seconds, the first comes back and preempts)
 * stays below every `for` and every threshold: the promtool tests and the netns Prometheus test
 * check that it fires nothing.
 */
import { ManifestObject } from '../manifest';
import { CLUSTER_LABEL, METRIC, NODE_LABEL, PrometheusRuleOptions, VRRP_STATE_VALUE } from './metrics-options';
import { clusterSeriesSelector, MonitoredCluster, monitoringObjectName, objectMetadata } from './pod-monitor';

/**
 * How long after the master's agent stops answering `KeepalivedVipNoMaster` trusts that it still
 * serves the VIP (the others report BACKUP: they hear it).
 */
const UNSCRAPED_MASTER_WINDOW = '15m';

/**
 * How long `KeepalivedNotRunningAnywhere` sees a Kubernetes cluster whose targets all vanished while
 * others' remain (with `externalLabels`); without them `absent()` sees it for as long as it lasts.
 */
const VANISHED_TARGETS_WINDOW = '1d';

/** One alerting rule, in Prometheus' rule-file shape. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook: string };
}

/** A rule group, in Prometheus' rule-file shape. */
export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** The names of the alerts. */
export const ALERT = {
  vipNoMaster: 'KeepalivedVipNoMaster',
  splitBrain: 'KeepalivedVipMultipleMasters',
  notRunningAnywhere: 'KeepalivedNotRunningAnywhere',
  flapping: 'KeepalivedVipFlapping',
  groupFault: 'KeepalivedGroupFault',
  healthCheckFailing: 'KeepalivedHealthCheckFailing',
  keepalivedDown: 'KeepalivedDown',
  agentDown: 'KeepalivedAgentDown',
  staticFallback: 'KeepalivedConfigStaticFallback',
  apiUnreachable: 'KeepalivedAgentApiUnreachable',
} as const;

/** `{a="x",b="y"}` without the braces; values escaped as PromQL strings. */
export function promqlMatchers(selector: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>> = {}): string {
  // Object.assign, not a spread: see `readOnlyRoot` in standalone/daemon-set.ts.
  return Object.entries(Object.assign({}, selector, extra)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
}

/**
 * The alert rules for the series that `selector` picks (for a cluster: `clusterSeriesSelector`).
 * Exported for Prometheus setups without the Operator: `{ groups: keepalivedAlertRules(...) }` is a rule file.
 */
export function keepalivedAlertRules(selector: Readonly<Record<string, string>>, options: PrometheusRuleOptions = {}): RuleGroup[] {
  const flapThreshold = options.flapThreshold ?? 4;
  const flapWindow = options.flapWindowMinutes ?? 15;
  const sel = promqlMatchers(selector);
  // The cluster's labels, and those that tell Kubernetes clusters apart where one ruler sees several.
  const scope = [...Object.keys(selector), ...(options.externalLabels ?? [])];
  // A VIP is known by its group's instance name, VRID and address, within the cluster's scope.
  const vip = [...scope, 'iname', 'vrid', 'ip_address'].join(', ');
  const group = [...scope, 'iname', 'vrid'].join(', ');
  const cluster = scope.join(', ') || CLUSTER_LABEL;
  const { MASTER, BACKUP, FAULT } = VRRP_STATE_VALUE;
  // Nodes that stay BACKUP hear a master's adverts. When the node that last reported MASTER (within
  // UNSCRAPED_MASTER_WINDOW) is one whose agent Prometheus cannot scrape now, they most likely hear
  // that node, which still serves the VIP (KeepalivedAgentDown says what is wrong): no page then.
  const target = [...scope, 'instance'].join(', ');
  const backupsHearAnUnscrapedMaster = `(max by (${vip}) (${METRIC.vrrpState}{${sel}} == bool ${BACKUP}) == 1)`
    + ` and on (${vip}) (max by (${vip}) ((last_over_time(${METRIC.vrrpState}{${sel}}[${UNSCRAPED_MASTER_WINDOW}]) == ${MASTER})`
    + ` and on (${target}) (up{${sel}} == 0)))`;
  // A Kubernetes cluster whose targets all vanished (absent() sees every cluster's series as one).
  const targetsVanished = `(group by (${cluster}) (last_over_time(up{${sel}}[${VANISHED_TARGETS_WINDOW}])) unless group by (${cluster}) (up{${sel}}))`;
  const where = 'on {{ $labels.node }}{{ if not $labels.node }}{{ $labels.instance }}{{ end }}';
  const rule = (alert: string, severity: 'critical' | 'warning', expr: string, forDuration: string | undefined, annotations: AlertRule['annotations']): AlertRule => ({
    alert,
    expr,
    ...(forDuration === undefined ? {} : { for: forDuration }),
    labels: { severity, ...options.alertLabels },
    annotations,
  });
  const vrrp: AlertRule[] = [
    rule(ALERT.vipNoMaster, 'critical',
      `(max by (${vip}) (${METRIC.vrrpState}{${sel}} == bool ${MASTER}) == 0) unless on (${vip}) (${backupsHearAnUnscrapedMaster})`, '1m', {
        summary: 'VIP {{ $labels.ip_address }} (VRID {{ $labels.vrid }}) has no master',
        description: 'Every node that runs VRRP group {{ $labels.iname }} reports BACKUP, FAULT or INIT for {{ $labels.ip_address }}: nobody serves it.'
          + ` (Not raised for ${UNSCRAPED_MASTER_WINDOW} after the master's agent stops answering while others report BACKUP: they hear its adverts. After that, check KeepalivedAgentDown first.)`,
        runbook: 'Check `keepalived_vrrp_state` per node: FAULT means the group\'s interface is down or a tracked health check fails on that node; '
          + 'all BACKUP means the nodes hear an advert from elsewhere (another router on the segment with the same VRID, or a stale peer). '
          + 'Look at the keepalived container logs of the cluster\'s pods; check that the VIP is not held outside the cluster (`ip -br addr` on the nodes).',
      }),
    rule(ALERT.splitBrain, 'critical',
      `count by (${vip}) (${METRIC.vrrpState}{${sel}} == ${MASTER}) > 1`, '1m', {
        summary: 'VIP {{ $labels.ip_address }} (VRID {{ $labels.vrid }}) has {{ $value }} masters (split brain)',
        description: '{{ $value }} nodes report MASTER for {{ $labels.ip_address }} of group {{ $labels.iname }}: they do not hear each other\'s VRRP adverts, and clients reach whichever answered ARP last.',
        runbook: 'VRRP (IP protocol 112) is dropped between the nodes: check the VRRP policies (Calico/Cilium host policies, NetworkPolicy), '
          + 'node firewalls, multicast on the switch (or use unicast peers), and that the PASS password is the same on every node. '
          + 'Until it is fixed, stop keepalived on all but one of the masters (delete their pods or cordon and drain) to take the VIP back to one node.',
      }),
    rule(ALERT.notRunningAnywhere, 'critical',
      // absent(): with no pod that has an IP (the DaemonSet gone, no node selected, every pod Pending)
      // Prometheus has no target, so no `up` series either.
      `(max by (${cluster}) (${METRIC.up}{${sel}}) == 0) or (max by (${cluster}) (up{${sel}}) == 0) or ${targetsVanished} or absent(up{${sel}})`, '1m', {
        summary: 'keepalived runs on no node of the cluster',
        description: 'No node of the cluster has a running keepalived, no agent answers, or Prometheus scrapes none: none of its VIPs is served.',
        runbook: 'Check the DaemonSet\'s pods (`kubectl -n <namespace> get pods -l app.kubernetes.io/name=keepalived`), their keepalived container logs, '
          + 'and that the nodeSelector still matches nodes (Pending pods: a host port taken on the node). A config that keepalived rejects shows in its logs. '
          + 'With no pods to scrape at all, also check that the PodMonitor is selected by the Prometheus.',
      }),
    rule(ALERT.flapping, 'warning',
      // round(): increase() extrapolates to the window's edges, so exactly the threshold can read 4.3.
      `round(sum by (${group}) (increase(${METRIC.becomeMaster}{${sel}}[${flapWindow}m]))) > ${flapThreshold}`, undefined, {
        summary: 'VRRP group {{ $labels.iname }} (VRID {{ $labels.vrid }}) is flapping',
        description: `Its master changed {{ $value | printf "%.0f" }} times in ${flapWindow} minutes (more than ${flapThreshold}).`,
        runbook: 'Flapping means adverts are lost intermittently or priorities change back and forth: check packet loss and CPU starvation on the nodes, '
          + 'a health check that goes up and down (see keepalived_health_check_up), and nodes that are cordoned and uncordoned repeatedly. '
          + '`preempt: false` on the group stops a recovered node from taking the VIP back.',
      }),
    rule(ALERT.groupFault, 'warning',
      `max by (${[...scope, NODE_LABEL, 'instance', 'iname', 'vrid'].join(', ')}) (${METRIC.vrrpState}{${sel}}) == ${FAULT}`, '1m', {
        summary: `VRRP group {{ $labels.iname }} is in FAULT ${where}`,
        description: 'keepalived put the group in FAULT on this node: it cannot take the VIP here.',
        runbook: 'FAULT means the group\'s interface is down or has no address, or a health check with `HealthAction.release()` fails. '
          + 'Check `ip link` and `ip addr` on the node and keepalived_health_check_up for the group.',
      }),
    rule(ALERT.healthCheckFailing, 'warning',
      `${METRIC.healthCheckUp}{${sel}} == 0`, '2m', {
        summary: `Health check {{ $labels.check }} of group {{ $labels.group }} fails ${where}`,
        description: 'The agent\'s probe fails: the node gives the group up (or lowers its priority), as the check\'s onFailure says.',
        runbook: 'Probe the same target on the node\'s loopback (the pod is on the host network) and fix the service it checks. '
          + 'If every node fails the same check, the VIP has no healthy master.',
      }),
  ];
  const nodes: AlertRule[] = [
    rule(ALERT.keepalivedDown, 'warning',
      `${METRIC.up}{${sel}} == 0`, '1m', {
        summary: `keepalived is not running ${where}`,
        description: 'The agent finds no running keepalived (its pid file names no live keepalived process): this node serves no VIP.',
        runbook: 'Look at the keepalived container\'s logs and restarts on this node (`kubectl -n <namespace> describe pod`). '
          + 'keepalived exits when its config is invalid; the agent logs what it rendered.',
      }),
    rule(ALERT.agentDown, 'warning',
      `up{${sel}} == 0`, '2m', {
        summary: `The keepalived agent does not answer ${where}`,
        description: 'Prometheus cannot scrape the agent on this node: its pod is gone or not ready, or the metrics port is blocked.',
        runbook: 'Check the pod on this node; check that the metrics port is open between Prometheus and the nodes (host firewall, host policies).',
      }),
    rule(ALERT.staticFallback, 'warning',
      `(${METRIC.configSource}{${promqlMatchers(selector, { source: 'static' })}} == 1) and ignoring (source) (${METRIC.discoveryEnabled}{${sel}} == 1)`, '10m', {
        summary: `keepalived's config comes from the static fallback ${where}`,
        description: 'Discovery is on, but the config in effect was rendered from the static node list: the agent could reach neither the API nor a saved node set.',
        runbook: 'The peers may be wrong while this lasts. Check that the pod reaches the API server (keepalived_agent_api_watch_up, the agent\'s logs), '
          + 'its RBAC (list/watch Nodes), and that the state directory (hostPath) is writable.',
      }),
    rule(ALERT.apiUnreachable, 'warning',
      `${METRIC.apiWatchUp}{${sel}} == 0`, '10m', {
        summary: `The keepalived agent cannot watch the Nodes ${where}`,
        description: 'The agent\'s list/watch of Nodes fails: node changes do not reach keepalived.conf on this node (keepalived keeps running as it is).',
        runbook: 'Read the agent\'s logs (401/403: the ServiceAccount token or RBAC; TLS: the CA; timeouts: the network to the API server).',
      }),
  ];
  return [
    { name: 'keepalived-vrrp', rules: vrrp },
    { name: 'keepalived-nodes', rules: nodes },
  ];
}

/** A `monitoring.coreos.com/v1` PrometheusRule with the cluster's alert rules. */
export function prometheusRuleManifest(cluster: MonitoredCluster, options: PrometheusRuleOptions = {}): ManifestObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: objectMetadata(cluster, {
      name: monitoringObjectName(cluster),
      namespace: cluster.namespace,
      labels: { ...(cluster.labels ?? cluster.selectorLabels), ...options.labels },
    }),
    spec: { groups: keepalivedAlertRules(clusterSeriesSelector(cluster), options) },
  };
}
