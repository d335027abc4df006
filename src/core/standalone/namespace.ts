/**
 * What a namespace of standalone clusters shares: the Namespace itself (unless it exists already) and
 * the agent ConfigMap. No cluster owns them: a `KeepalivedNamespace` does, so that removing or
 * reordering clusters never moves or deletes what another cluster still uses.
 */
import { agentBundleSource } from '../agent-bundle';
import { ClusterObject, ManifestObject } from '../manifest';
import { agentConfigMap } from './config-maps';

/** Options of a namespace's shared objects. */
export interface SharedNamespaceOptions {
  /** Whether to emit the Namespace (false: it exists and admits privileged pods). */
  readonly createNamespace: boolean;
  /** Whether to emit the agent ConfigMap (false: every cluster in it has the agent in its image). */
  readonly agentConfigMap: boolean;
  /** Extra labels for both objects. */
  readonly labels?: { readonly [key: string]: string };
  /** Extra annotations for the Namespace. */
  readonly annotations?: { readonly [key: string]: string };
}

/** The labels of a namespace's shared objects. */
export function sharedLabels(extra?: { readonly [key: string]: string }): Record<string, string> {
  return { ...extra, 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/managed-by': 'keepalived-constructs' };
}

/** The Namespace, labelled for Pod Security `privileged` (Kubernetes' and Deckhouse's). */
export function namespaceManifest(name: string, options: Pick<SharedNamespaceOptions, 'labels' | 'annotations'> = {}): ManifestObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: {
        ...sharedLabels(options.labels),
        // keepalived needs hostNetwork and NET_ADMIN / NET_RAW: only the privileged level admits that.
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
        // Deckhouse enforces Pod Security Standards through its admission-policy-engine (Gatekeeper),
        // which reads a label of its own (Baseline by default since Deckhouse 1.55), not Kubernetes'.
        'security.deckhouse.io/pod-policy': 'privileged',
      },
      ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
    },
  };
}

/** The labels the package sets on a namespace's Namespace. */
export const NAMESPACE_PACKAGE_LABELS: { readonly [key: string]: string } = namespaceManifest('').metadata.labels ?? {};

/** The id of a namespace's Namespace object. */
export const NAMESPACE_ID = 'Resource';
/** The id of a namespace's agent ConfigMap. */
export const AGENT_CONFIG_MAP_ID = 'AgentConfigMap';

/** A namespace's shared objects: the Namespace (id `Resource`) and the agent ConfigMap (id `AgentConfigMap`), each if wanted. */
export function sharedNamespaceObjects(name: string, options: SharedNamespaceOptions): ClusterObject[] {
  const objects: ClusterObject[] = [];
  if (options.createNamespace) objects.push({ id: NAMESPACE_ID, object: namespaceManifest(name, options) });
  if (options.agentConfigMap) objects.push({ id: AGENT_CONFIG_MAP_ID, object: agentConfigMap(name, sharedLabels(options.labels), agentBundleSource()), contentNamed: true });
  return objects;
}
