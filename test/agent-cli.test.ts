import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { builtinModules } from 'module';
import { tmpdir } from 'os';
import { join } from 'path';
import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { renderKeepalivedConf } from '../src/core/keepalived-conf';
import { KeepalivedConfigCheck } from './support/keepalived-check';
import { AGENT, buildAgent, ROOT } from './support/agent-bundle';

/*
 * Runs the bundled agent, the exact file the ConfigMap carries, against a fixture node: an interface
 * table in os.networkInterfaces() shape (--interfaces-json) and a fixture /proc (KEEPALIVED_AGENT_PROC).
 */
let tmp: string;
let proc: string;
let interfacesJson: string;
let specFile: string;
let authFile: string;

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'edge',
  nodeOrder: ['node-a', 'node-b'],
  unicastPeers: ['198.51.100.11', '198.51.100.12', '2001:db8:1::11', '2001:db8:1::12'],
  auth: true,
  groups: [
    { name: 'front', index: 0, vrid: 10, family: 4, vrrpVersion: 2, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '198.51.100.100/32' }, { address: '203.0.113.100/32', interface: InterfaceSelector.name('bond0')._spec }],
      preempt: true, advertInterval: 1 },
    { name: 'v6', index: 1, vrid: 11, family: 6, vrrpVersion: 3, interface: InterfaceSelector.defaultRoute()._spec,
      addresses: [{ address: '2001:db8:1::100/64' }], preempt: false, advertInterval: 0.5 },
  ],
};

/** The fixture node as the agent should see it. */
const VIEW = {
  interfaces: [
    { name: 'bond0', addresses: [] },
    { name: 'eth0', addresses: ['198.51.100.11/24', '2001:db8:1::11/64', 'fe80::1/64'] },
    { name: 'eth1', addresses: ['203.0.113.11/28'] },
    { name: 'lo', addresses: ['127.0.0.1/8', '::1/128'] },
  ],
  defaultRoutes: [{ family: 4 as const, interface: 'eth0' }, { family: 6 as const, interface: 'eth0' }],
};

