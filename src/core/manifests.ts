/** A cluster's objects on its target: the entry points both adapters call. */
import { VrrpDomain } from './domain';
import { ClusterObject } from './manifest';
import { ClusterDefinition } from './model';

/** The cluster's objects, in apply order, with the VRIDs the domain allocated. */
export function clusterObjects(def: ClusterDefinition, domain: VrrpDomain): ClusterObject[] {
  const resolution = domain.resolve();
  return def.target.strategy.objects(def, { vridOf: (i) => resolution.vridOf(def, i)! });
}

/**
 * Which objects the cluster emits, with their ids, kinds, names and top-level fields: all depend on
 * the props alone, so adapters create one resource per object when the cluster is declared and fill
 * it from `clusterObjects` at synth time. Only the fields' content (and a `contentNamed` object's
 * name) may differ from what the cluster finally emits.
 */
export function clusterObjectHeads(def: ClusterDefinition): ClusterObject[] {
  return def.target.strategy.objects(def, { vridOf: () => 1 });
}
