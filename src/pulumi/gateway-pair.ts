import * as pulumi from '@pulumi/pulumi';
import { ClusterShape, GATEWAY_PAIR_SHAPE, GatewayPairProps } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

/**
 * A gateway's LAN and WAN addresses as one VRRP group: they always sit on the same node and move
 * together. VRRP runs on the LAN interface. The same props, and the same objects, as the cdk8s
 * `GatewayPair`.
 *
 * @example
 * new GatewayPair('gw', {
 *   nodeSelector: { 'node-role.deckhouse.io/mygateway': '' },
 *   lan: { address: '192.168.42.1/24', interface: InterfaceSelector.networkAddress('192.168.42.0/24') },
 *   wan: { address: '203.0.113.1/28', interface: InterfaceSelector.name('ens7') },
 * });
 */
export class GatewayPair extends KeepalivedCluster {
  /** The component's type token. */
  public static readonly __pulumiType: string = 'keepalived-constructs:index:GatewayPair';

  /**
   * @param name the component's resource name; also the cluster's path in messages and its VRID key
   * @param props the same props as the cdk8s `GatewayPair`
   * @param opts passed to the component, and through `parent` to its children
   */
  constructor(name: string, props: GatewayPairProps, opts?: pulumi.ComponentResourceOptions) {
    super(name, props, opts);
  }

  /** @internal */
  public static readonly _shape: ClusterShape = GATEWAY_PAIR_SHAPE;
}
