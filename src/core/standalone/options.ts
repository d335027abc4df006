import { knownFields } from '../fields';
import { MetricsOptions, METRICS_OPTIONS_FIELDS } from '../monitoring/metrics-options';
/** How the VRRP password reaches keepalived on the standalone target. */
export class VrrpAuth {
  /**
   * Use the password in an existing Secret (recommended: nothing secret lands in the manifests).
   *
   * @param secretName the Secret's name, in the cluster's namespace
   * @param key the data key that holds the password (1..8 characters; keepalived truncates longer ones)
   */
  public static fromSecret(secretName: string, key: string = 'password'): VrrpAuth {
    return new VrrpAuth({ secretName, key });
  }

  /**
   * Use a literal password. The package emits it as a Secret's `stringData`, so it lands in plain
   * text in the synthesized manifests and in your repository: prefer `fromSecret` for anything that
   * matters.
   */
  public static literal(password: string): VrrpAuth {
    return new VrrpAuth({ password });
  }

  private constructor(
    /**
     * The reference or literal, as plain data.
     *
     * @internal
     */
    public readonly _spec: { readonly secretName?: string; readonly key?: string; readonly password?: string },
  ) {}
}

/** A policy kind that lets VRRP (IP protocol 112) through between the cluster's nodes. */
export enum VrrpPolicyFlavor {
  /**
   * Calico `projectcalico.org/v3` GlobalNetworkPolicy allowing protocol 112 between the selected nodes.
   * Calico applies it to host traffic only through HostEndpoints; once a node has a HostEndpoint, its
   * traffic is denied by default, so this policy is what keeps VRRP working there.
   */
  CALICO = 'calico',
  /**
   * Cilium `cilium.io/v2` CiliumClusterwideNetworkPolicy with a `nodeSelector` (a host firewall policy)
   * allowing protocol VRRP. Needs a Cilium release with extended IP protocols enabled; older releases
   * drop VRRP when host policies are on, whatever the policy says.
   */
  CILIUM = 'cilium',
  /**
   * `networking.k8s.io/v1` NetworkPolicy: the closest rule the API allows, an ingress rule from the
   * nodes' addresses with no ports. The API cannot name protocol 112, and plugins do not apply it to
   * hostNetwork pods, so it documents intent more than it enforces anything.
   */
  NETWORK_POLICY = 'network-policy',
}

/** The VRRP protocol version. */
export enum VrrpVersion {
  /** VRRPv2 (RFC 3768): IPv4 only, whole-second adverts, optional PASS authentication. */
  V2 = 2,
  /** VRRPv3 (RFC 5798): IPv4 and IPv6, adverts in centiseconds, no authentication. */
  V3 = 3,
}

/** Whether the kubelet pulls an image before it starts a container. */
export enum ImagePullPolicy {
  /** Pull every time. */
  ALWAYS = 'Always',
  /** Pull only when the image is not on the node. */
  IF_NOT_PRESENT = 'IfNotPresent',
  /** Never pull: the image must be on the node. */
  NEVER = 'Never',
}

/** How the DaemonSet replaces its pods when the cluster's manifests change. */
export enum UpdateStrategy {
  /**
   * Node by node, at most `maxUnavailable` nodes at once, each new pod running `minReadySeconds` before
   * the next node: every change rolls out by itself, and each node's VIPs move away and back once.
   */
  ROLLING_UPDATE = 'RollingUpdate',
  /**
   * A node's pod is replaced only when it is deleted (`kubectl delete pod`; a drain does not evict
   * DaemonSet pods): the operator decides when each node's VIPs move, e.g. in a maintenance window.
   * Until then, nodes keep running the pods of the earlier manifests, which mount the earlier
   * content-hashed ConfigMaps: keep those until every old pod is gone (a GitOps tool that prunes
   * deletes them at once, and an old pod whose node reboots then cannot start).
   */
  ON_DELETE = 'OnDelete',
}

