/** A cluster's objects on its target: the entry points both adapters call. */
import type { VrrpDomain } from './domain';
import { ClusterObject } from './manifest';
import { ClusterDefinition } from './model';
import { BuildContext } from './target';

/** The cluster's objects, in apply order, with the VRIDs the domain allocated. */
export function clusterObjects(def: ClusterDefinition, domain: VrrpDomain): ClusterObject[] {
  const resolution = domain.resolve();
  return def.target._strategy.objects(def, { vridOf: (i) => resolution.vridOf(def, i)!, content: (build) => build() });
}

/** Builds no content: the objects' heads need no VRID, and none of what only synth needs. */
const HEADS: BuildContext = {
  vridOf: () => {
    throw new Error('internal error: an object\'s head asked for a VRID (build it in `content`)');
  },
  content: () => undefined,
};

/**
 * Which objects the cluster emits, with their ids, kinds, names and top-level fields: all depend on
 * the props alone, so adapters create one resource per object when the cluster is declared and fill
 * it from `clusterObjects` at synth time. The fields' values (and a `contentNamed` object's name) are
 * not built here.
 */
export function clusterObjectHeads(def: ClusterDefinition): readonly ClusterObject[] {
  let heads = headsOf.get(def);
  if (!heads) headsOf.set(def, heads = def.target._strategy.objects(def, HEADS));
  return heads;
}

/** Each cluster's heads, built once (the adapters and the domain's name check read them). */
const headsOf = new WeakMap<ClusterDefinition, readonly ClusterObject[]>();
