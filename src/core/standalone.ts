/**
 * The standalone target: everything that runs keepalived on a cluster without Deckhouse, as plain data.
 * Namespace, ServiceAccount, optional Secret, an immutable ConfigMap with the cluster model and the
 * bundled agent, the DaemonSet, and the policies that let VRRP through.
 */
import { createHash } from 'crypto';
import { parseCidr } from './address';
import { AGENT_SPEC_VERSION, AgentSpec, leaseName } from './agent-spec';
import { dropUndefined, ManifestObject, tolerationManifest } from './deckhouse';
import { withHealthChecks } from './health-check';
import { InterfaceSelector } from './interface-selector';
import { ClusterDefinition, VrrpGroup } from './model';
import { clusterName } from './names';
import { FailoverProfile, SidecarMode, StandaloneOptions, VrrpPolicyFlavor } from './target';
import { familyOf, vrrpVersionOf } from './validate';

export const DEFAULT_NAMESPACE = 'keepalived';
export const DEFAULT_KEEPALIVED_IMAGE = 'docker.io/osixia/keepalived:2.0.20';
export const DEFAULT_AGENT_IMAGE = 'docker.io/library/node:20-alpine';
/** The advert interval of the fast profile, in seconds. */
export const FAST_ADVERT_INTERVAL = 0.1;

export const DEFAULT_LEASE_DURATION_SECONDS = 15;
export const DEFAULT_MIN_RELOAD_INTERVAL_SECONDS = 5;

/** Capabilities keepalived needs for VRRP: addresses and routes (NET_ADMIN), raw VRRP sockets (NET_RAW). */
export const KEEPALIVED_CAPABILITIES = ['NET_ADMIN', 'NET_RAW'];

const CONFIG_DIR = '/etc/keepalived-constructs';
const RENDERED_DIR = '/etc/keepalived';
const AUTH_DIR = '/etc/keepalived-auth';
const RUN_DIR = '/run/keepalived';
const STATE_DIR = '/var/lib/keepalived-constructs';
const NOTIFY_FIFO = `${RUN_DIR}/notify.fifo`;

/** The namespace of a standalone cluster. */
export function namespaceOf(options: StandaloneOptions): string {
  return options.namespace ?? DEFAULT_NAMESPACE;
}

/** The object names of a standalone cluster. */
export function standaloneNames(def: ClusterDefinition) {
  const name = clusterName(def);
  const base = `keepalived-${name}`;
  return {
    name,
    namespace: namespaceOf(def.target.options),
    daemonSet: base,
    serviceAccount: base,
    secret: `${base}-auth`,
    policy: `${base}-vrrp`,
    // Calico's and Cilium's policies are cluster-scoped, so the namespace is part of their name.
    clusterPolicy: `keepalived-${namespaceOf(def.target.options)}-${name}-vrrp`,
    configMapPrefix: base,
    // Cluster-scoped, so the namespace is part of the name.
    clusterRole: `keepalived:${namespaceOf(def.target.options)}:${name}:nodes`,
    leaseRole: `${base}-leases`,
  };
}

/** The labels every object of the cluster carries; the DaemonSet selects its pods by the first two. */
export function standaloneLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'keepalived',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'keepalived-constructs',
  };
}

/** A group's name on the node (its `vrrp_instance` is named after it): the given one, or from its VRID. */
export function groupNameOf(group: VrrpGroup, vrid: number): string {
  return group.name ?? `vrid-${vrid}`;
}

/** The cluster model for the node agent: the ConfigMap's `spec.json`. */
export function agentSpecOf(def: ClusterDefinition, vridOf: (groupIndex: number) => number): AgentSpec {
  const o = def.target.options;
  const profileInterval = o.profile === FailoverProfile.FAST ? FAST_ADVERT_INTERVAL : 1;
  const spec: AgentSpec = {
    version: AGENT_SPEC_VERSION,
    cluster: clusterName(def),
    nodeOrder: o.nodeOrder ? [...o.nodeOrder] : undefined,
    unicastPeers: o.unicastPeers ? o.unicastPeers.map((p) => parseCidr(`${p}/${p.includes(':') ? 128 : 32}`)?.address.text ?? p) : undefined,
    auth: o.auth !== undefined,
    groups: def.groups.map(({ group }, index) => {
      const family = familyOf(group);
      const vrrpVersion = vrrpVersionOf(def, family);
      return dropUndefined({
        name: groupNameOf(group, vridOf(index)),
        index,
        vrid: vridOf(index),
        family,
        vrrpVersion,
        interface: (group.interface ?? InterfaceSelector.defaultRoute()).spec,
        addresses: group.addresses.map((vip) => dropUndefined({ address: parseCidr(vip.address)!.text, interface: vip.interface?.spec })),
        preempt: group.preempt !== false,
        advertInterval: group.advertInterval ?? (vrrpVersion === 3 ? profileInterval : 1),
        preferredNode: group.preferredNode,
      });
    }),
    discovery: o.discovery ? {
      nodeSelector: { ...def.nodeSelector },
      namespace: namespaceOf(o),
      leases: o.discovery.leases !== false,
      leasePrefix: `keepalived-${clusterName(def)}`,
      leaseDurationSeconds: o.discovery.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS,
      unicast: o.discovery.unicast === true,
      minReloadIntervalSeconds: o.discovery.minReloadIntervalSeconds ?? DEFAULT_MIN_RELOAD_INTERVAL_SECONDS,
    } : undefined,
  };
  return withHealthChecks(def, dropUndefined(spec));
}