/**
 * CPU and memory of one container, as Kubernetes quantities (`'100m'`, `'64Mi'`). A value not set keeps
 * the package's default, except that a default limit below the request set here rises to it, and a
 * default request above the limit set here falls to it; a request above the limit, both set here, is
 * a synth-time error.
 */
export interface ContainerResources {
  /**
   * The CPU request.
   *
   * @default - the package's default for the container
   */
  readonly cpuRequest?: string;
  /**
   * The CPU limit. `'none'` sets none.
   *
   * @default - the package's default for the container
   */
  readonly cpuLimit?: string;
  /**
   * The memory request.
   *
   * @default - the package's default for the container
   */
  readonly memoryRequest?: string;
  /**
   * The memory limit. `'none'` sets none.
   *
   * @default - the package's default for the container
   */
  readonly memoryLimit?: string;
}

/** The request and limit fields of ContainerResources that Kubernetes compares. */
export const REQUEST_LIMIT_PAIRS = [['cpuRequest', 'cpuLimit'], ['memoryRequest', 'memoryLimit']] as const;

/** Resources of the standalone pod's containers. */
export interface StandaloneResources {
  /**
   * The keepalived container. Its default CPU limit follows the adverts a master of every group sends:
   * 0.5m per advert per second (measured: about 0.2 ms of CPU per advert), at least 100m; so 100m up to
   * 20 groups at the default 0.1 s interval, 1275m for 255 groups.
   *
   * @default - requests 10m / 16Mi, limits max(100m, 0.5m x adverts per second of all groups) / 64Mi
   */
  readonly keepalived?: ContainerResources;
  /**
   * The agent's containers (the `render` init container and the `agent` sidecar).
   *
   * @default - `render`: requests 10m / 32Mi, limits 200m / 128Mi; `agent`: requests 10m / 48Mi, limits 200m / 128Mi
   */
  readonly agent?: ContainerResources;
}

/**
 * Failover timing presets for the standalone target. Chosen from measurements (bench/RESULTS.md, the
 * advert-interval study): the default is the fastest advert interval that made no spurious master
 * change idle, with both cores busy, and under keepalived's CPU limit.
 */
export enum FailoverProfile {
  /**
   * VRRPv3 with advert_int 0.1 s: a dead node's VIPs move in about 0.33 s (median), at ten adverts per
   * second per group. With `auth` (PASS authentication exists only in VRRPv2), IPv4 groups fall back
   * to `CLASSIC`.
   */
  DEFAULT = 'default',
  /**
   * VRRPv3 with advert_int 0.1 s: the same as `DEFAULT` since the interval study chose 0.1 s for it;
   * it pins 0.1 s should the default change, and keeps programs that name it working.
   */
  FAST = 'fast',
  /**
   * What the Deckhouse keepalived module runs: advert_int 1 s, VRRPv2 on IPv4 (v3 on IPv6): failover
   * in about 3 s. For mixed clusters with Deckhouse-managed or other VRRPv2 peers, and for `auth`.
   */
  CLASSIC = 'classic',
}

/** How the agent's `run` sidecar is declared (`StandaloneOptions.sidecar`). */
export enum SidecarMode {
  /**
   * A native sidecar: an init container with `restartPolicy: Always`, started before keepalived and
   * stopped after it. Needs Kubernetes 1.29+ (1.28 with the SidecarContainers feature gate); older API
   * servers drop the field, and the pod would then never start.
   */
  NATIVE = 'native',
  /** A plain second container, for clusters older than 1.29. */
  CLASSIC = 'classic',
}

/** How the pod declares the agent's `run` sidecar: `sidecar`, else discovery's (deprecated) `sidecar`. */
export function sidecarModeOf(o: StandaloneOptions): SidecarMode {
  return o.sidecar ?? o.discovery?.sidecar ?? SidecarMode.NATIVE;
}

/**
 * Discovery mode: the node agent learns the participating nodes from the Kubernetes API, re-renders
 * keepalived.conf and reloads keepalived (SIGHUP, no restart) when they change, and publishes each
 * group's master as a Lease. The data plane never depends on the API: keepalived keeps running when
 * the API goes away, and a pod that starts without it renders from the last known node set.
 */
