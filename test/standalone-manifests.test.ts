import * as fs from 'fs';
import * as path from 'path';
import {
  agentBundleSource, FailoverProfile, FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, MetricsListenAddress, Target,
  VrrpAuth, VrrpPolicyFlavor,
} from '../src/internal';
import { DEFAULT_ADVERT_INTERVAL } from '../src/core/standalone/agent-spec-of';
import { passwordLeaks } from './support/secrets';
import { newChart, synth } from './support/synth';

/** Snapshots hold the manifests, not the agent's bundled source (tested on its own) or its hash. */
function forSnapshot(objects: any[]): any[] {
  const hashed = (name: string) => name.replace(/-[0-9a-f]{10}$/, '-<content hash>');
  return JSON.parse(JSON.stringify(objects, (key, value) => {
    if (key === 'keepalived-agent.js') return '<bundled agent>';
    return value;
  })).map((o: any) => {
    if (o.kind === 'ConfigMap') o.metadata.name = hashed(o.metadata.name);
    if (o.kind === 'DaemonSet') for (const v of o.spec.template.spec.volumes) if (v.configMap) v.configMap.name = hashed(v.configMap.name);
    return o;
  });
}

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind
  && (kind !== 'ConfigMap' || o.data['spec.json'] !== undefined));
/** The namespace's agent ConfigMap. */
const agentConfigMaps = (objects: any[]) => objects.filter((o) => o.kind === 'ConfigMap' && o.data['keepalived-agent.js'] !== undefined);
const one = (objects: any[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('standalone target', () => {
  const edge = (options: object = {}, props: object = {}) => {
    const { chart } = newChart();
    new FrontendVips(chart, 'edge', {
      name: 'edge',
      nodeSelector: { 'node-role.kubernetes.io/edge': '' },
      addresses: ['203.0.113.10/32', '203.0.113.11/32', '203.0.113.12/32'],
      vrids: [10, 11, 12],
      target: Target.standalone({ nodeOrder: ['edge-a', 'edge-b', 'edge-c'], ...options }),
      ...props,
    });
    return synth(chart);
  };

  test('FrontendVips: the objects, in apply order, each valid against the Kubernetes schema', () => {
    const objects = edge();
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'ConfigMap', 'ServiceAccount', 'ConfigMap', 'DaemonSet']);
    expect(forSnapshot(objects)).toMatchSnapshot();
  });

  test('Namespace admits the pods at Pod Security level privileged', () => {
    const ns = one(edge(), 'Namespace');
    expect(ns.metadata.name).toBe('keepalived');
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  test('an existing namespace: no Namespace object, everything in it', () => {
    const objects = edge({ namespace: 'net-system', createNamespace: false });
    expect(byKind(objects, 'Namespace')).toHaveLength(0);
    for (const o of objects) expect(o.metadata.namespace).toBe('net-system');
  });

  test('ServiceAccount and pod mount no token', () => {
    const objects = edge();
    expect(one(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(one(objects, 'DaemonSet').spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  test('ConfigMaps: immutable, content-hashed names; the cluster\'s carries spec.json only, the namespace\'s the exact bundled agent', () => {
    const objects = edge();
    const cm = one(objects, 'ConfigMap');
    expect(cm.immutable).toBe(true);
    expect(cm.metadata.name).toMatch(/^keepalived-edge-spec-[0-9a-f]{10}$/);
    expect(Object.keys(cm.data)).toEqual(['spec.json']);
    const [agent] = agentConfigMaps(objects);
    expect(agent.immutable).toBe(true);
    expect(agent.metadata).toMatchObject({ name: expect.stringMatching(/^keepalived-agent-[0-9a-f]{10}$/), namespace: 'keepalived' });
    expect(agent.data['keepalived-agent.js']).toBe(agentBundleSource());
    expect(agent.data['keepalived-agent.js']).toBe(fs.readFileSync(path.join(__dirname, '..', 'lib', 'agent', 'keepalived-agent.js'), 'utf8'));
    const volumes = one(objects, 'DaemonSet').spec.template.spec.volumes;
    expect(volumes.filter((v: any) => v.configMap).map((v: any) => v.configMap.name)).toEqual([cm.metadata.name, agent.metadata.name]);
    const spec = JSON.parse(cm.data['spec.json']);
    expect(spec).toMatchObject({ version: 1, cluster: 'edge', nodeOrder: ['edge-a', 'edge-b', 'edge-c'], auth: false });
    expect(spec.groups.map((g: any) => [g.vrid, g.addresses[0].address, g.index])).toEqual([
      [10, '203.0.113.10/32', 0], [11, '203.0.113.11/32', 1], [12, '203.0.113.12/32', 2],
    ]);
    // A change of content changes the name, so pods roll onto the new config.
    const other = one(edge({ nodeOrder: ['edge-b', 'edge-a', 'edge-c'] }), 'ConfigMap');
    expect(other.metadata.name).not.toBe(cm.metadata.name);
    expect(one(objects, 'DaemonSet').spec.template.spec.volumes.find((v: any) => v.configMap).configMap.name).toBe(cm.metadata.name);
  });

  test('DaemonSet pod: host network, node-critical, rolling one node at a time', () => {
    const ds = one(edge(), 'DaemonSet');
    const pod = ds.spec.template.spec;
    expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', priorityClassName: 'system-node-critical' });
    expect(pod.nodeSelector).toEqual({ 'node-role.kubernetes.io/edge': '' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(ds.spec.minReadySeconds).toBeGreaterThanOrEqual(1);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(5);
    expect(ds.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': 'edge' });
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
  });

  test('keepalived container: not privileged, only the capabilities it needs, read-only root', () => {
    const pod = one(edge(), 'DaemonSet').spec.template.spec;
    const [keepalived] = pod.containers;
    // keepalived under its supervisor (test/keepalived-supervisor.test.ts), which guards the same config
    expect(keepalived.command.slice(0, 6)).toEqual(['/bin/sh', '/opt/keepalived-constructs/keepalived-supervisor.sh',
      '/etc/keepalived/keepalived.conf', 'keepalived', '--dont-fork', '--log-console']);
    expect(keepalived.command).toContain('/etc/keepalived/keepalived.conf');
    expect(keepalived.securityContext).toEqual({
      allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, runAsUser: 0,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    });
    // The keepalived CPU limit's default comes from bench section 5 (no flaps under load at it).
    expect(keepalived.resources).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: expect.stringMatching(/^\d+m$/), memory: '64Mi' } });
    // Every path keepalived writes is an emptyDir.
    const emptyDirs = new Set(pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name));
    for (const m of keepalived.volumeMounts.filter((x: any) => !x.readOnly)) expect(emptyDirs.has(m.name)).toBe(true);
  });

  test('init container renders keepalived.conf with the agent, as nobody', () => {
    const pod = one(edge(), 'DaemonSet').spec.template.spec;
    const [render] = pod.initContainers;
    expect(render.command).toEqual([
      'node', '/opt/keepalived-constructs/keepalived-agent.js', 'render',
      '--spec', '/etc/keepalived-constructs/spec.json', '--node-name', '$(NODE_NAME)', '--out', '/etc/keepalived/keepalived.conf',
      // keepalived reports its states to the metrics sidecar through notify_fifo
      '--notify-fifo', '/run/keepalived/notify.fifo',
    ]);
    expect(render.env[0]).toEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(render.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  test('images are options', () => {
    const pod = one(edge({ images: { keepalived: 'registry.example/keepalived:2.2.7', agent: 'registry.example/node:20' } }), 'DaemonSet').spec.template.spec;
    expect(pod.containers[0].image).toBe('registry.example/keepalived:2.2.7');
    expect(pod.initContainers[0].image).toBe('registry.example/node:20');
  });

  test('auth from an existing Secret: mounted for the agent, never in a ConfigMap', () => {
    const objects = edge({ auth: VrrpAuth.fromSecret('vrrp', 'pass') });
    expect(byKind(objects, 'Secret')).toHaveLength(0);
    const pod = one(objects, 'DaemonSet').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'auth').secret).toMatchObject({ secretName: 'vrrp', items: [{ key: 'pass', path: 'password' }] });
    expect(pod.initContainers[0].command).toEqual(expect.arrayContaining(['--auth-pass-file', '/etc/keepalived-auth/password']));
    expect(JSON.parse(one(objects, 'ConfigMap').data['spec.json']).auth).toBe(true);
  });

  test('auth from a literal: emitted as a Secret (on purpose), and not in the ConfigMap', () => {
    const objects = edge({ auth: VrrpAuth.literal('s3cret') });
    expect(one(objects, 'Secret')).toMatchObject({ metadata: { name: 'keepalived-edge-auth' }, stringData: { password: 's3cret' } });
    // ... nor in any other object (the Namespace and the agent ConfigMap included)
    expect(objects.map((o: any) => o.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'DaemonSet', 'Namespace', 'Secret', 'ServiceAccount']);
    expect(passwordLeaks(objects, 's3cret', { namespace: 'keepalived', name: 'keepalived-edge-auth' })).toEqual([]);
    // (the check finds a leak where there is one)
    expect(passwordLeaks([{ kind: 'ServiceAccount', metadata: { name: 'x', annotations: { a: 's3cret' } } }], 's3cret', { namespace: 'keepalived', name: 'keepalived-edge-auth' }))
      .toEqual(['ServiceAccount//x.metadata.annotations.a']);
  });

  test('no secret appears in the output unless the user put it there', () => {
    const yaml = JSON.stringify(edge({ auth: VrrpAuth.fromSecret('vrrp') }));
    expect(yaml).not.toMatch(/stringData|"kind":"Secret"/);
  });

  test.each([
    ['a password longer than 8 characters', VrrpAuth.literal('123456789'), /target.auth = "\(a literal of 9 characters\)": is 9 bytes long; VRRPv2 PASS authentication carries at most 8/],
    ['an empty password', VrrpAuth.literal(''), /target.auth = "\(a literal of 0 characters\)": is empty. Valid: 1 to 8 printable ASCII characters/],
  ])('rejects %s, without echoing it', (_, auth, message) => {
    expect(() => edge({ auth })).toThrow(message);
    expect(() => edge({ auth })).not.toThrow(/123456789/);
  });

  test('rejects auth on a VRRPv3 group (keepalived ignores it there)', () => {
    expect(() => edge({ auth: VrrpAuth.literal('pw'), profile: FailoverProfile.FAST }))
      .toThrow(/\[test\/edge\] target.auth = "VrrpAuth.literal\(...\)": VRRPv3 has no PASS authentication, and the group of addresses runs VRRPv3, so keepalived would ignore the password/);
    const { chart } = newChart();
    expect(() => new KeepalivedCluster(chart, 'v6', {
      nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ auth: VrrpAuth.literal('pw') }),
      groups: [{ addresses: [{ address: '2001:db8::10/64' }] }],
    })).toThrow(/runs VRRPv3 \(IPv6 always does\)/);
  });

  test('fast profile: VRRPv3 with 0.1 s adverts; a group may override', () => {
    const spec = JSON.parse(one(edge({ profile: FailoverProfile.FAST }), 'ConfigMap').data['spec.json']);
    expect(spec.groups.every((g: any) => g.vrrpVersion === 3 && g.advertInterval === 0.1)).toBe(true);
    const slow = JSON.parse(one(edge({ profile: FailoverProfile.FAST }, { advertInterval: 0.5 }), 'ConfigMap').data['spec.json']);
    expect(slow.groups[0].advertInterval).toBe(0.5);
  });

  test('fractional advert interval on VRRPv2 is rejected at synth', () => {
    expect(() => edge({ vrrpVersion: 2 }, { advertInterval: 0.5 })).toThrow(/advertInterval = 0.5: VRRPv2 adverts are whole seconds/);
    expect(() => edge({ profile: FailoverProfile.CLASSIC }, { advertInterval: 0.5 })).toThrow(/advertInterval = 0.5: VRRPv2 adverts are whole seconds/);
  });

  test('default profile: VRRPv3 at the sub-second interval the bench chose; classic: 1 s on VRRPv2; auth falls back to VRRPv2', () => {
    const groupsOf = (objects: any[]) => JSON.parse(one(objects, 'ConfigMap').data['spec.json']).groups;
    const everyGroup = (objects: any[], fields: object) => {
      const groups = groupsOf(objects);
      expect(groups.length).toBeGreaterThan(0);
      for (const g of groups) expect(g).toMatchObject(fields);
    };
    expect(DEFAULT_ADVERT_INTERVAL).toBe(0.1);
    everyGroup(edge(), { vrrpVersion: 3, advertInterval: 0.1, garpRefreshSeconds: 30 });
    everyGroup(edge({ profile: FailoverProfile.DEFAULT }), { vrrpVersion: 3, advertInterval: 0.1 });
    everyGroup(edge({ profile: FailoverProfile.CLASSIC }), { vrrpVersion: 2, advertInterval: 1 });
    everyGroup(edge({ vrrpVersion: 2 }), { vrrpVersion: 2, advertInterval: 1 });
    // PASS authentication exists only in VRRPv2: with auth and no profile, IPv4 groups run the classic form
    everyGroup(edge({ auth: VrrpAuth.fromSecret('vrrp', 'password') }), { vrrpVersion: 2, advertInterval: 1 });
    expect(() => edge({ auth: VrrpAuth.fromSecret('vrrp', 'password'), vrrpVersion: 3 })).toThrow(/target\.auth = .*VRRPv3 has no PASS authentication/);
  });

  test('policies: Calico, Cilium and NetworkPolicy, each valid against its schema', () => {
    const objects = edge({
      policies: [VrrpPolicyFlavor.CALICO, VrrpPolicyFlavor.CILIUM, VrrpPolicyFlavor.NETWORK_POLICY],
      nodeNetworks: ['198.51.100.0/24'],
    });
    const calico = one(objects, 'GlobalNetworkPolicy');
    expect(calico.apiVersion).toBe('projectcalico.org/v3');
    // In a tier of its own that passes on what the policy does not allow: in the default tier, a policy
    // that applies to a node drops everything no rule allows (kubelet, NodePorts) at the end of the tier.
    const tier = one(objects, 'Tier');
    expect(tier).toMatchObject({ apiVersion: 'projectcalico.org/v3', metadata: { name: 'keepalived-edge' }, spec: { order: 100, defaultAction: 'Pass' } });
    expect(tier.metadata.namespace).toBeUndefined();
    expect(calico.metadata.name).toBe('keepalived-edge.vrrp');
    expect(calico.spec.tier).toBe('keepalived-edge');
    expect(objects.indexOf(tier)).toBeLessThan(objects.indexOf(calico));
    expect(calico.spec.selector).toBe("node-role.kubernetes.io/edge == ''");
    // VRRP from any source (an IPv6 group's link-local source and a secondary interface's addresses are
    // not the addresses Calico expects of a HostEndpoint); nothing else: the metrics port passes on to
    // the user's tiers (a source selector of all() would match GlobalNetworkSets too, 0.0.0.0/0 among them)
    expect(calico.spec.ingress).toEqual([{ action: 'Allow', protocol: 112 }]);
    expect(calico.spec.egress).toEqual([{ action: 'Allow', protocol: 112 }]);
    const cilium = one(objects, 'CiliumClusterwideNetworkPolicy');
    expect(cilium.spec.nodeSelector).toEqual({ matchLabels: { 'node-role.kubernetes.io/edge': '' } });
    expect(cilium.spec.ingress[0].toPorts[0].ports[0].protocol).toBe('VRRP');
    expect(cilium.spec.enableDefaultDeny).toEqual({ ingress: false, egress: false });
    const np = one(objects, 'NetworkPolicy');
    expect(np.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '198.51.100.0/24' } }] }]);
    expect(np.spec.ingress[0].ports).toBeUndefined();
    expect(forSnapshot(objects.filter((o) => o.kind.endsWith('Policy')))).toMatchSnapshot();
  });

  test('a Calico tier\'s name is a DNS label of at most 63 characters, however long the name and namespace', () => {
    const names = (namespace: string) => {
      const objects = edge({ policies: [VrrpPolicyFlavor.CALICO], namespace }, { name: 'edge-'.repeat(9).slice(0, 46).replace(/-$/, '') });
      return [one(objects, 'Tier').metadata.name, one(objects, 'GlobalNetworkPolicy').metadata.name];
    };
    const [tier, policy] = names('n'.repeat(63));
    expect(tier).toMatch(/^keepalived-edge-edge-[a-z-]*-[0-9a-f]{8}$/);
    expect(tier.length).toBeLessThanOrEqual(63);
    expect(policy).toBe(`${tier}.vrrp`);
    // another namespace, another tier
    expect(names(`${'n'.repeat(62)}m`)[0]).not.toBe(tier);
  });

  test('NetworkPolicy flavour without node networks is rejected', () => {
    expect(() => edge({ policies: [VrrpPolicyFlavor.NETWORK_POLICY] })).toThrow(/target.nodeNetworks = undefined: the NetworkPolicy flavour needs the nodes' networks/);
  });

  test('unicast: peers in the spec, the host IP passed to the agent', () => {
    const objects = edge({ unicastPeers: ['198.51.100.11', '198.51.100.12', '198.51.100.13'] });
    expect(JSON.parse(one(objects, 'ConfigMap').data['spec.json']).unicastPeers).toEqual(['198.51.100.11', '198.51.100.12', '198.51.100.13']);
    const render = one(objects, 'DaemonSet').spec.template.spec.initContainers[0];
    expect(render.command).toEqual(expect.arrayContaining(['--host-ip', '$(HOST_IP)']));
  });

  test('metrics listen on the node\'s reported address (status.hostIP), not on the VIPs, unless every address is asked for', () => {
    const sidecarOf = (objects: any[]) => [...one(objects, 'DaemonSet').spec.template.spec.initContainers, ...one(objects, 'DaemonSet').spec.template.spec.containers]
      .find((c: any) => c.name === 'agent');
    const byDefault = sidecarOf(edge());
    expect(byDefault.command.join(' ')).toMatch(/ run .*--metrics-address \$\(HOST_IP\)/);
    expect(byDefault.env).toContainEqual({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    const everywhere = sidecarOf(edge({ metrics: { listenAddress: MetricsListenAddress.ALL } }));
    expect(everywhere.command).not.toContain('--metrics-address');
    expect(everywhere.env.map((e: any) => e.name)).not.toContain('HOST_IP');
    // with unicast, the one HOST_IP serves both
    const unicast = sidecarOf(edge({ unicastPeers: ['198.51.100.11', '198.51.100.12'] }));
    expect(unicast.env.filter((e: any) => e.name === 'HOST_IP')).toHaveLength(1);
    // The render init container takes no metrics flag; without metrics there is nothing to listen on.
    const render = one(edge(), 'DaemonSet').spec.template.spec.initContainers.find((c: any) => c.name === 'render');
    expect(render.command).not.toContain('--metrics-address');
    expect(sidecarOf(edge({ metrics: { enabled: false } }))).toBeUndefined();
    expect(() => edge({ metrics: { listenAddress: '0.0.0.0' } })).toThrow(
      '[test/edge] target.metrics.listenAddress = "0.0.0.0": is not a listen address choice. Valid: MetricsListenAddress.NODE_IP, MetricsListenAddress.ALL');
  });

  test('GatewayPair: one group, LAN selector for VRRP, WAN address on its own interface, preferred node', () => {
    const { chart } = newChart();
    new GatewayPair(chart, 'gw', {
      nodeSelector: { gw: '' },
      vrid: 20,
      preferredNode: 'gw-a',
      lan: { address: '198.51.100.1/24', interface: InterfaceSelector.networkAddress('198.51.100.0/24') },
      wan: { address: '203.0.113.129/28', interface: InterfaceSelector.name('ens7') },
      target: Target.standalone(),
    });
    const objects = synth(chart);
    const spec = JSON.parse(one(objects, 'ConfigMap').data['spec.json']);
    expect(spec.groups).toEqual([{
      name: 'gateway', index: 0, vrid: 20, family: 4, vrrpVersion: 3,
      interface: { detectionStrategy: 'NetworkAddress', networkAddress: '198.51.100.0/24' },
      addresses: [{ address: '198.51.100.1/24' }, { address: '203.0.113.129/28', interface: { detectionStrategy: 'Name', name: 'ens7' } }],
      preempt: true, advertInterval: 0.1, preferredNode: 'gw-a', garpRefreshSeconds: 30,
    }]);
    expect(forSnapshot(objects)).toMatchSnapshot();
  });

  test('two clusters in one namespace emit the Namespace once', () => {
    const { chart } = newChart();
    new FrontendVips(chart, 'a', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], target: Target.standalone() });
    new FrontendVips(chart, 'b', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.2/32'], target: Target.standalone({ metrics: { port: 9655 } }) });
    expect(byKind(synth(chart), 'Namespace')).toHaveLength(1);
  });

  test('IPv6 groups use VRRPv3', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'v6', {
      nodeSelector: {}, selectAllNodes: true, target: Target.standalone(),
      groups: [{ addresses: [{ address: '2001:db8::10/64' }], preempt: false }],
    });
    const spec = JSON.parse(one(synth(chart), 'ConfigMap').data['spec.json']);
    expect(spec.groups[0]).toMatchObject({ family: 6, vrrpVersion: 3, preempt: false });
  });
});
