import { Construct } from 'constructs';
import { domainOf, validateInDomain } from './domain';

/** Properties for `ReservedVrids`. */
export interface ReservedVridsProps {
  /** VRIDs (1..255) that other VRRP routers on the segment already use. */
  readonly ids: number[];
}

/**
 * Reserves VRIDs for the whole app: automatic allocation never picks them, and using one explicitly
 * is a synth-time error. Use it for the VRIDs of routers and firewalls outside the cluster.
 *
 * @example
 * new ReservedVrids(app, 'core-routers', { ids: [1, 2, 50] });
 */
export class ReservedVrids extends Construct {
  /** The reserved VRIDs. */
  public readonly ids: readonly number[];

  constructor(scope: Construct, id: string, props: ReservedVridsProps) {
    super(scope, id);
    this.ids = [...props.ids];
    domainOf(this).reserve({ owner: this.node.path, field: 'ids', ids: this.ids });
    validateInDomain(this);
  }
}
