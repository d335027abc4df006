import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ManifestHead, ManifestObject } from '../core';

/**
 * An ApiObject whose JSON core produces at synth time, when the whole app is known (VRIDs are
 * allocated app-wide, and the ConfigMap's name hashes its content).
 */
export class ProducedApiObject extends ApiObject {
  constructor(scope: Construct, id: string, head: ManifestHead, private readonly produce: () => ManifestObject) {
    super(scope, id, { apiVersion: head.apiVersion, kind: head.kind, metadata: { name: head.name, namespace: head.namespace } });
  }

  public override toJson(): any {
    return this.produce();
  }
}
