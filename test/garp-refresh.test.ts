import { AgentSpec } from '../src/core/agent-spec';
import { DEFAULT_GARP_REFRESH_SECONDS } from '../src/core/rules/garp-refresh';
import { AgentRenderError, renderKeepalivedConf } from '../src/core/keepalived-conf';
import { NodeView } from '../src/core/node-view';
import { FrontendVips, InterfaceSelector, KeepalivedCluster, Target } from '../src';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';
import { newChart, synth } from './support/synth';

/*
 * Gratuitous ARP refresh (issue 11 item 6): `Target.standalone({ garpRefreshSeconds })`, 30 s by default,
 * carried in spec.json per group and rendered as `garp_master_refresh` inside each vrrp_instance. The
 * periodic announcements themselves are observed with real keepalived in test/netns-garp.test.ts.
 */
const keepalived = new KeepalivedConfigCheck('kc-garp', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

const VIEW: NodeView = {
  interfaces: [{ name: 'lo', addresses: ['127.0.0.1/8'] }, { name: 'eth0', addresses: ['198.51.100.11/24', '2001:db8:1::11/64'] }],
  defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth0' }],
};

function specOf(groups: AgentSpec['groups']): AgentSpec {
  return { version: 1, cluster: 'edge', nodeOrder: ['node-a', 'node-b'], auth: false, groups };
}

function synthSpec(garpRefreshSeconds?: number): AgentSpec {
  const { chart } = newChart();
  new FrontendVips(chart, 'front', {
    name: 'front', nodeSelector: { edge: '' }, addresses: ['198.51.100.100/32', '2001:db8:1::100/128'],
    target: Target.standalone({ nodeOrder: ['node-a', 'node-b'], ...(garpRefreshSeconds === undefined ? {} : { garpRefreshSeconds }) }),
  });
  const configMap = synth(chart).find((o: any) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined);
  return JSON.parse(configMap.data['spec.json']);
}

describe('GARP refresh', () => {
  test('by default every group refreshes every 30 s, in spec.json and in keepalived.conf (IPv4 and IPv6)', () => {
    // GIVEN a standalone cluster without garpRefreshSeconds
    const spec = synthSpec();
    // THEN spec.json carries the default on every group
    expect(DEFAULT_GARP_REFRESH_SECONDS).toBe(30);
    expect(spec.groups.map((g) => g.garpRefreshSeconds)).toEqual([30, 30]);
    // AND each vrrp_instance re-announces every 30 s, which keepalived accepts
    const conf = renderKeepalivedConf(spec, VIEW, { nodeName: 'node-a' });
    keepalived.expectAccepts(conf);
    expect(conf.match(/^ {4}garp_master_refresh 30$/gm)).toHaveLength(2);
  });

  test('a configured interval is rendered; 0 turns the refresh off', () => {
    const every10 = renderKeepalivedConf(synthSpec(10), VIEW, { nodeName: 'node-a' });
    keepalived.expectAccepts(every10);
    expect(every10.match(/^ {4}garp_master_refresh 10$/gm)).toHaveLength(2);
    const off = synthSpec(0);
    expect(off.groups.map((g) => g.garpRefreshSeconds)).toEqual([0, 0]);
    const offConf = renderKeepalivedConf(off, VIEW, { nodeName: 'node-a' });
    keepalived.expectAccepts(offConf);
    expect(offConf).not.toContain('garp_master_refresh');
  });

  test('a spec without the field (an older ConfigMap) renders no refresh', () => {
    const conf = renderKeepalivedConf(specOf([agentGroup({ name: 'a', index: 0, vrid: 1 })]), VIEW, { nodeName: 'node-a' });
    expect(conf).not.toContain('garp_master_refresh');
  });

  test.each([-1, 1.5, 86_401, Number.NaN])('synth rejects garpRefreshSeconds %p, naming the field and what is valid', (value) => {
    expect(() => synthSpec(value)).toThrow(/target\.garpRefreshSeconds[\s\S]*whole number of seconds from 0 \(off\) to 86400[\s\S]*Valid: an integer from 0 \(off\) to 86400/);
  });

  test('a group\'s own garpRefreshSeconds wins over the cluster\'s; a bad one is named by its field', () => {
    // GIVEN a cluster refreshing every 10 s, one of whose groups says 5 and another 0
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'edge', {
      name: 'edge', nodeSelector: { edge: '' },
      target: Target.standalone({ nodeOrder: ['node-a', 'node-b'], garpRefreshSeconds: 10 }),
      groups: [
        { name: 'a', interface: InterfaceSelector.name('eth0'), addresses: [{ address: '198.51.100.101/32' }] },
        { name: 'b', interface: InterfaceSelector.name('eth0'), addresses: [{ address: '198.51.100.102/32' }], garpRefreshSeconds: 5 },
        { name: 'c', interface: InterfaceSelector.name('eth0'), addresses: [{ address: '198.51.100.103/32' }], garpRefreshSeconds: 0 },
      ],
    });
    const spec: AgentSpec = JSON.parse(synth(chart).find((o: any) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined).data['spec.json']);
    // THEN each group carries its own, or the cluster's
    expect(spec.groups.map((g) => [g.name, g.garpRefreshSeconds])).toEqual([['a', 10], ['b', 5], ['c', 0]]);
    const conf = renderKeepalivedConf(spec, VIEW, { nodeName: 'node-a' });
    keepalived.expectAccepts(conf);
    expect(conf.match(/^ {4}garp_master_refresh \d+$/gm)).toEqual(['    garp_master_refresh 10', '    garp_master_refresh 5']);
    // AND a bad group value names the group's field
    const bad = newChart();
    expect(() => new KeepalivedCluster(bad.chart, 'edge', {
      nodeSelector: { edge: '' }, target: Target.standalone(),
      groups: [{ addresses: [{ address: '198.51.100.101/32' }], garpRefreshSeconds: 0.5 }],
    }) && synth(bad.chart)).toThrow(/groups\[0\]\.garpRefreshSeconds = 0\.5: is not a whole number of seconds[\s\S]*Valid: an integer from 0 \(off\) to 86400/);
  });

  test('the Deckhouse target rejects a group\'s garpRefreshSeconds (its module always refreshes every 30 s)', () => {
    const { chart } = newChart();
    expect(() => new KeepalivedCluster(chart, 'edge', {
      nodeSelector: { edge: '' },
      groups: [{ addresses: [{ address: '198.51.100.101/32' }], garpRefreshSeconds: 30 }],
    }) && synth(chart)).toThrow(/groups\[0\]\.garpRefreshSeconds = 30: the Deckhouse KeepalivedInstance has no gratuitous ARP refresh setting/);
  });

  test('the agent rejects a bad interval in spec.json with the same rule', () => {
    const spec = specOf([agentGroup({ name: 'a', index: 0, vrid: 1, garpRefreshSeconds: 2.5 })]);
    expect(() => renderKeepalivedConf(spec, VIEW, { nodeName: 'node-a' })).toThrow(AgentRenderError);
    expect(() => renderKeepalivedConf(spec, VIEW, { nodeName: 'node-a' })).toThrow(/group "a": garpRefreshSeconds 2\.5 is not a whole number of seconds/);
  });
});
