/**
 * The props of the three cluster shapes, shared by the cdk8s constructs and the Pulumi components, and
 * how each shape turns into VRRP groups (with its fields named in the user's terms).
 */
import { throwIfIssues, ValidationIssue } from './errors';
import { KnownFields, knownFields } from './fields';
import { InterfaceSelector } from './interface-selector';
import { listIn } from './metadata';
import { CLUSTER_BASE_FIELDS, GroupDefinition, KeepalivedClusterBaseProps, VrrpGroup } from './model';

/** Properties for `KeepalivedCluster`. */
export interface KeepalivedClusterProps extends KeepalivedClusterBaseProps {
  /**
   * The VRRP groups to start with. Add more with `addGroup`.
   *
   * @default - none
   */
  readonly groups?: VrrpGroup[];
}

/** Properties for `FrontendVips`. */
export interface FrontendVipsProps extends KeepalivedClusterBaseProps {
  /** The public addresses, e.g. `['203.0.113.101/32', '203.0.113.102/32']`. Each is its own VRRP group. */
  readonly addresses: string[];

  /**
   * The VRID of each address, in the same order.
   *
   * @default - allocated automatically and stably, keyed by the address
   */
  readonly vrids?: number[];

  /**
   * The interface that carries the addresses and the VRRP adverts.
   *
   * @default InterfaceSelector.defaultRoute()
   */
  readonly interface?: InterfaceSelector;

  /**
   * Whether a returning higher-priority node takes its address back.
   *
   * @default true
   */
  readonly preempt?: boolean;

  /**
   * The VRRP advert interval in seconds (standalone target only).
   *
   * @default - the standalone target's failover profile: 0.1 s, or 1 s with FailoverProfile.CLASSIC or VRRPv2
   */
  readonly advertInterval?: number;
}

/** One side of a gateway: its virtual address and the interface that carries it. */
export interface GatewayAddress {
  /** The address with its prefix, e.g. `192.168.42.1/24`. */
  readonly address: string;

  /**
   * The interface that carries the address. On the LAN side it also carries the VRRP adverts.
   *
   * @default - LAN: InterfaceSelector.defaultRoute(); WAN: the LAN interface
   */
  readonly interface?: InterfaceSelector;
}

/** Properties for `GatewayPair`. */
export interface GatewayPairProps extends KeepalivedClusterBaseProps {
  /** The LAN side: VRRP runs on its interface, and its address carries no interface of its own. */
  readonly lan: GatewayAddress;

  /** The WAN side: its address is held on `wan.interface` of the same node as the LAN address. */
  readonly wan: GatewayAddress;

  /**
   * The VRID of the pair.
   *
   * @default - allocated automatically and stably
   */
  readonly vrid?: number;

  /**
   * Whether a returning higher-priority node takes the pair back.
   *
   * @default true
   */
  readonly preempt?: boolean;

  /**
   * The VRRP advert interval in seconds (standalone target only).
   *
   * @default - the standalone target's failover profile: 0.1 s, or 1 s with FailoverProfile.CLASSIC or VRRPv2
   */
  readonly advertInterval?: number;

  /**
   * The node that should hold the pair while it is healthy (standalone target only).
   *
   * @default - chosen by `nodeOrder` or hash
   */
  readonly preferredNode?: string;
}

/** The groups of a KeepalivedCluster's props: `groups[i]`. */
export function clusterGroupDefinition(group: VrrpGroup, index: number): GroupDefinition {
  return { group, fieldOf: (field) => `groups[${index}].${field}`, userObject: true };
}

/** The groups of FrontendVips: one per address, keyed by the address so that reordering keeps VRIDs. */
export function frontendVipsGroups(path: string, props: FrontendVipsProps): GroupDefinition[] {
  const addresses = props.addresses;
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throwIfIssues([{ path, field: 'addresses', value: addresses, problem: Array.isArray(addresses) ? 'no addresses given' : 'is not a list of addresses', expected: 'a list of at least one address such as ["203.0.113.10/32"]' }]);
  }
  if (props.vrids !== undefined && (!Array.isArray(props.vrids) || props.vrids.length !== addresses.length)) {
    throwIfIssues([{
      path, field: 'vrids', value: props.vrids,
      problem: Array.isArray(props.vrids) ? `has ${props.vrids.length} entries for ${addresses.length} addresses` : 'is not a list of VRIDs',
      expected: 'one VRID per address, in the same order, or omit vrids for automatic allocation',
    }]);
  }
  return addresses.map((address, i) => ({
    group: {
      id: props.vrids?.[i],
      interface: props.interface,
      addresses: [{ address }],
      preempt: props.preempt,
      advertInterval: props.advertInterval,
    },
    fieldOf: (field: string) => {
      if (field === 'id') return `vrids[${i}]`;
      if (field === 'addresses[0].address') return `addresses[${i}]`;
      return field;
    },
  }));
}

