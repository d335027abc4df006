// Health checks in the model: one test per validation rule (a compliant and a non-compliant case through
// one helper, the message naming the construct path, the field, the value and what is valid), and what
// the checks become in the agent's spec.json.
import { Chart } from 'cdk8s';
import {
  AgentSpec, FailoverProfile, FrontendVips, GatewayPair, hasHealthChecks, HealthAction, HealthCheck, HttpScheme, InterfaceSelector, KeepalivedCluster, Target,
} from '../src/internal';
import { newChart, synth } from './support/synth';

type Build = (chart: Chart) => void;

function failure(build: Build): string | undefined {
  const { chart } = newChart();
  try {
    build(chart);
    synth(chart);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function expectRule(ok: Build, bad: Build, ...parts: string[]) {
  expect(failure(ok)).toBeUndefined();
  const message = failure(bad);
  expect(message).toBeDefined();
  for (const part of parts) expect(message).toContain(part);
  expect(message).toContain('Valid:');
}

const standalone = Target.standalone({ nodeOrder: ['a', 'b'] });
/** A standalone cluster with one group that has these checks. */
const group = (...checks: unknown[]): Build => (chart) => {
  const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: standalone });
  c.addGroup({ addresses: [{ address: '203.0.113.10/32' }], healthChecks: checks as HealthCheck[] });
};
const http = (o: object = {}) => HealthCheck.http({ port: 10254, path: '/healthz', ...o });

function specOf(chart: Chart): AgentSpec {
  const cm = synth(chart).find((o) => o.kind === 'ConfigMap' && o.data['spec.json'] !== undefined);
  return JSON.parse(cm.data['spec.json']);
}

