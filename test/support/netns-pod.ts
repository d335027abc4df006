/**
 * Runs the standalone target's DaemonSet pod on a `NetnsLab` node, from the synthesized objects and
 * nothing else: the ConfigMap's `spec.json` and `keepalived-agent.js` (the exact bundled agent), the
 * Secret, the init container's command (the agent's `render`) and the keepalived container's command,
 * each under the capabilities and user of its securityContext (via setpriv).
 *
 * A pod's volumes become directories under the lab's directory, and paths in the commands are mapped
 * from each container's mountPaths onto them; `$(NODE_NAME)` and `$(HOST_IP)` are expanded from the
 * containers' fieldRef env as the kubelet does. What is not emulated: the image (the host's node and
 * keepalived run), the read-only root file system and hostNetwork itself (the node's namespace is
 * the "host" network). Which keepalived runs is the pod's choice of version (`KeepalivedBinary`):
 * the container's `keepalived` command becomes that version's binary.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DEBIAN_KEEPALIVED_VERSION, KeepalivedBinary } from './keepalived-versions';
import { LabProcess, NetnsLab } from './netns';

/** The objects of one standalone cluster, from a synthesized chart. */
export interface StandaloneObjects {
  /** The cluster's ConfigMap (spec.json). */
  readonly configMap: any;
  /** Every ConfigMap the pod may mount (the cluster's and the namespace's agent ConfigMap). */
  readonly configMaps: readonly any[];
  readonly daemonSet: any;
  readonly secret?: any;
}

/** Picks the standalone objects out of synthesized output (exactly one cluster ConfigMap and DaemonSet). */
export function standaloneObjects(objects: readonly any[]): StandaloneObjects {
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const configMaps = of('ConfigMap');
  const [configMap, ...moreMaps] = configMaps.filter((cm) => cm.data?.['spec.json'] !== undefined);
  const [daemonSet, ...moreSets] = of('DaemonSet');
  if (!configMap || !daemonSet || moreMaps.length > 0 || moreSets.length > 0) {
    throw new Error(`expected one cluster ConfigMap and one DaemonSet, got ${objects.map((o) => o.kind).join(', ')}`);
  }
  const secrets = of('Secret');
  return { configMap, configMaps, daemonSet, secret: secrets[0] };
}

/** One `vrrp_instance` of a rendered keepalived.conf, as far as the tests look at it. */
export interface RenderedInstance {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly priority: number;
  readonly advertInt: number;
  readonly version: number;
  readonly nopreempt: boolean;
  readonly unicastSource?: string;
  readonly unicastPeers: readonly string[];
  readonly hasAuth: boolean;
  /** `address/prefix` and the interface it goes on, without the virtual router's link-local address. */
  readonly addresses: readonly { readonly address: string; readonly dev: string }[];
  /** IPv6: the virtual router's link-local address (`fe80::/64`), with its interface. */
  readonly linkLocal?: { readonly address: string; readonly dev: string };
}

/** Reads the `vrrp_instance` blocks of a config the agent rendered (its own regular format). */
export function parseRenderedConfig(text: string): RenderedInstance[] {
  const instances: RenderedInstance[] = [];
  for (const m of text.matchAll(/^vrrp_instance (\S+) \{\n([\s\S]*?)^\}/gm)) {
    const body = m[2];
    const word = (key: string) => new RegExp(`^\\s*${key} (\\S+)$`, 'm').exec(body)?.[1];
    const block = (key: string) => new RegExp(`^\\s*${key} \\{\\n([\\s\\S]*?)^\\s*\\}`, 'm').exec(body)?.[1] ?? '';
    const lines = (b: string) => b.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    const vips = lines(block('virtual_ipaddress')).map((l) => {
      const [address, , dev] = l.split(/\s+/);
      return { address, dev };
    });
    const linkLocal = vips.find((v) => v.address.toLowerCase().startsWith('fe80:'));
    instances.push({
      name: m[1],
      interface: word('interface')!,
      vrid: Number(word('virtual_router_id')),
      priority: Number(word('priority')),
      advertInt: Number(word('advert_int')),
      version: Number(word('version')),
      nopreempt: /^\s*nopreempt$/m.test(body),
      unicastSource: word('unicast_src_ip'),
      unicastPeers: lines(block('unicast_peer')),
      hasAuth: /^\s*authentication \{/m.test(body),
      addresses: vips.filter((v) => v !== linkLocal),
      ...(linkLocal ? { linkLocal } : {}),
    });
  }
  return instances;
}

/** Linux capability numbers of the capabilities the manifests may name. */
const CAPABILITY_BITS: Record<string, number> = {
  CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, KILL: 5, SETGID: 6, SETUID: 7, NET_BIND_SERVICE: 10,
  NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, SYS_ADMIN: 21,
};

/** The capability mask (as in /proc/PID/status) of a list of capability names. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITY_BITS[name];
    if (bit === undefined) throw new Error(`unknown capability ${name}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** A process's CapEff, CapBnd and NoNewPrivs from /proc. */
export function processCapabilities(pid: number): { effective: bigint; bounding: bigint; noNewPrivs: boolean } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => /^(\S+):\s+(\S+)/m.exec(status.split('\n').find((l) => l.startsWith(`${name}:`)) ?? '')?.[2];
  return {
    effective: BigInt(`0x${field('CapEff')}`),
    bounding: BigInt(`0x${field('CapBnd')}`),
    noNewPrivs: field('NoNewPrivs') === '1',
  };
}

