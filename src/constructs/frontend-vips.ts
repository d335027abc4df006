import { Construct } from 'constructs';
import { InterfaceSelector, KeepalivedClusterBaseProps, throwIfIssues } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

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
   * @default - 1, or the standalone target's failover profile
   */
  readonly advertInterval?: number;
}

/**
 * Public addresses on frontend nodes, one VRRP group per address, so that each address has its own
 * master and, with as many nodes as addresses, every node serves one.
 *
 * @example
 * new FrontendVips(chart, 'front', {
 *   nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
 *   addresses: ['203.0.113.101/32', '203.0.113.102/32', '203.0.113.103/32'],
 * });
 */
export class FrontendVips extends KeepalivedCluster {
  constructor(scope: Construct, id: string, props: FrontendVipsProps) {
    super(scope, id, props);
    const addresses = props.addresses;
    if (!Array.isArray(addresses) || addresses.length === 0) {
      throwIfIssues([{ path: this.node.path, field: 'addresses', value: addresses, problem: 'no addresses given', expected: 'at least one address such as "203.0.113.10/32"' }]);
    }
    if (props.vrids !== undefined && props.vrids.length !== addresses.length) {
      throwIfIssues([{
        path: this.node.path, field: 'vrids', value: props.vrids,
        problem: `has ${props.vrids.length} entries for ${addresses.length} addresses`,
        expected: 'one VRID per address, in the same order, or omit vrids for automatic allocation',
      }]);
    }
    addresses.forEach((address, i) => this.addGroupDefinition({
      group: {
        id: props.vrids?.[i],
        name: undefined,
        interface: props.interface,
        addresses: [{ address }],
        preempt: props.preempt,
        advertInterval: props.advertInterval,
      },
      fieldOf: (field) => {
        if (field === 'id') return `vrids[${i}]`;
        if (field === 'addresses[0].address') return `addresses[${i}]`;
        if (field === 'addresses') return 'addresses';
        return field;
      },
    }));
  }
}