describe('validation', () => {
  test('intervalSeconds', () => expectRule(group(http({ intervalSeconds: 0.2 })), group(http({ intervalSeconds: 0.05 })),
    '[test/c] groups[0].healthChecks[0].intervalSeconds = 0.05: is not a probe interval', '0.1 to 3600'));

  test('timeoutSeconds: within the interval', () => expectRule(group(http({ intervalSeconds: 2, timeoutSeconds: 2 })),
    group(http({ intervalSeconds: 1, timeoutSeconds: 1.5 })), 'groups[0].healthChecks[0].timeoutSeconds = 1.5: is longer than the probe interval: a probe waits for the one before it'));

  test('timeoutSeconds: positive', () => expectRule(group(http({ timeoutSeconds: 0.05 })), group(http({ timeoutSeconds: 0 })),
    'groups[0].healthChecks[0].timeoutSeconds = 0: is not a probe timeout'));

  test('fall', () => expectRule(group(http({ fall: 1 })), group(http({}), http({ port: 80, fall: 0 })),
    '[test/c] groups[0].healthChecks[1].fall = 0: is not a count of consecutive probes', 'an integer from 1 to 100'));

  test('rise', () => expectRule(group(http({ rise: 100 })), group(http({ rise: 2.5 })), 'groups[0].healthChecks[0].rise = 2.5'));

  test('port', () => {
    expectRule(group(HealthCheck.tcp({ port: 65535 })), group(HealthCheck.tcp({ port: 65536 })), 'groups[0].healthChecks[0].port = 65536: is not a TCP port');
    expectRule(group(http({ port: 1 })), group(http({ port: 0 })), 'groups[0].healthChecks[0].port = 0');
    expectRule(group(HealthCheck.kubeApiserver({ port: 443 })), group(HealthCheck.kubeApiserver({ port: -1 })), 'groups[0].healthChecks[0].port = -1');
  });

  test('path', () => {
    expectRule(group(http({ path: '/healthz?full=1' })), group(http({ path: 'healthz' })), 'groups[0].healthChecks[0].path = "healthz": is not an HTTP request path');
    expectRule(group(http({ path: '/a%20b' })), group(http({ path: '/a b' })), 'path = "/a b"');
    expectRule(group(http({ path: `/${'a'.repeat(2047)}` })), group(http({ path: `/${'a'.repeat(2048)}` })), 'path = ');
  });

  test('host', () => {
    expectRule(group(http({ host: 'ingress.example.com:8443' })), group(http({ host: 'bad host' })),
      'groups[0].healthChecks[0].host = "bad host": is not a Host header value');
    expectRule(group(http({ host: '[2001:db8::1]' })), group(http({ host: 'a\r\nX-Injected: 1' })), 'is not a Host header value');
  });

  test('scheme', () => expectRule(group(http({ scheme: HttpScheme.HTTPS })), group(http({ scheme: 'ftp' })),
    'groups[0].healthChecks[0].scheme = "ftp": is not an HTTP scheme'));

  test('insecureSkipTlsVerify only with HTTPS', () => expectRule(group(http({ scheme: HttpScheme.HTTPS, insecureSkipTlsVerify: true })),
    group(http({ insecureSkipTlsVerify: true })), 'groups[0].healthChecks[0].insecureSkipTlsVerify = true: applies only to HTTPS'));

  test('interface name', () => expectRule(group(HealthCheck.interface('bond0')), group(HealthCheck.interface('a/b')),
    'groups[0].healthChecks[0].interface = "a/b": contains "/"', 'an interface name of 1..15 bytes'));

  test('lowerPriority(n)', () => {
    expectRule(group(http({ onFailure: HealthAction.lowerPriority(253) })), group(http({ onFailure: HealthAction.lowerPriority(254) })),
      'groups[0].healthChecks[0].onFailure = 254: is not a priority decrease keepalived can apply', 'an integer from 1 to 253');
    expectRule(group(http({ onFailure: HealthAction.lowerPriority(27) })), group(http({ onFailure: HealthAction.lowerPriority(0.5) })), 'onFailure = 0.5');
  });

  test('lowerPriority(n) must drop a failing master below the next node (at equal priority keepalived keeps the VIP)', () => {
    // GIVEN a node order of two at the default 0.1 s adverts: priorities 250 and 224 (26 apart)
    expectRule(group(http({ onFailure: HealthAction.lowerPriority(27) })), group(http({ onFailure: HealthAction.lowerPriority(26) })),
      'groups[0].healthChecks[0].onFailure = 26: lowerPriority(26) leaves a failing master at or above the next node\'s priority for group 203.0.113.10/32 (26 apart)',
      'lowerPriority(27) or more, or HealthAction.release()');
    // ... a cluster's check, once, with the widest gap of the groups that follow it (1 s adverts: 3 apart; 0.1 s: 26)
    const clusterWide = (by: number): Build => (chart) => {
      const c = new KeepalivedCluster(chart, 'c', {
        nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ nodeOrder: ['a', 'b', 'c'] }),
        healthChecks: [http({ onFailure: HealthAction.lowerPriority(by) })],
      });
      c.addGroup({ name: 'slow', addresses: [{ address: '203.0.113.10/32' }], advertInterval: 1 });
      c.addGroup({ name: 'fast', addresses: [{ address: '203.0.113.11/32' }] });
    };
    const message = failure(clusterWide(10));
    expect(message?.match(/onFailure = 10/g)).toHaveLength(1);
    expect(message).toContain('healthChecks[0].onFailure = 10: lowerPriority(10) leaves a failing master at or above the next node\'s priority for group fast (26 apart)');
    expect(failure(clusterWide(27))).toBeUndefined();
    // ... a static order of ten nodes is 24 apart at 0.1 s adverts; discovery orders however many match (26, two nodes')
    const tenNodes = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const ten = (extra: object): Build => (chart) => {
      const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ nodeOrder: tenNodes, ...extra }) });
      c.addGroup({ name: 'front', addresses: [{ address: '203.0.113.10/32' }], healthChecks: [http({ onFailure: HealthAction.lowerPriority(25) })] });
    };
    expect(failure(ten({}))).toBeUndefined();
    expect(failure(ten({ discovery: {} }))).toContain('lowerPriority(25) leaves a failing master at or above the next node\'s priority for group front (26 apart)');
    // ... a preferred node (254) leads the first ranked one (250) by 4, more than a rank step at 1 s adverts (3)
    const preferred = (by: number): Build => (chart) => new GatewayPair(chart, 'gw', {
      nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ nodeOrder: ['a', 'b'], profile: FailoverProfile.CLASSIC }), preferredNode: 'a',
      lan: { address: '192.168.42.1/24', interface: InterfaceSelector.name('eth1') }, wan: { address: '203.0.113.1/28', interface: InterfaceSelector.name('eth0') },
      healthChecks: [http({ onFailure: HealthAction.lowerPriority(by) })],
    });
    expect(failure(preferred(4))).toContain('lowerPriority(4) leaves a failing master at or above the next node\'s priority for group gateway (4 apart)');
    expect(failure(preferred(5))).toBeUndefined();
  });

  test('with hashed priorities a small lowerPriority(n) is a warning, not an error', () => {
    const { chart } = newChart();
    const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone() });
    c.addGroup({ name: 'front', addresses: [{ address: '203.0.113.10/32' }], healthChecks: [http({ onFailure: HealthAction.lowerPriority(100) })] });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      synth(chart);
      expect(warn.mock.calls.flat().join('\n')).toMatch(/groups\[0\]\.healthChecks\[0\]\.onFailure = 100: with hashed priorities .* may be up to 247 below the master's, so lowerPriority\(100\) may leave the VIP on a failing node\. Valid: lowerPriority\(248\) or more, a nodeOrder or discovery/);
    } finally {
      warn.mockRestore();
    }
  });

  test('onFailure is a HealthAction', () => expectRule(group(http({ onFailure: HealthAction.release() })), group(http({ onFailure: 'release' })),
    'groups[0].healthChecks[0].onFailure = "release": is not a HealthAction'));

  test('each item is a HealthCheck', () => expectRule(group(http()), group({ port: 80 }),
    'groups[0].healthChecks[0] = {"port":80}: is not a HealthCheck'));

  test('the same check twice in a group (other timing is another check)', () => expectRule(group(http(), http({ intervalSeconds: 2 })),
    group(http(), http({ onFailure: HealthAction.lowerPriority(10) })),
    'groups[0].healthChecks[1] = "http(:10254/healthz)": probes the same as groups[0].healthChecks[0]'));

  test('at most 16 checks in a group', () => expectRule(
    group(...Array.from({ length: 16 }, (_, i) => HealthCheck.tcp({ port: 1000 + i }))),
    group(...Array.from({ length: 17 }, (_, i) => HealthCheck.tcp({ port: 1000 + i }))),
    'groups[0].healthChecks = "(17 checks)": too many health checks'));

  test('the cluster default is validated as `healthChecks`', () => expectRule(
    (chart) => new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], target: standalone, healthChecks: [http()] }),
    (chart) => new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], target: standalone, healthChecks: [http({ fall: 101 })] }),
    '[test/front] healthChecks[0].fall = 101'));

  test('the Deckhouse target rejects health checks (its CRD has none)', () => {
    expectRule(
      (chart) => new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], healthChecks: [] }),
      (chart) => new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], healthChecks: [http()] }),
      '[test/front] healthChecks = ["http(:10254/healthz)"]: the Deckhouse KeepalivedInstance CRD has no health checks', 'Target.standalone()');
    expectRule(
      (chart) => new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, groups: [{ addresses: [{ address: '203.0.113.10/32' }] }] }),
      (chart) => new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, groups: [{ addresses: [{ address: '203.0.113.10/32' }], healthChecks: [HealthCheck.kubeApiserver()] }] }),
      '[test/c] groups[0].healthChecks = ["kubeApiserver(:6443)"]: the Deckhouse KeepalivedInstance CRD has no health checks');
  });
});

