import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ClusterObject, ManifestObject } from '../core';

/** A typed @pulumi/kubernetes resource class: `new (name, args, opts)`, which sets apiVersion and kind itself. */
type KubernetesResourceClass = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/**
 * The typed resource class of each Kubernetes kind that core emits (or may emit: RBAC and Leases for
 * node-order discovery), by `apiVersion/kind`. Every other kind (KeepalivedInstance, Calico and Cilium
 * policies) is a `k8s.apiextensions.CustomResource`.
 */
const KUBERNETES_KINDS: Readonly<Record<string, KubernetesResourceClass>> = {
  'v1/Namespace': k8s.core.v1.Namespace,
  'v1/ServiceAccount': k8s.core.v1.ServiceAccount,
  'v1/Secret': k8s.core.v1.Secret,
  'v1/ConfigMap': k8s.core.v1.ConfigMap,
  'apps/v1/DaemonSet': k8s.apps.v1.DaemonSet,
  'networking.k8s.io/v1/NetworkPolicy': k8s.networking.v1.NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': k8s.rbac.v1.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': k8s.rbac.v1.RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': k8s.rbac.v1.ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': k8s.rbac.v1.ClusterRoleBinding,
  'coordination.k8s.io/v1/Lease': k8s.coordination.v1.Lease,
};

/**
 * The @pulumi/kubernetes resource of one of core's objects. Its identity (class, kind) and metadata
 * are known now, as plain values, as with any resource a program declares: a transformation reads and
 * changes `props.metadata` as usual. The metadata has its explicit `name`, so that the provider never
 * auto-names the object; an object named after its content gets its name later, as an Output. The
 * other top-level fields (`spec`, `data`, ...) arrive when the program's VRRP domain has settled, each
 * an Output of the content, unchanged, so that the provider applies exactly what core built (a
 * transformation changes them with `pulumi.output(props.spec).apply(...)`).
 *
 * @param fields the object's top-level fields other than apiVersion and kind, known from the props
 *
 * @internal
 */
export function kubernetesObject(
  name: string, head: ClusterObject, fields: readonly string[], content: Promise<ManifestObject>, opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const { apiVersion, kind, metadata } = head.object;
  const args: Record<string, pulumi.Input<unknown>> = {};
  for (const field of fields) {
    args[field] = field !== 'metadata' ? pulumi.output(content.then((object) => object[field]))
      : head.contentNamed ? { ...metadata, name: pulumi.output(content.then((object) => object.metadata.name)) }
        : { ...metadata };
  }
  if (head.manualRollout) {
    // Its rollout waits for someone to replace the pods: the provider must not wait for it.
    const meta = args.metadata as Record<string, unknown>;
    args.metadata = { ...meta, annotations: { ...(meta.annotations as object | undefined), [SKIP_AWAIT_ANNOTATION]: 'true' } };
  }
  const options = { ...opts, ...resourceOptionsOf(head) };
  const typed = KUBERNETES_KINDS[`${apiVersion}/${kind}`];
  if (typed) return new typed(name, args, options);
  return new k8s.apiextensions.CustomResource(name, { apiVersion, kind, ...args }, options);
}

/** pulumi-kubernetes' annotation that stops it from waiting for a resource's rollout. */
export const SKIP_AWAIT_ANNOTATION = 'pulumi.com/skipAwait';

/**
 * The resource options that follow from what an object is (see `ClusterObject`): one named after its
 * content is never protected (a component's `protect` would block the replacement that every change
 * of its content is, a package upgrade's included), and kept when replaced if it outlives its version;
 * an exclusive one is deleted before its replacement is created.
 */
function resourceOptionsOf(head: ClusterObject): pulumi.CustomResourceOptions {
  return {
    ...(head.contentNamed ? { protect: false } : {}),
    ...(head.outlivesItsVersion ? { retainOnDelete: true } : {}),
    ...(head.exclusive ? { deleteBeforeReplace: true } : {}),
  };
}


/** An object's name as `Kind/namespace/name`, or `Kind/name` when it is cluster-scoped. */
export function objectName(object: Pick<ManifestObject, 'kind' | 'metadata'>): string {
  const { namespace, name } = object.metadata;
  return namespace === undefined ? `${object.kind}/${name}` : `${object.kind}/${namespace}/${name}`;
}
