/**
 * Which construct a KeepalivedInstance is: FrontendVips (one address per VRRP group, all groups on one
 * interface with one preempt setting), GatewayPair (one group: an address on the VRRP interface and one
 * on an interface of its own), or KeepalivedCluster. `import` writes that construct, and `render`
 * models the instance as that construct does, so that both give the same objects on every target.
 */
import { KeepalivedInstanceInput, SelectorInput, VrrpInstanceInput } from './keepalived-instance';

/** The constructs an instance can be. */
export type Shape = 'FrontendVips' | 'GatewayPair' | 'KeepalivedCluster';

const sameSelector = (a: SelectorInput, b: SelectorInput) => JSON.stringify(a) === JSON.stringify(b);

/** `preempt: false` is the only value the output carries (true is the default). */
export const preemptProp = (g: VrrpInstanceInput) => (g.preempt === false ? false : undefined);

/** The construct whose shape the instance has. */
export function shapeOf(instance: KeepalivedInstanceInput): Shape {
  const groups = instance.vrrpInstances;
  const g = groups[0];
  if (g === undefined) return 'KeepalivedCluster';
  if (groups.length === 1 && g.virtualIPAddresses.length === 2 && !g.virtualIPAddresses[0].interface && g.virtualIPAddresses[1].interface) {
    return 'GatewayPair';
  }
  if (groups.every((x) => x.virtualIPAddresses.length === 1 && !x.virtualIPAddresses[0].interface
    && sameSelector(x.interface, g.interface) && preemptProp(x) === preemptProp(g))) {
    return 'FrontendVips';
  }
  return 'KeepalivedCluster';
}