/**
 * The setpriv prefix that gives a command a container's securityContext within its pod's: its user and
 * group, the pod's fsGroup and supplementalGroups as supplementary groups, only the added capabilities
 * (the harness supports `drop: [ALL]` only, as the manifests use), and no_new_privs for
 * `allowPrivilegeEscalation: false`.
 */
export function setprivFor(sc: any, podSc: any = {}): string[] {
  if (sc?.privileged) throw new Error('privileged containers are not emulated');
  const drop: string[] = sc?.capabilities?.drop ?? [];
  const add: string[] = sc?.capabilities?.add ?? [];
  if (!drop.includes('ALL')) throw new Error(`securityContext must drop ALL capabilities, has drop ${JSON.stringify(drop)}`);
  const args = ['setpriv'];
  const uid: number = sc?.runAsUser ?? podSc?.runAsUser ?? 0;
  const gid: number | undefined = sc?.runAsGroup ?? podSc?.runAsGroup ?? (uid !== 0 ? uid : undefined);
  // A non-root container gets no effective capabilities from `add` (no ambient ones).
  if (uid !== 0 && add.length > 0) throw new Error('capabilities for a non-root container are not emulated');
  if (uid !== 0) args.push(`--reuid=${uid}`);
  if (gid !== undefined) args.push(`--regid=${gid}`);
  const groups = [...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc?.supplementalGroups ?? [])];
  args.push(groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups');
  const caps = ['-all', ...add.map((c) => `+${c.toLowerCase()}`)].join(',');
  args.push(`--bounding-set=${caps}`, `--inh-caps=${caps}`);
  if (sc?.allowPrivilegeEscalation === false) args.push('--no-new-privs');
  args.push('--');
  return args;
}

/** The DaemonSet pod on one node: its volumes, the agent's render, keepalived. */
export class DaemonSetPod {
  private static count = 0;

  /** The pod's directory: a subdirectory per volume. */
  public readonly dir: string;
  /** The init containers' stdout (the agent's summary). */
  public readonly initOutput: string[] = [];
  /** keepalived, once `start`ed. */
  public keepalived?: LabProcess;
  /** The rendered keepalived.conf (after `init`). */
  public config = '';
  /** Its vrrp_instances. */
  public instances: RenderedInstance[] = [];

  private readonly podSpec: any;
  private readonly volumeDirs = new Map<string, string>();

  constructor(
    private readonly lab: NetnsLab,
    public readonly node: string,
    private readonly objects: StandaloneObjects,
    /** The keepalived that stands for the image's: by default the one on PATH (Debian's). */
    public readonly keepalivedBinary: KeepalivedBinary = { version: DEBIAN_KEEPALIVED_VERSION, binary: 'keepalived' },
  ) {
    this.podSpec = objects.daemonSet.spec.template.spec;
    this.dir = join(lab.dir, `${node}-pod-${++DaemonSetPod.count}`);
    mkdirSync(this.dir, { mode: 0o755 });
    chmodSync(lab.dir, 0o755);
  }

