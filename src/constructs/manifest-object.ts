import { ApiObject, ApiObjectProps, JsonPatch, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { isDeepStrictEqual } from 'util';
import { ClusterObject, contentFields, isClusterScoped, ManifestObject } from '../core';

/**
 * A real cdk8s ApiObject for one of core's objects. Its identity and metadata are set now; each
 * content field is a Lazy that core fills at synth time, when the whole app is known (VRIDs are
 * allocated app-wide, and a content-named ConfigMap's name, read when cdk8s reads it, hashes its
 * content). So Chart labels, `metadata.addLabel/addAnnotation` and `addJsonPatch` apply as to any
 * other ApiObject.
 */
export function emitObject(scope: Construct, head: ClusterObject, produce: () => ManifestObject): ApiObject {
  const { apiVersion, kind, metadata } = head.object;
  const content = Object.fromEntries(contentFields(head.object).map((field) => [field, Lazy.any({ produce: () => produce()[field] })]));
  const props = { apiVersion, kind, metadata, ...content };
  const object = head.contentNamed ? new ContentNamedObject(scope, head.id, props, produce) : new ApiObject(scope, head.id, props);
  if (isClusterScoped(head.object)) clearNamespace(object);
  return object;
}

/**
 * An ApiObject named after its content. Its name, a string like any ApiObject's wherever cdk8s reads
 * it (the output file of each object, the construct metadata, the manifest), is made from the content
 * when read, at synth; a validation reports what a JSON patch broke.
 */
class ContentNamedObject extends ApiObject {
  /** Whether `addJsonPatch` was called (only a patched object can differ from what was built). */
  public patched = false;

  constructor(scope: Construct, id: string, props: ApiObjectProps, produce: () => ManifestObject) {
    super(scope, id, props);
    const name: PropertyDescriptor = { get: () => produce().metadata.name, enumerable: true, configurable: true };
    Object.defineProperty(this, 'name', name);
    Object.defineProperty(this.metadata, 'name', name);
    this.node.addValidation({ validate: () => (this.patched ? contentNameProblems(this, produce) : []) });
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.patched = true;
    super.addJsonPatch(...ops);
  }
}

/**
 * What a JSON patch broke on an object named after its content (an immutable ConfigMap that pods
 * mount by that name): a patched name is mounted by no one, and patched content keeps a name that no
 * longer tells it apart (the API server rejects the changed immutable object; the pods would not roll).
 */
function contentNameProblems(object: ApiObject, produce: () => ManifestObject): string[] {
  const built = produce();
  const { metadata, ...content } = object.toJson() as ManifestObject;
  const { metadata: builtMetadata, ...builtContent } = built;
  const valid = 'Valid: change the content through the props (its name follows), or make a ConfigMap of your own and patch the pods to mount it';
  if (metadata?.name !== builtMetadata.name) {
    return [`metadata.name = ${JSON.stringify(metadata?.name)}: a JSON patch renamed this ${built.kind}, which the pods mount by the name made from its content, ${JSON.stringify(builtMetadata.name)}. ${valid}.`];
  }
  if (!isDeepStrictEqual(content, builtContent)) {
    return [`${built.kind} ${JSON.stringify(builtMetadata.name)}: a JSON patch changed its content, but its name is made from the content it was built with, so the name no longer tells this content apart (the API server rejects a change to an immutable ConfigMap, and the pods would not roll). ${valid}.`];
  }
  return [];
}

/** A chart's namespace never lands on a cluster-scoped object. */
export function clearNamespace(object: ApiObject): void {
  Object.assign(object.metadata, { namespace: undefined });
}
