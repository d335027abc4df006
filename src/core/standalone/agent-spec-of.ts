/** The cluster model for the node agent: the ConfigMap's `spec.json`. */
import { IpFamily, parseCidr, parseIp } from '../address';
import { AGENT_SPEC_VERSION, AgentSpec } from '../agent-spec';
import { DEFAULT_LEASE_DURATION_SECONDS, DEFAULT_MAX_NODE_SET_CHANGE, DEFAULT_MAX_NODES } from '../discovery-limits';
import { InterfaceSelector } from '../interface-selector';
import { dropUndefined } from '../manifest';
import { withHealthChecks } from '../health-check';
import { ClusterDefinition, VrrpGroup } from '../model';
import { DEFAULT_GARP_REFRESH_SECONDS } from '../rules/garp-refresh';
import { metricsPortOf } from '../monitoring/metrics-options';
import { groupNameOf, standaloneNames } from './names';
import { FailoverProfile, StandaloneOptions, VrrpVersion } from './options';

/** The advert interval of the fast profile, in seconds. */
export const FAST_ADVERT_INTERVAL = 0.1;
/**
 * The advert interval of the default profile (VRRPv3), in seconds: the fastest with no spurious master
 * change idle, with both cores busy and under the keepalived container's 100m CPU limit
 * (bench/RESULTS.md, the advert-interval study; bench/intervals.json).
 */
export const DEFAULT_ADVERT_INTERVAL = FAST_ADVERT_INTERVAL;
/** The advert interval of the classic (Deckhouse-compatible) profile, and of any VRRPv2 group, in seconds. */
export const CLASSIC_ADVERT_INTERVAL = 1;
export const DEFAULT_MIN_RELOAD_INTERVAL_SECONDS = 5;

/** The family of a group: that of its first parseable address (IPv4 when none parses). */
export function familyOf(group: Pick<VrrpGroup, 'addresses'>): IpFamily {
  for (const vip of group.addresses ?? []) {
    const cidr = parseCidr(vip?.address);
    if (cidr) return cidr.address.family;
  }
  return 4;
}

/**
 * The VRRP version a group of `family` runs on the standalone target: IPv6 always 3; else the given
 * one, or 2 for the classic profile and for PASS authentication on the default profile (VRRPv3 has
 * none), else 3.
 */
export function vrrpVersionOf(options: StandaloneOptions, family: IpFamily): VrrpVersion {
  if (family === 6) return VrrpVersion.V3;
  if (options.vrrpVersion !== undefined) return options.vrrpVersion;
  if (options.profile === FailoverProfile.CLASSIC || authSelectsVrrpV2(options)) return VrrpVersion.V2;
  return VrrpVersion.V3;
}

/** Whether `auth` alone makes the IPv4 groups VRRPv2: the default profile, no `vrrpVersion`. */
export function authSelectsVrrpV2(options: StandaloneOptions): boolean {
  return options.auth !== undefined && options.vrrpVersion === undefined
    && (options.profile === undefined || options.profile === FailoverProfile.DEFAULT);
}

/** A group's advert interval: its own, else its profile's (sub-second only with VRRPv3). */
export function advertIntervalOf(options: StandaloneOptions, group: VrrpGroup, version: VrrpVersion): number {
  const profileInterval = options.profile === FailoverProfile.FAST ? FAST_ADVERT_INTERVAL
    : options.profile === FailoverProfile.CLASSIC ? CLASSIC_ADVERT_INTERVAL : DEFAULT_ADVERT_INTERVAL;
  return group.advertInterval ?? (version === VrrpVersion.V3 ? profileInterval : CLASSIC_ADVERT_INTERVAL);
}

/** A group's gratuitous ARP refresh: its own, else the cluster's, else every 30 s. */
export function garpRefreshSecondsOf(options: StandaloneOptions, group: VrrpGroup): number {
  return group.garpRefreshSeconds ?? options.garpRefreshSeconds ?? DEFAULT_GARP_REFRESH_SECONDS;
}

/** Whether the cluster's nodes hold Leases for its groups (discovery mode, unless turned off). */
export function usesLeases(o: StandaloneOptions): boolean {
  return o.discovery !== undefined && o.discovery.leases !== false;
}

/** The cluster model for the node agent. */
export function agentSpecOf(def: ClusterDefinition, options: StandaloneOptions, vridOf: (groupIndex: number) => number): AgentSpec {
  const o = options;
  const n = standaloneNames(def, o);
  const spec: AgentSpec = {
    version: AGENT_SPEC_VERSION,
    cluster: n.name,
    nodeOrder: o.nodeOrder ? [...o.nodeOrder] : undefined,
    unicastPeers: o.unicastPeers ? o.unicastPeers.map((p) => parseIp(p)?.text ?? p) : undefined,
    auth: o.auth !== undefined,
    groups: def.groups.map(({ group }, index) => {
      const family = familyOf(group);
      const vrrpVersion = vrrpVersionOf(o, family);
      return dropUndefined({
        name: groupNameOf(group, vridOf(index)),
        index,
        vrid: vridOf(index),
        family,
        vrrpVersion,
        interface: (group.interface ?? InterfaceSelector.defaultRoute())._spec,
        addresses: group.addresses.map((vip) => dropUndefined({ address: parseCidr(vip.address)!.text, interface: vip.interface?._spec })),
        preempt: group.preempt !== false,
        advertInterval: advertIntervalOf(o, group, vrrpVersion),
        preferredNode: group.preferredNode,
        garpRefreshSeconds: garpRefreshSecondsOf(o, group),
      });
    }),
    metrics: metricsPortOf(o.metrics) === undefined ? undefined : { port: metricsPortOf(o.metrics)! },
    discovery: o.discovery ? {
      nodeSelector: { ...def.nodeSelector },
      namespace: n.namespace,
      leases: usesLeases(o),
      leasePrefix: n.leasePrefix,
      leaseDurationSeconds: o.discovery.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS,
      unicast: o.discovery.unicast === true,
      minReloadIntervalSeconds: o.discovery.minReloadIntervalSeconds ?? DEFAULT_MIN_RELOAD_INTERVAL_SECONDS,
      maxNodes: o.discovery.maxNodes ?? DEFAULT_MAX_NODES,
      maxNodeSetChange: o.discovery.maxNodeSetChange ?? DEFAULT_MAX_NODE_SET_CHANGE,
      peersInInterfaceNetwork: o.discovery.peersInInterfaceNetwork === true ? true : undefined,
    } : undefined,
  };
  return withHealthChecks(def, dropUndefined(spec));
}
