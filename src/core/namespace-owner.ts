/**
 * The owner of a namespace's shared objects (the Namespace and the agent ConfigMap), and what the
 * standalone clusters in the namespace ask of it: the rules that the domain checks and that both
 * adapters follow when they make an owner for clusters that declared none.
 */
import { ValidationIssue } from './errors';
import { ClusterDefinition } from './model';

/** The owner of a namespace's shared objects (the Namespace and the agent ConfigMap). */
export interface NamespaceOwner {
  /** Its construct path or resource name. */
  readonly path: string;
  /** The namespace. */
  readonly name: string;
  /** Whether it emits the Namespace. */
  readonly createNamespace: boolean;
  /** Whether it emits the agent ConfigMap. */
  readonly agentConfigMap: boolean;
  /** Whether the package created it for the namespace's clusters (none was declared), rather than the user. */
  readonly implicit?: boolean;
  /** Extra labels for its objects (as declared). */
  readonly labels?: { readonly [key: string]: string };
  /** Extra annotations for the Namespace (as declared). */
  readonly annotations?: { readonly [key: string]: string };
}

/** What one standalone cluster asks of its namespace's shared objects. */
export interface NamespaceUse {
  /** The cluster's construct path or resource name. */
  readonly path: string;
  /** The cluster's `createNamespace`, if it says. */
  readonly createNamespace: boolean | undefined;
  /** Whether its pods mount the agent ConfigMap. */
  readonly agentConfigMap: boolean;
}

/** What a standalone cluster asks of its namespace. */
export function namespaceUseOf(def: ClusterDefinition): NamespaceUse {
  return { path: def.path, createNamespace: def.target.standaloneOptions?.createNamespace, agentConfigMap: def.target._strategy.needsAgentConfigMap };
}

/**
 * What the owner that the package makes for a namespace's clusters (none being declared) emits: the
 * agent ConfigMap if some cluster mounts it; the Namespace unless the clusters say it exists (when
 * they disagree, `namespaceDisagreement` reports it).
 */
export function implicitNamespaceOptions(uses: readonly NamespaceUse[]): ImplicitNamespaceOptions {
  return uses.reduce(withNamespaceUse, { createNamespace: true, agentConfigMap: false });
}

/** What an implicit owner emits. */
export type ImplicitNamespaceOptions = Pick<NamespaceOwner, 'createNamespace' | 'agentConfigMap'>;

/** `implicitNamespaceOptions` of the uses so far, and one more. */
export function withNamespaceUse(options: ImplicitNamespaceOptions, use: NamespaceUse): ImplicitNamespaceOptions {
  return { createNamespace: options.createNamespace && use.createNamespace !== false, agentConfigMap: options.agentConfigMap || use.agentConfigMap };
}

/**
 * Clusters of a namespace without a declared owner that disagree on whether the namespace exists: the
 * Namespace would then be emitted or not depending on which clusters the app has, so adding a cluster
 * that says it exists would delete it (Pulumi, or a GitOps tool that prunes), with everything in it.
 * One issue on each cluster that says `createNamespace: false`.
 */
export function namespaceDisagreement(namespace: string, uses: readonly NamespaceUse[]): ValidationIssue[] {
  const other = uses.find((u) => u.createNamespace !== false);
  if (!other) return [];
  return uses.filter((u) => u.createNamespace === false).map((u) => ({
    path: u.path, field: 'target.createNamespace', value: false,
    problem: `namespace ${namespace} has no KeepalivedNamespace, and its cluster ${other.path} ${other.createNamespace ? 'sets createNamespace: true' : 'leaves createNamespace unset'}, `
      + 'so whether the Namespace is emitted would depend on which clusters there are: adding or removing one would create the namespace, or delete it with everything in it',
    expected: `a KeepalivedNamespace ${namespace}, which decides for all its clusters (createNamespace: false when the namespace exists already), or createNamespace: false on every cluster in it`,
  }));
}