export interface DiscoveryOptions {
  /**
   * Derive unicast peers from the nodes' InternalIPs (for networks that drop multicast), with each
   * node's own InternalIP as `unicast_src_ip`. Exclusive with the static `unicastPeers`.
   *
   * @default false - multicast
   */
  readonly unicast?: boolean;

  /**
   * Publish each group's current master as a `coordination.k8s.io/v1` Lease in the cluster's
   * namespace, held by the master's node name (`kubectl get leases -n <namespace>`).
   *
   * @default true
   */
  readonly leases?: boolean;

  /**
   * The Lease duration in seconds; the master renews its Lease every third of it.
   *
   * @default 15
   */
  readonly leaseDurationSeconds?: number;

  /**
   * The least time between two reloads of keepalived; changes within it are applied together.
   * At least 1: a smaller value would let a flapping or hostile Node reload keepalived on every event.
   *
   * @default 5
   */
  readonly minReloadIntervalSeconds?: number;

  /**
   * The most nodes that discovery takes part with (1..249). When more Nodes match the nodeSelector,
   * the agent keeps keepalived's current config and logs why, rather than rendering one `unicast_peer`
   * per Node and priorities for all of them.
   *
   * @default 64
   */
  readonly maxNodes?: number;

  /**
   * The largest share (above 0, at most 1) of the applied node set that one update may add, remove or
   * re-address (rounded up); two nodes may always change, so that replacing a node is never held back.
   * A larger change at once (a flood of new Nodes) is not applied: the agent keeps keepalived's
   * current config and logs why. Restart the DaemonSet's pods (`kubectl rollout restart`) to accept a
   * large change on purpose.
   *
   * @default 0.5
   */
  readonly maxNodeSetChange?: number;

  /**
   * With `unicast`: take as unicast peers only the discovered addresses that are inside the networks
   * of each group's VRRP interface on the node, so that adverts never leave the VRRP network for an
   * address a Node claims elsewhere.
   *
   * @default false - every discovered InternalIP that is an ordinary unicast address
   */
  readonly peersInInterfaceNetwork?: boolean;

  /**
   * How the agent's `run` sidecar is declared.
   *
   * @default - the standalone target's `sidecar`
   * @deprecated use `sidecar` of the standalone target's options: the sidecar runs without discovery
   * too (for metrics, the default, and health checks).
   */
  readonly sidecar?: SidecarMode;
}

/** Container images for the standalone target. */
export interface StandaloneImages {
  /**
   * An image with keepalived >= 2.0.20 on PATH, built with LVS support (the container passes
   * `--checkers_pid`, which keepalived built without it rejects), and with `/bin/sh` and `ip` (iproute2
   * or busybox): a small shell supervisor runs keepalived and removes its virtual IPs when it dies.
   * Set `keepalivedVersion` to its keepalived version.
   *
   * @default 'docker.io/osixia/keepalived:2.0.20'
   */
  readonly keepalived?: string;

  /**
   * An image with Node.js >= 20 on PATH as `node`, which runs the bundled node agent. The default is
   * a supported LTS line.
   *
   * @default 'docker.io/library/node:24-alpine'
   */
  readonly agent?: string;

  /**
   * Whether the `agent` image has this package's bundled agent baked in at
   * `/opt/keepalived-constructs/keepalived-agent.js`, as the project's own image (`image/Containerfile`)
   * does. Then the pod mounts no agent ConfigMap, and the namespace emits none unless another cluster
   * in it needs one. The baked-in agent must come from the same version of this package as the
   * synthesized `spec.json`.
   *
   * @default false (the agent ships in the namespace's agent ConfigMap)
   */
  readonly agentInImage?: boolean;

  /**
   * The keepalived version that the `keepalived` image runs, as MAJOR.MINOR.PATCH. A feature that
   * needs a newer keepalived is a synth-time error naming the feature and the version it needs.
   * Set it whenever `keepalived` is set.
   *
   * @default '2.0.20' (the default image's)
   */
  readonly keepalivedVersion?: string;

