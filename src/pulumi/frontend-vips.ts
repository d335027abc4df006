import * as pulumi from '@pulumi/pulumi';
import { ClusterShape, FRONTEND_VIPS_SHAPE, FrontendVipsProps } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

/**
 * Public addresses on frontend nodes, one VRRP group per address, so that each address has its own
 * master and, with as many nodes as addresses, every node serves one. The same props, and the same
 * objects, as the cdk8s `FrontendVips`.
 *
 * @example
 * const front = new FrontendVips('front', {
 *   nodeSelector: { 'node-role.deckhouse.io/frontend': '' },
 *   addresses: ['203.0.113.101/32', '203.0.113.102/32', '203.0.113.103/32'],
 * });
 * export const frontVrids = front.vrids;
 */
export class FrontendVips extends KeepalivedCluster {
  /** The component's type token. */
  public static readonly __pulumiType: string = 'keepalived-constructs:index:FrontendVips';

  /**
   * @param name the component's resource name; also the cluster's path in messages and its VRID key
   * @param props the same props as the cdk8s `FrontendVips`
   * @param opts passed to the component, and through `parent` to its children
   */
  constructor(name: string, props: FrontendVipsProps, opts?: pulumi.ComponentResourceOptions) {
    super(name, props, opts);
  }

  /** @internal */
  public static readonly _shape: ClusterShape = FRONTEND_VIPS_SHAPE;
}
