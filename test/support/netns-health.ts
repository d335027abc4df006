/**
 * Health checks end to end on a `NetnsLab` node: the synthesized standalone objects' spec.json and
 * bundled agent, run as the pod runs them, plus the service the checks probe.
 *
 * Per node: a pod directory with the volumes as directories (`etc` for keepalived.conf, `run` for
 * keepalived's pid files, `track` for the track files: each made like a kubelet emptyDir with the
 * pod's fsGroup, root:fsGroup mode 2777); the agent's `render` and `run --track-dir` under the agent
 * container's securityContext (via setpriv: nobody, no capabilities, no_new_privs), and keepalived
 * under the keepalived container's (root with NET_ADMIN and NET_RAW only). The service is a small
 * HTTP server on the node's 127.0.0.1 that can be stopped, started, or made to flap.
 *
 * Until the DaemonSet itself carries the `run` sidecar and the track-file volume (the lead's refactor),
 * the agent's container is taken to be the render init container's (same image, user and mounts), and
 * keepalived's command is its container's with the paths mapped here. No jest globals: the benchmark
 * uses it too.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { LabProcess, NetnsLab } from './netns';
import { expectConfigAccepted, setprivFor, StandaloneObjects } from './netns-pod';

/** A small HTTP service: `serve` answers 200 on every path; `flap` alternates listening and closed every PERIOD ms. */
const SERVICE_JS = `
const http = require('http');
const [host, port, mode, period] = process.argv.slice(2);
const server = http.createServer((req, res) => res.writeHead(200, { connection: 'close' }).end('ok'));
let up = false;
const log = (s) => process.stdout.write(Date.now() + ' ' + s + '\\n');
function start() { server.listen(Number(port), host, () => { up = true; log('up'); }); }
function stop() { up = false; server.close(); server.closeAllConnections(); log('down'); }
start();
if (mode === 'flap') setInterval(() => (up ? stop() : start()), Number(period));
process.on('SIGTERM', () => process.exit(0));
`;

/** The pod and the service on one node. */
export class HealthPod {
  public readonly dir: string;
  public readonly conf: string;
  public readonly trackDir: string;
  public agent?: LabProcess;
  public keepalived?: LabProcess;
  public service?: LabProcess;
  /** Whether the service was last started (not stopped): set at once, unlike the process's exit. */
  public serviceRunning = false;
  private readonly podSpec: any;
  private readonly agentFile: string;
  private readonly specFile: string;

  constructor(private readonly lab: NetnsLab, public readonly node: string, objects: StandaloneObjects, private readonly servicePort: number) {
    this.podSpec = objects.daemonSet.spec.template.spec;
    this.dir = join(lab.dir, `${node}-health-pod`);
    chmodSync(lab.dir, 0o755);
    mkdirSync(this.dir, { mode: 0o755 });
    const fsGroup: number | undefined = this.podSpec.securityContext?.fsGroup;
    for (const volume of ['config', 'agent', 'etc', 'run', 'track']) {
      const d = join(this.dir, volume);
      mkdirSync(d, { mode: 0o755 });
      if (volume === 'config' || volume === 'agent') continue;
      if (fsGroup !== undefined) chownSync(d, 0, fsGroup);
      chmodSync(d, fsGroup !== undefined ? 0o2777 : 0o777);
    }
    // The ConfigMap's files, as its volume shows them.
    this.specFile = join(this.dir, 'config/spec.json');
    this.agentFile = join(this.dir, 'config/keepalived-agent.js');
    writeFileSync(this.specFile, objects.configMap.data['spec.json'], { mode: 0o644 });
    // The agent comes from the namespace's agent ConfigMap.
    const agent = objects.configMaps.find((cm: any) => cm.data?.['keepalived-agent.js'] !== undefined);
    if (!agent) throw new Error('the synthesized objects have no agent ConfigMap');
    writeFileSync(this.agentFile, agent.data['keepalived-agent.js'], { mode: 0o644 });
    // The agent ConfigMap's volume, as the keepalived container mounts it (its supervisor script).
    for (const [key, value] of Object.entries<string>(agent.data)) writeFileSync(join(this.dir, 'agent', key), value, { mode: 0o644 });
    writeFileSync(join(this.dir, 'service.js'), SERVICE_JS, { mode: 0o644 });
    this.conf = join(this.dir, 'etc/keepalived.conf');
    this.trackDir = join(this.dir, 'track');
  }

  /** The container that runs the agent's command: the `render` init container, or the `agent` sidecar for `run`. */
  private agentContainer(command: 'render' | 'run'): any {
    const name = command === 'render' ? 'render' : 'agent';
    const container = [...(this.podSpec.initContainers ?? []), ...this.podSpec.containers].find((c: any) => c.name === name);
    if (!container) throw new Error(`the DaemonSet has no ${name} container`);
    return container;
  }

  private get keepalivedContainer(): any {
    return this.podSpec.containers.find((c: any) => c.name === 'keepalived');
  }

