import { FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, Target } from '../src/internal';
import { newChart, synth } from './support/synth';

describe('FrontendVips (Deckhouse target)', () => {
  test('one VRRP group per address, default-route interface', () => {
    // GIVEN
    const { chart } = newChart();
    // WHEN
    new FrontendVips(chart, 'front', {
      nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
      addresses: ['203.0.113.101/32', '203.0.113.102/32', '203.0.113.103/32'],
      vrids: [11, 12, 13],
    });
    // THEN
    const [instance] = synth(chart);
    expect(instance.kind).toBe('KeepalivedInstance');
    expect(instance.metadata.name).toBe('front');
    expect(instance.spec.vrrpInstances.map((g: any) => g.id)).toEqual([11, 12, 13]);
    expect(instance.spec.vrrpInstances.map((g: any) => g.virtualIPAddresses)).toEqual([
      [{ address: '203.0.113.101/32' }], [{ address: '203.0.113.102/32' }], [{ address: '203.0.113.103/32' }],
    ]);
    for (const g of instance.spec.vrrpInstances) expect(g.interface).toEqual({ detectionStrategy: 'DefaultRoute' });
    expect(instance.spec.tolerations).toBeUndefined();
    expect(instance).toMatchSnapshot();
  });

  test('interface, preempt false and tolerations carry over', () => {
    const { chart } = newChart();
    new FrontendVips(chart, 'front', {
      name: 'public',
      nodeSelector: { role: 'front' },
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
      addresses: ['198.51.100.10/32'],
      interface: InterfaceSelector.name('bond0'),
      preempt: false,
    });
    const [instance] = synth(chart);
    expect(instance.metadata.name).toBe('public');
    expect(instance.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }]);
    expect(instance.spec.vrrpInstances[0]).toMatchObject({ interface: { detectionStrategy: 'Name', name: 'bond0' }, preempt: false });
    expect(instance).toMatchSnapshot();
  });
});

describe('GatewayPair (Deckhouse target)', () => {
  test('one group: VRRP on the LAN interface, the WAN address carries its own interface', () => {
    const { chart } = newChart();
    new GatewayPair(chart, 'gw', {
      nodeSelector: { gw: '' },
      lan: { address: '192.0.2.1/24', interface: InterfaceSelector.networkAddress('192.0.2.0/24') },
      wan: { address: '203.0.113.1/28', interface: InterfaceSelector.name('ens7') },
    });
    const [instance] = synth(chart);
    expect(instance.spec.vrrpInstances).toHaveLength(1);
    const group = instance.spec.vrrpInstances[0];
    expect(group.interface).toEqual({ detectionStrategy: 'NetworkAddress', networkAddress: '192.0.2.0/24' });
    expect(group.virtualIPAddresses).toEqual([
      { address: '192.0.2.1/24' },
      { address: '203.0.113.1/28', interface: { detectionStrategy: 'Name', name: 'ens7' } },
    ]);
    expect(group.id).toBeGreaterThanOrEqual(1);
    expect(group.id).toBeLessThanOrEqual(255);
    expect(instance).toMatchSnapshot();
  });
});

describe('KeepalivedCluster (Deckhouse target)', () => {
  test('groups from props and addGroup, in order', () => {
    const { chart } = newChart();
    const cluster = new KeepalivedCluster(chart, 'edge', {
      nodeSelector: { 'node-role.kubernetes.io/edge': '' },
      target: Target.deckhouse(),
      groups: [{ id: 20, addresses: [{ address: '198.51.100.20/24' }] }],
    });
    cluster.addGroup({ id: 21, interface: InterfaceSelector.name('bond0'), addresses: [{ address: '198.51.100.21/24' }, { address: '198.51.100.22/24' }] });
    const [instance] = synth(chart);
    expect(instance.spec.vrrpInstances.map((g: any) => g.id)).toEqual([20, 21]);
    expect(instance.spec.vrrpInstances[1].virtualIPAddresses).toHaveLength(2);
    expect(cluster.resolveVrids()).toEqual([20, 21]);
    expect(instance).toMatchSnapshot();
  });

  test('a cluster without groups fails at synth', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'empty', { nodeSelector: {}, selectAllNodes: true });
    expect(() => synth(chart)).toThrow(/\[test\/empty\] groups = \[\]: a keepalived cluster needs at least one VRRP group/);
  });

  test('output is deterministic: two synths give byte-identical YAML', () => {
    const build = () => {
      const { app, chart } = newChart();
      new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32', '203.0.113.2/32'] });
      new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } });
      synth(chart); // schema-validates what synthYaml renders
      return app.synthYaml();
    };
    expect(build()).toEqual(build());
  });
});
