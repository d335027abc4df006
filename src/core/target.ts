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
   * Use a literal password. The package emits it as a Secret, so it lands, base64-encoded, in the
   * synthesized manifests and in your repository: prefer `fromSecret` for anything that matters.
   */
  public static literal(password: string): VrrpAuth {
    return new VrrpAuth({ password });
  }

  private constructor(
    /** The reference or literal, as plain data. */
    public readonly spec: { readonly secretName?: string; readonly key?: string; readonly password?: string },
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

/** Failover timing presets for the standalone target. */
export enum FailoverProfile {
  /** advert_int 1 s (VRRPv2 on IPv4, v3 on IPv6), high priorities: failover in about 3 s. */
  DEFAULT = 'default',
  /** VRRPv3 with advert_int 0.1 s: failover in about 0.35 s, at ten adverts per second per group. */
  FAST = 'fast',
}

/** How the agent's `run` sidecar is declared in discovery mode. */
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
   *
   * @default 5
   */
  readonly minReloadIntervalSeconds?: number;

  /**
   * How the agent's `run` sidecar is declared.
   *
   * @default SidecarMode.NATIVE
   */
  readonly sidecar?: SidecarMode;
}

/** Container images for the standalone target. */
export interface StandaloneImages {
  /**
   * An image with keepalived >= 2.0.20 on PATH, built with LVS support (the container passes
   * `--checkers_pid`, which keepalived built without it rejects). Nothing else is assumed of it.
   * Set `keepalivedVersion` to its keepalived version.
   *
   * @default 'docker.io/osixia/keepalived:2.0.20'
   */
  readonly keepalived?: string;

  /**
   * An image with Node.js >= 20 on PATH as `node`, which runs the bundled node agent.
   *
   * @default 'docker.io/library/node:20-alpine'
   */
  readonly agent?: string;

  /**
   * The keepalived version that the `keepalived` image runs, as MAJOR.MINOR.PATCH. A feature that
   * needs a newer keepalived is a synth-time error naming the feature and the version it needs.
   * Set it whenever `keepalived` is set.
   *
   * @default '2.0.20' (the default image's)
   */
  readonly keepalivedVersion?: string;
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
   * Whether to emit the Namespace, labelled for Pod Security `privileged`. Set `false` to use an
   * existing namespace that admits privileged pods (hostNetwork and NET_ADMIN).
   *
   * @default true
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
   * The VRRP version for IPv4 groups (IPv6 always uses 3). Fractional advert intervals need 3.
   *
   * @default - 2, or 3 with FailoverProfile.FAST
   */
  readonly vrrpVersion?: 2 | 3;

  /**
   * Discovery mode: learn the nodes from the Kubernetes API (needs RBAC, which is then emitted, and a
   * reachable API server from host-network pods).
   *
   * @default - off: the static `nodeOrder` and `unicastPeers`, or rendezvous hashing
   */
  readonly discovery?: DiscoveryOptions;
}

/** Where keepalived runs. */
export class Target {
  /** The Deckhouse keepalived module: emits `deckhouse.io/v1alpha1` KeepalivedInstance objects. */
  public static deckhouse(): Target {
    return new Target('deckhouse', {});
  }

  /**
   * keepalived as a DaemonSet that this package emits, for clusters without Deckhouse: Namespace,
   * ServiceAccount, ConfigMap, DaemonSet with the node agent, and optional policies for VRRP.
   */
  public static standalone(options: StandaloneOptions = {}): Target {
    return new Target('standalone', options);
  }

  private constructor(
    /** `deckhouse` or `standalone`. */
    public readonly kind: 'deckhouse' | 'standalone',
    /** The standalone options (empty on the Deckhouse target). */
    public readonly options: StandaloneOptions,
  ) {}
}