  /**
   * When the kubelet pulls the images.
   *
   * @default - Kubernetes' default (IfNotPresent for tagged images)
   */
  readonly pullPolicy?: ImagePullPolicy;

  /**
   * Secrets in the cluster's namespace to pull the images with.
   *
   * @default - none
   */
  readonly pullSecrets?: string[];
}

/** Options of the standalone target. */
export interface StandaloneOptions {
  /**
   * The namespace of the namespaced objects.
   *
   * @default 'keepalived'
   */
  readonly namespace?: string;

  /**
   * Whether the package emits the Namespace, labelled for Pod Security `privileged`. Set `false` to
   * use an existing namespace that admits privileged pods (hostNetwork and NET_ADMIN). The Namespace
   * is not owned by any one cluster: see `KeepalivedNamespace`.
   *
   * @default - as the namespace's `KeepalivedNamespace` says, else true
   */
  readonly createNamespace?: boolean;

  /**
   * The nodes in the order that spreads masters: with N groups on N nodes, each node is master of
   * exactly one group, as the Deckhouse module does. Nodes not listed rank after listed ones, by hash.
   *
   * @default - a rendezvous hash of (node name, group) decides
   */
  readonly nodeOrder?: string[];

  /**
   * Container images.
   *
   * @default - see `StandaloneImages`
   */
  readonly images?: StandaloneImages;

  /**
   * The policies to emit that let VRRP through: none, one or several.
   *
   * @default - none
   */
  readonly policies?: VrrpPolicyFlavor[];

  /**
   * The nodes' network, used by the NetworkPolicy flavour's ipBlock (e.g. `192.0.2.0/24`).
   *
   * @default - required when `policies` includes NETWORK_POLICY
   */
  readonly nodeNetworks?: string[];

  /**
   * VRRP PASS authentication (VRRPv2 / IPv4 only; keepalived ignores it on VRRPv3).
   *
   * @default - no authentication
   */
  readonly auth?: VrrpAuth;

  /**
   * Unicast peers: the nodes' addresses, to use instead of multicast (for networks that drop it).
   * Each node sends from its own address (`--host-ip`, the pod's `status.hostIP`) to the others.
   *
   * @default - multicast (224.0.0.18 / ff02::12)
   */
  readonly unicastPeers?: string[];

  /**
   * Failover timing preset. A group's own `advertInterval` wins over the profile's.
   *
   * @default FailoverProfile.DEFAULT
   */
  readonly profile?: FailoverProfile;

  /**
   * The VRRP version for IPv4 groups (IPv6 always uses 3). Fractional advert intervals need 3; with 2,
   * the default profile's groups advertise every second (as `FailoverProfile.CLASSIC`).
   *
   * @default - VrrpVersion.V3; VrrpVersion.V2 with FailoverProfile.CLASSIC, or with `auth` on the default profile
   */
  readonly vrrpVersion?: VrrpVersion;

  /**
   * How often (seconds) a master re-announces its virtual IPs with a gratuitous ARP (IPv4) or an
   * unsolicited neighbour advertisement (IPv6), besides the burst at failover: a switch, router or
   * host that missed that burst stops sending to the old node within this time. Whole seconds; 0 turns
   * the refresh off. Rendered as keepalived's `garp_master_refresh`. The default for every group of
   * the cluster; a group's own `garpRefreshSeconds` wins.
   *
   * @default 30 - as the Deckhouse keepalived module does
   */
  readonly garpRefreshSeconds?: number;

  /**
   * Discovery mode: learn the nodes from the Kubernetes API (needs RBAC, which is then emitted, and a
   * reachable API server from host-network pods).
   *
   * @default - off: the static `nodeOrder` and `unicastPeers`, or rendezvous hashing
   */
  readonly discovery?: DiscoveryOptions;

