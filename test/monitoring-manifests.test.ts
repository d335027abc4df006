import {
  CLUSTER_LABEL, DEFAULT_METRICS_PORT, dashboardConfigMapManifest, dashboardUid, grafanaDashboard, keepalivedAlertRules, metricsOptionsIssues,
  metricsPortIssues, metricsPortOf, podMonitorManifest, prometheusRuleManifest,
} from '../src/core/monitoring';
import { expectValidAgainstSchemas, schemaErrors } from './support/schemas';

/*
 * The monitoring objects as plain data: valid against the real Prometheus Operator CRDs (schema-only
 * copies in schemas/, pruning made strict), and the fields that matter; the port rules.
 */
const CLUSTER = {
  name: 'edge',
  namespace: 'net',
  selectorLabels: { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': 'edge' },
  labels: { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': 'edge', 'app.kubernetes.io/managed-by': 'keepalived-constructs' },
};

describe('PodMonitor', () => {
  test('valid against the CRD; selects the cluster\'s pods, scrapes the named port, labels node and cluster', () => {
    // GIVEN / WHEN
    const pm = podMonitorManifest(CLUSTER, { labels: { release: 'prometheus' }, interval: '15s' });
    // THEN
    expectValidAgainstSchemas([pm]);
    expect(pm).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'keepalived-edge', namespace: 'net', labels: { ...CLUSTER.labels, release: 'prometheus' } },
      spec: { selector: { matchLabels: CLUSTER.selectorLabels } },
    });
    const [endpoint] = (pm.spec as any).podMetricsEndpoints;
    expect(endpoint).toEqual({
      port: 'metrics',
      path: '/metrics',
      interval: '15s',
      relabelings: [
        { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
        { action: 'replace', targetLabel: CLUSTER_LABEL, replacement: 'edge' },
      ],
    });
  });

  test('the schema check catches a wrong field (so the check above means something)', () => {
    const pm: any = podMonitorManifest(CLUSTER);
    const broken = { ...pm, spec: { ...pm.spec, podMetricsEndpoints: [{ ...pm.spec.podMetricsEndpoints[0], port: 9654, scrapeEvery: '1s' }] } };
    expect(schemaErrors(broken).join('\n')).toMatch(/port|scrapeEvery/);
  });
});

describe('PrometheusRule', () => {
  test('valid against the CRD; the rules select this cluster\'s series only', () => {
    const rule = prometheusRuleManifest(CLUSTER, { labels: { release: 'prometheus' }, alertLabels: { team: 'net' } });
    expectValidAgainstSchemas([rule]);
    expect(rule.metadata).toEqual({ name: 'keepalived-edge', namespace: 'net', labels: { ...CLUSTER.labels, release: 'prometheus' } });
    const rules = (rule.spec as any).groups.flatMap((g: any) => g.rules);
    expect(rules).toHaveLength(10);
    for (const r of rules) {
      // every selector in the expression names the cluster
      const selectors = r.expr.match(/\{[^}]*\}/g) ?? [];
      expect(selectors.length).toBeGreaterThan(0);
      for (const s of selectors) expect(s).toContain('namespace="net",keepalived_cluster="edge"');
      expect(r.labels).toMatchObject({ team: 'net' });
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook', 'summary']);
    }
  });

  test('the rule groups are deterministic and the flap threshold and window are applied', () => {
    const a = keepalivedAlertRules({ namespace: 'n', keepalived_cluster: 'c' }, { flapThreshold: 7, flapWindowMinutes: 20 });
    expect(keepalivedAlertRules({ namespace: 'n', keepalived_cluster: 'c' }, { flapThreshold: 7, flapWindowMinutes: 20 })).toEqual(a);
    const flapping = a.flatMap((g) => g.rules).find((r) => r.alert === 'KeepalivedVipFlapping')!;
    expect(flapping.expr).toBe('round(sum by (namespace, keepalived_cluster, iname, vrid) (increase(keepalived_become_master_total{namespace="n",keepalived_cluster="c"}[20m]))) > 7');
  });
});

