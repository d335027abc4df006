/**
 * The Grafana dashboard for keepalived clusters, as plain JSON: per VIP who is master over time, the
 * failovers, keepalived and health checks per node, and the agent's own state. It picks a cluster
 * with the `namespace` and `cluster` variables (the labels the PodMonitor puts on the series).
 */
import { ManifestObject } from '../manifest';
import { CLUSTER_LABEL, DashboardOptions, METRIC, NODE_LABEL } from './metrics-options';
import { MonitoredCluster, objectMetadata } from './pod-monitor';
import { fnv1a32Hex } from '../hash';

/** Options of `grafanaDashboard`. */
export interface GrafanaDashboardOptions {
  /** The dashboard's uid. @default 'keepalived' */
  readonly uid?: string;
  /** Its title. @default 'keepalived' */
  readonly title?: string;
  /** The variables' initial values. @default - the first namespace and cluster found */
  readonly namespace?: string;
  readonly cluster?: string;
}

interface Target { readonly expr: string; readonly legendFormat: string }

const SEL = `namespace="$namespace",${CLUSTER_LABEL}="$cluster"`;
const STATE_MAPPINGS = [{
  type: 'value',
  options: {
    0: { text: 'INIT', color: 'blue', index: 0 },
    1: { text: 'BACKUP', color: 'green', index: 1 },
    2: { text: 'MASTER', color: 'purple', index: 2 },
    3: { text: 'FAULT', color: 'red', index: 3 },
  },
}];

