import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AgentHealthCheck, AgentSpec } from '../src/core/agent-spec';
import { HealthCheckKind } from '../src/core/health-spec';
import { AgentRenderError, planNode, renderKeepalivedConf, RenderNode } from '../src/core/keepalived-conf';
import { NodeView } from '../src/core/node-view';
import { agentGroup } from './support/agent-fixtures';
import { KeepalivedConfigCheck } from './support/keepalived-check';

/*
 * Health checks in keepalived.conf: a `vrrp_track_file` per check (before the instances that name it)
 * and a `track_file` block in each instance that follows checks. Every config is checked by the real
 * keepalived (`keepalived -t`) in a namespace with the fixture's interfaces.
 */
const keepalived = new KeepalivedConfigCheck('kc-health', [['eth0', 'eth1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

const VIEW: NodeView = {
  interfaces: [{ name: 'eth0', addresses: ['198.51.100.11/24'] }],
  defaultRoutes: [{ family: 4, interface: 'eth0' }],
};
const NODE: RenderNode = { nodeName: 'node-a', trackDir: '/run/keepalived-health' };

const check = (name: string, extra: Partial<AgentHealthCheck> = {}): AgentHealthCheck => ({
  name, kind: HealthCheckKind.HTTP, port: 10254, path: '/healthz', https: false, intervalSeconds: 1, timeoutSeconds: 1, fall: 3, rise: 2, ...extra,
});

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  nodeOrder: ['node-a', 'node-b'],
  auth: false,
  groups: [
    agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc0', weight: 0 }, { check: 'hc1', weight: -50 }] }),
    agentGroup({ name: 'back', index: 1, vrid: 11, tracks: [{ check: 'hc0', weight: -100 }] }),
    agentGroup({ name: 'plain', index: 2, vrid: 12 }),
  ],
  healthChecks: [check('hc0'), check('hc1', { kind: HealthCheckKind.TCP, port: 443, path: undefined, https: undefined })],
};

function render(spec: AgentSpec, node: RenderNode = NODE): string {
  const config = renderKeepalivedConf(spec, VIEW, node);
  // keepalived 2.3 resolves track files when it reads the config: check it against files that exist, in
  // a directory of the test's own, as `render` seeds them in the pod.
  const dir = mkdtempSync(join(tmpdir(), 'kc-track-'));
  try {
    const local = config.replace(/file "([^"]+)"/g, (_, path: string) => {
      const file = join(dir, path.split('/').pop()!);
      writeFileSync(file, '1\n');
      return `file "${file}"`;
    });
    keepalived.expectAccepts(local);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return config;
}

test('a vrrp_track_file per check (init_file 1: missing means failing), before the instances; track_file with each group\'s weights', () => {
  const config = render(SPEC);
  expect(config).toContain([
    '',
    'vrrp_track_file edge_hc0 {',
    '    file "/run/keepalived-health/edge_hc0"',
    '    init_file 1',
    '}',
    '',
    'vrrp_track_file edge_hc1 {',
    '    file "/run/keepalived-health/edge_hc1"',
    '    init_file 1',
    '}',
    '',
    'vrrp_instance edge_front {',
  ].join('\n'));
  expect(config).toContain([
    '    virtual_ipaddress {',
    '        198.51.100.100/32 dev eth0',
    '    }',
    '    track_file {',
    '        edge_hc0 weight 0',
    '        edge_hc1 weight -50',
    '    }',
    '}',
  ].join('\n'));
  expect(config).toContain('    track_file {\n        edge_hc0 weight -100\n    }\n}');
  const plain = config.slice(config.indexOf('vrrp_instance edge_plain'));
  expect(plain).not.toContain('track_file');
  expect(config.indexOf('vrrp_track_file')).toBeLessThan(config.indexOf('vrrp_instance'));
});

test('the track directory defaults to /run/keepalived-health; a trailing slash is dropped', () => {
  expect(render(SPEC, { nodeName: 'node-a' })).toContain('file "/run/keepalived-health/edge_hc0"');
  expect(render(SPEC, { nodeName: 'node-a', trackDir: '/var/run/x/' })).toContain('file "/var/run/x/edge_hc0"');
});

test('only the checks some instance follows are rendered (keepalived reports an unused one as an error)', () => {
  const spec: AgentSpec = { ...SPEC, groups: [agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc1', weight: 0 }] })] };
  const config = render(spec);
  expect(config).not.toContain('edge_hc0');
  expect(config).toContain('vrrp_track_file edge_hc1 {');
});

test('without health checks nothing changes', () => {
  const { healthChecks: _h, ...rest } = SPEC;
  const spec: AgentSpec = { ...rest, groups: [agentGroup({ name: 'front', index: 0, vrid: 10 })] };
  expect(render(spec)).not.toContain('track');
  expect(planNode(spec, VIEW, NODE).trackFiles).toEqual([]);
});

describe('a malformed spec is refused with every problem named', () => {
  const problemsOf = (spec: AgentSpec, node: RenderNode = NODE): string[] => {
    try {
      renderKeepalivedConf(spec, VIEW, node);
    } catch (e) {
      if (e instanceof AgentRenderError) return [...e.problems];
      throw e;
    }
    throw new Error('rendered');
  };

  test('a track naming an unknown check, a bad weight, a check named twice in one group', () => {
    const spec: AgentSpec = {
      ...SPEC,
      groups: [agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc9', weight: 0 }, { check: 'hc0', weight: 5 }, { check: 'hc1', weight: 0 }, { check: 'hc1', weight: -1 }] })],
    };
    expect(problemsOf(spec)).toEqual([
      'group "front": tracks[0] names check "hc9", which spec.healthChecks does not have',
      'group "front": tracks[1].weight 5 is not 0 (release) or -1..-253 (lower the priority)',
      'group "front": tracks[3] names check hc1 a second time',
    ]);
  });

  test('a weight that is text, even text of a number, is refused (it would go into keepalived.conf as it is)', () => {
    for (const weight of ['\n-5\n', '-5', '0']) {
      const spec: AgentSpec = { ...SPEC, groups: [agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc0', weight: weight as unknown as number }] })] };
      expect(problemsOf(spec)).toEqual([`group "front": tracks[0].weight ${JSON.stringify(weight)} is not 0 (release) or -1..-253 (lower the priority)`]);
    }
  });

  test('a check with an unsafe path, a port out of range, a name keepalived could misread', () => {
    const spec: AgentSpec = { ...SPEC, healthChecks: [check('hc0', { path: '/a b', port: 70000 }), check('HC 1', { kind: HealthCheckKind.TCP }), check('hc1'), check('hc1', { port: 444 })] };
    expect(problemsOf(spec)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^spec\.healthChecks\[0\] port 70000 is not a TCP port/),
      expect.stringMatching(/^spec\.healthChecks\[0\] path "\/a b" is not an HTTP request path/),
      'spec.healthChecks[1] name "HC 1" is not 1..16 lower-case letters and digits',
      'spec.healthChecks[3] name hc1 is used twice',
    ]));
  });

  test('a track directory keepalived would not read as one word', () => {
    expect(problemsOf(SPEC, { nodeName: 'node-a', trackDir: '/run/a dir' })).toEqual([
      '--track-dir "/run/a dir" must be an absolute path of letters, digits, _, -, . and / (keepalived reads it as one word)',
    ]);
  });
});
