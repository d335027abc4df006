import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { AgentRenderError, renderKeepalivedConf, RenderNode, virtualRouterLinkLocal } from '../src/core/keepalived-conf';
import { NodeView } from '../src/core/node-view';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';

/*
 * Every config this file renders is checked by the real keepalived (`keepalived -t`). keepalived -t
 * rejects interface names the host does not have ("Non-existent interface specified in configuration"),
 * so it runs inside a network namespace of our own that has the fixture's interfaces (veth pairs).
 */
const keepalived = new KeepalivedConfigCheck('kc-conf', [['eth0', 'eth1'], ['bond0', 'ens7']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

/** Renders and checks with keepalived: the only way this file renders a config. */
function render(spec: AgentSpec, view: NodeView, node: RenderNode): string {
  const config = renderKeepalivedConf(spec, view, node);
  keepalived.expectAccepts(config);
  return config;
}

const group = agentGroup;

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  nodeOrder: ['node-a', 'node-b', 'node-c'],
  unicastPeers: ['198.51.100.11', '198.51.100.12', '198.51.100.13', '2001:db8:1::11', '2001:db8:1::12', '2001:db8:1::13'],
  auth: true,
  groups: [
    group({ name: 'front', index: 0, vrid: 10, addresses: [
      { address: '198.51.100.100/32' },
      { address: '203.0.113.100/32', interface: InterfaceSelector.name('ens7')._spec },
    ] }),
    group({ name: 'gateway', index: 1, vrid: 11, interface: InterfaceSelector.networkAddress('198.51.100.0/24')._spec,
      addresses: [{ address: '198.51.100.1/24' }, { address: '203.0.113.1/28', interface: InterfaceSelector.name('ens7')._spec }],
      preempt: false, advertInterval: 2, preferredNode: 'node-b' }),
    group({ name: 'v6', index: 2, vrid: 12, family: 6, vrrpVersion: 3, addresses: [{ address: '2001:db8:1::100/64' }],
      preempt: false, advertInterval: 0.5 }),
    group({ name: 'fast', index: 3, vrid: 13, vrrpVersion: 3, advertInterval: 0.1, interface: InterfaceSelector.name('bond0')._spec }),
  ],
};

/** node-<x> with address .1<x> on eth0 (both families), ens7 on a second network, bond0 bare. */
function viewOf(host: number, extra: Partial<NodeView> = {}): NodeView {
  return {
    interfaces: [
      { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'eth0', addresses: [`198.51.100.${host}/24`, `2001:db8:1::${host}/64`] },
      { name: 'ens7', addresses: [`203.0.113.${host - 8}/28`] },
      { name: 'bond0', addresses: [] },
    ],
    defaultRoutes: [{ family: 4, interface: 'eth0' }, { family: 6, interface: 'eth0' }],
    ...extra,
  };
}

const NODE_A: RenderNode = { nodeName: 'node-a', hostIp: '198.51.100.11', authPass: 'Vrrp-Pw1' };

describe('rendering', () => {
  test('IPv4 and IPv6 groups, nopreempt, unicast, auth and per-VIP interfaces', () => {
    // WHEN
    const config = render(SPEC, viewOf(11), NODE_A);
    // THEN
    expect(config).toBe(`# Rendered by keepalived-constructs for node node-a (cluster edge). Do not edit: the agent rewrites it.
global_defs {
    router_id node-a
    # unicast adverts only from the listed peers
    vrrp_check_unicast_src
}

vrrp_instance edge_front {
    state BACKUP
    interface eth0
    virtual_router_id 10
    priority 250
    advert_int 1
    version 2
    authentication {
        auth_type PASS
        auth_pass Vrrp-Pw1
    }
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
        198.51.100.13
    }
    virtual_ipaddress {
        198.51.100.100/32 dev eth0
        203.0.113.100/32 dev ens7
    }
}

vrrp_instance edge_gateway {
    state BACKUP
    interface eth0
    virtual_router_id 11
    priority 246
    advert_int 2
    version 2
    nopreempt
    authentication {
        auth_type PASS
        auth_pass Vrrp-Pw1
    }
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
        198.51.100.13
    }
    virtual_ipaddress {
        198.51.100.1/24 dev eth0
        203.0.113.1/28 dev ens7
    }
}

vrrp_instance edge_v6 {
    state BACKUP
    interface eth0
    virtual_router_id 12
    priority 244
    advert_int 0.5
    version 3
    nopreempt
    unicast_src_ip 2001:db8:1::11
    unicast_peer {
        2001:db8:1::12
        2001:db8:1::13
    }
    virtual_ipaddress {
        fe80::200:5eff:fe00:20c/64 dev eth0
        2001:db8:1::100/64 dev eth0
    }
}

vrrp_instance edge_fast {
    state BACKUP
    interface bond0
    virtual_router_id 13
    priority 250
    advert_int 0.1
    version 3
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
        198.51.100.13
    }
    virtual_ipaddress {
        198.51.100.103/32 dev bond0
    }
}
`);
  });

  test('every node of the cluster renders; each group has one top priority, the preferred node for gateway', () => {
    const nodes = [{ name: 'node-a', host: 11 }, { name: 'node-b', host: 12 }, { name: 'node-c', host: 13 }];
    const configs = nodes.map((n) => render(SPEC, viewOf(n.host), { nodeName: n.name, hostIp: `198.51.100.${n.host}`, authPass: 'Vrrp-Pw1' }));
    const priorities = configs.map((c) => [...c.matchAll(/priority (\d+)/g)].map((m) => Number(m[1])));
    const masters = SPEC.groups.map((_, gi) => {
      const column = priorities.map((p) => p[gi]);
      expect(new Set(column).size).toBe(nodes.length);
      return nodes[column.indexOf(Math.max(...column))].name;
    });
    expect(masters).toEqual(['node-a', 'node-b', 'node-c', 'node-a']);
    expect(priorities[1][1]).toBe(254);
    // node-c's own addresses are the unicast source, never a peer.
    expect(configs[2]).toContain('unicast_src_ip 2001:db8:1::13');
    expect(configs[2]).not.toMatch(/^ {8}(198\.51\.100\.13|2001:db8:1::13)$/m);
  });

  test('multicast and no auth: no unicast or authentication blocks', () => {
    const spec: AgentSpec = { ...SPEC, auth: false, unicastPeers: undefined, nodeOrder: undefined };
    const config = render(spec, viewOf(11), { nodeName: 'node-a' });
    expect(config).not.toMatch(/unicast|authentication|auth_pass/);
    expect(config.match(/vrrp_instance/g)).toHaveLength(4);
    // Rendezvous priorities: 2..249.
    for (const [, p] of config.matchAll(/priority (\d+)/g)) expect(Number(p)).toBeGreaterThanOrEqual(2);
  });

  test('deterministic', () => {
    expect(render(SPEC, viewOf(12), { ...NODE_A, nodeName: 'node-b', hostIp: '198.51.100.12' }))
      .toBe(render(SPEC, viewOf(12), { ...NODE_A, nodeName: 'node-b', hostIp: '198.51.100.12' }));
  });

  test('VIPs a killed keepalived left on the node do not make NetworkAddress ambiguous', () => {
    // GIVEN eth1 still holds the gateway VIP 198.51.100.1/24
    const base = viewOf(11);
    const view = { ...base, interfaces: [...base.interfaces, { name: 'eth1', addresses: ['198.51.100.1/24'] }] };
    // THEN the gateway group still resolves to eth0
    expect(render(SPEC, view, NODE_A)).toMatch(/vrrp_instance edge_gateway \{\n {4}state BACKUP\n {4}interface eth0\n/);
  });

  test('the peers list the node as its Kubernetes address differs: the held peer is the source', () => {
    const spec: AgentSpec = { ...SPEC, unicastPeers: ['203.0.113.3', '203.0.113.4'], groups: [SPEC.groups[0]] };
    const config = render(spec, viewOf(11), NODE_A);
    expect(config).toContain('unicast_src_ip 203.0.113.3\n    unicast_peer {\n        203.0.113.4\n    }');
  });

  test('a single unicast peer (this node) falls back to multicast, which keepalived accepts', () => {
    const spec: AgentSpec = { ...SPEC, unicastPeers: ['198.51.100.11'], groups: [SPEC.groups[0]] };
    const config = render(spec, viewOf(11), NODE_A);
    expect(config).not.toContain('unicast_src_ip');
    expect(config).toContain('# no other IPv4 unicast peer: keepalived uses multicast');
  });

  test('node names become keepalived words in router_id', () => {
    const spec: AgentSpec = { ...SPEC, nodeOrder: ['edge-a.example.com'], unicastPeers: undefined };
    const config = render(spec, viewOf(11), { nodeName: 'edge-a.example.com', authPass: 'x' });
    expect(config).toContain('router_id edge-a_example_com\n');
    expect(config).toContain('for node edge-a.example.com (cluster edge)');
  });
});

describe('errors', () => {
  const renderError = (spec: AgentSpec, view: NodeView, node: RenderNode): AgentRenderError => {
    try {
      renderKeepalivedConf(spec, view, node);
    } catch (e) {
      expect(e).toBeInstanceOf(AgentRenderError);
      return e as AgentRenderError;
    }
    throw new Error('expected an AgentRenderError');
  };

  test('every group that cannot resolve is listed, with the selector and what the node has', () => {
    const view: NodeView = { interfaces: [{ name: 'eth0', addresses: ['198.51.100.11/24'] }], defaultRoutes: [] };
    const e = renderError({ ...SPEC, auth: false, unicastPeers: undefined }, view, { nodeName: 'node-a' });
    const has = 'the node has: eth0 (198.51.100.11/24)';
    expect(e.problems).toEqual([
      `group "front": interface DefaultRoute: no IPv4 default route (the node has no default route at all); ${has}`,
      `group "front": addresses[1] (203.0.113.100/32) interface Name(ens7): no interface named "ens7"; ${has}`,
      `group "gateway": addresses[1] (203.0.113.1/28) interface Name(ens7): no interface named "ens7"; ${has}`,
      `group "v6": interface DefaultRoute: no IPv6 default route (the node has no default route at all); ${has}`,
      `group "fast": interface Name(bond0): no interface named "bond0"; ${has}`,
    ]);
    expect(e.message).toMatch(/^cannot render keepalived.conf for node "node-a":\n {2}- group "front": interface DefaultRoute/);
  });

  test('an unknown spec version', () => {
    expect(() => renderKeepalivedConf({ ...SPEC, version: 2 as unknown as 1 }, viewOf(11), NODE_A))
      .toThrow(/spec.json version 2 is not supported: this agent reads version 1/);
  });

  test.each([
    [undefined, /a password is needed: pass --auth-pass-file/],
    ['', /the auth password is empty/],
    ['nine-char', /9 bytes long; VRRPv2 PASS authentication carries at most 8/],
    ['pa ss', /the auth password has characters keepalived's parser would not keep as written \(white space/],
    ['pa#ss', /would not keep as written \(white space, non-ASCII, or one of # !/],
  ])('auth with password %p', (authPass, message) => {
    expect(() => renderKeepalivedConf(SPEC, viewOf(11), { ...NODE_A, authPass })).toThrow(message);
  });

  test.each([
    [undefined, /spec.unicastPeers is set, so the node address is needed: pass --host-ip/],
    ['node-a', /--host-ip "node-a" is not an IP address/],
    ['198.51.100.99', /neither --host-ip 198.51.100.99 nor any address of this node is among the IPv4 unicast peers \(198.51.100.12, 198.51.100.13\)/],
  ])('unicast with host IP %p', (hostIp, message) => {
    const spec: AgentSpec = { ...SPEC, unicastPeers: SPEC.unicastPeers!.filter((p) => p !== '198.51.100.11') };
    const view = viewOf(11);
    // Without 198.51.100.11 among the peers, only --host-ip could name this node.
    expect(() => renderKeepalivedConf(spec, view, { ...NODE_A, hostIp })).toThrow(message);
  });

  test('unicast peers without the family of a group', () => {
    const spec: AgentSpec = { ...SPEC, unicastPeers: ['198.51.100.11', '198.51.100.12'] };
    expect(renderError(spec, viewOf(11), NODE_A).problems).toEqual([
      'group "v6": spec.unicastPeers has no IPv6 address, so an IPv6 group has no peer to send adverts to; list the nodes\' IPv6 addresses too',
    ]);
  });

  test('a fractional advert interval on VRRPv2', () => {
    const spec: AgentSpec = { ...SPEC, groups: [{ ...SPEC.groups[0], advertInterval: 0.5 }] };
    expect(() => renderKeepalivedConf(spec, viewOf(11), NODE_A))
      .toThrow(/group "front": advertInterval 0.5 VRRPv2 adverts are whole seconds from 1 to 255 \(fractional intervals need VRRPv3\)/);
  });

  test('an IPv6 group on VRRPv2, and a family mix in one group', () => {
    const spec: AgentSpec = { ...SPEC, groups: [
      { ...SPEC.groups[2], vrrpVersion: 2, advertInterval: 1 },
      { ...SPEC.groups[0], addresses: [{ address: '198.51.100.100/32' }, { address: '2001:db8:1::7/64' }] },
    ] };
    const e = renderError(spec, viewOf(11), NODE_A);
    expect(e.problems).toEqual([
      'group "v6": IPv6 groups need VRRPv3 (vrrpVersion 3)',
      'group "front": addresses[1] 2001:db8:1::7/64 is IPv6 in an IPv4 group; keepalived holds one family per virtual_ipaddress block',
    ]);
  });

  test('more addresses in a group than one advert lists (the synth\'s rule, rules/vip-count.ts)', () => {
    const v4 = Array.from({ length: 256 }, (_, i) => ({ address: i < 254 ? `198.51.100.${i + 1}/32` : `203.0.113.${i - 253}/32` }));
    const spec: AgentSpec = { ...SPEC, groups: [{ ...SPEC.groups[0], addresses: v4 }] };
    expect(renderError(spec, viewOf(11), NODE_A).problems).toEqual([
      'group "front": addresses has 256 IPv4 addresses, more than the 255 one VRRP advert can list (VRRP counts a group\'s addresses in one byte); keepalived would not advertise the rest',
    ]);
  });

  test('a node order that names a node twice, or a name that is no node name', () => {
    expect(() => renderKeepalivedConf({ ...SPEC, nodeOrder: ['node-a', 'node-b', 'node-a'] }, viewOf(11), NODE_A))
      .toThrow(/spec.nodeOrder\[2\] "node-a" is listed more than once/);
    // The same rule as the synth's (rules/node-order.ts): a hand-edited spec.json gets no further.
    expect(() => renderKeepalivedConf({ ...SPEC, nodeOrder: ['node-a', 'Node B; rm'] }, viewOf(11), NODE_A))
      .toThrow(/spec.nodeOrder\[1\] "Node B; rm" is not a DNS subdomain, so it cannot be a node name/);
  });
});

test('IPv6 groups: the virtual router\'s link-local address (EUI-64 of 00-00-5E-00-02-{VRID}) comes first, IPv4 groups have none', () => {
  expect([1, 10, 255].map(virtualRouterLinkLocal)).toEqual(['fe80::200:5eff:fe00:201/64', 'fe80::200:5eff:fe00:20a/64', 'fe80::200:5eff:fe00:2ff/64']);
  const config = render({ ...SPEC, unicastPeers: undefined }, viewOf(11), NODE_A);
  const blocks = [...config.matchAll(/virtual_router_id (\d+)[\s\S]*?virtual_ipaddress \{\n\s*(\S+)/g)].map((m) => [Number(m[1]), m[2]]);
  expect(blocks).toEqual([[10, '198.51.100.100/32'], [11, '198.51.100.1/24'], [12, 'fe80::200:5eff:fe00:20c/64'], [13, '198.51.100.103/32']]);
});

test('keepalived -t really ran (unless skipped loudly)', () => {
  if (keepalived.active) expect(keepalived.checked).toBeGreaterThanOrEqual(10);
});