describe('Grafana dashboard', () => {
  test('a ConfigMap labelled for the Grafana sidecar, preset to the cluster, with a uid per cluster', () => {
    const cm = dashboardConfigMapManifest(CLUSTER, { namespace: 'monitoring', labels: { team: 'net' } });
    expectValidAgainstSchemas([cm]);
    // In another namespace than the cluster's, the name carries the cluster's namespace too.
    expect(cm.metadata).toEqual({ name: 'keepalived-net-edge-dashboard', namespace: 'monitoring', labels: { ...CLUSTER.labels, grafana_dashboard: '1', team: 'net' } });
    expect(dashboardConfigMapManifest(CLUSTER).metadata).toMatchObject({ name: 'keepalived-edge-dashboard', namespace: 'net' });
    // Its file (the data key) is the cluster's own: the sidecar writes every dashboard's files to one folder.
    expect(Object.keys((cm as any).data)).toEqual(['keepalived-net-edge.json']);
    const dashboard = JSON.parse((cm as any).data['keepalived-net-edge.json']);
    expect(dashboard.uid).toBe('keepalived-net-edge');
    const vars = Object.fromEntries(dashboard.templating.list.map((v: any) => [v.name, v.current?.value]));
    expect(vars).toMatchObject({ namespace: 'net', cluster: 'edge' });
  });

  test('clusters of one name in two namespaces, with their dashboards in one, get two ConfigMaps, two files and two uids', () => {
    // GIVEN two clusters named edge, in site-a and site-b
    const [a, b] = ['site-a', 'site-b'].map((namespace) => dashboardConfigMapManifest({ ...CLUSTER, namespace }, { namespace: 'monitoring' }));
    // THEN
    expect(a.metadata.name).not.toBe(b.metadata.name);
    const [fileA, fileB] = [a, b].map((cm) => Object.keys((cm as any).data)[0]);
    expect(fileA).not.toBe(fileB);
    const uid = (cm: typeof a, file: string) => JSON.parse((cm as any).data[file]).uid;
    expect([uid(a, fileA), uid(b, fileB)]).toEqual(['keepalived-site-a-edge', 'keepalived-site-b-edge']);
  });

  test('a uid longer than Grafana\'s 40 characters keeps its start and ends in a hash of all of it', () => {
    // GIVEN two clusters whose `keepalived-<namespace>-<cluster>` agree in their first 40 characters
    const uids = ['edge-a', 'edge-b'].map((name) => dashboardUid({ name, namespace: 'network-edge-production' }));
    // THEN
    for (const uid of uids) {
      expect(uid.length).toBeLessThanOrEqual(40);
      expect(uid).toMatch(/^keepalived-network-edge-product-[0-9a-f]{8}$/);
    }
    expect(uids[0]).not.toBe(uids[1]);
  });

  test('the cluster\'s annotations reach the dashboard, the PodMonitor and the PrometheusRule', () => {
    const annotated = { ...CLUSTER, annotations: { 'example.com/owner': 'network' } };
    for (const object of [dashboardConfigMapManifest(annotated), podMonitorManifest(annotated), prometheusRuleManifest(annotated)]) {
      expect(object.metadata.annotations).toEqual({ 'example.com/owner': 'network' });
    }
    expect(podMonitorManifest(CLUSTER).metadata.annotations).toBeUndefined();
  });

  test('panels do not overlap and have unique ids; every query selects the chosen cluster', () => {
    const d: any = grafanaDashboard();
    const ids = d.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        expect(cells.has(`${i},${j}`)).toBe(false);
        cells.add(`${i},${j}`);
      }
      for (const t of p.targets) expect(t.expr).toContain('namespace="$namespace",keepalived_cluster="$cluster"');
    }
  });
});

