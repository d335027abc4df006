import { Construct } from 'constructs';
import { declareReservation, ReservedVridsProps } from '../core';
import { domainOf, validateInDomain } from './domain';

/**
 * Reserves VRIDs for the whole app: automatic allocation never picks them, and using one explicitly
 * is a synth-time error. Use it for the VRIDs of routers and firewalls outside the cluster.
 *
 * @example
 * new ReservedVrids(app, 'core-routers', { ids: [1, 2, 50] });
 */
export class ReservedVrids extends Construct {
  /** The reserved VRIDs. */
  public readonly ids: number[];

  constructor(scope: Construct, id: string, props: ReservedVridsProps) {
    super(scope, id);
    this.ids = [...declareReservation(domainOf(this), this.node.path, props)];
    validateInDomain(this);
  }
}
