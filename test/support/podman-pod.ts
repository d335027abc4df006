/**
 * Runs the synthesized standalone pod under a real container engine: `podman kube play` (Debian's
 * podman 4.3 with runc) inside a `NetnsLab` node's network namespace, so that the pod's hostNetwork is
 * the node's network.
 *
 * The harness works from the synthesized objects only (the DaemonSet's pod template, generically: its
 * init containers, containers and volumes, and the ConfigMaps they mount). podman 4.3 does not do
 * everything kubelet does; the harness does those steps, the way kubelet does them and nothing more,
 * and records each one (`adaptations`):
 * - a DaemonSet is not a pod: one Pod per node, with `spec.nodeName` (the DaemonSet controller's job);
 * - native sidecars (init containers with `restartPolicy: Always`) become containers (kubelet starts
 *   them before the later init containers and keeps them running; podman starts containers only once
 *   every init container has finished, so an init container that needs a sidecar would not work);
 * - `fieldRef` env (`spec.nodeName`, `status.hostIP`, `status.podIP` on the host network) becomes its value;
 * - `$(VAR)` in command and args is expanded from the container's env (`$$` stays a literal `$`);
 * - an emptyDir becomes a directory the harness makes as kubelet does: mode 0777, a tmpfs of
 *   `sizeLimit` for `medium: Memory`, and with an `fsGroup` owned by that group and set-group-id;
 * - `fsGroup` becomes a supplementary group of every container (podman ignores `fsGroup`);
 * - `restartPolicy: Always` becomes `OnFailure`: podman 4.3 applies it to init containers too, and
 *   restarts one that has finished (kubelet restarts an init container only when it fails);
 * - deleting the pod stops its containers first and its sandbox (the infra container) last, as kubelet
 *   does (`stopStages`): podman 4.3's `pod stop` sends SIGTERM to the infra container at the same time
 *   as to the others, and with `shareProcessNamespace` the infra's process is the PID namespace's init,
 *   whose exit makes the kernel SIGKILL every other process of the pod (keepalived before it has sent
 *   its priority-0 adverts and removed its addresses).
 * Everything else (images, users, capabilities, read-only root, shareProcessNamespace, configMap
 * volumes, resources, restart policy) is podman's.
 */
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { performance } from 'perf_hooks';
import { stringify } from 'yaml';
import { NetnsLab, ofGoneProcess } from './netns';

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The node a pod runs on, as the harness needs it. */
export interface PodNode {
  readonly name: string;
  /** `status.hostIP`. */
  readonly hostIp: string;
}

/** A host directory that stands for an emptyDir, to be made as kubelet makes it. */
export interface EmptyDirPlan {
  readonly volume: string;
  readonly path: string;
  /** `medium: Memory`: a tmpfs of this many bytes. */
  readonly tmpfsBytes?: number;
  /** The pod's fsGroup: the directory's group, with set-group-id. */
  readonly fsGroup?: number;
}

/** A pod for podman, and what the harness did to it. */
export interface AdaptedPod {
  readonly pod: any;
  /** Each step done in kubelet's place, one sentence each. */
  readonly adaptations: string[];
  readonly emptyDirs: EmptyDirPlan[];
  /**
   * The order kubelet stops the pod's containers in when the pod is deleted: each stage's containers
   * at once, the next stage once they have exited; the pod's sandbox (infra container) after all.
   */
  readonly stopStages: string[][];
  /** `terminationGracePeriodSeconds` (kubelet's default 30): the time the whole pod gets to stop. */
  readonly gracePeriodSeconds: number;
}

const QUANTITY = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/;
const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

function bytesOf(quantity: string): number {
  const m = QUANTITY.exec(quantity);
  if (!m) throw new Error(`sizeLimit ${JSON.stringify(quantity)} is not a quantity the harness reads`);
  return Number(m[1]) * UNITS[m[2] ?? ''];
}

/**
 * Turns a DaemonSet's pod template into the Pod kubelet would run on `node`, doing what podman 4.3
 * lacks (see the file's comment). `volumeRoot` holds the emptyDir directories. Pure: nothing is made.
 */
