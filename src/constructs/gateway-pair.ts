import { Construct } from 'constructs';
import { GATEWAY_PAIR_FIELDS, GatewayPairProps, gatewayPairGroup, KnownFields } from '../core';
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
  protected static readonly _fields: KnownFields = GATEWAY_PAIR_FIELDS;

  constructor(scope: Construct, id: string, props: GatewayPairProps) {
    super(scope, id, props);
    this._addGroupDefinition(gatewayPairGroup(props));
  }
}