  /**
   * Makes the volumes and runs the init containers (the agent renders keepalived.conf), then checks
   * the rendered config with `keepalived -t` in the node. Throws with the output on any failure.
   */
  public init(): void {
    this.makeVolumes();
    for (const container of (this.podSpec.initContainers ?? []).filter((c: any) => c.restartPolicy !== 'Always')) {
      const argv = [...setprivFor(container.securityContext, this.podSpec.securityContext), ...this.commandOf(container)];
      const r = this.lab.tryExec(this.node, argv);
      if (r.status !== 0) {
        throw new Error(`init container ${container.name} failed on ${this.node} (exit ${r.status}): ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
      }
      this.initOutput.push(r.stdout.trim());
    }
    const main = this.mainContainer();
    const command = this.commandOf(main);
    const configFile = command[command.indexOf('--use-file') + 1];
    if (!command.includes('--use-file') || !configFile) throw new Error(`keepalived's command names no --use-file: ${command.join(' ')}`);
    this.config = readFileSync(configFile, 'utf8');
    this.instances = parseRenderedConfig(this.config);
    expectConfigAccepted(this.lab, this.node, configFile, join(this.dir, 'config-test'), this.keepalivedBinary.binary);
    // keepalived reads the file as its container's user, with its capabilities only (no DAC_OVERRIDE):
    // say so plainly rather than let keepalived exit with "Unable to read configuration file".
    const read = this.lab.tryExec(this.node, [...setprivFor(main.securityContext, this.podSpec.securityContext), 'cat', configFile]);
    if (read.status !== 0) {
      const st = statSync(configFile);
      throw new Error(`the keepalived container cannot read the config its init container rendered on ${this.node}: ${read.stderr.trim()} `
        + `(file owner ${st.uid}:${st.gid}, mode ${(st.mode & 0o7777).toString(8)}; keepalived runs as ${JSON.stringify(main.securityContext)}`
        + `${this.podSpec.securityContext ? ` in pod ${JSON.stringify(this.podSpec.securityContext)}` : ''})`);
    }
  }

  /** When keepalived was started (performance.now()). */
  public get startedAt(): number {
    if (!this.keepalived) throw new Error(`the pod on ${this.node} has not started keepalived`);
    return this.keepalived.startedAt;
  }

  /** SIGTERMs keepalived (pod deletion) and waits until it has exited. */
  public async stop(): Promise<void> {
    if (!this.keepalived || this.keepalived.exit !== undefined) return;
    this.lab.kill(this.node, 'graceful');
    await this.keepalived.exited;
  }

  /**
   * The sidecars: native ones (init containers with `restartPolicy: Always`) and classic ones (other
   * containers than keepalived). Like the kubelet, the harness starts them before keepalived.
   */
  public sidecars(): any[] {
    return [
      ...(this.podSpec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always'),
      ...(this.podSpec.containers ?? []).filter((c: any) => c.name !== 'keepalived'),
    ];
  }

  /** The running sidecar processes, by container name. */
  public readonly sidecarProcesses = new Map<string, LabProcess>();

  /** Starts the sidecars, then the keepalived container's command, each under its securityContext. */
  public start(): LabProcess {
    for (const sidecar of this.sidecars()) {
      const running = this.sidecarProcesses.get(sidecar.name);
      if (running !== undefined && running.exit === undefined) continue;
      const argv = [...setprivFor(sidecar.securityContext, this.podSpec.securityContext), ...this.commandOf(sidecar)];
      this.sidecarProcesses.set(sidecar.name, this.lab.startKeepalived(this.node, argv, `${sidecar.name}-${this.dir.split('-pod-')[1]}`));
    }
    const main = this.mainContainer();
    this.keepalived = this.lab.startKeepalived(this.node, [...setprivFor(main.securityContext, this.podSpec.securityContext), ...this.commandOf(main)], `keepalived-${this.dir.split('-pod-')[1]}`);
    return this.keepalived;
  }

  /** The keepalived container. */
  public mainContainer(): any {
    const main = (this.podSpec.containers ?? []).find((c: any) => c.name === 'keepalived');
    if (!main) throw new Error('the DaemonSet has no keepalived container');
    return main;
  }

  /** A container's command and args with env references expanded and mount paths mapped to the pod's directories. */
  public commandOf(container: any): string[] {
    const env = new Map<string, string>();
    for (const e of container.env ?? []) {
      if (e.value !== undefined) {
        env.set(e.name, e.value);
      } else if (e.valueFrom?.fieldRef) {
        const field = e.valueFrom.fieldRef.fieldPath;
        const value = field === 'spec.nodeName' ? this.node
          : field === 'status.hostIP' || field === 'status.podIP' ? this.lab.node(this.node).hostIp
            : undefined;
        if (value === undefined) throw new Error(`fieldRef ${field} is not emulated`);
        env.set(e.name, value);
      }
    }
    const mounts: { path: string; dir: string }[] = (container.volumeMounts ?? []).map((m: any) => {
      const dir = this.volumeDirs.get(m.name);
      if (!dir) throw new Error(`container ${container.name} mounts unknown volume ${m.name}`);
      return { path: m.mountPath, dir };
    }).sort((a: { path: string }, b: { path: string }) => b.path.length - a.path.length);
    const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])];
    const mapped = argv.map((arg: string) => {
      // $(VAR) from env, $$(VAR) stays literal, unknown references stay as written (kubelet semantics).
      const expanded = arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => (whole === '$$' ? '$' : env.get(name) ?? whole));
      const mount = mounts.find((m) => expanded === m.path || expanded.startsWith(`${m.path}/`));
      return mount ? mount.dir + expanded.slice(mount.path.length) : expanded;
    });
    // The version's binary replaces `keepalived` after the mount mapping: its own path is on the host,
    // and may well lie under a container's mount path (such as /tmp). It is the command itself, or the
    // program the keepalived container's supervisor shell runs (keepalived-supervisor.ts).
    const program = argv.indexOf('keepalived');
    if (program >= 0) mapped[program] = this.keepalivedBinary.binary;
    return mapped;
  }

