/**
 * The DaemonSet that runs keepalived on every selected node, with the node agent:
 * - `render` (init container, non-root): resolves interfaces and priorities on the node and writes
 *   keepalived.conf;
 * - `keepalived`: the VRRP daemon, root with NET_ADMIN and NET_RAW only, read-only root;
 * - `agent` (sidecar, with metrics or discovery): serves metrics from keepalived's notify_fifo; in
 *   discovery mode it also follows the API, re-renders and reloads keepalived, and publishes Leases.
 *   It reads keepalived's fifo and signals keepalived, so it runs with keepalived's uid (0) but no
 *   capabilities.
 */
import { hasHealthChecks } from '../health-check';
import { supervisedKeepalivedCommand } from '../keepalived-supervisor';
import { DEFAULT_TRACK_DIR } from '../health-spec';
import { exceedsLimit } from '../quantity';
import { ClusterDefinition } from '../model';
import type { BuildContext } from '../target';
import { definedItems, dropUndefined, ManifestObject } from '../manifest';
import { tolerationManifest } from '../toleration';
import { AGENT_KEY, SUPERVISOR_KEY } from './config-maps';
import { StandaloneNames, selectorLabels, standaloneLabels } from './names';
import { MetricsListenAddress, metricsPortOf, METRICS_PORT_NAME } from '../monitoring/metrics-options';
import { ContainerResources, REQUEST_LIMIT_PAIRS, SidecarMode, sidecarModeOf, StandaloneOptions, UpdateStrategy } from './options';
import { advertIntervalOf, familyOf, vrrpVersionOf } from './agent-spec-of';
import { AuthSecretRef } from './secret';

export const DEFAULT_KEEPALIVED_IMAGE = 'docker.io/osixia/keepalived:2.0.20';
export const DEFAULT_AGENT_IMAGE = 'docker.io/library/node:24-alpine';
export const DEFAULT_PRIORITY_CLASS = 'system-node-critical';

/** Capabilities keepalived needs for VRRP: addresses and routes (NET_ADMIN), raw VRRP sockets (NET_RAW). */
export const KEEPALIVED_CAPABILITIES = ['NET_ADMIN', 'NET_RAW'];

/**
 * The agent sidecar's capabilities: KILL, one keepalived lacks, so that keepalived cannot read the
 * sidecar's /proc (see the sidecar's security context).
 */
export const AGENT_SIDECAR_CAPABILITIES = ['KILL'];

/** The unprivileged user of the agent's containers (nobody). */
export const AGENT_UID = 65534;

/** Where the pod's files live. */
export const POD_PATHS = {
  /** The cluster's ConfigMap (`spec.json`). */
  config: '/etc/keepalived-constructs',
  /** The namespace's agent ConfigMap (`keepalived-agent.js`, `keepalived-supervisor.sh`). */
  agent: '/opt/keepalived-constructs',
  rendered: '/etc/keepalived',
  auth: '/etc/keepalived-auth',
  run: '/run/keepalived',
  state: '/var/lib/keepalived-constructs',
  serviceAccount: '/var/run/secrets/kubernetes.io/serviceaccount',
  /** The health checks' track files (DEFAULT_TRACK_DIR, which the agent assumes without the flag). */
  health: DEFAULT_TRACK_DIR,
} as const;

const NOTIFY_FIFO = `${POD_PATHS.run}/notify.fifo`;

/**
 * keepalived's CPU per advert it sends each second, with headroom: the advert-interval study measured a
 * master's keepalived (both processes) at 0.17 to 0.22 ms of CPU per advert (1.7 to 2.2 ms/s for one
 * group at 0.1 s), and no flap under the 100m limit (bench/RESULTS.md); 0.5 ms leaves more than 2x.
 */
const KEEPALIVED_CPU_MILLIS_PER_ADVERT_PER_SECOND = 0.5;
/** The keepalived container's smallest default CPU limit, in millicores: enough for tens of groups at 0.1 s. */
const KEEPALIVED_MIN_CPU_LIMIT_MILLIS = 100;

