// The standalone builders, for their unit tests.
import { AgentSpec, ClusterObject, discoveryRbac, StandaloneNames } from '../../src/internal';
import { dropUndefined } from '../../src/core/manifest';
export {
  agentConfigMap, agentConfigMapName, calicoSelector, ClusterDefinition, keepalivedCpuLimit, keepalivedPrefixed, namespaceManifest, resourcesOf, specConfigMap,
  standaloneNames, Target, FailoverProfile,
} from '../../src/internal';

/** discoveryRbac with the metadata the target gives it, content built. */
export function discoveryRbacForTest(n: StandaloneNames, spec: AgentSpec): ClusterObject[] {
  return discoveryRbac(n, (name, clusterScoped) => dropUndefined({ name, namespace: clusterScoped ? undefined : n.namespace }),
    spec.discovery?.leases === true, { content: (build) => build() }, () => spec);
}
