/** The Deckhouse target's object: a `deckhouse.io/v1alpha1` KeepalivedInstance per cluster, as plain data. */
import { parseCidr } from '../address';
import { InterfaceSelector } from '../interface-selector';
import { dropUndefined, ManifestObject } from '../manifest';
import { ClusterDefinition } from '../model';
import { clusterName } from '../names';
import type { BuildContext } from '../target';
import { tolerationManifest } from '../toleration';

export const KEEPALIVED_INSTANCE_GVK = { apiVersion: 'deckhouse.io/v1alpha1', kind: 'KeepalivedInstance' } as const;

/** The KeepalivedInstance of a validated cluster, with each group's VRID from `ctx.vridOf`. */
export function keepalivedInstanceManifest(def: ClusterDefinition, ctx: BuildContext, metadata: Pick<ManifestObject['metadata'], 'labels' | 'annotations'> = {}): ManifestObject {
  // Field by field, not `...KEEPALIVED_INSTANCE_GVK`: see `readOnlyRoot` in standalone/daemon-set.ts.
  return {
    apiVersion: KEEPALIVED_INSTANCE_GVK.apiVersion,
    kind: KEEPALIVED_INSTANCE_GVK.kind,
    metadata: metadata.labels || metadata.annotations
      ? dropUndefined({ name: clusterName(def), labels: metadata.labels && { ...metadata.labels }, annotations: metadata.annotations && { ...metadata.annotations } })
      : { name: clusterName(def) },
    spec: ctx.content(() => keepalivedInstanceSpec(def, ctx.vridOf)),
  };
}

function keepalivedInstanceSpec(def: ClusterDefinition, vridOf: (groupIndex: number) => number) {
  const defaultSelector = InterfaceSelector.defaultRoute();
  return dropUndefined({
    nodeSelector: { ...def.nodeSelector },
    tolerations: def.tolerations.length > 0 ? def.tolerations.map(tolerationManifest) : undefined,
    vrrpInstances: def.groups.map(({ group }, i) => dropUndefined({
      id: vridOf(i),
      interface: { ...(group.interface ?? defaultSelector)._spec },
      virtualIPAddresses: group.addresses.map((vip) => dropUndefined({
        address: parseCidr(vip.address)!.text,
        interface: vip.interface ? { ...vip.interface._spec } : undefined,
      })),
      preempt: group.preempt === false ? false : undefined,
    })),
  });
}
