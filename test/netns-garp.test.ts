import { writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { AgentSpec } from '../src/core/agent-spec';
import { InterfaceSelector } from '../src/core/interface-selector';
import { renderKeepalivedConf } from '../src/core/keepalived-conf';
import { agentGroup } from './support/agent-fixtures';
import { NetnsLab, removeStaleLabs, withLab } from './support/netns';
import { endToEnd, missingPrerequisite } from './support/prerequisites';
import { DEBIAN_KEEPALIVED_VERSION, KeepalivedBinary, keepalivedBinaries } from './support/keepalived-versions';

/*
 * Gratuitous ARP refresh with real keepalived (issue 11 item 6). One node (node-a) runs keepalived alone,
 * so it is master of two groups: `refresh` with garpRefreshSeconds 2 and `quiet` with 0 (off). A
 * listener namespace on the same LAN has arp_accept on: a gratuitous ARP creates a neighbour entry for
 * its address. The test deletes the entry whenever it appears, so every GARP shows up as a new entry
 * (no packet capture needed). After the failover bursts (garp_master_delay 5 s), the refreshed VIP keeps
 * being announced every ~2 s; the other one stays silent.
 */
const REFRESHED = '198.51.100.100';
const QUIET = '198.51.100.101';
const REFRESH_S = 2;

const missing = missingPrerequisite();
const e2e = endToEnd('GARP refresh end-to-end test', 'test/netns-garp.test.ts', missing);
/** Every keepalived version the package is proven on (only Debian's when the suite is skipped). */
const VERSIONS: readonly KeepalivedBinary[] = missing ? [{ version: DEBIAN_KEEPALIVED_VERSION, binary: 'keepalived' }] : keepalivedBinaries();

beforeAll(() => {
  if (!missing) removeStaleLabs();
});

const SPEC: AgentSpec = {
  version: 1,
  cluster: 'garp',
  nodeOrder: ['node-a', 'node-b'],
  auth: false,
  groups: [
    agentGroup({ name: 'refresh', index: 0, vrid: 71, vrrpVersion: 3, advertInterval: 0.1, interface: InterfaceSelector.name('eth0')._spec,
      addresses: [{ address: `${REFRESHED}/32` }], garpRefreshSeconds: REFRESH_S }),
    agentGroup({ name: 'quiet', index: 1, vrid: 72, vrrpVersion: 3, advertInterval: 0.1, interface: InterfaceSelector.name('eth0')._spec,
      addresses: [{ address: `${QUIET}/32` }], garpRefreshSeconds: 0 }),
  ],
};

/** Times (performance.now()) at which a neighbour entry for each address appeared in the listener; each is deleted at once. */
async function watchAnnouncements(lab: NetnsLab, addresses: readonly string[], ms: number): Promise<Map<string, number[]>> {
  const seen = new Map(addresses.map((a) => [a, [] as number[]]));
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const entries = JSON.parse(lab.exec('listener', ['ip', '-j', 'neigh', 'show', 'dev', 'eth0'])) as { dst: string }[];
    for (const e of entries) {
      if (!seen.has(e.dst)) continue;
      seen.get(e.dst)!.push(performance.now());
      lab.exec('listener', ['ip', 'neigh', 'del', e.dst, 'dev', 'eth0']);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return seen;
}

describe.each(VERSIONS.map((k) => [k.version, k] as const))('keepalived %s', (version, keepalived) => {
  e2e('a master re-announces its VIPs every garpRefreshSeconds; with 0 it does not', async () => {
    await withLab(async (lab) => {
      lab.addNode('node-a', { interfaces: [{ name: 'eth0', segment: 'lan', addresses: ['198.51.100.11/24'] }] });
      lab.addNode('listener', { interfaces: [{ name: 'eth0', segment: 'lan', addresses: ['198.51.100.99/24'] }] });
      lab.exec('listener', ['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_accept=1', 'net.ipv4.conf.all.arp_accept=1']);
      const view = { interfaces: [{ name: 'eth0', addresses: ['198.51.100.11/24'] }], defaultRoutes: [] };
      const conf = renderKeepalivedConf(SPEC, view, { nodeName: 'node-a' });
      expect(conf).toMatch(/vrrp_instance garp_refresh \{[^}]*garp_master_refresh 2\n/);
      expect(conf).not.toMatch(/vrrp_instance garp_quiet \{[^}]*garp_master_refresh/);
      const file = join(lab.dir, 'node-a.conf');
      writeFileSync(file, conf);
      lab.startKeepalived('node-a', [keepalived.binary, '--dont-fork', '--log-console', '--no-syslog', '--log-detail', '--vrrp', '--use-file', file,
        '--pid', join(lab.dir, 'a.pid'), '--vrrp_pid', join(lab.dir, 'a.vrrp.pid'), '--checkers_pid', join(lab.dir, 'a.checkers.pid')]);
      await lab.waitFor(() => lab.holders(REFRESHED).length === 1 && lab.holders(QUIET).length === 1, 10_000, 'node-a master of both groups');
      // The failover bursts: garp_master_repeat GARPs at once and again after garp_master_delay (5 s),
      // counted from the transition (seen on a loaded machine up to ~1.5 s after the VIP appeared).
      await new Promise((r) => setTimeout(r, 8000));
      for (const a of [REFRESHED, QUIET]) lab.tryExec('listener', ['ip', 'neigh', 'del', a, 'dev', 'eth0']);
      const seen = await watchAnnouncements(lab, [REFRESHED, QUIET], 9000);
      const times = seen.get(REFRESHED)!;
      const gaps = times.slice(1).map((t, i) => Math.round(t - times[i]));
      console.log(`keepalived ${version}: GARP refresh every ${REFRESH_S} s with 0.1 s adverts: ${times.length} announcements of ${REFRESHED} in 9 s, gaps ${gaps.join(', ')} ms; ${seen.get(QUIET)!.length} of ${QUIET} (refresh off)`);
      expect(times.length).toBeGreaterThanOrEqual(4);
      // keepalived sends the refresh with the first advert after the timer runs out: REFRESH_S + up to one advert, plus polling.
      for (const gap of gaps) {
        expect(gap).toBeGreaterThan(REFRESH_S * 1000 - 150);
        expect(gap).toBeLessThan(REFRESH_S * 1000 + 400);
      }
      expect(seen.get(QUIET)).toEqual([]);
    });
  }, 60_000);
});
