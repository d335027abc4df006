/** The Deckhouse target: a `deckhouse.io/v1alpha1` KeepalivedInstance per cluster, as plain data. */
import { parseCidr } from './address';
import { ClusterDefinition, Toleration } from './model';
import { clusterName } from './names';
import { InterfaceSelector } from './interface-selector';

export const KEEPALIVED_INSTANCE_GVK = { apiVersion: 'deckhouse.io/v1alpha1', kind: 'KeepalivedInstance' } as const;

/** A Kubernetes object as plain data. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** A toleration in Kubernetes' field order, without unset fields. */
export function tolerationManifest(t: Toleration): Record<string, unknown> {
  return dropUndefined({ key: t.key, operator: t.operator, value: t.value, effect: t.effect, tolerationSeconds: t.tolerationSeconds });
}

/** An object without its undefined fields. */
export function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** The KeepalivedInstance of a validated cluster, with each group's VRID from `vridOf`. */
export function keepalivedInstanceManifest(def: ClusterDefinition, vridOf: (groupIndex: number) => number): ManifestObject {
  const defaultSelector = InterfaceSelector.defaultRoute();
  return {
    ...KEEPALIVED_INSTANCE_GVK,
    metadata: { name: clusterName(def) },
    spec: dropUndefined({
      nodeSelector: { ...def.nodeSelector },
      tolerations: def.tolerations.length > 0 ? def.tolerations.map(tolerationManifest) : undefined,
      vrrpInstances: def.groups.map(({ group }, i) => dropUndefined({
        id: vridOf(i),
        interface: { ...(group.interface ?? defaultSelector).spec },
        virtualIPAddresses: group.addresses.map((vip) => dropUndefined({
          address: parseCidr(vip.address)!.text,
          interface: vip.interface ? { ...vip.interface.spec } : undefined,
        })),
        preempt: group.preempt === false ? false : undefined,
      })),
    }),
  };
}