  /**
   * Labels for every object of the cluster (the pods too). The package's own labels win on conflict.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations for every object of the cluster (not the pods: see `podAnnotations`).
   *
   * @default - none
   */
  readonly annotations?: { [key: string]: string };

  /**
   * Labels for the pods only. They win over `labels` on conflict; the package's own win over both.
   *
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations for the pods only.
   *
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * CPU and memory per container.
   *
   * @default - see `StandaloneResources`
   */
  readonly resources?: StandaloneResources;

  /**
   * The pods' priority class. keepalived holds addresses that other workloads depend on, so the
   * default keeps it from being preempted.
   *
   * @default 'system-node-critical'
   */
  readonly priorityClassName?: string;

  /**
   * A Kubernetes `affinity` for the pods (`nodeAffinity`, ...), as in a pod spec, on top of
   * `nodeSelector`.
   *
   * @default - none
   */
  readonly affinity?: { [key: string]: any };

  /**
   * How the DaemonSet replaces its pods: a rolling update, or only when a pod is deleted.
   *
   * @default UpdateStrategy.ROLLING_UPDATE
   */
  readonly updateStrategy?: UpdateStrategy;

  /**
   * How many nodes a rolling update may take down at once. More than one can leave a VIP with no
   * backup while the update runs. Only with `UpdateStrategy.ROLLING_UPDATE`.
   *
   * @default 1
   */
  readonly maxUnavailable?: number;

  /**
   * Seconds a new pod must run before the rolling update moves to the next node, so that a restarted
   * keepalived rejoins (or takes its addresses back) first.
   *
   * @default 5
   */
  readonly minReadySeconds?: number;

  /**
   * How the agent's `run` sidecar is declared. It runs for metrics (on by default), health checks and
   * discovery. `SidecarMode.NATIVE` needs Kubernetes 1.29+ (1.28 with the SidecarContainers feature
   * gate): older API servers drop `restartPolicy` from the init container, and the pod never starts;
   * use `SidecarMode.CLASSIC` there.
   *
   * @default SidecarMode.NATIVE
   */
  readonly sidecar?: SidecarMode;

  /**
   * Prometheus metrics from the node agent, and the opt-in Prometheus Operator objects and dashboard.
   *
   * @default - the agent serves metrics on port 9654; no PodMonitor, PrometheusRule or dashboard
   */
  readonly metrics?: MetricsOptions;
}

const CONTAINER_RESOURCES_FIELDS = knownFields<ContainerResources>('a field of a container\'s resources', {
  cpuRequest: true, cpuLimit: true, memoryRequest: true, memoryLimit: true,
});

/** The fields of the standalone target's options, and of its nested options. */
export const STANDALONE_OPTIONS_FIELDS = knownFields<StandaloneOptions>('a field of the standalone target\'s options', {
  namespace: true, createNamespace: true, nodeOrder: true, images: true, policies: true, nodeNetworks: true, auth: true, unicastPeers: true,
  profile: true, vrrpVersion: true, garpRefreshSeconds: true, discovery: true, labels: true, annotations: true, podLabels: true,
  podAnnotations: true, resources: true, priorityClassName: true, affinity: true, updateStrategy: true, maxUnavailable: true,
  minReadySeconds: true, sidecar: true, metrics: true,
}, {
  images: knownFields<StandaloneImages>('a field of the images', {
    keepalived: true, agent: true, agentInImage: true, keepalivedVersion: true, pullPolicy: true, pullSecrets: true,
  }),
  discovery: knownFields<DiscoveryOptions>('a field of the discovery options', {
    unicast: true, leases: true, leaseDurationSeconds: true, minReloadIntervalSeconds: true, maxNodes: true, maxNodeSetChange: true,
    peersInInterfaceNetwork: true, sidecar: true,
  }),
  resources: knownFields<StandaloneResources>('a field of the resources', { keepalived: true, agent: true },
    { keepalived: CONTAINER_RESOURCES_FIELDS, agent: CONTAINER_RESOURCES_FIELDS }),
  metrics: METRICS_OPTIONS_FIELDS,
});