  private makeVolumes(): void {
    for (const volume of this.podSpec.volumes ?? []) {
      const dir = join(this.dir, 'volumes', volume.name);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(join(this.dir, 'volumes'), 0o755);
      if (volume.configMap) {
        const cm = this.objects.configMaps.find((c) => c.metadata.name === volume.configMap.name);
        if (!cm) {
          throw new Error(`volume ${volume.name} mounts ConfigMap ${volume.configMap.name}, which the synthesized objects do not have`);
        }
        for (const [key, value] of Object.entries<string>(cm.data ?? {})) writeFileSync(join(dir, key), value, { mode: 0o644 });
      } else if (volume.secret) {
        const secret = this.objects.secret;
        if (!secret || secret.metadata.name !== volume.secret.secretName) {
          throw new Error(`volume ${volume.name} mounts Secret ${volume.secret.secretName}, which the synthesized objects do not have`);
        }
        const data = new Map<string, string>(Object.entries<string>(secret.stringData ?? {}));
        for (const [k, v] of Object.entries<string>(secret.data ?? {})) data.set(k, Buffer.from(v, 'base64').toString('utf8'));
        const items: { key: string; path: string }[] = volume.secret.items ?? [...data.keys()].map((key) => ({ key, path: key }));
        for (const item of items) {
          if (!data.has(item.key)) throw new Error(`Secret ${secret.metadata.name} has no key ${item.key}`);
          const file = join(dir, item.path);
          writeFileSync(file, data.get(item.key)!, { mode: volume.secret.defaultMode ?? 0o644 });
          // As the kubelet does: owned by root, and by the pod's fsGroup (if any) as group.
          chownSync(file, 0, this.podSpec.securityContext?.fsGroup ?? 0);
        }
      } else if (volume.emptyDir) {
        // The kubelet makes an emptyDir 0777; with an fsGroup it belongs to that group, set-group-id.
        const fsGroup = this.podSpec.securityContext?.fsGroup;
        if (fsGroup !== undefined) chownSync(dir, 0, fsGroup);
        chmodSync(dir, fsGroup !== undefined ? 0o2777 : 0o777);
      } else {
        throw new Error(`volume ${volume.name} of an unemulated kind: ${JSON.stringify(volume)}`);
      }
      this.volumeDirs.set(volume.name, dir);
    }
  }
}

let checked = 0;

/** How many configs `expectConfigAccepted` has checked in this process. */
export function configsChecked(): number {
  return checked;
}

/**
 * Checks a config with `keepalived -t` inside a node: it needs the node's interfaces, and it exits
 * non-zero (or complains on stderr) on any error or warning. Throws with keepalived's output and the config.
 */
export function expectConfigAccepted(lab: NetnsLab, node: string, configFile: string, scratch: string, keepalived = 'keepalived'): void {
  checked++;
  // -l: keepalived 2.0.20 reports config errors only to syslog without it.
  const r = lab.tryExec(node, [keepalived, '-t', '-l', '-f', configFile,
    '-p', `${scratch}.pid`, '-r', `${scratch}.vrrp.pid`, '-c', `${scratch}.checkers.pid`]);
  if (r.status !== 0 || r.stderr.trim() !== '') {
    throw new Error(`keepalived -t rejects the config rendered on ${node} (exit ${r.status}):\n${r.stderr}${r.stdout}\n--- ${configFile} ---\n${readFileSync(configFile, 'utf8')}`);
  }
}

/** Runs the pod on each node: every init first (render, keepalived -t), then every keepalived, close together. */
export function startPods(lab: NetnsLab, nodes: readonly string[], objects: StandaloneObjects, keepalived?: KeepalivedBinary): Map<string, DaemonSetPod> {
  const pods = new Map(nodes.map((node) => [node, new DaemonSetPod(lab, node, objects, keepalived)]));
  for (const pod of pods.values()) pod.init();
  for (const pod of pods.values()) pod.start();
  return pods;
}
