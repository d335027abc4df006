import { InterfaceSelector } from '../src/core/interface-selector';
import { describeSelector, NodeView, resolveInterface } from '../src/core/node-view';

// A dual-stack node: eth0 carries the default routes, eth1 a second network, bond0 has no address.
const NODE: NodeView = {
  interfaces: [
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', addresses: ['198.51.100.11/24', '2001:db8:1::11/64'] },
    { name: 'eth1', addresses: ['203.0.113.11/28', '2001:db8:2::11/64'] },
    { name: 'bond0', addresses: [] },
  ],
  defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth1' }],
};

const HAS = 'the node has: bond0 (no addresses), eth0 (198.51.100.11/24, 2001:db8:1::11/64), eth1 (203.0.113.11/28, 2001:db8:2::11/64), lo (127.0.0.1/8, ::1/128)';

describe('Name', () => {
  test('resolves an interface the node has, with or without addresses, for either family', () => {
    expect(resolveInterface(InterfaceSelector.name('eth1')._spec, 4, NODE)).toEqual({ name: 'eth1' });
    expect(resolveInterface(InterfaceSelector.name('bond0')._spec, 6, NODE)).toEqual({ name: 'bond0' });
  });

  test('a missing interface names it and lists what the node has, sorted', () => {
    expect(resolveInterface(InterfaceSelector.name('ens7')._spec, 4, NODE)).toEqual({ problem: `no interface named "ens7"; ${HAS}` });
  });
});

test('a null or missing selector (a hand-edited spec.json) is a problem, not a TypeError', () => {
  for (const selector of [null, undefined, 'eth0']) {
    expect(resolveInterface(selector as any, 4, NODE)).toEqual({ problem: `the interface selector is ${JSON.stringify(selector ?? null)}, not an object with a detectionStrategy` });
  }
});

describe('NetworkAddress', () => {
  test.each([
    ['198.51.100.0/24', 'eth0'],
    ['203.0.113.0/28', 'eth1'],
    ['2001:db8:1::/64', 'eth0'],
    ['2001:db8:2::/48', 'eth1'],
  ])('%s -> %s', (network, name) => {
    expect(resolveInterface(InterfaceSelector.networkAddress(network)._spec, 4, NODE)).toEqual({ name });
  });

  test('the family comes from the network, not from the group', () => {
    expect(resolveInterface(InterfaceSelector.networkAddress('2001:db8:2::/64')._spec, 4, NODE)).toEqual({ name: 'eth1' });
  });

  test('no interface in the network lists what the node has', () => {
    expect(resolveInterface(InterfaceSelector.networkAddress('203.0.113.128/25')._spec, 4, NODE))
      .toEqual({ problem: `no interface has an address in 203.0.113.128/25; ${HAS}` });
  });

  test('two interfaces in the same network is an error that lists both', () => {
    const view: NodeView = {
      interfaces: [
        { name: 'eth0', addresses: ['198.51.100.11/24'] },
        { name: 'eth1', addresses: ['198.51.100.12/24'] },
        { name: 'eth2', addresses: ['203.0.113.1/24'] },
      ],
      defaultRoutes: [],
    };
    const result = resolveInterface(InterfaceSelector.networkAddress('198.51.100.0/24')._spec, 4, view);
    expect(result).toEqual({
      problem: 'several interfaces have an address in 198.51.100.0/24: eth0 (198.51.100.11/24), eth1 (198.51.100.12/24); use InterfaceSelector.name() or a narrower network',
    });
  });

  test('two addresses of one interface in the network are not ambiguous', () => {
    const view: NodeView = { interfaces: [{ name: 'eth0', addresses: ['198.51.100.11/24', '198.51.100.12/24'] }], defaultRoutes: [] };
    expect(resolveInterface(InterfaceSelector.networkAddress('198.51.100.0/24')._spec, 4, view)).toEqual({ name: 'eth0' });
  });

  test('a network that does not parse is a problem, not a crash', () => {
    expect(resolveInterface({ detectionStrategy: 'NetworkAddress', networkAddress: 'nonsense' }, 4, NODE))
      .toEqual({ problem: '"nonsense" is not a network with a prefix length' });
  });
});

describe('DefaultRoute', () => {
  test('picks the default route of the family', () => {
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 4, NODE)).toEqual({ name: 'eth0' });
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 6, NODE)).toEqual({ name: 'eth1' });
  });

  test('the first (preferred) route of a family wins', () => {
    const view: NodeView = { ...NODE, defaultRoutes: [{ family: 4, interface: 'eth1' }, { family: 4, interface: 'eth0' }] };
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 4, view)).toEqual({ name: 'eth1' });
  });

  test('a node without any default route gets a clear problem (Deckhouse crashes here)', () => {
    const view: NodeView = { ...NODE, defaultRoutes: [] };
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 4, view))
      .toEqual({ problem: `no IPv4 default route (the node has no default route at all); ${HAS}` });
  });

  test('a node with only an IPv4 default route, asked for IPv6', () => {
    const view: NodeView = { ...NODE, defaultRoutes: [{ family: 4, interface: 'eth0' }] };
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 6, view))
      .toEqual({ problem: `no IPv6 default route (the node has default routes only for IPv4 via eth0); ${HAS}` });
  });

  test('a node with no interfaces says so', () => {
    expect(resolveInterface(InterfaceSelector.defaultRoute()._spec, 4, { interfaces: [], defaultRoutes: [] }))
      .toEqual({ problem: 'no IPv4 default route (the node has no default route at all); the node has no interfaces' });
  });
});

test('describeSelector shows a selector as InterfaceSelector does', () => {
  expect(describeSelector(InterfaceSelector.name('ens7')._spec)).toBe('Name(ens7)');
  expect(describeSelector(InterfaceSelector.networkAddress('198.51.100.0/24')._spec)).toBe('NetworkAddress(198.51.100.0/24)');
  expect(describeSelector(InterfaceSelector.defaultRoute()._spec)).toBe('DefaultRoute');
});
