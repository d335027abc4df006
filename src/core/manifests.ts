/** A cluster's objects on its target: the entry points both adapters call. */
import { VrrpDomain, vridClaimsOf } from './domain';
import { ClusterObject } from './manifest';
import { ClusterDefinition } from './model';
import { ownVrid } from './vrid';

/** The last build of each cluster's objects, with the VRIDs it was built with. */
const lastBuild = new WeakMap<ClusterDefinition, { readonly vrids: readonly (number | undefined)[]; readonly objects: ClusterObject[] }>();

/**
 * The cluster's objects built with these VRIDs (one per group). The last build is reused when the
 * VRIDs are the same: the objects depend on nothing else that can change (groups are only ever
 * appended, and a group appended changes the list).
 */
function objectsWith(def: ClusterDefinition, vrids: readonly (number | undefined)[]): ClusterObject[] {
  const last = lastBuild.get(def);
  if (last && last.vrids.length === vrids.length && last.vrids.every((v, i) => v === vrids[i])) return last.objects;
  const objects = def.target.strategy.objects(def, { vridOf: (i) => vrids[i]! });
  lastBuild.set(def, { vrids, objects });
  return objects;
}

/** The cluster's objects, in apply order, with the VRIDs the domain allocated. */
export function clusterObjects(def: ClusterDefinition, domain: VrrpDomain): ClusterObject[] {
  const resolution = domain.resolve();
  return objectsWith(def, def.groups.map((_, i) => resolution.vridOf(def, i)));
}

/**
 * Which objects the cluster emits, with their ids, kinds, names and top-level fields: all depend on
 * the props alone, so adapters create one resource per object when the cluster is declared and fill
 * it from `clusterObjects` at synth time. Only the fields' content (and a `contentNamed` object's
 * name) may differ from what the cluster finally emits. They are built with each group's own VRID
 * (explicit, or its own slot), which is its final one unless another group takes that slot: then
 * `clusterObjects` builds again, else it reuses this build.
 */
export function clusterObjectHeads(def: ClusterDefinition): ClusterObject[] {
  return objectsWith(def, vridClaimsOf(def).map(ownVrid));
}