/** Options for `standaloneManifests` that come from the app rather than the cluster. */
export interface StandaloneContext {
  /** The group's VRID by index. */
  readonly vridOf: (groupIndex: number) => number;
  /** The bundled agent's source. */
  readonly agentSource: string;
  /** Whether this cluster emits its namespace (the first cluster in a namespace does). */
  readonly ownsNamespace: boolean;
}

/** Every object of a standalone cluster, in apply order. */
export function standaloneManifests(def: ClusterDefinition, ctx: StandaloneContext): ManifestObject[] {
  const o = def.target.options;
  const n = standaloneNames(def);
  const labels = standaloneLabels(n.name);
  const meta = (name: string) => ({ name, namespace: n.namespace, labels: { ...labels } });
  const spec = agentSpecOf(def, ctx.vridOf);
  const data = {
    'spec.json': `${JSON.stringify(spec, null, 2)}\n`,
    'keepalived-agent.js': ctx.agentSource,
  };
  const configMapName = `${n.configMapPrefix}-${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 10)}`;
  const auth = o.auth?.spec;
  const secretName = auth?.password !== undefined ? n.secret : auth?.secretName;
  const secretKey = auth?.password !== undefined ? 'password' : auth?.key;

  const objects: ManifestObject[] = [];
  if (o.createNamespace !== false && ctx.ownsNamespace) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: n.namespace,
        labels: {
          // keepalived needs hostNetwork and NET_ADMIN / NET_RAW: only the privileged level admits that.
          'pod-security.kubernetes.io/enforce': 'privileged',
          'pod-security.kubernetes.io/audit': 'privileged',
          'pod-security.kubernetes.io/warn': 'privileged',
        },
      },
    });
  }
  objects.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(n.serviceAccount),
    automountServiceAccountToken: false,
  });
  if (o.discovery) objects.push(...discoveryRbac(n, labels, spec));
  if (auth?.password !== undefined) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(n.secret),
      type: 'Opaque',
      stringData: { password: auth.password },
    });
  }
  objects.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMapName),
    immutable: true,
    data,
  });
  objects.push(daemonSet(def, { ...n, labels, configMapName, secretName, secretKey }));
  for (const flavor of o.policies ?? []) {
    objects.push(policy(def, flavor, flavor === VrrpPolicyFlavor.NETWORK_POLICY ? n.policy : n.clusterPolicy, labels));
  }
  return objects;
}

/**
 * Least-privilege RBAC for discovery mode: read Nodes cluster-wide (nothing else), and in the namespace
 * create Leases (which RBAC cannot scope by name) and get / update only this cluster's Leases.
 */
function discoveryRbac(n: ReturnType<typeof standaloneNames>, labels: Record<string, string>, spec: AgentSpec): ManifestObject[] {
  const subject = { kind: 'ServiceAccount', name: n.serviceAccount, namespace: n.namespace };
  const objects: ManifestObject[] = [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: n.clusterRole, labels: { ...labels } },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: n.clusterRole, labels: { ...labels } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: n.clusterRole },
      subjects: [subject],
    },
  ];
  if (spec.discovery?.leases) {
    objects.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: n.leaseRole, namespace: n.namespace, labels: { ...labels } },
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
          {
            apiGroups: ['coordination.k8s.io'],
            resources: ['leases'],
            resourceNames: spec.groups.map((g) => leaseName(spec.discovery!, g.vrid)),
            verbs: ['get', 'update'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: n.leaseRole, namespace: n.namespace, labels: { ...labels } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: n.leaseRole },
        subjects: [subject],
      },
    );
  }
  return objects;
}