describe('metrics port', () => {
  test('the default, and a port in 1024..65535 that no health check uses', () => {
    expect(metricsPortOf(undefined)).toBe(DEFAULT_METRICS_PORT);
    expect(metricsPortOf({ port: 10000 })).toBe(10000);
    expect(metricsPortOf({ enabled: false })).toBeUndefined();
    expect(metricsPortIssues('c', 9654)).toEqual([]);
    expect(metricsPortIssues('c', 65535)).toEqual([]);
  });

  test.each([[0], [80], [1023], [65536], [9654.5], ['9654'], [NaN]])('%p is rejected, naming path, field, value and what is valid', (port) => {
    const [issue] = metricsPortIssues('chart/edge', port);
    expect(issue).toMatchObject({ path: 'chart/edge', field: 'metrics.port', value: port });
    expect(issue.expected).toMatch(/1024 to 65535/);
  });

  test('a port that a health check of the cluster probes on the node is a clash', () => {
    const issues = metricsOptionsIssues('chart/edge', { port: 10254 }, [{ port: 10254, usedBy: 'the health check http-10254 of group front' }]);
    expect(issues).toEqual([expect.objectContaining({ field: 'metrics.port', value: 10254, problem: 'is also used by the health check http-10254 of group front on the node' })]);
  });

  test('PodMonitor or PrometheusRule with metrics off, a bad flap setting or interval are errors', () => {
    const issues = metricsOptionsIssues('p', { enabled: false, podMonitor: true, prometheusRule: { flapThreshold: 0, flapWindowMinutes: 1.5 } });
    expect(issues.map((i) => i.field)).toEqual(['metrics.podMonitor', 'metrics.prometheusRule', 'metrics.prometheusRule.flapThreshold', 'metrics.prometheusRule.flapWindowMinutes']);
    expect(metricsOptionsIssues('p', { podMonitor: { interval: 'often' } })).toEqual([expect.objectContaining({ field: 'metrics.podMonitor.interval' })]);
    expect(metricsOptionsIssues('p', { podMonitor: { interval: '1m30s' }, prometheusRule: true, dashboard: true })).toEqual([]);
  });

  test('labels the API server or Prometheus would reject, and a dashboard namespace that is not one, are errors', () => {
    const issues = metricsOptionsIssues('p', {
      podMonitor: { labels: { 'bad key': 'x' } },
      prometheusRule: { labels: { team: 'net ops' }, alertLabels: { 'team-name': 'net', __meta: 'x', severity: 'page' } },
      dashboard: { labels: { 'example.com/': 'x' }, namespace: 'Monitoring' },
    });
    expect(issues.map((i) => [i.field, i.value])).toEqual([
      ['metrics.podMonitor.labels["bad key"]', 'bad key'],
      ['metrics.prometheusRule.labels["team"]', 'net ops'],
      ['metrics.dashboard.labels["example.com/"]', 'example.com/'],
      ['metrics.dashboard.namespace', 'Monitoring'],
      ['metrics.prometheusRule.alertLabels["team-name"]', 'team-name'],
      ['metrics.prometheusRule.alertLabels["__meta"]', '__meta'],
      ['metrics.prometheusRule.alertLabels["severity"]', 'page'],
    ]);
    expect(metricsOptionsIssues('p', {
      podMonitor: { labels: { 'example.com/release': 'prometheus', empty: '' } }, prometheusRule: { alertLabels: { team_name: 'net ops/β' } }, dashboard: { namespace: 'monitoring' },
    })).toEqual([]);
  });

  test('an alert label with a template, and external labels that are not names or that the series carry, are errors', () => {
    const issues = metricsOptionsIssues('p', { prometheusRule: { alertLabels: { team: 'net{{ ops' }, externalLabels: ['cluster', 'node', 'cluster', 'bad-name'] } });
    expect(issues.map((i) => [i.field, i.value, i.problem])).toEqual([
      ['metrics.prometheusRule.alertLabels["team"]', 'net{{ ops', expect.stringContaining('starts a template')],
      ['metrics.prometheusRule.externalLabels[1]', 'node', expect.stringContaining('the agents\' own series')],
      ['metrics.prometheusRule.externalLabels[2]', 'cluster', 'is given twice'],
      ['metrics.prometheusRule.externalLabels[3]', 'bad-name', 'is not a Prometheus label name'],
    ]);
    expect(metricsOptionsIssues('p', { prometheusRule: { externalLabels: 'cluster' as any } })).toEqual([expect.objectContaining({ field: 'metrics.prometheusRule.externalLabels' })]);
    expect(metricsOptionsIssues('p', { prometheusRule: { alertLabels: { team: 'net }} ops' }, externalLabels: ['cluster', 'region'] } })).toEqual([]);
  });
});