beforeAll(() => {
  // Build into a temporary name and rename, so that a concurrent reader never sees half a bundle.
  buildAgent();

  tmp = mkdtempSync(join(tmpdir(), 'agent-cli-'));
  proc = join(tmp, 'proc');
  mkdirSync(join(proc, 'net'), { recursive: true });
  // eth1 has a default route too, but a worse metric; lo's unreachable IPv6 default must be skipped.
  writeFileSync(join(proc, 'net/route'), [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth1\t00000000\t017100CB\t0003\t0\t0\t200\t00000000\t0\t0\t0',
    'eth0\t00000000\t016433C6\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    '',
  ].join('\n'));
  writeFileSync(join(proc, 'net/ipv6_route'), [
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
    '20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000100000000000000000001 00000400 00000002 00000000 00000003     eth0',
    '',
  ].join('\n'));
  // bond0 has no address, so only /proc/net/dev tells the agent it exists.
  writeFileSync(join(proc, 'net/dev'), [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
    '  eth0:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
    '  eth1:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0',
    ' bond0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0',
    '',
  ].join('\n'));
  interfacesJson = join(tmp, 'interfaces.json');
  const info = (address: string, family: string, cidr: string, extra = {}) => ({ address, netmask: '', family, mac: '02:00:00:00:00:01', internal: false, cidr, ...extra });
  writeFileSync(interfacesJson, JSON.stringify({
    lo: [info('127.0.0.1', 'IPv4', '127.0.0.1/8', { internal: true }), info('::1', 'IPv6', '::1/128', { internal: true, scopeid: 0 })],
    eth0: [
      info('198.51.100.11', 'IPv4', '198.51.100.11/24'),
      info('2001:db8:1::11', 'IPv6', '2001:0db8:0001:0000::11/64', { scopeid: 0 }),
      info('fe80::1', 'IPv6', 'fe80::1/64', { scopeid: 2 }),
    ],
    eth1: [info('203.0.113.11', 'IPv4', '203.0.113.11/28'), info('203.0.113.12', 'IPv4', null as unknown as string)],
  }));
  specFile = writeJson('spec.json', SPEC);
  authFile = join(tmp, 'auth-pass');
  writeFileSync(authFile, 'Vrrp-Pw1\n');
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** A fresh, empty output directory. */
function outDir(): string {
  return mkdtempSync(join(tmp, 'out-'));
}

function agent(args: string[]) {
  const r = spawnSync(process.execPath, [AGENT, ...args], { encoding: 'utf8', env: { ...process.env, KEEPALIVED_AGENT_PROC: proc } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const renderArgs = (out: string, spec = specFile) => ['render', '--spec', spec, '--node-name', 'node-a', '--out', out,
  '--auth-pass-file', authFile, '--host-ip', '198.51.100.11', '--interfaces-json', interfacesJson];

// The rendered config passes keepalived -t on every proven version, in a namespace with the view's interfaces.
const keepalived = new KeepalivedConfigCheck('kc-cli', [['eth0', 'eth1'], ['bond0', 'bond1']]);
beforeAll(() => keepalived.setUp());
afterAll(() => keepalived.tearDown());

test('renders the node\'s config: what core renders for the same view, private, with a summary line', () => {
  // GIVEN
  const dir = outDir();
  const out = join(dir, 'keepalived.conf');
  // WHEN
  const r = agent(renderArgs(out));
  // THEN
  expect(r).toEqual({
    status: 0,
    stderr: '',
    stdout: `keepalived-agent: wrote ${out} for node node-a (cluster edge): front on eth0 priority 250 (master); v6 on eth0 priority 244 (backup)\n`,
  });
  const config = readFileSync(out, 'utf8');
  expect(config).toBe(renderKeepalivedConf(SPEC, VIEW, { nodeName: 'node-a', hostIp: '198.51.100.11', authPass: 'Vrrp-Pw1' }));
  expect(config).toContain('203.0.113.100/32 dev bond0');
  expect(config).toContain('auth_pass Vrrp-Pw1\n');
  keepalived.expectAccepts(config);
  expect(statSync(out).mode & 0o777).toBe(0o640);
  expect(readdirSync(dir)).toEqual(['keepalived.conf']);
});

test('--flag=value works as --flag value, and a second run replaces the file', () => {
  const dir = outDir();
  const out = join(dir, 'keepalived.conf');
  writeFileSync(out, 'OLD\n');
  const args = renderArgs(out);
  const r = agent([args[0], ...args.slice(1).reduce<string[]>((acc, a, i, all) => (i % 2 === 0 ? [...acc, `${a}=${all[i + 1]}`] : acc), [])]);
  expect(r.status).toBe(0);
  expect(readFileSync(out, 'utf8')).toMatch(/^# Rendered by keepalived-constructs for node node-a/);
  expect(readdirSync(dir)).toEqual(['keepalived.conf']);
});

describe('a node that cannot run the spec', () => {
  const badSpec = (): string => writeJson('bad-spec.json', {
    ...SPEC,
    groups: [{ ...SPEC.groups[0], interface: InterfaceSelector.name('ens9')._spec }, SPEC.groups[1]],
  });

  test('exits 1 naming the group, the selector and what the node has; leaves no file', () => {
    const dir = outDir();
    const r = agent(renderArgs(join(dir, 'keepalived.conf'), badSpec()));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('keepalived-agent: cannot render keepalived.conf for node "node-a":\n'
      + '  - group "front": interface Name(ens9): no interface named "ens9"; the node has: bond0 (no addresses), '
      + 'eth0 (198.51.100.11/24, 2001:db8:1::11/64, fe80::1/64), eth1 (203.0.113.11/28), lo (127.0.0.1/8, ::1/128)\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('does not clobber an existing config', () => {
    const dir = outDir();
    const out = join(dir, 'keepalived.conf');
    writeFileSync(out, 'OLD\n');
    expect(agent(renderArgs(out, badSpec())).status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('OLD\n');
    expect(readdirSync(dir)).toEqual(['keepalived.conf']);
  });

  test('exits 1 without a default route of the group\'s family, instead of crashing', () => {
    const dir = outDir();
    const r = spawnSync(process.execPath, [AGENT, ...renderArgs(join(dir, 'keepalived.conf'))],
      { encoding: 'utf8', env: { ...process.env, KEEPALIVED_AGENT_PROC: join(tmp, 'no-proc') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('group "front": interface DefaultRoute: no IPv4 default route (the node has no default route at all)');
    expect(r.stderr).toContain('group "v6": interface DefaultRoute: no IPv6 default route');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('exits 1 when a file cannot be read or written', () => {
    const dir = outDir();
    expect(agent(renderArgs(join(dir, 'keepalived.conf'), join(tmp, 'missing.json'))))
      .toMatchObject({ status: 1, stderr: expect.stringMatching(/^keepalived-agent: cannot read --spec .*missing\.json: ENOENT/) });
    expect(agent(renderArgs(join(dir, 'no-such-dir', 'keepalived.conf'))))
      .toMatchObject({ status: 1, stderr: expect.stringMatching(/^keepalived-agent: cannot write --out .*no-such-dir\/keepalived\.conf: ENOENT/) });
    expect(readdirSync(dir)).toEqual([]);
  });

  test('exits 1 on an unknown spec version', () => {
    const r = agent(renderArgs(join(outDir(), 'keepalived.conf'), writeJson('v2.json', { ...SPEC, version: 2 })));
    expect(r).toMatchObject({ status: 1, stderr: expect.stringContaining('spec.json version 2 is not supported') });
  });
});

describe('usage errors exit 2 with the usage, and write nothing', () => {
  test.each([
    [[], 'no command given'],
    [['watch'], 'unknown command "watch"'],
    [['render', '--spec', 'x', '--node-name', 'n'], 'missing --out'],
    [['render', '--spec', 'x', '--node-name', 'n', '--out', 'y', '--verbose'], 'unknown flag --verbose'],
    [['render', '--spec', 'x', '--node-name', 'n', '--out', 'y', '--spec', 'z'], '--spec given twice'],
    [['render', '--spec', '--node-name', 'n', '--out', 'y'], '--spec needs a value'],
    [['render', '--spec=', '--node-name', 'n', '--out', 'y'], '--spec needs a value'],
    [['render', 'extra', '--spec', 'x', '--node-name', 'n', '--out', 'y'], 'unexpected argument "extra"'],
  ])('%j', (args, message) => {
    const dir = outDir();
    const r = spawnSync(process.execPath, [AGENT, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, KEEPALIVED_AGENT_PROC: proc } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^keepalived-agent: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\nusage: keepalived-agent render --spec FILE`));
    expect(r.stderr).not.toContain('interfaces-json'); // hidden test hook
    expect(readdirSync(dir)).toEqual([]);
  });

  test('--help prints the usage and exits 0', () => {
    const r = agent(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: keepalived-agent render/);
  });
});

test('the bundle is one file that needs nothing but Node built-ins', () => {
  const source = readFileSync(AGENT, 'utf8');
  const required = new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  expect([...required].filter((m) => !builtinModules.includes(m.replace(/^node:/, '')))).toEqual([]);
  expect(existsSync(join(ROOT, `lib/agent/.keepalived-agent.${process.pid}.js`))).toBe(false);
});
