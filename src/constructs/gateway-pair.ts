import { Construct } from 'constructs';
import { ClusterShape, GATEWAY_PAIR_SHAPE, GatewayPairProps } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

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
  /** @internal */
  public static readonly _shape: ClusterShape = GATEWAY_PAIR_SHAPE;

  constructor(scope: Construct, id: string, props: GatewayPairProps) {
    super(scope, id, props);
  }
}
