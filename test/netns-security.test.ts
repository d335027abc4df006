import { spawn, spawnSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { FailoverProfile, KeepalivedCluster, MetricsListenAddress, MetricsOptions, Target } from '../src';
import { buildAgent } from './support/agent-bundle';
import { NetnsLab, removeStaleLabs, withLab } from './support/netns';
import { DaemonSetPod, setprivFor, StandaloneObjects, standaloneObjects } from './support/netns-pod';
import { newChart, synth } from './support/synth';
import { endToEnd, missingPrerequisite } from './support/prerequisites';

/*
 * Unicast VRRP against a host that is not a peer, with real keepalived in network namespaces.
 *
 * node-a and node-b are the cluster (unicast peers 198.51.100.11 and .12, VRRPv3 at 0.1 s adverts);
 * `intruder` (198.51.100.66) sits on the same segment and runs a keepalived of its own with a hostile
 * config: the cluster's VRID, priority 254, unicast adverts to both nodes. In unicast mode keepalived
 * skips the TTL-255 check, so without `vrrp_check_unicast_src` the nodes take the intruder's adverts
 * and give the VIP up (the control scenario shows it does); with it, which the renderer writes, they
 * drop them and still fail over between themselves.
 *
 * The same lab shows where the agent's metrics endpoint answers: from the intruder's place on the
 * segment, the node's own address answers, the VIP the node holds does not (unless the cluster asks
 * for every address).
 *
 * KEEPALIVED_2_0_20=/path/to/keepalived (a build of the 2.0.20 release, the default image's) runs the
 * protected scenario with that binary for the nodes too.
 */

const NODES = ['node-a', 'node-b'];
const INTRUDER = 'intruder';
const INTRUDER_IP = '198.51.100.66';
const VIP = '198.51.100.80';
/** Master-down bound for a dead node at 0.1 s adverts: 3 x advert_int + 1 s. */
const DEAD_NODE_BOUND = 3 * 100 + 1000;

const missing = missingPrerequisite([['ip', '-V'], ['keepalived', '--version'], ['setpriv', '--version']]);
const e2e = endToEnd('network-namespace security tests', 'test/netns-security.test.ts', missing);
const OLD_KEEPALIVED = process.env.KEEPALIVED_2_0_20;

const measured: string[] = [];
beforeAll(() => {
  if (missing) return;
  removeStaleLabs();
  buildAgent();
});
afterAll(() => {
  if (measured.length > 0) console.log(`netns security, measured:\n  ${measured.join('\n  ')}`);
});

function twoNodesAndIntruder(lab: NetnsLab): void {
  [...NODES, INTRUDER].forEach((name, i) => {
    const host = name === INTRUDER ? 66 : 11 + i;
    lab.addNode(name, {
      interfaces: [{ name: 'eth0', segment: 'lan', addresses: [`198.51.100.${host}/24`] }],
      routes: [['default', 'via', '198.51.100.254', 'dev', 'eth0']],
    });
  });
}

function cluster(metrics?: MetricsOptions): StandaloneObjects {
  const { chart } = newChart();
  new KeepalivedCluster(chart, 'uni', {
    name: 'uni',
    nodeSelector: { 'node-role.kubernetes.io/vrrp': '' },
    target: Target.standalone({ nodeOrder: NODES, profile: FailoverProfile.FAST, unicastPeers: ['198.51.100.11', '198.51.100.12'], metrics }),
    groups: [{ name: 'uni', addresses: [{ address: `${VIP}/32` }] }],
  });
  return standaloneObjects(synth(chart));
}

/** Renders each node's config with the agent (init containers), lets `edit` change it, then starts keepalived. */
function startPods(lab: NetnsLab, objects: StandaloneObjects, edit: (config: string) => string = (c) => c, binary?: string): Map<string, DaemonSetPod> {
  const pods = new Map(NODES.map((n) => [n, new DaemonSetPod(lab, n, objects)]));
  for (const pod of pods.values()) {
    pod.init();
    const command = pod.commandOf(pod.mainContainer());
    const file = command[command.indexOf('--use-file') + 1];
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
  }
  for (const pod of pods.values()) {
    if (binary === undefined) {
      pod.start();
    } else {
      // A build of the release with --disable-lvs (as the vendored sources' README builds it) runs VRRP
      // only and has neither --vrrp nor --checkers_pid (both exist only with LVS in 2.0.20's main.c).
      const command = pod.commandOf(pod.mainContainer());
      const argv = command.slice(1).filter((arg, i, all) => arg !== '--vrrp' && arg !== '--checkers_pid' && all[i - 1] !== '--checkers_pid');
      pod.keepalived = lab.startKeepalived(pod.node, [binary, ...argv], 'keepalived-2.0.20');
    }
  }
  return pods;
}

/** The intruder's keepalived: the group's VRID, priority 254, unicast adverts to both nodes. */
function startIntruder(lab: NetnsLab, vrid: number): void {
  const conf = join(lab.dir, 'intruder.conf');
  writeFileSync(conf, [
    'global_defs {', '    router_id intruder', '}',
    'vrrp_instance hostile {',
    '    state MASTER', '    interface eth0', `    virtual_router_id ${vrid}`, '    priority 254', '    advert_int 0.1', '    version 3',
    `    unicast_src_ip ${INTRUDER_IP}`, '    unicast_peer {', '        198.51.100.11', '        198.51.100.12', '    }',
    '    virtual_ipaddress {', `        ${VIP}/32 dev eth0`, '    }',
    '}', '',
  ].join('\n'));
  const files = join(lab.dir, 'intruder');
  lab.startKeepalived(INTRUDER, ['keepalived', '--dont-fork', '--log-console', '--no-syslog', '--vrrp', '-f', conf,
    '-p', `${files}.pid`, '-r', `${files}.vrrp.pid`, '-c', `${files}.checkers.pid`], 'intruder');
}

/** The cluster nodes (not the intruder) that hold the VIP. */
const nodeHolders = (lab: NetnsLab) => lab.holders(VIP).filter((n) => n !== INTRUDER);

describe('unicast adverts only from peers (vrrp_check_unicast_src)', () => {
  e2e('control: without vrrp_check_unicast_src, a non-peer with priority 254 takes the VIP from the cluster', async () => {
    await withLab(async (lab) => {
      twoNodesAndIntruder(lab);
      // GIVEN the rendered configs without the directive
      const pods = startPods(lab, cluster(), (c) => c.replace(/^\s*#.*listed peers\n\s*vrrp_check_unicast_src\n/m, ''));
      expect(pods.get('node-a')!.config).toContain('vrrp_check_unicast_src');
      await lab.waitFor(() => nodeHolders(lab).join() === 'node-a', 5000, 'node-a holds the VIP');
      // WHEN the intruder sends priority-254 adverts
      const t0 = performance.now();
      startIntruder(lab, pods.get('node-a')!.instances[0].vrid);
      // THEN the cluster gives the VIP up
      const seen = await lab.waitFor(() => nodeHolders(lab).length === 0, 5000, 'the cluster gave the VIP up to the intruder');
      measured.push(`without the directive: the cluster lost the VIP ${Math.round(seen.at - t0)} ms after the intruder started`);
    });
  }, 60_000);

  const binaries: [string, string | undefined][] = [['keepalived on PATH', undefined], ...(OLD_KEEPALIVED ? [['keepalived 2.0.20', OLD_KEEPALIVED] as [string, string]] : [])];
  for (const [label, binary] of binaries) {
    e2e(`rendered config (${label}): a non-peer's adverts move nothing, and the peers still fail over`, async () => {
      await withLab(async (lab) => {
        twoNodesAndIntruder(lab);
        // GIVEN the configs as the agent renders them
        const pods = startPods(lab, cluster(), undefined, binary);
        for (const pod of pods.values()) expect(pod.config).toMatch(/^global_defs \{\n[^}]*^\s+vrrp_check_unicast_src$/m);
        await lab.waitFor(() => nodeHolders(lab).join() === 'node-a', 5000, 'node-a holds the VIP');

        // WHEN the intruder sends priority-254 adverts for the group's VRID
        startIntruder(lab, pods.get('node-a')!.instances[0].vrid);
        await lab.waitFor(() => lab.holders(VIP).includes(INTRUDER), 5000, 'the intruder is master in its own namespace');

        // THEN node-a keeps the VIP and node-b stays backup, for 3 s of hostile adverts
        await lab.holdsFor(() => nodeHolders(lab).join() === 'node-a', 3000, 'node-a alone holds the VIP among the nodes');
        const log = readFileSync(pods.get('node-a')!.keepalived!.log, 'utf8');
        expect(log).toMatch(new RegExp(`unicast source address ${INTRUDER_IP.replace(/\./g, '\\.')} not a unicast peer`));

        // AND a real failover between the peers still works while the intruder keeps sending
        const t0 = lab.kill('node-a', 'dead');
        const seen = await lab.waitFor(() => nodeHolders(lab).join() === 'node-b', DEAD_NODE_BOUND + 2000, 'node-b takes over');
        const ms = Math.round(seen.at - t0);
        measured.push(`${label}: dead node-a, node-b took over in ${ms} ms (bound ${DEAD_NODE_BOUND}) under hostile adverts`);
        expect(ms).toBeLessThan(DEAD_NODE_BOUND);
        await lab.holdsFor(() => nodeHolders(lab).join() === 'node-b', 1000, 'node-b keeps the VIP');
      });
    }, 60_000);
  }
});

/** What an HTTP GET of `url` from inside `from`'s namespace gives: the status, or the error code. */
function httpGet(lab: NetnsLab, from: string, url: string): string {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) })`
    + '.then((r) => console.log(r.status), (e) => console.log(e.cause?.code ?? e.name))';
  return lab.exec(from, [process.execPath, '-e', script]).trim();
}

describe('the metrics endpoint answers on the node\'s address, not on the VIPs it holds', () => {
  const cases: [string, MetricsOptions | undefined, string][] = [
    ['by default', undefined, 'ECONNREFUSED'],
    ['with MetricsListenAddress.ALL', { listenAddress: MetricsListenAddress.ALL }, '200'],
  ];
  for (const [label, metrics, onVip] of cases) {
    e2e(`${label}: the node's address answers, the VIP gives ${onVip}`, async () => {
      await withLab(async (lab) => {
        twoNodesAndIntruder(lab);
        // GIVEN the pods as synthesized (the agent sidecar serves metrics on port 9654), node-a the master
        startPods(lab, cluster(metrics));
        await lab.waitFor(() => nodeHolders(lab).join() === 'node-a', 5000, 'node-a holds the VIP');
        // WHEN a host elsewhere on the segment asks node-a's address, then the VIP node-a holds
        const onNode = await lab.waitFor(() => httpGet(lab, INTRUDER, 'http://198.51.100.11:9654/metrics') === '200' || undefined, 10_000, 'node-a\'s metrics answer');
        // THEN the node's address answers, and the VIP answers only when every address was asked for
        expect(onNode.value).toBe(true);
        expect(httpGet(lab, INTRUDER, `http://${VIP}:9654/metrics`)).toBe(onVip);
      });
    }, 60_000);
  }
});

