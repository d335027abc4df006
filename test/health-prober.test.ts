import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { createServer as createHttpServer, Server } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo, createServer as createTcpServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { HealthProber, healthProberFor, HealthSetupError, Hysteresis, probeOnce, ProbeResult } from '../src/agent/health';
import { Logger } from '../src/agent/node-watch';
import { AgentHealthCheck, AgentSpec } from '../src/core/agent-spec';
import { HealthCheckKind } from '../src/core/health-spec';
import { agentGroup } from './support/agent-fixtures';
import { AgentProcess, buildAgent, sleep, until } from './support/discovery';
import { createCertificateAuthority, issueServerCertificate } from './support/fake-apiserver';

/*
 * The agent's prober against real local servers (HTTP, HTTPS, TCP) and a sysfs-shaped directory, the
 * fall / rise hysteresis, the track files it writes, and `run` with health checks and no API server.
 */
let tmp: string;
const servers: Server[] = [];
const lines: string[] = [];
const logger: Logger = {
  debug: (m) => lines.push(`debug: ${m}`), info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`),
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'health-prober-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  lines.length = 0;
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const check = (extra: Partial<AgentHealthCheck>): AgentHealthCheck => ({
  name: 'hc0', kind: HealthCheckKind.HTTP, port: 1, path: '/healthz', https: false, intervalSeconds: 1, timeoutSeconds: 0.5, fall: 2, rise: 2, ...extra,
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('probes', () => {
  test('HTTP: 2xx is healthy; other statuses fail with the start of the body, bounded and printable; the request carries Host and path', async () => {
    const seen: { url?: string; host?: string }[] = [];
    const port = await listen(createHttpServer((req, res) => {
      seen.push({ url: req.url, host: req.headers.host });
      if (req.url === '/healthz') return void res.writeHead(204).end();
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(`down\n\x1b[31m${'x'.repeat(100_000)}`);
    }));
    expect(await probeOnce(check({ port }))).toEqual({ ok: true, detail: 'HTTP 204' });
    const failed = await probeOnce(check({ port, path: '/other', host: 'ingress.example.com' }));
    expect(failed.ok).toBe(false);
    expect(failed.detail).toMatch(/^HTTP 503: down\.\.\[31mx+$/);
    expect(failed.detail.length).toBeLessThanOrEqual('HTTP 503: '.length + 256);
    expect(seen).toEqual([{ url: '/healthz', host: `127.0.0.1:${port}` }, { url: '/other', host: 'ingress.example.com' }]);
  });

  test('HTTP: a refused connection, and a server that does not answer within the timeout', async () => {
    expect(await probeOnce(check({ port: await closedPort() }))).toEqual({ ok: false, detail: expect.stringMatching(/^ECONNREFUSED/) });
    const port = await listen(createHttpServer(() => undefined)); // never answers
    const t0 = performance.now();
    expect(await probeOnce(check({ port, timeoutSeconds: 0.3 }))).toEqual({ ok: false, detail: 'no answer within 300 ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  test('HTTPS: the certificate is verified unless insecureSkipTlsVerify (a private CA is not trusted)', async () => {
    const ca = createCertificateAuthority(join(tmp, 'ca'), 'test-ca');
    const cert = issueServerCertificate(ca, join(tmp, 'server'));
    const port = await listen(createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => res.writeHead(200).end('ok')));
    const verified = await probeOnce(check({ port, https: true }));
    expect(verified).toEqual({ ok: false, detail: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/) });
    expect(await probeOnce(check({ port, https: true, insecureSkipTlsVerify: true }))).toEqual({ ok: true, detail: 'HTTP 200' });
  });

  test('TCP: an accepted connection is healthy; a refused one is not', async () => {
    const server = createTcpServer((s) => s.end());
    servers.push(server as unknown as Server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await probeOnce(check({ kind: HealthCheckKind.TCP, port }))).toEqual({ ok: true, detail: 'connected' });
    expect((await probeOnce(check({ kind: HealthCheckKind.TCP, port: await closedPort() }))).ok).toBe(false);
  });

  test('interface: operstate up is healthy; unknown with carrier too; down, unknown without carrier or no interface are not', async () => {
    const sys = join(tmp, 'sys');
    const iface = (name: string, operstate: string, carrier?: string) => {
      mkdirSync(join(sys, 'class/net', name), { recursive: true });
      writeFileSync(join(sys, 'class/net', name, 'operstate'), `${operstate}\n`);
      if (carrier !== undefined) writeFileSync(join(sys, 'class/net', name, 'carrier'), `${carrier}\n`);
    };
    iface('bond0', 'up');
    iface('eth1', 'down', '0');
    iface('tun0', 'unknown', '1');
    iface('tun1', 'unknown');
    const probe = (name: string) => probeOnce(check({ kind: HealthCheckKind.INTERFACE, interface: name }), { sysRoot: sys });
    expect(await probe('bond0')).toEqual({ ok: true, detail: 'operstate up' });
    expect(await probe('eth1')).toEqual({ ok: false, detail: 'operstate down' });
    expect(await probe('tun0')).toEqual({ ok: true, detail: 'operstate unknown, carrier up' });
    expect(await probe('tun1')).toEqual({ ok: false, detail: 'operstate unknown, no carrier' });
    expect(await probe('ens9')).toEqual({ ok: false, detail: 'no such interface' });
  });
});

describe('hysteresis', () => {
  test('healthy -> failing after `fall` consecutive failures, failing -> healthy after `rise` successes; an interruption resets the count', () => {
    const h = new Hysteresis(3, 2, true);
    const run = (results: string) => [...results].map((r) => (h.record(r === '+') ? (h.healthy ? 'H' : 'F') : '.')).join('');
    expect(run('--+--+')).toBe('......'); // never three failures in a row
    expect(h.healthy).toBe(true);
    expect(run('---')).toBe('..F');
    expect(run('+-+-')).toBe('....'); // never two successes in a row
    expect(run('++')).toBe('.H');
    expect(run('-')).toBe('.');
  });

  test('fall 1 and rise 1 follow every probe', () => {
    const h = new Hysteresis(1, 1, false);
    expect([true, false, false, true].map((ok) => h.record(ok))).toEqual([true, true, false, true]);
  });
});

describe('the prober', () => {
  /** A prober on scripted results; returns it, its track file and the results queue. */
  function scripted(results: boolean[], extra: Partial<AgentHealthCheck> = {}, dir = mkdtempSync(join(tmp, 'track-'))) {
    const queue = [...results];
    const probes: number[] = [];
    const prober = new HealthProber({
      cluster: 'edge', checks: [check({ intervalSeconds: 0.1, timeoutSeconds: 0.1, ...extra })], trackDir: dir, logger,
      groupsOf: new Map([['hc0', ['front (release)']]]),
      probe: async (): Promise<ProbeResult> => {
        probes.push(performance.now());
        const ok = queue.length > 0 ? queue.shift()! : true;
        return { ok, detail: ok ? 'HTTP 200' : 'ECONNREFUSED' };
      },
    });
    return { prober, file: join(dir, 'edge_hc0'), dir, probes, queue };
  }
  const trackValue = (file: string) => readFileSync(file, 'utf8');

  test('a missing track file is written failing at start; healthy after rise (2); failing after fall (2)', async () => {
    const { prober, file, probes } = scripted([true, true, false, false, true, false, false, false]);
    prober.start();
    expect(trackValue(file)).toBe('1\n');
    const changes: string[] = [];
    prober.subscribe((s) => changes.push(s.healthy ? 'H' : 'F'));
    await until('8 probes', () => probes.length >= 9, 5000);
    await prober.stop();
    expect(changes.slice(0, 8).join('')).toBe('FHHFFFFF');
    expect(trackValue(file)).toBe('1\n');
    const status = prober.statuses()[0];
    expect(status).toMatchObject({ name: 'hc0', healthy: false, transitions: 2, written: true, groups: ['front (release)'], trackFile: file });
    expect(status.probes).toBeGreaterThanOrEqual(8);
    expect(status.failedProbes).toBe(5);
    expect(lines.filter((l) => /is (healthy|failing) after/.test(l))).toEqual([
      expect.stringMatching(/^health check hc0 \(http:\/\/127\.0\.0\.1:1\/healthz\) is healthy after 2 successful probe\(s\), last: HTTP 200; keepalived takes the groups back: front \(release\)$/),
      expect.stringMatching(/^health check hc0 .* is failing after 2 failed probe\(s\), last: ECONNREFUSED; keepalived acts on the groups: front \(release\)$/),
    ]);
    // Probes are an interval apart (start to start).
    const gaps = probes.slice(1, 8).map((t, i) => t - probes[i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(95);
  });

  test('a check that keeps failing says why: after fall probes, and again when the reason changes (at most once an interval)', async () => {
    // GIVEN a check that never passes (a wrong port, say), whose reason changes after a while
    const details = ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'HTTP 500', 'HTTP 500', 'HTTP 500'];
    let probes = 0;
    const prober = new HealthProber({
      cluster: 'edge', checks: [check({ intervalSeconds: 0.1, timeoutSeconds: 0.1, fall: 3 })], trackDir: mkdtempSync(join(tmp, 'track-')), logger,
      groupsOf: new Map([['hc0', ['front (release)']]]), failingLogIntervalMs: 250,
      probe: async (): Promise<ProbeResult> => ({ ok: false, detail: details[Math.min(probes++, details.length - 1)] }),
    });
    prober.start();
    await until('7 probes', () => probes >= 8, 5000);
    await prober.stop();
    // THEN one warning after the third failed probe, and one when the reason changed (the interval apart)
    expect(lines.filter((l) => l.startsWith('warn: '))).toEqual([
      'warn: health check hc0 (http://127.0.0.1:1/healthz) fails: ECONNREFUSED (3 probes in a row); keepalived acts on the groups: front (release)',
      expect.stringMatching(/^warn: health check hc0 .* fails: HTTP 500 \([5-7] probes in a row\);/),
    ]);
  });

  test('an existing track file is the starting state: an agent restart changes nothing', async () => {
    const dir = mkdtempSync(join(tmp, 'track-'));
    writeFileSync(join(dir, 'edge_hc0'), '0\n');
    const { prober, file, probes } = scripted([false], {}, dir);
    prober.start();
    expect(prober.statuses()[0].healthy).toBe(true);
    await until('3 probes', () => probes.length >= 3, 5000);
    await prober.stop();
    expect(trackValue(file)).toBe('0\n');
    expect(prober.statuses()[0].transitions).toBe(0);
  });

  test('the track file is replaced by rename (keepalived re-reads it on IN_MOVED_TO) and leaves no temporary files', async () => {
    const { prober, dir, probes } = scripted([true, true]);
    prober.start();
    await until('2 probes', () => probes.length >= 3, 5000);
    await prober.stop();
    const { readdirSync } = await import('fs');
    expect(readdirSync(dir)).toEqual(['edge_hc0']);
  });

  test('stop() ends the probe loop; the file keeps its state', async () => {
    const { prober, file, probes } = scripted([true, true]);
    prober.start();
    await until('healthy', () => prober.statuses()[0].healthy, 5000);
    await prober.stop();
    const count = probes.length;
    await sleep(300);
    expect(probes.length).toBe(count);
    expect(trackValue(file)).toBe('0\n');
  });
});

describe('healthProberFor', () => {
  const spec = (extra: Partial<AgentSpec> = {}): AgentSpec => ({
    version: 1, cluster: 'edge', auth: false,
    groups: [agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc0', weight: -20 }] })],
    healthChecks: [check({})],
    ...extra,
  });

  test('none without health checks', () => {
    expect(healthProberFor(spec({ healthChecks: undefined }), tmp, logger)).toBeUndefined();
    expect(healthProberFor(spec({ healthChecks: [] }), tmp, logger)).toBeUndefined();
  });

  test('refuses a malformed check and a track directory it cannot write', () => {
    expect(() => healthProberFor(spec({ healthChecks: [check({ fall: 0 })] }), tmp, logger)).toThrow(
      /cannot run the health checks:\n {2}- spec\.healthChecks\[0\] fall 0 is not a count of consecutive probes/);
    expect(() => healthProberFor(spec(), join(tmp, 'missing'), logger)).toThrow(HealthSetupError);
    expect(() => healthProberFor(spec(), join(tmp, 'missing'), logger)).toThrow(/--track-dir .*missing is not a directory the agent can write/);
  });

  test('names the groups and actions that follow each check', () => {
    const prober = healthProberFor(spec(), mkdtempSync(join(tmp, 'track-')), logger)!;
    expect(prober.statuses()[0].groups).toEqual(['front (priority -20)']);
  });
});

describe('run with health checks and no API server (the bundled agent)', () => {
  beforeAll(() => buildAgent(), 30_000);

  test('an HTTPS check verified against a CA from NODE_EXTRA_CA_CERTS and the Host name; the file follows the service; SIGTERM leaves it', async () => {
    const ca = createCertificateAuthority(join(tmp, 'run-ca'), 'run-ca');
    const cert = issueServerCertificate(ca, join(tmp, 'run-server'));
    let up = true;
    const port = await listen(createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => res.writeHead(up ? 200 : 500).end()));
    const dir = mkdtempSync(join(tmp, 'run-'));
    const trackDir = join(dir, 'track');
    mkdirSync(trackDir);
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify({
      version: 1, cluster: 'edge', auth: false,
      groups: [agentGroup({ name: 'front', index: 0, vrid: 10, tracks: [{ check: 'hc0', weight: 0 }] })],
      // `kubernetes` is a DNS name in the certificate: verified through the Host header's name.
      healthChecks: [check({ port, https: true, host: `kubernetes:${port}`, path: '/readyz', intervalSeconds: 0.2, timeoutSeconds: 0.2, fall: 2, rise: 2 })],
    }));
    const agent = new AgentProcess(['run', '--spec', specFile, '--node-name', 'node-a', '--out', join(dir, 'k.conf'), '--pid-file', join(dir, 'k.pid'),
      '--track-dir', trackDir], { NODE_EXTRA_CA_CERTS: ca.certFile, KUBERNETES_SERVICE_HOST: '' });
    try {
      const file = join(trackDir, 'edge_hc0');
      await agent.waitFor(/health check hc0 \(https:\/\/127\.0\.0\.1:\d+\/readyz \(Host: kubernetes:\d+\)\) is healthy after 2/);
      expect(readFileSync(file, 'utf8')).toBe('0\n');
      up = false;
      await agent.waitFor(/health check hc0 .* is failing after 2 failed probe\(s\), last: HTTP 500/);
      expect(readFileSync(file, 'utf8')).toBe('1\n');
      up = true;
      await agent.waitFor(/is healthy after 2/, 8000, 2);
      const exit = await agent.terminate();
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(readFileSync(file, 'utf8')).toBe('0\n');
      expect(agent.text).not.toMatch(/API|discovery/i);
    } finally {
      await agent.kill();
    }
  }, 30_000);
});
