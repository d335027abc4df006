import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterObject, contentFields, isClusterScoped, ManifestObject } from '../core';

/**
 * A real cdk8s ApiObject for one of core's objects. Its identity and metadata are set now; each
 * content field is a Lazy that core fills at synth time, when the whole app is known (VRIDs are
 * allocated app-wide, and a content-named ConfigMap's name hashes its content). So Chart labels,
 * `metadata.addLabel/addAnnotation` and `addJsonPatch` apply as to any other ApiObject.
 */
export function emitObject(scope: Construct, head: ClusterObject, produce: () => ManifestObject): ApiObject {
  const { apiVersion, kind, metadata } = head.object;
  const content = Object.fromEntries(contentFields(head.object).map((field) => [field, Lazy.any({ produce: () => produce()[field] })]));
  const object = new ApiObject(scope, head.id, {
    apiVersion,
    kind,
    metadata: {
      ...metadata,
      name: head.contentNamed ? Lazy.any({ produce: () => produce().metadata.name }) : metadata.name,
    },
    ...content,
  });
  if (isClusterScoped(head.object)) clearNamespace(object);
  return object;
}

/** A chart's namespace never lands on a cluster-scoped object. */
export function clearNamespace(object: ApiObject): void {
  Object.assign(object.metadata, { namespace: undefined });
}