describe('keepalived cannot read the agent sidecar through /proc (same uid, shared process namespace)', () => {
  /** What a process with keepalived's capabilities reads of a sleeping process with the agent's (or none): its environment. */
  const readAcross = (agentCaps: string[], keepalivedCaps: string[]) => {
    const agent = spawn(agentCaps[0], [...agentCaps.slice(1), 'sleep', '30'], { env: { ...process.env, AGENT_SECRET: 'hunter2' }, stdio: 'ignore' });
    try {
      const deadline = Date.now() + 5000;
      // (until the sleep has exec'd with its capabilities)
      while (Date.now() < deadline && !readFileSync(`/proc/${agent.pid}/status`, 'utf8').match(/^Name:\s+sleep$/m)) spawnSync('sleep', ['0.02']);
      const r = spawnSync(keepalivedCaps[0], [...keepalivedCaps.slice(1), 'cat', `/proc/${agent.pid}/environ`], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
      agent.kill('SIGKILL');
    }
  };

  e2e('with the sidecar\'s capabilities (KILL) the read is refused; with none at all (the control) it succeeds', () => {
    const pod = cluster().daemonSet.spec.template.spec;
    const sidecar = [...pod.initContainers, ...pod.containers].find((c: any) => c.name === 'agent');
    const keepalived = pod.containers.find((c: any) => c.name === 'keepalived');
    expect(sidecar.securityContext).toMatchObject({ runAsUser: 0, capabilities: { drop: ['ALL'], add: ['KILL'] } });
    expect(keepalived.securityContext.runAsUser).toBe(0);
    // GIVEN keepalived's capabilities (NET_ADMIN, NET_RAW) and the sidecar's, from the synthesized pod
    const refused = readAcross(setprivFor(sidecar.securityContext), setprivFor(keepalived.securityContext));
    expect(refused.stdout).not.toContain('hunter2');
    expect(refused.stderr).toMatch(/Permission denied/);
    // ... the control: a sidecar with no capability at all is a subset of keepalived's, and readable
    const readable = readAcross(setprivFor({ capabilities: { drop: ['ALL'] } }), setprivFor(keepalived.securityContext));
    expect(readable.stdout).toContain('AGENT_SECRET=hunter2');
  });
});
