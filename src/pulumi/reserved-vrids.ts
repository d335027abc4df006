import * as pulumi from '@pulumi/pulumi';
import { declareReservation, issuesOf, KeepalivedConfigError, ReservedVridsProps } from '../core';
import { asProgramError, describeOutcome, programDomain } from './domain';

/**
 * Reserves VRIDs for the whole program: automatic allocation never picks them, and using one
 * explicitly fails the program. Use it for the VRIDs of routers and firewalls outside the cluster.
 * It creates no Kubernetes object. The same props as the cdk8s `ReservedVrids`.
 *
 * @example
 * new ReservedVrids('core-routers', { ids: [1, 2, 50] });
 */
export class ReservedVrids extends pulumi.ComponentResource {
  /** The component's type token. */
  public static readonly __pulumiType: string = 'keepalived-constructs:index:ReservedVrids';

  /** The reserved VRIDs, as given. */
  public readonly ids: number[];

  /**
   * The reserved VRIDs, once the program's VRRP domain has settled. Fails, and fails the program, when
   * an id is not a VRRP router id.
   */
  public readonly vrids: pulumi.Output<number[]>;

  /**
   * @param name the component's resource name; it names the reservation in messages
   * @param props the same props as the cdk8s `ReservedVrids`
   * @param opts passed to the component
   */
  constructor(name: string, props: ReservedVridsProps, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered.
    const program = programDomain();
    let ids: readonly number[];
    try {
      ids = declareReservation(program.vrrp, name, props);
    } catch (error) {
      throw asProgramError(error);
    }
    super(ReservedVrids.__pulumiType, name, {}, opts);
    this.ids = [...ids];
    const { result } = program.join(name, () => describeOutcome(undefined, issuesOf(program.vrrp, name)), () => {
      const issues = issuesOf(program.vrrp, name);
      if (issues.length > 0) throw new KeepalivedConfigError(issues);
      return [...ids];
    });
    this.vrids = pulumi.output(result);
    this.registerOutputs({ vrids: this.vrids });
  }
}