const DEFAULT_RESOURCES: Record<'keepalived' | 'render' | 'agent', Required<ContainerResources>> = {
  keepalived: { cpuRequest: '10m', cpuLimit: `${KEEPALIVED_MIN_CPU_LIMIT_MILLIS}m`, memoryRequest: '16Mi', memoryLimit: '64Mi' },
  render: { cpuRequest: '10m', cpuLimit: '200m', memoryRequest: '32Mi', memoryLimit: '128Mi' },
  agent: { cpuRequest: '10m', cpuLimit: '200m', memoryRequest: '48Mi', memoryLimit: '128Mi' },
};

/**
 * The keepalived container's default CPU limit: 100m, or more for a node that may be master of every
 * group and send all their adverts (the rate adds up over the groups, ten a second each at 0.1 s).
 */
export function keepalivedCpuLimit(def: ClusterDefinition, o: StandaloneOptions): string {
  const advertsPerSecond = def.groups.reduce((sum, { group }) =>
    sum + 1 / advertIntervalOf(o, group, vrrpVersionOf(o, familyOf(group))), 0);
  return `${Math.max(KEEPALIVED_MIN_CPU_LIMIT_MILLIS, Math.ceil(advertsPerSecond * KEEPALIVED_CPU_MILLIS_PER_ADVERT_PER_SECOND))}m`;
}

/**
 * A container's `resources`: the defaults, overridden by the user's; `'none'` drops a value. Where the
 * user's request is above a default limit, or the user's limit below a default request (which
 * Kubernetes would reject), the default gives way to the user's value. Both set by the user, a request
 * above its limit is a synth-time error.
 */
export function resourcesOf(defaults: Required<ContainerResources>, given: ContainerResources = {}) {
  const pick = (key: keyof ContainerResources) => {
    const value = given[key] ?? defaults[key];
    return value === 'none' ? undefined : value;
  };
  const [[cpuRequest, cpuLimit], [memoryRequest, memoryLimit]] = REQUEST_LIMIT_PAIRS.map(([requestKey, limitKey]) => {
    const [request, limit] = [pick(requestKey), pick(limitKey)];
    // The defaults agree, and the user's two are checked at declaration: only one value of each can cross.
    if (!exceedsLimit(request, limit)) return [request, limit];
    return given[limitKey] === undefined ? [request, request] : [limit, limit];
  });
  const requests = dropUndefined({ cpu: cpuRequest, memory: memoryRequest });
  const limits = dropUndefined({ cpu: cpuLimit, memory: memoryLimit });
  return dropUndefined({
    requests: Object.keys(requests).length > 0 ? requests : undefined,
    limits: Object.keys(limits).length > 0 ? limits : undefined,
  });
}

/** What the DaemonSet refers to. */
export interface DaemonSetRefs {
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly specConfigMap: string;
  /** The namespace's agent ConfigMap, unless the agent image has the agent baked in. */
  readonly agentConfigMap?: string;
  readonly auth?: AuthSecretRef;
}

/** Whether the pod runs the agent's `run` sidecar: for metrics, discovery, health checks. */
export function runsAgentSidecar(def: ClusterDefinition, o: StandaloneOptions): boolean {
  return o.discovery !== undefined || metricsPortOf(o.metrics) !== undefined || hasHealthChecks(def);
}

/** The cluster's DaemonSet; its spec is built in `ctx.content`. */
export function daemonSet(def: ClusterDefinition, o: StandaloneOptions, n: StandaloneNames, refs: DaemonSetRefs,
  ctx: Pick<BuildContext, 'content'>): ManifestObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: dropUndefined({ name: n.daemonSet, namespace: n.namespace, labels: { ...refs.labels }, annotations: refs.annotations }),
    spec: ctx.content(() => daemonSetSpec(def, o, n, refs)),
  };
}