const GATEWAY_FIELDS: Record<string, string> = {
  'id': 'vrid',
  'interface': 'lan.interface',
  'addresses[0].address': 'lan.address',
  'addresses[1].address': 'wan.address',
  'addresses[1].interface': 'wan.interface',
};

/** The one group of a GatewayPair: VRRP on the LAN interface, the WAN address on its own interface. */
export function gatewayPairGroup(props: GatewayPairProps): GroupDefinition {
  return {
    group: {
      id: props.vrid,
      name: 'gateway',
      interface: props.lan?.interface,
      addresses: [{ address: props.lan?.address }, { address: props.wan?.address, interface: props.wan?.interface }],
      preempt: props.preempt,
      advertInterval: props.advertInterval,
      preferredNode: props.preferredNode,
    },
    fieldOf: (field) => GATEWAY_FIELDS[field] ?? field,
  };
}

/**
 * A cluster shape as the adapters declare it: its props' fields (its groups' are checked with each
 * group), and the VRRP groups it makes of its props. `path` names the cluster in messages.
 */
export interface ClusterShape {
  readonly fields: KnownFields;
  groupsOf(path: string, props: KeepalivedClusterBaseProps): GroupDefinition[];
}

/** KeepalivedCluster: its `groups` as given. */
export const KEEPALIVED_CLUSTER_SHAPE: ClusterShape = {
  fields: knownFields<KeepalivedClusterProps>('a prop of KeepalivedCluster', { ...CLUSTER_BASE_FIELDS, groups: true }),
  groupsOf: (path, props) => {
    const issues: ValidationIssue[] = [];
    const groups = listIn('groups', (props as KeepalivedClusterProps).groups, (field, value, problem, expected) => issues.push({ path, field, value, problem, expected }),
      'a list of VRRP groups, e.g. [{ addresses: [{ address: "192.0.2.10/32" }] }]');
    throwIfIssues(issues);
    return (groups as VrrpGroup[]).map(clusterGroupDefinition);
  },
};

/** FrontendVips: a group per address. */
export const FRONTEND_VIPS_SHAPE: ClusterShape = {
  fields: knownFields<FrontendVipsProps>('a prop of FrontendVips', {
    ...CLUSTER_BASE_FIELDS, addresses: true, vrids: true, interface: true, preempt: true, advertInterval: true,
  }),
  groupsOf: (path, props) => frontendVipsGroups(path, props as FrontendVipsProps),
};

const GATEWAY_ADDRESS_FIELDS = knownFields<GatewayAddress>('a field of a gateway address', { address: true, interface: true });

/** GatewayPair: one group of the LAN and the WAN address. */
export const GATEWAY_PAIR_SHAPE: ClusterShape = {
  fields: knownFields<GatewayPairProps>('a prop of GatewayPair', {
    ...CLUSTER_BASE_FIELDS, lan: true, wan: true, vrid: true, preempt: true, advertInterval: true, preferredNode: true,
  }, { lan: GATEWAY_ADDRESS_FIELDS, wan: GATEWAY_ADDRESS_FIELDS }),
  groupsOf: (_path, props) => [gatewayPairGroup(props as GatewayPairProps)],
};

/**
 * The shape of an adapter's class (its static `_shape`), and whether its props may have no other
 * fields: not when the class inherited its shape (a user's subclass, whose props may have fields of
 * its own; the nested objects of the fields it inherits are checked all the same).
 */
export function shapeOfClass(kind: { readonly _shape: ClusterShape }): { readonly shape: ClusterShape; readonly ownKeys: boolean } {
  const inherited = (Object.getPrototypeOf(kind) as { readonly _shape?: ClusterShape })._shape;
  return { shape: kind._shape, ownKeys: kind._shape !== inherited };
}
