/** The standalone target: everything that runs keepalived on a cluster without Deckhouse. */
import { IpFamily } from '../address';
import { ValidationIssue } from '../errors';
import { agentBundleSource } from '../agent-bundle';
import { ClusterObject, definedItems, dropUndefined, ManifestObject } from '../manifest';
import { effectiveHealthChecks } from '../health-check';
import { checkPackageLabels, isPlainObject, snapshotOf } from '../metadata';
import { ClusterDefinition, GroupDefinition } from '../model';
import { clusterName } from '../names';
import { dashboardConfigMapManifest } from '../monitoring/dashboard';
import { DashboardOptions, DEFAULT_METRICS_PORT, metricsPortOf, PodMonitorOptions, PrometheusRuleOptions } from '../monitoring/metrics-options';
import { MonitoredCluster, podMonitorManifest } from '../monitoring/pod-monitor';
import { prometheusRuleManifest } from '../monitoring/prometheus-rule';
import type { BuildContext, IssueReport, TargetStrategy } from '../target';
import { agentSpecOf, usesLeases } from './agent-spec-of';
import { agentConfigMapName, needsAgentConfigMap, specConfigMap } from './config-maps';
import { daemonSet } from './daemon-set';
import { namespaceOf, selectorLabels, STANDALONE_NAME_MAX, standaloneLabels, standaloneNames } from './names';
import { StandaloneOptions, UpdateStrategy } from './options';
import { keepalivedVersionIssues } from './keepalived-version';
import { vrrpPolicies } from './policies';
import { discoveryRbac } from './rbac';
import { authSecret, authSecretRef } from './secret';
import { groupNameIssues, ordersNodes, preferredNodeIssues, priorityDropIssues, validateStandaloneGroup, validateStandaloneOptions } from './validate';

/** The opt-in Prometheus Operator objects and the dashboard ConfigMap. */
function monitoringObjects(o: StandaloneOptions, cluster: MonitoredCluster): ClusterObject[] {
  const m = o.metrics;
  if (metricsPortOf(m) === undefined) return [];
  const opts = <T>(v: boolean | T | undefined): T | undefined => (v === undefined || v === false ? undefined : v === true ? ({} as T) : v);
  const podMonitor = opts<PodMonitorOptions>(m?.podMonitor);
  const rule = opts<PrometheusRuleOptions>(m?.prometheusRule);
  const dashboard = opts<DashboardOptions>(m?.dashboard);
  return definedItems<ClusterObject>([
    podMonitor ? { id: 'PodMonitor', object: podMonitorManifest(cluster, podMonitor) } : undefined,
    rule ? { id: 'PrometheusRule', object: prometheusRuleManifest(cluster, rule) } : undefined,
    dashboard ? { id: 'DashboardConfigMap', object: dashboardConfigMapManifest(cluster, dashboard) } : undefined,
  ]);
}

/** A DaemonSet with the node agent, and what it needs. */
export class StandaloneTargetStrategy implements TargetStrategy {
  public readonly maxNameLength = STANDALONE_NAME_MAX;
  public readonly ipv6 = true;
  public readonly healthChecks = true;

  /** The options (a snapshot; empty when what was given is not an object, which `validateCluster` reports). */
  public readonly options: StandaloneOptions;

  constructor(private readonly given: StandaloneOptions) {
    this.options = isPlainObject(given) ? snapshotOf(given) : {};
  }

  public get namespace(): string {
    return namespaceOf(this.options);
  }

  public get needsAgentConfigMap(): boolean {
    return needsAgentConfigMap(this.options);
  }

  public get nameScope(): string {
    return `namespace ${this.namespace}`;
  }

  public nameLengthReason(name: string): string {
    return `the DaemonSet keepalived-${name} names pods that must be DNS labels`;
  }

  public validateCluster(def: ClusterDefinition, report: IssueReport): void {
    if (!isPlainObject(this.given)) {
      report('Target.standalone(options)', this.given, 'is not an object of options', 'Target.standalone({ namespace, nodeOrder, ... }), or Target.standalone() for the defaults');
      return;
    }
    validateStandaloneOptions(this.options, report);
    const own = standaloneLabels(clusterName(def));
    checkPackageLabels('target.labels', this.options.labels, own, report);
    checkPackageLabels('target.podLabels', this.options.podLabels, own, report);
    for (const i of keepalivedVersionIssues(def)) report(i.field, i.value, i.problem, i.expected);
  }

