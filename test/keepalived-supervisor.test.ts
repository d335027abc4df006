import { spawn, spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FrontendVips, Target } from '../src';
import { SUPERVISOR_NAME, SUPERVISOR_SCRIPT, supervisedKeepalivedCommand } from '../src/core/keepalived-supervisor';
import { newChart, synth } from './support/synth';

/*
 * The keepalived container's supervisor (issue 11 item 5), run here with `sh` and a fake `ip` that logs
 * its calls, so that what it does is checked without root. test/netns-faults.test.ts (scenario 8) proves
 * it with real keepalived: after a kill -9 the addresses leave the node, and the other nodes hold them alone.
 */
const CONF = `global_defs {
    router_id node-a
}

vrrp_instance edge_front {
    state BACKUP
    interface eth0
    virtual_router_id 10
    priority 250
    advert_int 0.2
    version 3
    unicast_peer {
        198.51.100.12
    }
    virtual_ipaddress {
        198.51.100.100/32 dev eth0
        203.0.113.100/32 dev ens7
    }
}

vrrp_instance edge_v6 {
    state BACKUP
    interface eth0
    virtual_router_id 11
    priority 250
    advert_int 0.2
    version 3
    virtual_ipaddress {
        2001:db8:1::100/64 dev eth0
    }
}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kc-supervisor-'));
  writeFileSync(join(dir, 'keepalived.conf'), CONF);
  // A fake `ip`: logs its arguments; `addr del` succeeds only for addresses listed in held.txt.
  writeFileSync(join(dir, 'ip'), `#!/bin/sh