describe('the agent spec', () => {
  test('defaults: every 1 s, timeout 1 s, fall 3, rise 2, release (weight 0); kubeApiserver is https://127.0.0.1:6443/readyz without verification', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'c', {
      nodeSelector: {}, selectAllNodes: true, target: standalone,
      groups: [{ name: 'api', addresses: [{ address: '203.0.113.10/32' }], healthChecks: [HealthCheck.kubeApiserver(), http()] }],
    });
    const spec = specOf(chart);
    expect(spec.healthChecks).toEqual([
      { name: 'hc0', kind: 'kube-apiserver', port: 6443, path: '/readyz', https: true, insecureSkipTlsVerify: true, intervalSeconds: 1, timeoutSeconds: 1, fall: 3, rise: 2 },
      { name: 'hc1', kind: 'http', port: 10254, path: '/healthz', https: false, intervalSeconds: 1, timeoutSeconds: 1, fall: 3, rise: 2 },
    ]);
    expect(spec.groups[0].tracks).toEqual([{ check: 'hc0', weight: 0 }, { check: 'hc1', weight: 0 }]);
  });

  test('the timeout defaults to a shorter interval; lowerPriority(n) is weight -n; HTTPS options carry over', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'c', {
      nodeSelector: {}, selectAllNodes: true, target: standalone,
      groups: [{
        name: 'web', addresses: [{ address: '203.0.113.10/32' }],
        healthChecks: [
          HealthCheck.http({ port: 8443, path: '/ready', host: 'web.example.com', scheme: HttpScheme.HTTPS, intervalSeconds: 0.2, fall: 2, onFailure: HealthAction.lowerPriority(100) }),
          HealthCheck.interface('bond0', { rise: 5 }),
        ],
      }],
    });
    const spec = specOf(chart);
    expect(spec.healthChecks).toEqual([
      { name: 'hc0', kind: 'http', port: 8443, path: '/ready', host: 'web.example.com', https: true, insecureSkipTlsVerify: false, intervalSeconds: 0.2, timeoutSeconds: 0.2, fall: 2, rise: 2 },
      { name: 'hc1', kind: 'interface', interface: 'bond0', intervalSeconds: 1, timeoutSeconds: 1, fall: 3, rise: 5 },
    ]);
    expect(spec.groups[0].tracks).toEqual([{ check: 'hc0', weight: -100 }, { check: 'hc1', weight: 0 }]);
  });

  test('the cluster default applies to every group without its own; a group\'s own replace it, [] turns them off; one probe per distinct check', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'c', {
      nodeSelector: {}, selectAllNodes: true, target: standalone,
      healthChecks: [http()],
      groups: [
        { name: 'a', addresses: [{ address: '203.0.113.10/32' }] },
        { name: 'b', addresses: [{ address: '203.0.113.11/32' }], healthChecks: [http({ onFailure: HealthAction.lowerPriority(50) }), HealthCheck.tcp({ port: 443 })] },
        { name: 'c', addresses: [{ address: '203.0.113.12/32' }], healthChecks: [] },
      ],
    });
    const spec = specOf(chart);
    expect(spec.healthChecks!.map((c) => [c.name, c.kind, c.port])).toEqual([['hc0', 'http', 10254], ['hc1', 'tcp', 443]]);
    expect(spec.groups.map((g) => g.tracks)).toEqual([
      [{ check: 'hc0', weight: 0 }],
      [{ check: 'hc0', weight: -50 }, { check: 'hc1', weight: 0 }],
      undefined,
    ]);
  });

  test('FrontendVips and GatewayPair take healthChecks for all their groups', () => {
    const { chart } = newChart();
    new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32', '203.0.113.2/32'], target: standalone, healthChecks: [http()] });
    const spec = specOf(chart);
    expect(spec.groups.map((g) => g.tracks)).toEqual([[{ check: 'hc0', weight: 0 }], [{ check: 'hc0', weight: 0 }]]);

    const other = newChart();
    new GatewayPair(other.chart, 'gw', {
      nodeSelector: {}, selectAllNodes: true, target: standalone, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/28', interface: InterfaceSelector.name('ens7') },
      healthChecks: [HealthCheck.interface('ens7')],
    });
    const gw = specOf(other.chart);
    expect(gw.healthChecks).toEqual([expect.objectContaining({ kind: 'interface', interface: 'ens7' })]);
    expect(gw.groups[0].tracks).toEqual([{ check: 'hc0', weight: 0 }]);
  });

  test('hasHealthChecks: the cluster default or a group\'s own; [] everywhere is none', () => {
    const def = (clusterChecks: HealthCheck[] | undefined, ...groups: (HealthCheck[] | undefined)[]) => ({
      healthChecks: clusterChecks,
      groups: groups.map((healthChecks) => ({ group: { addresses: [], healthChecks }, fieldOf: (f: string) => f })),
    });
    expect(hasHealthChecks(def(undefined, undefined))).toBe(false);
    expect(hasHealthChecks(def([http()], undefined))).toBe(true);
    expect(hasHealthChecks(def([http()], []))).toBe(false);
    expect(hasHealthChecks(def(undefined, [], [HealthCheck.tcp({ port: 1 })]))).toBe(true);
  });

  test('without health checks the spec is unchanged (no healthChecks, no tracks)', () => {
    const { chart } = newChart();
    new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'], target: standalone });
    const spec = specOf(chart);
    expect(spec.healthChecks).toBeUndefined();
    expect(spec.groups[0].tracks).toBeUndefined();
  });
});