  private agentArgv(command: 'render' | 'run'): string[] {
    return [...setprivFor(this.agentContainer(command).securityContext, this.podSpec.securityContext),
      process.execPath, this.agentFile, command, '--spec', this.specFile, '--node-name', this.node, '--out', this.conf,
      '--track-dir', this.trackDir, ...(command === 'run' ? ['--pid-file', join(this.dir, 'run/keepalived.pid')] : [])];
  }

  /** The init container: renders keepalived.conf, which `keepalived -t` must accept. Returns its output. */
  public render(): string {
    const r = this.lab.tryExec(this.node, this.agentArgv('render'));
    if (r.status !== 0) throw new Error(`render failed on ${this.node} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    expectConfigAccepted(this.lab, this.node, this.conf, join(this.dir, 'run/config-test'));
    return r.stdout;
  }

  /** Starts the agent's `run` and waits until it has written every track file. */
  public async startAgent(): Promise<LabProcess> {
    this.agent = this.lab.startKeepalived(this.node, this.agentArgv('run'), `agent-${Date.now() % 100000}`);
    const checks = JSON.parse(readFileSync(this.specFile, 'utf8')).healthChecks?.length ?? 0;
    const agent = this.agent;
    await this.lab.waitFor(() => (readLog(agent).match(/^keepalived-agent: health check hc\d+: .* starts /gm) ?? []).length >= checks || agent.exit !== undefined,
      10_000, `the agent on ${this.node} to start its ${checks} health checks`);
    if (agent.exit !== undefined) throw new Error(`the agent on ${this.node} exited (${agent.exit}):\n${readLog(agent)}`);
    return agent;
  }

  /**
   * Starts keepalived with its container's command and securityContext, the paths under its mounts
   * (`rendered`, `run`) mapped to this pod's directories.
   */
  public startKeepalived(): LabProcess {
    const main = this.keepalivedContainer;
    const dirs: Record<string, string> = { agent: join(this.dir, 'agent'), rendered: join(this.dir, 'etc'), run: join(this.dir, 'run') };
    const mounts: { path: string; dir: string }[] = (main.volumeMounts ?? []).filter((m: any) => dirs[m.name] !== undefined)
      .map((m: any) => ({ path: m.mountPath, dir: dirs[m.name] }));
    const argv = [...main.command, ...(main.args ?? [])].map((arg: string) => {
      const mount = mounts.find((m) => arg === m.path || arg.startsWith(`${m.path}/`));
      return mount ? mount.dir + arg.slice(mount.path.length) : arg;
    });
    if (!argv.includes(this.conf)) throw new Error(`keepalived's command does not read ${this.conf} once mapped: ${argv.join(' ')}`);
    this.keepalived = this.lab.startKeepalived(this.node, [...setprivFor(main.securityContext, this.podSpec.securityContext), ...argv],
      `keepalived-${Date.now() % 100000}`);
    return this.keepalived;
  }

  /** Starts the service (serving), or makes it flap with the given half-period (`serviceRunning` stays false). */
  public startService(flapMs?: number): LabProcess {
    const argv = [process.execPath, join(this.dir, 'service.js'), '127.0.0.1', String(this.servicePort), ...(flapMs ? ['flap', String(flapMs)] : [])];
    this.service = this.lab.startKeepalived(this.node, argv, `service-${Date.now() % 100000}`);
    this.serviceRunning = flapMs === undefined;
    return this.service;
  }

  /** Waits until the service listens (its log says `up`). */
  public async serviceUp(): Promise<void> {
    const service = this.service!;
    await this.lab.waitFor(() => /up/.test(readLog(service)) || service.exit !== undefined, 5000, `the service on ${this.node}`);
  }

  /** Kills the service (SIGKILL: connections are refused at once); returns performance.now() just before. */
  public stopService(): number {
    const t0 = performance.now();
    if (this.service && this.service.exit === undefined) process.kill(this.service.pid, 'SIGKILL');
    this.serviceRunning = false;
    return t0;
  }

  /** A track file's value (`0`, `1`), or undefined. */
  public track(check = 'hc0'): string | undefined {
    const cluster = JSON.parse(readFileSync(this.specFile, 'utf8')).cluster;
    try {
      return readFileSync(join(this.trackDir, `${cluster}_${check}`), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
}

/** A process's log so far. */
export function readLog(p: LabProcess): string {
  try {
    return readFileSync(p.log, 'utf8');
  } catch {
    return '';
  }
}

/** Starts the pods: every render first, then every agent (which writes the track files), then keepalived and the services. */
export async function startHealthPods(lab: NetnsLab, nodes: readonly string[], objects: StandaloneObjects, servicePort: number): Promise<Map<string, HealthPod>> {
  const pods = new Map(nodes.map((n) => [n, new HealthPod(lab, n, objects, servicePort)]));
  for (const pod of pods.values()) pod.render();
  for (const pod of pods.values()) pod.startService();
  for (const pod of pods.values()) await pod.serviceUp();
  for (const pod of pods.values()) await pod.startAgent();
  for (const pod of pods.values()) pod.startKeepalived();
  return pods;
}