function daemonSetSpec(def: ClusterDefinition, o: StandaloneOptions, n: StandaloneNames, refs: DaemonSetRefs) {
  const discovery = o.discovery;
  const metricsPort = metricsPortOf(o.metrics);
  const sidecar = runsAgentSidecar(def, o);
  const health = hasHealthChecks(def);
  const stateDir = `${POD_PATHS.state}/${n.namespace}/${n.name}`;
  const unicast = o.unicastPeers !== undefined || discovery?.unicast === true;
  const metricsOnNodeIp = metricsPort !== undefined && (o.metrics?.listenAddress ?? MetricsListenAddress.NODE_IP) === MetricsListenAddress.NODE_IP;
  const agentArgs = (command: 'render' | 'run') => [
    'node', `${POD_PATHS.agent}/${AGENT_KEY}`, command,
    '--spec', `${POD_PATHS.config}/spec.json`,
    '--node-name', '$(NODE_NAME)',
    '--out', `${POD_PATHS.rendered}/keepalived.conf`,
    ...(command === 'run' ? ['--pid-file', `${POD_PATHS.run}/keepalived.pid`] : []),
    ...(discovery ? ['--state-dir', stateDir] : []),
    // keepalived reports its state changes through the fifo: the sidecar's metrics and Leases read it.
    ...(sidecar ? ['--notify-fifo', NOTIFY_FIFO] : []),
    ...(unicast ? ['--host-ip', '$(HOST_IP)'] : []),
    ...(refs.auth ? ['--auth-pass-file', `${POD_PATHS.auth}/password`] : []),
    ...(health ? ['--track-dir', POD_PATHS.health] : []),
    ...(command === 'run' && metricsOnNodeIp ? ['--metrics-address', '$(HOST_IP)'] : []),
  ];
  const env = (command: 'render' | 'run') => definedItems([
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    // Unicast sends from the node's address, and the metrics endpoint listens on it only.
    unicast || (command === 'run' && metricsOnNodeIp) ? { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } } : undefined,
  ]);
  const image = (which: 'keepalived' | 'agent') => dropUndefined({
    image: which === 'keepalived' ? o.images?.keepalived ?? DEFAULT_KEEPALIVED_IMAGE : o.images?.agent ?? DEFAULT_AGENT_IMAGE,
    imagePullPolicy: o.images?.pullPolicy,
  });
  const nobody = readOnlyRoot({ runAsNonRoot: true, runAsUser: AGENT_UID, runAsGroup: AGENT_UID, capabilities: { drop: ['ALL'] } });
  // The sidecar reads keepalived's notify fifo and signals keepalived (SIGHUP on a new config), which
  // needs keepalived's uid. Its one capability, KILL (for that signal), is one keepalived lacks: the
  // kernel lets a process of the same uid read another's /proc (its environment, files, the API token
  // through /proc/<pid>/root) when the other's capabilities are a subset of its own, and none at all
  // would be a subset of keepalived's.
  const signaller = readOnlyRoot({ runAsUser: 0, capabilities: { drop: ['ALL'], add: [...AGENT_SIDECAR_CAPABILITIES] } });
  const apiToken = discovery ? { name: 'kube-api-access', mountPath: POD_PATHS.serviceAccount, readOnly: true } : undefined;
  const agentMounts = (command: 'render' | 'run') => definedItems([
    { name: 'config', mountPath: POD_PATHS.config, readOnly: true },
    refs.agentConfigMap === undefined ? undefined : { name: 'agent', mountPath: POD_PATHS.agent, readOnly: true },
    { name: 'rendered', mountPath: POD_PATHS.rendered },
    // keepalived's pid file and notify fifo, which the sidecar reads.
    command === 'run' ? { name: 'run', mountPath: POD_PATHS.run, readOnly: true } : undefined,
    // run saves the node set there; render only reads it.
    discovery ? { name: 'state', mountPath: stateDir, ...(command === 'render' ? { readOnly: true } : {}) } : undefined,
    refs.auth ? { name: 'auth', mountPath: POD_PATHS.auth, readOnly: true } : undefined,
    apiToken,
    // The track files the sidecar writes and keepalived watches.
    // (render creates missing ones as failing, before keepalived starts).
    health ? { name: 'health', mountPath: POD_PATHS.health } : undefined,
  ]);
  const render = {
    name: 'render',
    ...image('agent'),
    command: agentArgs('render'),
    env: env('render'),
    securityContext: nobody,
    resources: resourcesOf(DEFAULT_RESOURCES.render, o.resources?.agent),
    volumeMounts: agentMounts('render'),
  };
  const sidecarMode = sidecarModeOf(o);
  const agent = sidecar ? dropUndefined({
    name: 'agent',
    ...image('agent'),
    // A native sidecar starts before keepalived and stops after it.
    restartPolicy: sidecarMode === SidecarMode.NATIVE ? 'Always' : undefined,
    command: agentArgs('run'),
    env: env('run'),
    // The node's port (the pod is on the host network), named for the PodMonitor.
    ports: metricsPort === undefined ? undefined : [{ name: METRICS_PORT_NAME, containerPort: metricsPort, hostPort: metricsPort, protocol: 'TCP' }],
    securityContext: signaller,
    resources: resourcesOf(DEFAULT_RESOURCES.agent, o.resources?.agent),
    volumeMounts: agentMounts('run'),
  }) : undefined;
  const keepalived = {
    name: 'keepalived',
    ...image('keepalived'),
    // A supervisor removes the config's VIPs when keepalived dies (see keepalived-supervisor.ts): from
    // the namespace's agent ConfigMap (shipped once), or inline when the pod mounts none.
    command: supervisedKeepalivedCommand(`${POD_PATHS.rendered}/keepalived.conf`, [
      // --dont-fork keeps keepalived in the foreground; --vrrp runs only the VRRP subsystem;
      // pid files go to an emptyDir, since the defaults under /run sit on the read-only root.
      'keepalived', '--dont-fork', '--log-console', '--no-syslog', '--log-detail', '--vrrp',
      '--use-file', `${POD_PATHS.rendered}/keepalived.conf`,
      '--pid', `${POD_PATHS.run}/keepalived.pid`,
      '--vrrp_pid', `${POD_PATHS.run}/vrrp.pid`,
      '--checkers_pid', `${POD_PATHS.run}/checkers.pid`,
    ], refs.agentConfigMap === undefined ? undefined : `${POD_PATHS.agent}/${SUPERVISOR_KEY}`),
    securityContext: readOnlyRoot({ runAsUser: 0, capabilities: { drop: ['ALL'], add: [...KEEPALIVED_CAPABILITIES] } }),
    resources: resourcesOf({ ...DEFAULT_RESOURCES.keepalived, cpuLimit: keepalivedCpuLimit(def, o) }, o.resources?.keepalived),
    volumeMounts: definedItems([
      refs.agentConfigMap === undefined ? undefined : { name: 'agent', mountPath: POD_PATHS.agent, readOnly: true },
      { name: 'rendered', mountPath: POD_PATHS.rendered, readOnly: true },
      { name: 'run', mountPath: POD_PATHS.run },
      { name: 'tmp', mountPath: '/tmp' },
      // Read-write: keepalived's init_file makes a track file that does not exist yet (failing).
      health ? { name: 'health', mountPath: POD_PATHS.health } : undefined,
    ]),
  };
  const tolerations = def.tolerations.map(tolerationManifest);
  return {
    selector: { matchLabels: selectorLabels(n.name) },
    updateStrategy: o.updateStrategy === UpdateStrategy.ON_DELETE
      ? { type: UpdateStrategy.ON_DELETE }
      : { type: UpdateStrategy.ROLLING_UPDATE, rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1 } },
    // keepalived has no readiness probe (its image promises nothing but keepalived): give a restarted
    // pod time to rejoin as BACKUP (or take its addresses back) before the next node is updated.
    minReadySeconds: o.minReadySeconds ?? 5,
    template: {
      metadata: dropUndefined({
        // The pods' own labels win over the cluster's; the package's (the selector's) over both.
        labels: { ...refs.labels, ...o.podLabels, ...standaloneLabels(n.name) },
        annotations: o.podAnnotations ? { ...o.podAnnotations } : undefined,
      }),
      spec: dropUndefined({
        hostNetwork: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        priorityClassName: o.priorityClassName ?? DEFAULT_PRIORITY_CLASS,
        serviceAccountName: n.serviceAccount,
        // keepalived runs as root without CAP_DAC_OVERRIDE: it reads the agent's files (and the agent
        // the mounted Secret) through this group, not through world-readable modes.
        securityContext: { fsGroup: AGENT_UID, seccompProfile: { type: 'RuntimeDefault' } },
        // No container gets the token by default: only the agent's, through the projected volume below.
        automountServiceAccountToken: false,
        // keepalived must not be PID 1 of its container: its pid files live in the pod's `run` volume,
        // which outlives a crashed container, and a restarted keepalived that is PID 1 again would read
        // its predecessor's pid 1 as itself, say "daemon is already running" and exit, forever. In the
        // pod's shared PID namespace the pause process is PID 1 and keepalived gets a fresh PID.
        // (It also lets the discovery sidecar send keepalived SIGHUP.)
        shareProcessNamespace: true,
        // keepalived sends a priority-0 advert on SIGTERM, so a backup takes over in well under a second.
        terminationGracePeriodSeconds: 10,
        nodeSelector: { ...def.nodeSelector },
        affinity: o.affinity,
        tolerations: tolerations.length > 0 ? tolerations : undefined,
        imagePullSecrets: o.images?.pullSecrets?.map((name) => ({ name })),
        initContainers: definedItems([render, sidecarMode === SidecarMode.NATIVE ? agent : undefined]),
        containers: definedItems([keepalived, sidecarMode === SidecarMode.CLASSIC ? agent : undefined]),
        volumes: definedItems([
          { name: 'config', configMap: { name: refs.specConfigMap } },
          refs.agentConfigMap === undefined ? undefined : { name: 'agent', configMap: { name: refs.agentConfigMap } },
          { name: 'rendered', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
          health ? { name: 'health', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } } : undefined,
          // The last known node set survives pod restarts, for starts while the API is unreachable.
          discovery ? { name: 'state', hostPath: { path: stateDir, type: 'DirectoryOrCreate' } } : undefined,
          refs.auth ? { name: 'auth', secret: { secretName: refs.auth.secretName, items: [{ key: refs.auth.key, path: 'password' }], defaultMode: 0o440 } } : undefined,
          discovery ? serviceAccountTokenVolume() : undefined,
        ]),
      }),
    },
  };
}

/**
 * A container's securityContext: a read-only root without privilege escalation, then `rest`. Built
 * with Object.assign, not as `{ ...readOnlyRoot, more }`: V8 (Node 20) gives every object made by a
 * spread and then given more fields a hidden class of its own (measured: one per object after a few
 * calls), which costs a synth of many clusters memory, garbage collection and time. So the objects of a
 * fixed shape that a synth builds per cluster or per group are not made that way. (Label maps still
 * are: `--log-maps` over 255 clusters shows no map of theirs made per object.)
 */
function readOnlyRoot<T extends object>(rest: T) {
  return Object.assign({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true }, rest);
}

/** The service account token, as kubelet would mount it, for the agent's containers only. */
function serviceAccountTokenVolume() {
  return {
    name: 'kube-api-access',
    projected: {
      defaultMode: 0o440,
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}