describe('HealthAction', () => {
  test('release is the default; weights', () => {
    expect(http().onFailure._trackWeight).toBe(0);
    expect(HealthAction.release()._trackWeight).toBe(0);
    expect(HealthAction.lowerPriority(30)._trackWeight).toBe(-30);
    expect(String(HealthAction.lowerPriority(30))).toBe('lowerPriority(30)');
  });
});

describe('the pod', () => {
  test('with health checks: the sidecar runs them, and keepalived and the sidecar share the track files read-write', () => {
    const { chart } = newChart();
    new KeepalivedCluster(chart, 'c', {
      nodeSelector: { a: '' }, target: Target.standalone({ metrics: { enabled: false } }),
      groups: [{ addresses: [{ address: '203.0.113.1/32' }], healthChecks: [HealthCheck.tcp({ port: 443 })] }],
    });
    const pod = synth(chart).find((o) => o.kind === 'DaemonSet').spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === 'health')).toEqual({ name: 'health', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    const [render, agent] = pod.initContainers;
    const keepalived = pod.containers[0];
    expect(agent.name).toBe('agent');
    for (const c of [agent, keepalived]) expect(c.volumeMounts).toContainEqual({ name: 'health', mountPath: '/run/keepalived-health' });
    for (const c of [render, agent]) expect(c.command).toEqual(expect.arrayContaining(['--track-dir', '/run/keepalived-health']));
    // Without health checks (and without metrics and discovery) there is no sidecar and no volume.
    const plain = newChart().chart;
    new KeepalivedCluster(plain, 'c', { nodeSelector: { a: '' }, target: Target.standalone({ metrics: { enabled: false } }), groups: [{ addresses: [{ address: '203.0.113.1/32' }] }] });
    const quiet = synth(plain).find((o) => o.kind === 'DaemonSet').spec.template.spec;
    expect(quiet.volumes.map((v: any) => v.name)).not.toContain('health');
    expect(quiet.initContainers.map((c: any) => c.name)).toEqual(['render']);
  });
});

describe('the metrics port and the health checks', () => {
  test('a health check that probes the metrics port is an error naming both', () => {
    const build = (port: number) => () => {
      const { chart } = newChart();
      new KeepalivedCluster(chart, 'c', {
        nodeSelector: { a: '' }, target: Target.standalone({ metrics: { port: 9654 } }),
        groups: [{ addresses: [{ address: '203.0.113.1/32' }], healthChecks: [HealthCheck.tcp({ port })] }],
      });
      return synth(chart);
    };
    expect(build(443)).not.toThrow();
    expect(build(9654)).toThrow(/\[test\/c\] target.metrics.port = 9654: is also the port the health check .* probes on the node.*Valid: another metrics port, e.g. 9655,/);
  });
});
