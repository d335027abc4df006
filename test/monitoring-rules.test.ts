import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as YAML from 'yaml';
import { ALERT, AlertRule, keepalivedAlertRules, prometheusRuleManifest, RuleGroup } from '../src/core/monitoring';

/*
 * The alert rules under the real `promtool` (Debian package `prometheus`): `promtool check rules` on
 * the rule file and on the PrometheusRule's groups, and `promtool test rules` with series that a
 * cluster of three nodes (a, b, c) would produce: every alert fires when it must, and a normal
 * failover (a master stops, another takes over, the first comes back and preempts) fires nothing.
 */
const CI = process.env.CI === 'true';
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const missing = promtool.error || promtool.status !== 0 ? `promtool is not installed (Debian package prometheus): ${promtool.error?.message ?? promtool.stderr}` : undefined;
if (missing) {
  if (CI) {
    test('promtool prerequisites', () => {
      throw new Error(`The alert rule tests cannot run: ${missing}. Under CI=true they must run.`);
    });
  } else {
    console.warn(`SKIPPING the promtool alert rule tests (test/monitoring-rules.test.ts): ${missing}`);
  }
}
const withPromtool = missing ? test.skip : test;

const SCOPE = { namespace: 'keepalived', keepalived_cluster: 'edge' };
const VIP = { iname: 'edge_front', vrid: '10', ip_address: '203.0.113.10' };
const NODES = { a: 11, b: 12, c: 13 } as const;
type Node = keyof typeof NODES;
const target = (node: Node) => ({ ...SCOPE, job: 'keepalived', node, instance: `198.51.100.${NODES[node]}:9654` });

/** A series in promtool's notation: `name{labels}` and values such as `1x10 0x5`. */
function series(name: string, labels: Record<string, string>, values: string) {
  return { series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`, values };
}
const state = (node: Node, values: string) => series('keepalived_vrrp_state', { ...target(node), ...VIP, intf: 'eth0' }, values);
const becameMaster = (node: Node, values: string) => series('keepalived_become_master_total', { ...target(node), iname: VIP.iname, intf: 'eth0', vrid: VIP.vrid }, values);
const keepalivedUp = (node: Node, values: string) => series('keepalived_up', target(node), values);
const up = (node: Node, values: string) => series('up', target(node), values);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function promtoolRun(args: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function writeRules(name: string, groups: readonly RuleGroup[]): string {
  const file = join(dir, name);
  writeFileSync(file, YAML.stringify({ groups }));
  return file;
}

/** The rules without annotations: `promtool test rules` compares annotations too, and these tests are about when alerts fire. */
function withoutAnnotations(groups: readonly RuleGroup[]): RuleGroup[] {
  return groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r as AlertRule) }));
}

interface AlertTest { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[] }
interface UnitTest { name: string; interval: string; input_series: ReturnType<typeof series>[]; alert_rule_test: AlertTest[] }

function runUnitTests(ruleFile: string, tests: readonly UnitTest[]): void {
  const file = join(dir, `tests-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, YAML.stringify({ rule_files: [ruleFile], evaluation_interval: '30s', tests }));
  const r = promtoolRun(['test', 'rules', file]);
  if (r.status !== 0) throw new Error(`promtool test rules failed (exit ${r.status}):\n${r.output}`);
}

const ALL_ALERTS = Object.values(ALERT);
const allQuietAt = (times: readonly string[]): AlertTest[] => times.flatMap((t) => ALL_ALERTS.map((alertname) => ({ eval_time: t, alertname, exp_alerts: [] })));