export function adaptDaemonSetPod(daemonSet: any, node: PodNode, podName: string, volumeRoot: string): AdaptedPod {
  const adaptations: string[] = [];
  const template = daemonSet.spec.template;
  const spec = JSON.parse(JSON.stringify(template.spec));
  spec.nodeName = node.name;
  adaptations.push(`DaemonSet ${daemonSet.metadata.name} -> Pod ${podName} with spec.nodeName ${node.name} (the DaemonSet controller's job)`);

  const sidecars = (spec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always');
  if (sidecars.length > 0) {
    spec.initContainers = spec.initContainers.filter((c: any) => c.restartPolicy !== 'Always');
    for (const c of sidecars) delete c.restartPolicy;
    spec.containers = [...sidecars, ...(spec.containers ?? [])];
    adaptations.push(`native sidecar init containers ${sidecars.map((c: any) => c.name).join(', ')} -> containers started with the others (podman 4.3 has no restartPolicy: Always init containers)`);
  }
  if (spec.initContainers?.length === 0) delete spec.initContainers;
  // kubelet stops a deleted pod's containers (the regular ones at once, then the native sidecars in the
  // reverse of their order), and stops the pod's sandbox only when they have exited.
  const sidecarNames = sidecars.map((c: any) => c.name);
  const stopStages = [
    spec.containers.map((c: any) => c.name).filter((name: string) => !sidecarNames.includes(name)),
    ...[...sidecarNames].reverse().map((name: string) => [name]),
  ].filter((stage) => stage.length > 0);
  const gracePeriodSeconds: number = spec.terminationGracePeriodSeconds ?? 30;
  adaptations.push(`pod deletion -> podman stop of ${stopStages.map((stage) => stage.join(' and ')).join(', then of ')} `
    + `(SIGTERM; SIGKILL when the ${gracePeriodSeconds} s grace period is over), then podman pod stop for the infra container: `
    + 'kubelet stops the containers before the pod\'s sandbox, while podman 4.3\'s pod stop '
    + 'signals the infra container with them'
    + (spec.shareProcessNamespace ? ' (with shareProcessNamespace its exit SIGKILLs every process of the pod)' : ''));
  // With hostNetwork a container's ports open nothing (the process binds the node's port itself);
  // kubelet only records them, and podman 4.3 rejects PortMappings without bridge networking.
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (spec.hostNetwork && c.ports !== undefined) {
      adaptations.push(`${c.name}: ports ${c.ports.map((p: any) => `${p.name ?? ''}:${p.containerPort}`).join(', ')} dropped (hostNetwork: the process binds the node's port itself; podman 4.3 rejects PortMappings there)`);
      delete c.ports;
    }
  }
  if (spec.initContainers !== undefined && (spec.restartPolicy ?? 'Always') === 'Always') {
    spec.restartPolicy = 'OnFailure';
    adaptations.push('restartPolicy Always -> OnFailure: podman 4.3 applies the pod\'s policy to init containers too, restarting a finished '
      + 'init container (kubelet restarts one only when it fails); containers are still restarted when they fail, not when they exit 0');
  }

  const fieldValue = (path: string): string | undefined => {
    if (path === 'spec.nodeName') return node.name;
    if (path === 'status.hostIP' || (path === 'status.podIP' && spec.hostNetwork)) return node.hostIp;
    return undefined;
  };
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const env = new Map<string, string>();
    for (const e of container.env ?? []) {
      const path = e.valueFrom?.fieldRef?.fieldPath;
      const value = path === undefined ? undefined : fieldValue(path);
      if (value !== undefined) {
        adaptations.push(`${container.name}: env ${e.name} from fieldRef ${path} -> ${JSON.stringify(value)}`);
        delete e.valueFrom;
        e.value = value;
      }
      if (typeof e.value === 'string') env.set(e.name, expand(e.value, env));
    }
    for (const key of ['command', 'args'] as const) {
      if (!Array.isArray(container[key])) continue;
      container[key] = container[key].map((arg: string) => {
        const expanded = expand(arg, env);
        if (expanded !== arg) adaptations.push(`${container.name}: ${key} ${JSON.stringify(arg)} -> ${JSON.stringify(expanded)} ($(VAR) expansion)`);
        return expanded;
      });
    }
  }

  const fsGroup: number | undefined = spec.securityContext?.fsGroup;
  const emptyDirs: EmptyDirPlan[] = [];
  spec.volumes = (spec.volumes ?? []).map((volume: any) => {
    if (!volume.emptyDir) return volume;
    const plan: EmptyDirPlan = {
      volume: volume.name,
      path: join(volumeRoot, podName, volume.name),
      ...(volume.emptyDir.medium === 'Memory' ? { tmpfsBytes: bytesOf(volume.emptyDir.sizeLimit ?? '64Mi') } : {}),
      ...(fsGroup !== undefined ? { fsGroup } : {}),
    };
    emptyDirs.push(plan);
    adaptations.push(`emptyDir ${volume.name} -> hostPath ${plan.path}, mode ${fsGroup !== undefined ? `2777, group ${fsGroup}` : '0777'}`
      + `${plan.tmpfsBytes !== undefined ? `, a tmpfs of ${plan.tmpfsBytes} bytes` : ''} (podman 4.3 makes emptyDirs 0755 root)`);
    return { name: volume.name, hostPath: { path: plan.path, type: 'Directory' } };
  });
  if (fsGroup !== undefined) {
    spec.securityContext = { ...spec.securityContext, supplementalGroups: [...new Set([...(spec.securityContext.supplementalGroups ?? []), fsGroup])] };
    delete spec.securityContext.fsGroup;
    adaptations.push(`fsGroup ${fsGroup} -> a supplementary group of every container (podman 4.3 ignores fsGroup)`);
  }

  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: daemonSet.metadata.namespace, labels: template.metadata?.labels ?? {} },
    spec,
  };
  return { pod, adaptations, emptyDirs, stopStages, gracePeriodSeconds };
}

