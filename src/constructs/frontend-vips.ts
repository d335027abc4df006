import { Construct } from 'constructs';
import { ClusterShape, FRONTEND_VIPS_SHAPE, FrontendVipsProps } from '../core';
import { KeepalivedCluster } from './keepalived-cluster';

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
  /** @internal */
  public static readonly _shape: ClusterShape = FRONTEND_VIPS_SHAPE;

  constructor(scope: Construct, id: string, props: FrontendVipsProps) {
    super(scope, id, props);
  }
}
