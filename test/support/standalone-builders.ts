// The standalone builders, for their unit tests.
import { AgentSpec, ClusterObject, discoveryRbac, StandaloneNames } from '../../src/internal';
import { dropUndefined } from '../../src/core/manifest';
export {
  agentConfigMap, agentConfigMapName, authSecret, authSecretRef, calicoSelector, ClusterDefinition, keepalivedCpuLimit, keepalivedPrefixed, namespaceManifest,
  resourcesOf, specConfigMap, standaloneNames, Target, FailoverProfile, VrrpAuth,
} from '../../src/internal';
export { ciliumPolicy } from '../../src/core/standalone/policies/cilium';
export { networkPolicy } from '../../src/core/standalone/policies/network-policy';

/** discoveryRbac with the metadata the target gives it, content built. */
export function discoveryRbacForTest(n: StandaloneNames, spec: AgentSpec): ClusterObject[] {
  return discoveryRbac(n, (name, clusterScoped) => dropUndefined({ name, namespace: clusterScoped ? undefined : n.namespace }),
    spec.discovery?.leases === true, { content: (build) => build() }, () => spec);
}