/** kubelet's `$(VAR)` expansion: known names expand, `$$` is a literal `$`, anything else stays as written. */
function expand(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => (whole === '$$' ? '$' : env.get(name) ?? whole));
}

/** Why podman tests cannot run here, or undefined. */
export function podmanPrerequisiteMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'they need root (network namespaces, podman)';
  for (const [cmd, ...args] of [['podman', '--version'], ['runc', '--version'], ['nsenter', '--version'], ['debootstrap', '--version'], ['ip', '-V']]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `${cmd} is not installed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  return undefined;
}

/**
 * What every podman command here needs (CONTAINERS_CONF): runc (crun refuses this machine's hybrid
 * cgroups), no default ulimits (runc may not raise them here), logs in files (no journald).
 */
function containersConf(): string {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'keepalived-image');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'containers.conf');
  writeFileSync(file, [
    '[containers]',
    'default_ulimits = []',
    'log_driver = "k8s-file"',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
  ].join('\n') + '\n');
  return file;
}

/**
 * The project's image (image/build.sh --offline), tagged by what it is made of (the build script and
 * the bundled agent), built only when that tag is missing; older tags of this kind are removed.
 */
export function projectImage(): string {
  const hash = createHash('sha256');
  for (const f of ['image/build.sh', 'lib/agent/keepalived-agent.js']) hash.update(readFileSync(join(REPO_ROOT, f)));
  const tag = `localhost/keepalived-constructs:test-${hash.digest('hex').slice(0, 12)}`;
  const env = { ...process.env, CONTAINERS_CONF: containersConf() };
  if (spawnSync('podman', ['image', 'exists', tag], { env }).status !== 0) {
    const r = spawnSync('bash', [join(REPO_ROOT, 'image', 'build.sh'), '--offline', '--tag', tag], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`image/build.sh --offline failed (${r.status}):\n${r.stderr}${r.stdout}`);
    const old = spawnSync('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', 'localhost/keepalived-constructs'], { encoding: 'utf8', env });
    for (const image of `${old.stdout}`.split('\n').filter((i) => /:test-[0-9a-f]{12}$/.test(i) && i !== tag)) spawnSync('podman', ['rmi', image], { env });
  }
  return tag;
}

/** A container's state from `podman inspect`. */
export interface ContainerState {
  readonly pid: number;
  readonly running: boolean;
  readonly exitCode: number;
  readonly restartCount: number;
}

/** A pod played on a lab node. */
export interface PlayedPod {
  readonly node: string;
  readonly name: string;
  readonly adapted: AdaptedPod;
  /** podman's output of `kube play`. */
  readonly output: string;
}

/**
 * Pods played with podman in a lab's nodes. Every pod, emptyDir tmpfs and configMap volume it made
 * is removed by `cleanup` (call it before the lab's own cleanup, which kills what runs in the nodes).
 */
export class PodmanPods {
  public readonly pods = new Map<string, PlayedPod>();
  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly mounts: string[] = [];
  private readonly volumes = new Set<string>();

  constructor(private readonly lab: NetnsLab) {
    this.dir = join(lab.dir, 'podman');
    mkdirSync(this.dir, { recursive: true });
    this.env = { ...process.env, CONTAINERS_CONF: containersConf() };
  }

  /** Runs podman in a node's network namespace (nsenter: `ip netns exec` would remount /sys and hide the cgroups). */
  public podman(node: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('nsenter', [`--net=/run/netns/${this.lab.node(node).netns}`, 'podman', ...args], { encoding: 'utf8', env: this.env });
    return { status: r.status, stdout: `${r.stdout ?? ''}`, stderr: `${r.stderr ?? r.error?.message ?? ''}` };
  }

  /** The pod name on a node: unique to this lab. */
  public podName(daemonSet: any, node: string): string {
    return `${this.lab.prefix}-${daemonSet.metadata.name}-${node}`;
  }

  /**
   * Plays the DaemonSet's pod on each node at once (adapted by `adaptDaemonSetPod`), with the ConfigMaps
   * it mounts; resolves once every `kube play` has returned (init containers done, containers started).
   */
  public async play(objects: readonly any[], nodes: readonly string[]): Promise<PlayedPod[]> {
    const daemonSet = objects.find((o) => o.kind === 'DaemonSet');
    if (!daemonSet) throw new Error('no DaemonSet among the synthesized objects');
    // Every play settles before any failure is thrown, so that `cleanup` finds every pod.
    const results = await Promise.allSettled(nodes.map((node) => this.playOne(objects, daemonSet, node)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<PlayedPod>).value);
  }

  private async playOne(objects: readonly any[], daemonSet: any, node: string): Promise<PlayedPod> {
    const name = this.podName(daemonSet, node);
    const adapted = adaptDaemonSetPod(daemonSet, { name: node, hostIp: this.lab.node(node).hostIp }, name, join(this.dir, 'volumes'));
    for (const plan of adapted.emptyDirs) this.makeEmptyDir(plan);
    const configMaps = adapted.pod.spec.volumes.filter((v: any) => v.configMap).map((v: any) => {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap.name);
      if (!cm) throw new Error(`volume ${v.name} mounts ConfigMap ${v.configMap.name}, which is not among the synthesized objects`);
      this.volumes.add(cm.metadata.name);
      return cm;
    });
    const unsupported = adapted.pod.spec.volumes.filter((v: any) => !v.configMap && !v.hostPath);
    if (unsupported.length > 0) throw new Error(`volumes the harness does not supply: ${JSON.stringify(unsupported)}`);
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, [...configMaps, adapted.pod].map((o) => stringify(o)).join('---\n'));
    this.pods.set(node, { node, name, adapted, output: '' });
    const r = await this.podmanAsync(node, ['kube', 'play', file]);
    const played: PlayedPod = { node, name, adapted, output: r.stdout + r.stderr };
    this.pods.set(node, played);
    if (r.status !== 0) throw new Error(`podman kube play ${file} failed on ${node} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    return played;
  }

  /** `podman` in a node, without blocking the event loop (several pods start at once). */
  public podmanAsync(node: string, args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn('nsenter', [`--net=/run/netns/${this.lab.node(node).netns}`, 'podman', ...args], { env: this.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', (e) => done({ status: null, stdout, stderr: stderr + e.message }));
      child.on('close', (status) => done({ status, stdout, stderr }));
    });
  }

  /** The container `name` of the pod on `node`, as podman names it. */
  public containerName(node: string, container: string): string {
    return `${this.pod(node).name}-${container}`;
  }

  /** A container's state. */
  public inspect(node: string, container: string): ContainerState {
    const r = this.podman(node, ['inspect', '--type', 'container', this.containerName(node, container)]);
    if (r.status !== 0) throw new Error(`podman inspect ${this.containerName(node, container)}: ${r.stderr}`);
    const [info] = JSON.parse(r.stdout);
    return { pid: info.State.Pid, running: info.State.Running, exitCode: info.State.ExitCode, restartCount: info.RestartCount ?? 0 };
  }

  /** A container's log (every run of it: the k8s-file log is kept across restarts). */
  public logs(node: string, container: string): string {
    const r = this.podman(node, ['logs', this.containerName(node, container)]);
    return r.stdout + r.stderr;
  }

  /** The host directory that a path in a container is on (an emptyDir that the harness made). */
  public hostPath(node: string, container: string, path: string): string {
    const played = this.pod(node);
    const spec = [...(played.adapted.pod.spec.initContainers ?? []), ...played.adapted.pod.spec.containers].find((c: any) => c.name === container);
    const mount = [...(spec?.volumeMounts ?? [])].sort((a: any, b: any) => b.mountPath.length - a.mountPath.length)
      .find((m: any) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
    const dir = played.adapted.emptyDirs.find((d) => d.volume === mount?.name);
    if (!mount || !dir) throw new Error(`${path} is on no emptyDir of container ${container}`);
    return dir.path + path.slice(mount.mountPath.length);
  }

  /**
   * Deletes the pod on `node` as kubelet does (`stopStages`): `podman stop` of each stage's containers
   * (SIGTERM, SIGKILL once the pod's grace period is over), then `podman pod stop` for the infra
   * container. Returns performance.now() just before the first stage's podman starts.
   */
  public stopPod(node: string): { at: number; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
    const { adapted, name } = this.pod(node);
    const at = performance.now();
    const done = (async () => {
      const outputs: string[] = [];
      for (const stage of adapted.stopStages) {
        // the stages share the pod's grace period; kubelet gives a later stage at least 2 s
        const left = Math.max(2, Math.ceil(adapted.gracePeriodSeconds - (performance.now() - at) / 1000));
        const r = await this.podmanAsync(node, ['stop', '--time', String(left), ...stage.map((c) => this.containerName(node, c))]);
        outputs.push(r.stdout + r.stderr);
        if (r.status !== 0) return { ...r, stdout: outputs.join('') };
      }
      const r = await this.podmanAsync(node, ['pod', 'stop', '--time', '2', name]);
      return { ...r, stdout: outputs.join('') + r.stdout };
    })();
    return { at, done };
  }

  /** The lab state plus each pod's container states and logs, for failure messages. */
  public report(): string {
    const lines = [];
    for (const played of this.pods.values()) {
      lines.push(`--- pod ${played.name} on ${played.node} ---`, played.output.trim());
      const ps = this.podman(played.node, ['ps', '-a', '--pod', '--filter', `pod=${played.name}`, '--format', '{{.Names}} {{.Status}}']);
      lines.push(ps.stdout.trim());
      for (const c of [...(played.adapted.pod.spec.initContainers ?? []), ...played.adapted.pod.spec.containers]) {
        lines.push(`--- ${played.node} ${c.name} log ---`, this.logs(played.node, c.name).trimEnd().split('\n').slice(-30).join('\n'));
      }
    }
    return lines.join('\n');
  }

  /** Removes every pod (and its containers), the configMap volumes podman made, the tmpfs mounts and directories. */
  public cleanup(): void {
    for (const played of this.pods.values()) this.podman(played.node, ['pod', 'rm', '--force', '--time', '0', played.name]);
    for (const volume of this.volumes) spawnSync('podman', ['volume', 'rm', '--force', volume], { env: this.env });
    for (const mount of this.mounts.reverse()) spawnSync('umount', [mount]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pod(node: string): PlayedPod {
    const played = this.pods.get(node);
    if (!played) throw new Error(`no pod played on ${node}`);
    return played;
  }

  private makeEmptyDir(plan: EmptyDirPlan): void {
    mkdirSync(plan.path, { recursive: true });
    if (plan.tmpfsBytes !== undefined) {
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${plan.tmpfsBytes},mode=0777`, 'tmpfs', plan.path], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mount tmpfs on ${plan.path}: ${r.stderr}`);
      this.mounts.push(plan.path);
    }
    if (plan.fsGroup !== undefined) chownSync(plan.path, 0, plan.fsGroup);
    chmodSync(plan.path, plan.fsGroup !== undefined ? 0o2777 : 0o777);
    if (!existsSync(plan.path)) throw new Error(`cannot make ${plan.path}`);
  }
}


/**
 * Removes what an earlier run of these tests left when it was killed: podman pods named `kct-<pid>-...`
 * and emptyDir tmpfs mounts under `kct-<pid>-...` lab directories, of processes that are gone.
 */
export function removeStalePods(): string[] {
  const env = { ...process.env, CONTAINERS_CONF: containersConf() };
  const r = spawnSync('podman', ['pod', 'ps', '--format', '{{.Name}}'], { encoding: 'utf8', env });
  const stale = `${r.stdout ?? ''}`.split('\n').filter((name) => name.startsWith('kct-') && ofGoneProcess(name));
  for (const pod of stale) spawnSync('podman', ['pod', 'rm', '--force', '--time', '0', pod], { env });
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1])
    .filter((m): m is string => m !== undefined && m.includes('/podman/volumes/') && ofGoneProcess(m));
  for (const mount of mounts) spawnSync('umount', [mount]);
  return [...stale, ...mounts];
}