echo "$*" >> "${dir}/ip.log"
[ "$1 $2" = "addr del" ] && grep -qx "$3 $5" "${dir}/held.txt" 2>/dev/null
`);
  chmodSync(join(dir, 'ip'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ ...process.env, PATH: `${dir}:${process.env.PATH}` });
const ipCalls = () => readFileSync(join(dir, 'ip.log'), 'utf8').trim().split('\n');
const DELETES = ['addr del 198.51.100.100/32 dev eth0', 'addr del 203.0.113.100/32 dev ens7', 'addr del 2001:db8:1::100/64 dev eth0'];

describe('keepalived supervisor', () => {
  const keepalivedOf = (images?: object) => {
    const { chart } = newChart();
    new FrontendVips(chart, 'front', { name: 'front', nodeSelector: { edge: '' }, addresses: ['198.51.100.100/32'], target: Target.standalone({ images }) });
    const objects = synth(chart);
    const ds = objects.find((o: any) => o.kind === 'DaemonSet');
    return { objects, container: ds.spec.template.spec.containers.find((c: any) => c.name === 'keepalived') };
  };

  test('the standalone DaemonSet runs keepalived under the supervisor that the agent ConfigMap ships once, guarding the config keepalived reads', () => {
    const { objects, container } = keepalivedOf();
    const command: string[] = container.command;
    expect(command.slice(0, 3)).toEqual(['/bin/sh', '/opt/keepalived-constructs/keepalived-supervisor.sh', '/etc/keepalived/keepalived.conf']);
    expect(container.volumeMounts).toContainEqual({ name: 'agent', mountPath: '/opt/keepalived-constructs', readOnly: true });
    const agent = objects.find((o: any) => o.data?.['keepalived-agent.js'] !== undefined);
    expect(agent.data['keepalived-supervisor.sh']).toBe(`${SUPERVISOR_SCRIPT}\n`);
    expect(command.slice(3, 5)).toEqual(['keepalived', '--dont-fork']);
    expect(command[command.indexOf('--use-file') + 1]).toBe('/etc/keepalived/keepalived.conf');
    // The capabilities it already had are all it needs.
    expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
  });

  test('with the agent in the image (no agent ConfigMap) the script is inline', () => {
    const { container } = keepalivedOf({ agent: 'registry.example/keepalived-constructs:1', agentInImage: true });
    expect(container.command.slice(0, 5)).toEqual(['/bin/sh', '-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME, '/etc/keepalived/keepalived.conf']);
    expect(container.volumeMounts.map((m: any) => m.name)).not.toContain('agent');
  });

  test('the script survives the kubelet: no $(VAR) expansion and no $$ reduction can touch it', () => {
    expect(SUPERVISOR_SCRIPT).not.toContain('$(');
    expect(SUPERVISOR_SCRIPT).not.toContain('$$');
    expect(spawnSync('sh', ['-n', '-c', SUPERVISOR_SCRIPT]).status).toBe(0);
  });

  test('removes every VIP of the config before keepalived starts and after it exits, and exits with its status', () => {
    writeFileSync(join(dir, 'held.txt'), '198.51.100.100/32 eth0\n');
    const argv = supervisedKeepalivedCommand(join(dir, 'keepalived.conf'), ['sh', '-c', `echo keepalived ran >> "${dir}/ip.log"; exit 137`]);
    const r = spawnSync(argv[0], argv.slice(1), { env: env(), encoding: 'utf8' });
    expect(r.status).toBe(137);
    expect(ipCalls()).toEqual([...DELETES, 'keepalived ran', ...DELETES]);
    // Only the addresses that were there are reported, each time
    expect(r.stdout.trim().split('\n')).toEqual([
      `${SUPERVISOR_NAME}: removed 198.51.100.100/32 from eth0 (left before keepalived started)`,
      `${SUPERVISOR_NAME}: removed 198.51.100.100/32 from eth0 (keepalived exited with status 137)`,
    ]);
    expect(r.stdout).not.toContain('198.51.100.12'); // a unicast peer is not a VIP
  });

  test('removes the pid files that keepalived\'s command line names before it starts, and no other file', () => {
    // Stale files of a killed predecessor in the pod's run volume: one names this very shell (alive),
    // as an unreaped zombie of the old VRRP child would still answer kill(pid, 0).
    const run = join(dir, 'run');
    const files = ['keepalived.pid', 'vrrp.pid', 'checkers.pid', 'other.pid'];
    mkdirSync(run);
    for (const f of files) writeFileSync(join(run, f), `${process.pid}\n`);
    const seen = join(dir, 'seen.txt');
    const argv = supervisedKeepalivedCommand(join(dir, 'keepalived.conf'), [
      'sh', '-c', `ls "${run}" > "${seen}"`, 'keepalived',
      '--pid', join(run, 'keepalived.pid'), `--vrrp_pid=${join(run, 'vrrp.pid')}`, '--checkers_pid', join(run, 'checkers.pid'),
    ]);
    const r = spawnSync(argv[0], argv.slice(1), { env: env(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readFileSync(seen, 'utf8').trim().split('\n')).toEqual(['other.pid']);
  });

  test('forwards SIGTERM and SIGHUP to keepalived, waits for it, then cleans up', async () => {
    // A fake keepalived that logs HUPs and exits 0 on TERM.
    const fake = `trap 'echo hup >> "${dir}/ip.log"' HUP; trap 'echo term >> "${dir}/ip.log"; exit 0' TERM; echo started >> "${dir}/ip.log"; while :; do sleep 0.05; done`;
    const argv = supervisedKeepalivedCommand(join(dir, 'keepalived.conf'), ['sh', '-c', fake]);
    const child = spawn(argv[0], argv.slice(1), { env: env(), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (line: string) => {
      for (let i = 0; i < 400 && !(existsSync(join(dir, 'ip.log')) && readFileSync(join(dir, 'ip.log'), 'utf8').includes(line)); i++) await new Promise((r) => setTimeout(r, 25));
    };
    try {
      await waitFor('started');
      child.kill('SIGHUP');
      await waitFor('hup');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(ipCalls()).toEqual([...DELETES, 'started', 'hup', 'term', ...DELETES]);
    } finally {
      if (child.exitCode === null) spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
