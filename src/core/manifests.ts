/** A cluster's manifests on its target: the one entry point both adapters call. */
import { agentBundleSource } from './agent-bundle';
import { ManifestObject, keepalivedInstanceManifest } from './deckhouse';
import { VrrpDomain } from './domain';
import { ClusterDefinition } from './model';
import { standaloneManifests } from './standalone';

/** The identity of a manifest, known when the cluster is declared: its content comes at synth time. */
export interface ManifestHead {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** The cluster's objects, in apply order, with the VRIDs the domain allocated. */
export function clusterManifests(def: ClusterDefinition, domain: VrrpDomain): ManifestObject[] {
  const resolution = domain.resolve();
  return build(def, domain, (i) => resolution.vridOf(def, i)!, agentBundleSource());
}

/**
 * Which objects the cluster emits (kind, name, namespace), which depends on its props alone. Adapters
 * create one resource per head when the cluster is declared, and fill it from `clusterManifests` later.
 * The ConfigMap's name here lacks its content hash.
 */
export function clusterManifestHeads(def: ClusterDefinition, domain: VrrpDomain): ManifestHead[] {
  return build(def, domain, () => 1, '').map((m) => ({
    apiVersion: m.apiVersion,
    kind: m.kind,
    name: m.kind === 'ConfigMap' ? m.metadata.name.replace(/-[0-9a-f]{10}$/, '') : m.metadata.name,
    namespace: m.metadata.namespace,
  }));
}

function build(def: ClusterDefinition, domain: VrrpDomain, vridOf: (i: number) => number, agentSource: string): ManifestObject[] {
  if (def.target.kind === 'deckhouse') return [keepalivedInstanceManifest(def, vridOf)];
  return standaloneManifests(def, { vridOf, agentSource, ownsNamespace: domain.ownsNamespace(def) });
}
