import { Construct } from 'constructs';
import { InterfaceSelector, KeepalivedClusterBaseProps } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

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
   * @default - 1, or the standalone target's failover profile
   */
  readonly advertInterval?: number;

  /**
   * The node that should hold the pair while it is healthy (standalone target only).
   *
   * @default - chosen by `nodeOrder` or hash
   */
  readonly preferredNode?: string;
}

/**
 * A gateway's LAN and WAN addresses as one VRRP group: they always sit on the same node and move
 * together. VRRP runs on the LAN interface.
 *
 * @example
 * new GatewayPair(chart, 'gw', {
 *   nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
 *   lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
 *   wan: { address: '203.0.113.1/28', interface: InterfaceSelector.name('ens7') },
 * });
 */
export class GatewayPair extends KeepalivedCluster {
  constructor(scope: Construct, id: string, props: GatewayPairProps) {
    super(scope, id, props);
    const fields: Record<string, string> = {
      'id': 'vrid',
      'interface': 'lan.interface',
      'addresses[0].address': 'lan.address',
      'addresses[1].address': 'wan.address',
      'addresses[1].interface': 'wan.interface',
    };
    this.addGroupDefinition({
      group: {
        id: props.vrid,
        name: 'gateway',
        interface: props.lan?.interface,
        addresses: [{ address: props.lan?.address }, { address: props.wan?.address, interface: props.wan?.interface }],
        preempt: props.preempt,
        advertInterval: props.advertInterval,
        preferredNode: props.preferredNode,
      },
      fieldOf: (field) => fields[field] ?? field,
    });
  }
}