/** The dashboard's JSON model. */
export function grafanaDashboard(options: GrafanaDashboardOptions = {}): Record<string, unknown> {
  let id = 0;
  let y = 0;
  const panels: Record<string, unknown>[] = [];
  const panel = (type: string, title: string, description: string, targets: readonly Target[], w: number, h: number, extra: Record<string, unknown> = {}) => {
    const x = panels.length > 0 && (panels[panels.length - 1].gridPos as any).x + (panels[panels.length - 1].gridPos as any).w + w <= 24 && (panels[panels.length - 1].gridPos as any).y === y
      ? (panels[panels.length - 1].gridPos as any).x + (panels[panels.length - 1].gridPos as any).w
      : 0;
    if (x === 0 && panels.length > 0) y += (panels[panels.length - 1].gridPos as any).h;
    panels.push({
      id: ++id,
      type,
      title,
      description,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { x, y, w, h },
      targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), datasource: { type: 'prometheus', uid: '${datasource}' }, expr: t.expr, legendFormat: t.legendFormat })),
      ...extra,
    });
  };
  panel('state-timeline', 'Master of each VIP', 'The node that reports MASTER for each VIP, over time. Two rows for one VIP at once is a split brain; a gap is a VIP with no master.',
    [{ expr: `max by (ip_address, ${NODE_LABEL}) (${METRIC.vrrpState}{${SEL}} == 2)`, legendFormat: `{{ip_address}} on {{${NODE_LABEL}}}` }], 24, 8,
    { fieldConfig: { defaults: { mappings: STATE_MAPPINGS, color: { mode: 'thresholds' } }, overrides: [] }, options: { showValue: 'never', mergeValues: true } });
  panel('timeseries', 'Masters per VIP', 'How many nodes report MASTER for each VIP: 1 is healthy, 0 nobody serves it, 2 or more is a split brain.',
    [{ expr: `sum by (ip_address) (${METRIC.vrrpState}{${SEL}} == bool 2)`, legendFormat: '{{ip_address}}' }], 12, 8,
    { fieldConfig: { defaults: { min: 0, decimals: 0, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }, { color: 'red', value: 2 }] } }, overrides: [] } });
  panel('timeseries', 'Failovers', 'Master changes per VRRP group (sum over the nodes of keepalived_become_master_total).',
    [{ expr: `sum by (iname, vrid) (increase(${METRIC.becomeMaster}{${SEL}}[$__rate_interval]))`, legendFormat: '{{iname}} (VRID {{vrid}})' }], 12, 8,
    { fieldConfig: { defaults: { decimals: 0, custom: { drawStyle: 'bars' } }, overrides: [] } });
  panel('state-timeline', 'VRRP state per node', 'keepalived_vrrp_state of every VIP on every node.',
    [{ expr: `${METRIC.vrrpState}{${SEL}}`, legendFormat: `{{ip_address}} {{${NODE_LABEL}}}` }], 24, 8,
    { fieldConfig: { defaults: { mappings: STATE_MAPPINGS, color: { mode: 'thresholds' } }, overrides: [] }, options: { showValue: 'auto', mergeValues: true } });
  panel('state-timeline', 'keepalived running', 'keepalived_up per node: 1 when the agent finds a running keepalived.',
    [{ expr: `${METRIC.up}{${SEL}}`, legendFormat: `{{${NODE_LABEL}}}` }], 12, 6,
    { fieldConfig: { defaults: { mappings: [{ type: 'value', options: { 0: { text: 'down', color: 'red' }, 1: { text: 'up', color: 'green' } } }] }, overrides: [] } });
  panel('state-timeline', 'Health checks', 'keepalived_health_check_up per node, group and check.',
    [{ expr: `${METRIC.healthCheckUp}{${SEL}}`, legendFormat: `{{group}}/{{check}} {{${NODE_LABEL}}}` }], 12, 6,
    { fieldConfig: { defaults: { mappings: [{ type: 'value', options: { 0: { text: 'failing', color: 'red' }, 1: { text: 'healthy', color: 'green' } } }] }, overrides: [] } });
  panel('timeseries', 'Priority', 'The priority in each node\'s config, and the one keepalived reported at its last state change (with health-check weights).',
    [
      { expr: `${METRIC.priority}{${SEL}}`, legendFormat: `{{iname}} {{${NODE_LABEL}}} configured` },
      { expr: `${METRIC.reportedPriority}{${SEL}}`, legendFormat: `{{iname}} {{${NODE_LABEL}}} reported` },
    ], 12, 8);
  panel('timeseries', 'Config renders and reloads', 'Configs the agent rendered (by node-set source), failed renders, and keepalived reloads (SIGHUP).',
    [
      { expr: `sum by (${NODE_LABEL}, source) (increase(${METRIC.configRenders}{${SEL}}[$__rate_interval]))`, legendFormat: `{{${NODE_LABEL}}} render from {{source}}` },
      { expr: `sum by (${NODE_LABEL}) (increase(${METRIC.configRenderErrors}{${SEL}}[$__rate_interval]))`, legendFormat: `{{${NODE_LABEL}}} render failed` },
      { expr: `sum by (${NODE_LABEL}) (increase(${METRIC.configReloads}{${SEL}}[$__rate_interval]))`, legendFormat: `{{${NODE_LABEL}}} reload` },
    ], 12, 8, { fieldConfig: { defaults: { decimals: 0, custom: { drawStyle: 'bars' } }, overrides: [] } });
  panel('table', 'Config source', 'Where the config in effect on each node got its node set: api, saved (the last set from the API, kept on the node) or static (the fallback).',
    [{ expr: `${METRIC.configSource}{${SEL}} == 1`, legendFormat: `{{${NODE_LABEL}}} {{source}}` }], 8, 8,
    { options: { showHeader: true }, transformations: [{ id: 'labelsToFields', options: {} }] });
  panel('timeseries', 'Discovery', 'The agent\'s watch of the Nodes (1 = up) and the nodes it sees; Lease writes by result.',
    [
      { expr: `${METRIC.apiWatchUp}{${SEL}}`, legendFormat: `{{${NODE_LABEL}}} API watch up` },
      { expr: `${METRIC.discoveredNodes}{${SEL}}`, legendFormat: `{{${NODE_LABEL}}} nodes discovered` },
      { expr: `sum by (${NODE_LABEL}, result) (increase(${METRIC.leaseWrites}{${SEL}}[$__rate_interval]))`, legendFormat: `{{${NODE_LABEL}}} Lease writes {{result}}` },
    ], 16, 8);
  const variable = (name: string, label: string, query: string, current: string | undefined) => ({
    name,
    label,
    type: 'query',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    sort: 1,
    ...(current === undefined ? {} : { current: { text: current, value: current } }),
  });
  return {
    uid: options.uid ?? 'keepalived',
    title: options.title ?? 'keepalived',
    tags: ['keepalived', 'vrrp'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus' },
        variable('namespace', 'Namespace', `label_values(${METRIC.vrrpState}, namespace)`, options.namespace),
        variable('cluster', 'Cluster', `label_values(${METRIC.vrrpState}{namespace="$namespace"}, ${CLUSTER_LABEL})`, options.cluster),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** Grafana's longest dashboard uid. */
const GRAFANA_UID_MAX = 40;

/**
 * The dashboard's uid, unique per namespace and cluster: `keepalived-<namespace>-<cluster>`, or, when
 * that is longer than Grafana admits, its start and a hash of all of it.
 */
export function dashboardUid(cluster: Pick<MonitoredCluster, 'name' | 'namespace'>): string {
  const uid = `keepalived-${cluster.namespace}-${cluster.name}`;
  if (uid.length <= GRAFANA_UID_MAX) return uid;
  const hash = fnv1a32Hex(uid);
  return `${uid.slice(0, GRAFANA_UID_MAX - hash.length - 1)}-${hash}`;
}

/** The dashboard's file (its ConfigMap's data key): the uid's, unique per namespace and cluster. */
export function dashboardFileName(cluster: Pick<MonitoredCluster, 'name' | 'namespace'>): string {
  return `${dashboardUid(cluster)}.json`;
}

/**
 * The dashboard ConfigMap's name: `keepalived-<cluster>-dashboard` in the cluster's namespace, and with
 * the cluster's namespace too in another namespace (where clusters of several namespaces meet).
 */
export function dashboardConfigMapName(cluster: Pick<MonitoredCluster, 'name' | 'namespace'>, options: DashboardOptions = {}): string {
  const elsewhere = options.namespace !== undefined && options.namespace !== cluster.namespace;
  return elsewhere ? `keepalived-${cluster.namespace}-${cluster.name}-dashboard` : `keepalived-${cluster.name}-dashboard`;
}

/**
 * The dashboard as a ConfigMap for the Grafana sidecar (`grafana_dashboard: "1"`), preset to the
 * cluster; its name, uid and file are unique per namespace and cluster.
 */
export function dashboardConfigMapManifest(cluster: MonitoredCluster, options: DashboardOptions = {}): ManifestObject {
  const dashboard = grafanaDashboard({
    uid: dashboardUid(cluster),
    title: `keepalived ${cluster.namespace}/${cluster.name}`,
    namespace: cluster.namespace,
    cluster: cluster.name,
  });
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(cluster, {
      name: dashboardConfigMapName(cluster, options),
      namespace: options.namespace ?? cluster.namespace,
      labels: { ...(cluster.labels ?? cluster.selectorLabels), grafana_dashboard: '1', ...options.labels },
    }),
    // The sidecar writes every data key of every such ConfigMap to one folder: a key per cluster.
    data: { [dashboardFileName(cluster)]: `${JSON.stringify(dashboard, undefined, 2)}\n` },
  };
}