withPromtool('promtool check rules accepts the rule file and the PrometheusRule\'s groups, templates included', () => {
  const groups = keepalivedAlertRules(SCOPE, { alertLabels: { team: 'network' } });
  expect(groups.flatMap((g) => g.rules.map((r) => r.alert)).sort()).toEqual([...ALL_ALERTS].sort());
  for (const rule of groups.flatMap((g) => g.rules)) {
    expect(rule.labels).toMatchObject({ team: 'network' });
    expect(['critical', 'warning']).toContain(rule.labels.severity);
    expect(rule.annotations.runbook.length).toBeGreaterThan(60);
  }
  const file = writeRules('rules.yaml', groups);
  const check = promtoolRun(['check', 'rules', file]);
  expect(check.output).toMatch(/SUCCESS: 10 rules found/);
  expect(check.status).toBe(0);
  const manifest = prometheusRuleManifest({ name: 'edge', namespace: 'keepalived', selectorLabels: { app: 'x' } }, { flapThreshold: 6, flapWindowMinutes: 30 });
  const fromManifest = writeRules('manifest-rules.yaml', (manifest.spec as { groups: RuleGroup[] }).groups);
  expect(promtoolRun(['check', 'rules', fromManifest]).status).toBe(0);
  expect(JSON.stringify(manifest)).toContain('increase(keepalived_become_master_total{namespace=\\"keepalived\\",keepalived_cluster=\\"edge\\"}[30m]))) > 6');
});

withPromtool('a normal failover fires nothing: the master stops, another takes over, it comes back and preempts', () => {
  // 30 s steps over 15 min. At 5m node a's keepalived stops (its VRRP series are absent, keepalived_up 0);
  // b reports MASTER one scrape later (so at 5m no node is MASTER for one evaluation); a is back at 5m30
  // as BACKUP and preempts at 6m30, while b still shows MASTER for that one scrape (two masters for one
  // evaluation).
  const file = writeRules('quiet-rules.yaml', withoutAnnotations(keepalivedAlertRules(SCOPE)));
  runUnitTests(file, [{
    name: 'normal failover and preempt back',
    interval: '30s',
    input_series: [
      state('a', '2x9 stale 1x1 2x17'),
      state('b', '1x10 2x2 1x16'),
      state('c', '1x30'),
      becameMaster('a', '1x12 2x17'),
      becameMaster('b', '0x10 1x19'),
      becameMaster('c', '0x30'),
      keepalivedUp('a', '1x9 0 1x19'), keepalivedUp('b', '1x30'), keepalivedUp('c', '1x30'),
      up('a', '1x30'), up('b', '1x30'), up('c', '1x30'),
    ],
    alert_rule_test: allQuietAt(['4m30s', '5m', '5m30s', '6m', '6m30s', '7m', '7m30s', '8m', '10m', '15m']),
  }]);
});