interface DaemonSetContext {
  readonly name: string;
  readonly namespace: string;
  readonly daemonSet: string;
  readonly serviceAccount: string;
  readonly labels: Record<string, string>;
  readonly configMapName: string;
  readonly secretName?: string;
  readonly secretKey?: string;
}

function daemonSet(def: ClusterDefinition, c: DaemonSetContext): ManifestObject {
  const o = def.target.options;
  const discovery = o.discovery;
  const selector = { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': c.name };
  const stateDir = `${STATE_DIR}/${c.namespace}/${c.name}`;
  const agentArgs = (command: 'render' | 'run') => [
    'node', `${CONFIG_DIR}/keepalived-agent.js`, command,
    '--spec', `${CONFIG_DIR}/spec.json`,
    '--node-name', '$(NODE_NAME)',
    '--out', `${RENDERED_DIR}/keepalived.conf`,
    ...(command === 'run' ? ['--pid-file', `${RUN_DIR}/keepalived.pid`] : []),
    ...(discovery ? ['--state-dir', stateDir, '--notify-fifo', NOTIFY_FIFO] : []),
    ...(o.unicastPeers || discovery?.unicast ? ['--host-ip', '$(HOST_IP)'] : []),
    ...(c.secretName ? ['--auth-pass-file', `${AUTH_DIR}/password`] : []),
  ];
  const env = [
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
  ];
  const readOnlyRoot = { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true };
  // The agent runs as nobody, except with discovery: then it writes the node's state directory and
  // signals keepalived, which needs keepalived's uid (0), still with no capabilities.
  const agentSecurity = discovery
    ? { ...readOnlyRoot, runAsUser: 0, capabilities: { drop: ['ALL'] } }
    : { ...readOnlyRoot, runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, capabilities: { drop: ['ALL'] } };
  const agentMounts = (command: 'render' | 'run') => dropUndefinedList([
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'rendered', mountPath: RENDERED_DIR },
    // keepalived's pid file and notify fifo, which the sidecar reads.
    command === 'run' ? { name: 'run', mountPath: RUN_DIR, readOnly: true } : undefined,
    discovery ? { name: 'state', mountPath: stateDir } : undefined,
    c.secretName ? { name: 'auth', mountPath: AUTH_DIR, readOnly: true } : undefined,
  ]);
  const render = {
    name: 'render',
    image: o.images?.agent ?? DEFAULT_AGENT_IMAGE,
    command: agentArgs('render'),
    env,
    securityContext: agentSecurity,
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    volumeMounts: agentMounts('render'),
  };
  const sidecarMode = discovery?.sidecar ?? SidecarMode.NATIVE;
  const agent = discovery ? dropUndefined({
    name: 'agent',
    image: o.images?.agent ?? DEFAULT_AGENT_IMAGE,
    // A native sidecar starts before keepalived and stops after it.
    restartPolicy: sidecarMode === SidecarMode.NATIVE ? 'Always' : undefined,
    command: agentArgs('run'),
    env,
    securityContext: agentSecurity,
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    volumeMounts: agentMounts('run'),
  }) : undefined;
  const keepalived = {
    name: 'keepalived',
    image: o.images?.keepalived ?? DEFAULT_KEEPALIVED_IMAGE,
    command: [
      // --dont-fork keeps keepalived as the container's process; --vrrp runs only the VRRP subsystem;
      // pid files go to an emptyDir, since the defaults under /run sit on the read-only root.
      'keepalived', '--dont-fork', '--log-console', '--no-syslog', '--log-detail', '--vrrp',
      '--use-file', `${RENDERED_DIR}/keepalived.conf`,
      '--pid', `${RUN_DIR}/keepalived.pid`,
      '--vrrp_pid', `${RUN_DIR}/vrrp.pid`,
      '--checkers_pid', `${RUN_DIR}/checkers.pid`,
    ],
    securityContext: { ...readOnlyRoot, runAsUser: 0, capabilities: { drop: ['ALL'], add: [...KEEPALIVED_CAPABILITIES] } },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    volumeMounts: [
      { name: 'rendered', mountPath: RENDERED_DIR, readOnly: true },
      { name: 'run', mountPath: RUN_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: c.daemonSet, namespace: c.namespace, labels: { ...c.labels } },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      // keepalived has no readiness probe (its image promises nothing but keepalived): give a restarted
      // pod time to rejoin as BACKUP (or take its addresses back) before the next node is updated.
      minReadySeconds: 5,
      template: {
        metadata: { labels: { ...c.labels } },
        spec: dropUndefined({
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          priorityClassName: 'system-node-critical',
          serviceAccountName: c.serviceAccount,
          // keepalived runs as root without CAP_DAC_OVERRIDE: it reads the agent's files (and the agent
          // the mounted Secret) through this group, not through world-readable modes.
          securityContext: { fsGroup: 65534 },
          // The token is mounted only when discovery needs the API.
          automountServiceAccountToken: discovery !== undefined,
          // keepalived must not be PID 1 of its container: its pid files live in the pod's `run` volume,
          // which outlives a crashed container, and a restarted keepalived that is PID 1 again would read
          // its predecessor's pid 1 as itself, say "daemon is already running" and exit, forever. In the
          // pod's shared PID namespace the pause process is PID 1 and keepalived gets a fresh PID.
          // (It also lets the discovery sidecar send keepalived SIGHUP.)
          shareProcessNamespace: true,
          // keepalived sends a priority-0 advert on SIGTERM, so a backup takes over in well under a second.
          terminationGracePeriodSeconds: 10,
          nodeSelector: { ...def.nodeSelector },
          tolerations: def.tolerations.length > 0 ? def.tolerations.map(tolerationManifest) : undefined,
          initContainers: dropUndefinedList([render, sidecarMode === SidecarMode.NATIVE ? agent : undefined]),
          containers: dropUndefinedList([keepalived, sidecarMode === SidecarMode.CLASSIC ? agent : undefined]),
          volumes: dropUndefinedList([
            { name: 'config', configMap: { name: c.configMapName } },
            { name: 'rendered', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
            // The last known node set survives pod restarts, for starts while the API is unreachable.
            discovery ? { name: 'state', hostPath: { path: stateDir, type: 'DirectoryOrCreate' } } : undefined,
            c.secretName ? { name: 'auth', secret: { secretName: c.secretName, items: [{ key: c.secretKey!, path: 'password' }], defaultMode: 0o440 } } : undefined,
          ]),
        }),
      },
    },
  };
}

function dropUndefinedList<T>(items: (T | undefined)[]): T[] {
  return items.filter((i): i is T => i !== undefined);
}

/** A Calico selector for the nodes (their HostEndpoints) that a nodeSelector selects. */
export function calicoSelector(nodeSelector: Record<string, string>): string {
  const terms = Object.entries(nodeSelector).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k} == '${v}'`);
  return terms.length > 0 ? terms.join(' && ') : 'all()';
}

function policy(def: ClusterDefinition, flavor: VrrpPolicyFlavor, name: string, labels: Record<string, string>): ManifestObject {
  const o = def.target.options;
  switch (flavor) {
    case VrrpPolicyFlavor.CALICO: {
      const selector = calicoSelector(def.nodeSelector);
      return {
        apiVersion: 'projectcalico.org/v3',
        kind: 'GlobalNetworkPolicy',
        metadata: { name, labels: { ...labels } },
        spec: {
          order: 100,
          selector,
          types: ['Ingress', 'Egress'],
          ingress: [{ action: 'Allow', protocol: 112, source: { selector } }],
          egress: [{ action: 'Allow', protocol: 112 }],
        },
      };
    }
    case VrrpPolicyFlavor.CILIUM:
      return {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumClusterwideNetworkPolicy',
        metadata: { name, labels: { ...labels } },
        spec: {
          nodeSelector: { matchLabels: { ...def.nodeSelector } },
          // An allow rule must not switch the hosts to default-deny for everything else.
          enableDefaultDeny: { ingress: false, egress: false },
          ingress: [{ fromEntities: ['host', 'remote-node'], toPorts: [{ ports: [{ port: '0', protocol: 'VRRP' }] }] }],
          egress: [{ toEntities: ['host', 'remote-node'], toPorts: [{ ports: [{ port: '0', protocol: 'VRRP' }] }] }],
        },
      };
    case VrrpPolicyFlavor.NETWORK_POLICY:
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name, namespace: namespaceOf(o), labels: { ...labels } },
        spec: {
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': clusterName(def) } },
          policyTypes: ['Ingress'],
          // The API cannot name protocol 112: allow everything from the nodes' networks, with no ports.
          ingress: [{ from: (o.nodeNetworks ?? []).map((cidr) => ({ ipBlock: { cidr: parseCidr(cidr)!.text } })) }],
        },
      };
  }
}
