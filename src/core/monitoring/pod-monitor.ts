/** The Prometheus Operator `PodMonitor` that scrapes a standalone cluster's agents, as plain data. */
import { ManifestObject } from '../manifest';
import { CLUSTER_LABEL, METRICS_PATH, METRICS_PORT_NAME, NODE_LABEL, PodMonitorOptions } from './metrics-options';

/** A standalone cluster as the monitoring objects see it. */
export interface MonitoredCluster {
  /** The cluster's name: the value of the `keepalived_cluster` label on its series. */
  readonly name: string;
  /** Its namespace: the PodMonitor's and PrometheusRule's, and the `namespace` label on its series. */
  readonly namespace: string;
  /** The labels that select the cluster's pods (the DaemonSet's selector). */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The labels every object of the cluster carries. @default - selectorLabels */
  readonly labels?: Readonly<Record<string, string>>;
  /** The annotations every object of the cluster carries. @default - none */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A monitoring object's metadata: with the cluster's annotations, if it has any. */
export function objectMetadata(cluster: Pick<MonitoredCluster, 'annotations'>, metadata: ManifestObject['metadata']): ManifestObject['metadata'] {
  return cluster.annotations ? { ...metadata, annotations: { ...cluster.annotations } } : metadata;
}

/** The PodMonitor's and PrometheusRule's name. */
export function monitoringObjectName(cluster: Pick<MonitoredCluster, 'name'>): string {
  return `keepalived-${cluster.name}`;
}

/**
 * The label matchers that select one cluster's series, as the PodMonitor labels them: `namespace`
 * (set by the Prometheus Operator) and `keepalived_cluster` (set by the PodMonitor's relabelling).
 */
export function clusterSeriesSelector(cluster: Pick<MonitoredCluster, 'name' | 'namespace'>): Record<string, string> {
  return { namespace: cluster.namespace, [CLUSTER_LABEL]: cluster.name };
}

/**
 * A `monitoring.coreos.com/v1` PodMonitor that scrapes the agent's `metrics` port on every pod of the
 * cluster, and labels each series with the node (`node`) and the cluster (`keepalived_cluster`).
 * The agent container must declare its port with the name `metrics`.
 */
export function podMonitorManifest(cluster: MonitoredCluster, options: PodMonitorOptions = {}): ManifestObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: objectMetadata(cluster, {
      name: monitoringObjectName(cluster),
      namespace: cluster.namespace,
      labels: { ...(cluster.labels ?? cluster.selectorLabels), ...options.labels },
    }),
    spec: {
      selector: { matchLabels: { ...cluster.selectorLabels } },
      podMetricsEndpoints: [{
        port: METRICS_PORT_NAME,
        path: METRICS_PATH,
        ...(options.interval === undefined ? {} : { interval: options.interval }),
        relabelings: [
          { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: NODE_LABEL },
          { action: 'replace', targetLabel: CLUSTER_LABEL, replacement: cluster.name },
        ],
      }],
    },
  };
}