withPromtool('each alert fires when it must, with the labels that say where', () => {
  const file = writeRules('firing-rules.yaml', withoutAnnotations(keepalivedAlertRules(SCOPE)));
  const vipLabels = { ...SCOPE, ...VIP };
  runUnitTests(file, [
    {
      name: 'no master: every node BACKUP from 2m',
      interval: '30s',
      input_series: [state('a', '2x3 1x10'), state('b', '1x13'), state('c', '1x13')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.vipNoMaster, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'no master: every node FAULT from 2m (a health check that releases the group fails everywhere)',
      interval: '30s',
      input_series: [state('a', '2x3 3x10'), state('b', '1x3 3x10'), state('c', '1x3 3x10')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'no master: the master goes FAULT, the others stay BACKUP (a foreign router on the segment)',
      interval: '30s',
      input_series: [state('a', '2x3 3x10'), state('b', '1x13'), state('c', '1x13'), up('a', '1x13'), up('b', '1x13'), up('c', '1x13')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'the master\'s agent cannot be scraped while the others report BACKUP: no page (they hear its adverts), for 15 minutes',
      interval: '30s',
      input_series: [state('a', '2x3 stale'), up('a', '1x3 0x45'), state('b', '1x48'), state('c', '1x48'), up('b', '1x48'), up('c', '1x48')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [] },
        { eval_time: '8m', alertname: ALERT.vipNoMaster, exp_alerts: [] },
        { eval_time: '8m', alertname: ALERT.agentDown, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('a') } }] },
        { eval_time: '16m', alertname: ALERT.vipNoMaster, exp_alerts: [] },
        // a's last MASTER report (1m30s) is more than 15 minutes old: page
        { eval_time: '18m', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'an unscraped node that never reported MASTER hides nothing (a dead node\'s pod stays, up 0, for good)',
      interval: '30s',
      input_series: [up('c', '0x25'), state('a', '2x3 3x22'), state('b', '1x25'), up('a', '1x25'), up('b', '1x25')],
      alert_rule_test: [
        { eval_time: '5m', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'an unscraped node does not hide a VIP whose scraped nodes are all FAULT',
      interval: '30s',
      input_series: [state('a', '2x3 stale'), up('a', '1x3 0x20'), state('b', '1x3 3x20'), state('c', '1x3 3x20'), up('b', '1x23'), up('c', '1x23')],
      alert_rule_test: [
        { eval_time: '5m', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
      ],
    },
    {
      name: 'split brain: a and b MASTER from 2m',
      interval: '30s',
      input_series: [state('a', '2x13'), state('b', '1x3 2x10'), state('c', '1x13')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.splitBrain, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.splitBrain, exp_alerts: [{ exp_labels: { severity: 'critical', ...vipLabels } }] },
        { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [] },
      ],
    },
    {
      name: 'keepalived down everywhere',
      interval: '30s',
      input_series: [keepalivedUp('a', '1x3 0x10'), keepalivedUp('b', '1x3 0x10'), keepalivedUp('c', '1x3 0x10'), up('a', '1x13'), up('b', '1x13'), up('c', '1x13')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [{ exp_labels: { severity: 'critical', ...SCOPE } }] },
      ],
    },
    {
      name: 'no target at all: the DaemonSet deleted, or its pods Pending (no pod IP, so no up series)',
      interval: '30s',
      input_series: [up('a', '1x3 stale'), up('b', '1x3 stale'), up('c', '1x3 stale'), keepalivedUp('a', '1x3 stale'), keepalivedUp('b', '1x3 stale'), keepalivedUp('c', '1x3 stale')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [{ exp_labels: { severity: 'critical', ...SCOPE } }] },
      ],
    },
    {
      name: 'no agent answers',
      interval: '30s',
      input_series: [up('a', '1x3 0x10'), up('b', '1x3 0x10'), up('c', '1x3 0x10')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [{ exp_labels: { severity: 'critical', ...SCOPE } }] },
      ],
    },
    {
      name: 'flapping: 7 master changes in 4 minutes',
      interval: '30s',
      input_series: [becameMaster('a', '0 1 1 2 2 3 3 4 4x10'), becameMaster('b', '0 0 1 1 2 2 3 3 3x10')],
      alert_rule_test: [
        { eval_time: '2m', alertname: ALERT.flapping, exp_alerts: [] },
        { eval_time: '5m', alertname: ALERT.flapping, exp_alerts: [{ exp_labels: { severity: 'warning', ...SCOPE, iname: VIP.iname, vrid: VIP.vrid } }] },
      ],
    },
    {
      name: 'not flapping: exactly 4 master changes (the threshold), scraped off the window\'s edges',
      interval: '7s',
      input_series: [becameMaster('a', '0x20 1x20 2x20 3x20 4x200')],
      alert_rule_test: [
        { eval_time: '10m', alertname: ALERT.flapping, exp_alerts: [] },
        { eval_time: '15m', alertname: ALERT.flapping, exp_alerts: [] },
      ],
    },
    {
      name: 'not flapping: 3 master changes',
      interval: '30s',
      input_series: [becameMaster('a', '0 1 1 2x20'), becameMaster('b', '0 0 1x21')],
      alert_rule_test: [
        { eval_time: '3m', alertname: ALERT.flapping, exp_alerts: [] },
        { eval_time: '10m', alertname: ALERT.flapping, exp_alerts: [] },
      ],
    },
    {
      name: 'a group in FAULT on node c',
      interval: '30s',
      input_series: [state('a', '2x13'), state('b', '1x13'), state('c', '1x3 3x10')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.groupFault, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.groupFault, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('c'), iname: VIP.iname, vrid: VIP.vrid, job: undefined as unknown as string } }] },
      ],
    },
    {
      name: 'a health check failing on node b',
      interval: '30s',
      input_series: [series('keepalived_health_check_up', { ...target('b'), group: 'front', check: 'http-10254' }, '1x3 0x10')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.healthCheckFailing, exp_alerts: [] },
        { eval_time: '4m30s', alertname: ALERT.healthCheckFailing, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('b'), group: 'front', check: 'http-10254' } }] },
      ],
    },
    {
      name: 'keepalived down on node c',
      interval: '30s',
      input_series: [keepalivedUp('a', '1x13'), keepalivedUp('b', '1x13'), keepalivedUp('c', '1x3 0x10'), up('a', '1x13'), up('b', '1x13'), up('c', '1x13')],
      alert_rule_test: [
        { eval_time: '2m30s', alertname: ALERT.keepalivedDown, exp_alerts: [] },
        { eval_time: '3m30s', alertname: ALERT.keepalivedDown, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('c') } }] },
        { eval_time: '3m30s', alertname: ALERT.notRunningAnywhere, exp_alerts: [] },
      ],
    },
    {
      name: 'the agent of node c does not answer',
      interval: '30s',
      input_series: [up('a', '1x13'), up('b', '1x13'), up('c', '1x3 0x10')],
      alert_rule_test: [
        { eval_time: '3m30s', alertname: ALERT.agentDown, exp_alerts: [] },
        { eval_time: '4m30s', alertname: ALERT.agentDown, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('c') } }] },
      ],
    },
    {
      name: 'config from the static fallback with discovery on (c), not without discovery (b)',
      interval: '30s',
      input_series: [
        series('keepalived_agent_config_source', { ...target('c'), source: 'static' }, '1x30'),
        series('keepalived_agent_config_source', { ...target('c'), source: 'api' }, '0x30'),
        series('keepalived_agent_discovery_enabled', target('c'), '1x30'),
        series('keepalived_agent_config_source', { ...target('b'), source: 'static' }, '1x30'),
        series('keepalived_agent_discovery_enabled', target('b'), '0x30'),
      ],
      alert_rule_test: [
        { eval_time: '9m30s', alertname: ALERT.staticFallback, exp_alerts: [] },
        { eval_time: '10m30s', alertname: ALERT.staticFallback, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('c'), source: 'static' } }] },
      ],
    },
    {
      name: 'the API watch down on node a',
      interval: '30s',
      input_series: [series('keepalived_agent_api_watch_up', target('a'), '0x30'), series('keepalived_agent_api_watch_up', target('b'), '1x30')],
      alert_rule_test: [
        { eval_time: '9m30s', alertname: ALERT.apiUnreachable, exp_alerts: [] },
        { eval_time: '10m30s', alertname: ALERT.apiUnreachable, exp_alerts: [{ exp_labels: { severity: 'warning', ...target('a') } }] },
      ],
    },
  ].map((t) => JSON.parse(JSON.stringify(t))));
});