  public validateGroup(def: ClusterDefinition, group: GroupDefinition, family: IpFamily, report: IssueReport): void {
    validateStandaloneGroup(this.options, group, family, report);
    for (const i of keepalivedVersionIssues(def, group)) report(i.field, i.value, i.problem, i.expected);
  }

  public warnings(def: ClusterDefinition): ValidationIssue[] {
    return [...preferredNodeIssues(def), ...(ordersNodes(this.options) ? [] : priorityDropIssues(def, this.options))];
  }

  public hostPort(): { field: string; port: number } | undefined {
    const port = metricsPortOf(this.options.metrics);
    return port === undefined ? undefined : { field: 'target.metrics.port', port };
  }

  public resolvedIssues(def: ClusterDefinition, vridOf: (groupIndex: number) => number | undefined): ValidationIssue[] {
    return [...groupNameIssues(def, vridOf), ...this.metricsPortClashes(def), ...(ordersNodes(this.options) ? priorityDropIssues(def, this.options) : [])];
  }

  /** The agent cannot serve metrics on a port that a health check probes on the node (it would probe itself). */
  private metricsPortClashes(def: ClusterDefinition): ValidationIssue[] {
    const port = metricsPortOf(this.options.metrics);
    if (port === undefined) return [];
    const probed = def.groups.flatMap(({ group }) => effectiveHealthChecks(group, def)).find((c) => (c._spec as { port?: number }).port === port);
    return probed === undefined ? [] : [{
      path: def.path, field: 'target.metrics.port', value: port,
      problem: `is also the port the health check ${probed} probes on the node, so the agent would probe its own metrics endpoint`,
      expected: `another metrics port, e.g. ${port === DEFAULT_METRICS_PORT ? DEFAULT_METRICS_PORT + 1 : DEFAULT_METRICS_PORT}, or another port for the service`,
    }];
  }

  /** ServiceAccount, RBAC (discovery), Secret (literal password), ConfigMap, DaemonSet, policies. */
  public objects(def: ClusterDefinition, ctx: BuildContext): ClusterObject[] {
    const o = this.options;
    const n = standaloneNames(def, o);
    const labels = standaloneLabels(n.name, o);
    const meta = (name: string, clusterScoped = false): ManifestObject['metadata'] => dropUndefined({
      name,
      namespace: clusterScoped ? undefined : n.namespace,
      labels: { ...labels },
      annotations: o.annotations ? { ...o.annotations } : undefined,
    });
    const spec = ctx.content(() => agentSpecOf(def, o, ctx.vridOf));
    const configMap = specConfigMap(n.configMapPrefix, n.namespace, labels, spec, o.annotations);
    const secret = authSecret(o, n, meta);
    // OnDelete: old pods keep mounting the earlier spec ConfigMaps until someone replaces them.
    const manual = o.updateStrategy === UpdateStrategy.ON_DELETE;
    return definedItems<ClusterObject>([
      { id: 'ServiceAccount', object: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(n.serviceAccount), automountServiceAccountToken: false } },
      ...(o.discovery ? discoveryRbac(n, meta, usesLeases(o), ctx, () => spec!) : []),
      secret ? { id: 'Secret', object: secret } : undefined,
      { id: 'ConfigMap', object: configMap, contentNamed: true, ...(manual ? { outlivesItsVersion: true } : {}) },
      {
        id: 'Resource',
        exclusive: true,
        ...(manual ? { manualRollout: true } : {}),
        object: daemonSet(def, o, n, {
          labels,
          annotations: o.annotations,
          specConfigMap: configMap.metadata.name,
          agentConfigMap: this.needsAgentConfigMap ? agentConfigMapName(agentBundleSource()) : undefined,
          auth: authSecretRef(o, n),
        }, ctx),
      },
      ...vrrpPolicies(def, o, n, meta),
      ...monitoringObjects(o, { name: n.name, namespace: n.namespace, selectorLabels: selectorLabels(n.name), labels, annotations: o.annotations }),
    ]);
  }
}
