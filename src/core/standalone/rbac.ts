/**
 * Least-privilege RBAC, emitted only in discovery mode: list and watch Nodes (nothing else
 * cluster-wide), and in the cluster's namespace create Leases (RBAC cannot scope `create` by name) and
 * get / update only this cluster's Leases.
 */
import { AgentSpec, leaseName } from '../agent-spec';
import { ClusterObject, ManifestObject } from '../manifest';
import type { BuildContext } from '../target';
import { StandaloneNames } from './names';

const RBAC = 'rbac.authorization.k8s.io';

/** The RBAC of discovery mode; the Leases' Role and RoleBinding with `leases`. `spec` is only read in `ctx.content`. */
export function discoveryRbac(n: StandaloneNames, meta: (name: string, clusterScoped?: boolean) => ManifestObject['metadata'], leases: boolean,
  ctx: Pick<BuildContext, 'content'>, spec: () => AgentSpec): ClusterObject[] {
  const subject = { kind: 'ServiceAccount', name: n.serviceAccount, namespace: n.namespace };
  const objects: ClusterObject[] = [
    {
      id: 'ClusterRole',
      object: {
        apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(n.clusterRole, true),
        rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] }],
      },
    },
    {
      id: 'ClusterRoleBinding',
      object: {
        apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(n.clusterRole, true),
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: n.clusterRole },
        subjects: [subject],
      },
    },
  ];
  if (leases) {
    objects.push(
      {
        id: 'LeaseRole',
        object: {
          apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: meta(n.leaseRole),
          rules: ctx.content(() => [
            { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
            {
              apiGroups: ['coordination.k8s.io'],
              resources: ['leases'],
              resourceNames: spec().groups.map((g) => leaseName(spec().discovery!, g.vrid)),
              verbs: ['get', 'update'],
            },
          ]),
        },
      },
      {
        id: 'LeaseRoleBinding',
        object: {
          apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: meta(n.leaseRole),
          roleRef: { apiGroup: RBAC, kind: 'Role', name: n.leaseRole },
          subjects: [subject],
        },
      },
    );
  }
  return objects;
}
