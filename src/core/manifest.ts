/** Kubernetes objects as plain data: what the targets build and the adapters emit. */

/** A Kubernetes object as plain data. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: { readonly [key: string]: string };
    readonly annotations?: { readonly [key: string]: string };
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/**
 * One object of a cluster with its identity in the adapters: `id` is the cdk8s construct id (the main
 * object's is `Resource`), and `contentNamed` says that its name hashes its content, so that it is
 * only known once the whole app is (an immutable ConfigMap).
 */
export interface ClusterObject {
  readonly id: string;
  readonly object: ManifestObject;
  /**
   * Named after its content: a change of content is a new object and the end of the old one, which
   * tools that replace objects must be free to do (Pulumi: never protected).
   */
  readonly contentNamed?: boolean;
  /** The ids of the cluster's objects that must exist before this one (a Calico policy's tier). */
  readonly dependsOn?: readonly string[];
  /**
   * Its rollout finishes only when someone replaces its pods (a DaemonSet with `OnDelete`): a tool
   * must not wait for it (Pulumi: `pulumi.com/skipAwait`).
   */
  readonly manualRollout?: boolean;
  /**
   * Pods of earlier versions still use it until they are replaced by hand (`OnDelete`): a replaced
   * version must stay (Pulumi: `retainOnDelete`).
   */
  readonly outlivesItsVersion?: boolean;
  /**
   * Two of it cannot run side by side, so a replacement (a new name, another namespace, an immutable
   * field) must remove the old one first: a cluster's KeepalivedInstance (the Deckhouse webhook refuses
   * a second with the same VRIDs) or DaemonSet (the new pods cannot bind the old ones' host port).
   * Pulumi: `deleteBeforeReplace`.
   */
  readonly exclusive?: boolean;
}

/** An object without its undefined fields. */
export function dropUndefined<T extends object>(obj: T): T {
  // A loop, not Object.fromEntries(Object.entries(...)): every object a synth builds goes through here.
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const value = (obj as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/** A list without its undefined items. */
export function definedItems<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((i): i is T => i !== undefined);
}

/** Whether a kind is cluster-scoped: a chart's or a cluster's namespace never lands on it. */
export function isClusterScoped(object: Pick<ManifestObject, 'metadata'>): boolean {
  return object.metadata.namespace === undefined;
}

/** The top-level fields of an object that carry its content: all but apiVersion, kind and metadata. */
export function contentFields(object: ManifestObject): string[] {
  return Object.keys(object).filter((key) => key !== 'apiVersion' && key !== 'kind' && key !== 'metadata');
}