withPromtool('with externalLabels, one ruler over two Kubernetes clusters tells their VIPs apart', () => {
  // GIVEN the same cluster deployed to two Kubernetes clusters, k1 and k2 (a Thanos Ruler's view)
  const file = writeRules('external-rules.yaml', withoutAnnotations(keepalivedAlertRules(SCOPE, { externalLabels: ['cluster'] })));
  const inCluster = (k: string, s: ReturnType<typeof series>) => ({ ...s, series: s.series.replace('{', `{cluster="${k}",`) });
  runUnitTests(file, [{
    name: 'one master in each cluster; then none in k2',
    interval: '30s',
    input_series: [
      inCluster('k1', state('a', '2x20')), inCluster('k1', state('b', '1x20')),
      inCluster('k2', state('a', '2x20')), inCluster('k2', state('b', '1x3 3x17')),
      ...['k1', 'k2'].flatMap((k) => [inCluster(k, up('a', '1x20')), inCluster(k, up('b', '1x20'))]),
    ],
    alert_rule_test: [
      // THEN one master in each is no split brain
      { eval_time: '3m', alertname: ALERT.splitBrain, exp_alerts: [] },
      { eval_time: '3m', alertname: ALERT.vipNoMaster, exp_alerts: [] },
    ],
  }, {
    name: 'no master in k2 while k1 has one',
    interval: '30s',
    input_series: [
      inCluster('k1', state('a', '2x20')), inCluster('k1', state('b', '1x20')),
      inCluster('k2', state('a', '2x3 3x17')), inCluster('k2', state('b', '1x3 3x17')),
      ...['k1', 'k2'].flatMap((k) => [inCluster(k, up('a', '1x20')), inCluster(k, up('b', '1x20'))]),
    ],
    alert_rule_test: [
      { eval_time: '3m30s', alertname: ALERT.vipNoMaster, exp_alerts: [{ exp_labels: { severity: 'critical', cluster: 'k2', ...SCOPE, ...VIP } }] },
    ],
  }]);
  // ... and a cluster whose targets all vanish is seen (absent() cannot: the other cluster's remain)
  runUnitTests(file, [{
    name: 'k2\'s targets vanish',
    interval: '30s',
    input_series: [
      ...['k1', 'k2'].flatMap((k) => [inCluster(k, up('a', k === 'k1' ? '1x40' : '1x3 stale')), inCluster(k, keepalivedUp('a', k === 'k1' ? '1x40' : '1x3 stale'))]),
    ],
    alert_rule_test: [
      { eval_time: '10m', alertname: ALERT.notRunningAnywhere, exp_alerts: [{ exp_labels: { severity: 'critical', cluster: 'k2', ...SCOPE } }] },
    ],
  }]);
  // ... and without it the two would be one VIP with two masters
  const merged = writeRules('merged-rules.yaml', withoutAnnotations(keepalivedAlertRules(SCOPE)));
  expect(() => runUnitTests(merged, [{
    name: 'merged',
    interval: '30s',
    input_series: [inCluster('k1', state('a', '2x20')), inCluster('k2', state('a', '2x20'))],
    alert_rule_test: [{ eval_time: '3m', alertname: ALERT.splitBrain, exp_alerts: [] }],
  }])).toThrow(/KeepalivedVipMultipleMasters/);
});

withPromtool('the annotations name the VIP and the count (split brain, expanded by promtool)', () => {
  const groups = keepalivedAlertRules(SCOPE);
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === ALERT.splitBrain)!;
  const file = writeRules('annotated-rules.yaml', [{ name: 'one', rules: [rule] }]);
  runUnitTests(file, [{
    name: 'split brain annotations',
    interval: '30s',
    input_series: [state('a', '2x13'), state('b', '2x13'), state('c', '1x13')],
    alert_rule_test: [{
      eval_time: '3m',
      alertname: ALERT.splitBrain,
      exp_alerts: [{
        exp_labels: { severity: 'critical', ...SCOPE, ...VIP },
        exp_annotations: {
          summary: 'VIP 203.0.113.10 (VRID 10) has 2 masters (split brain)',
          description: '2 nodes report MASTER for 203.0.113.10 of group edge_front: they do not hear each other\'s VRRP adverts, and clients reach whichever answered ARP last.',
          runbook: rule.annotations.runbook,
        },
      }],
    }],
  }]);
});
