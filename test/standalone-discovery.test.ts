import { FrontendVips, SidecarMode, Target } from '../src/internal';
import { newChart, synth } from './support/synth';

const RBAC_KINDS = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

function edge(options: object = {}) {
  const { chart } = newChart();
  new FrontendVips(chart, 'edge', {
    name: 'edge',
    nodeSelector: { 'node-role.kubernetes.io/edge': '' },
    addresses: ['203.0.113.10/32', '203.0.113.11/32'],
    vrids: [10, 11],
    target: Target.standalone({ namespace: 'net', ...options }),
  });
  return synth(chart);
}
const one = (objects: any[], kind: string) => {
  // The cluster's own objects: not the namespace's agent ConfigMap.
  const found = objects.filter((o) => o.kind === kind && o.data?.['keepalived-agent.js'] === undefined);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('discovery mode', () => {
  test('a cluster without discovery gets no RBAC and no token, and its sidecar only serves metrics', () => {
    const objects = edge();
    expect(objects.filter((o) => RBAC_KINDS.includes(o.kind))).toEqual([]);
    expect(one(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    const pod = one(objects, 'DaemonSet').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.shareProcessNamespace).toBe(true); // always: see the DaemonSet's comment
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['render', 'agent']);
    expect(pod.initContainers[1].command).not.toContain('--state-dir');
    expect(pod.initContainers[1].volumeMounts.map((m: any) => m.name)).not.toContain('kube-api-access');
    // Without metrics (and discovery) there is no sidecar at all.
    const quiet = one(edge({ metrics: { enabled: false } }), 'DaemonSet').spec.template.spec;
    expect(quiet.initContainers.map((c: any) => c.name)).toEqual(['render']);
  });

  test('RBAC: exactly list/watch on nodes cluster-wide (no verb the agent never uses), and this cluster\'s Leases in its namespace', () => {
    const objects = edge({ discovery: {} });
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace', 'ConfigMap', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'DaemonSet',
    ]);
    expect(one(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
    ]);
    expect(one(objects, 'Role').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['keepalived-edge-vrid-10', 'keepalived-edge-vrid-11'], verbs: ['get', 'update'] },
    ]);
    expect(one(objects, 'Role').metadata.namespace).toBe('net');
    const subject = { kind: 'ServiceAccount', name: 'keepalived-edge', namespace: 'net' };
    expect(one(objects, 'ClusterRoleBinding')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: one(objects, 'ClusterRole').metadata.name },
      subjects: [subject],
    });
    expect(one(objects, 'RoleBinding')).toMatchObject({ roleRef: { kind: 'Role', name: 'keepalived-edge-leases' }, subjects: [subject] });
  });

  test('without leases: nodes only, no Role', () => {
    const objects = edge({ discovery: { leases: false } });
    expect(objects.filter((o) => RBAC_KINDS.includes(o.kind)).map((o) => o.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(JSON.parse(one(objects, 'ConfigMap').data['spec.json']).discovery.leases).toBe(false);
  });

  test('the pod: the token in the agent\'s containers only, shared process namespace, native sidecar running the agent', () => {
    const pod = one(edge({ discovery: { unicast: true } }), 'DaemonSet').spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    const token = pod.volumes.find((v: any) => v.name === 'kube-api-access');
    expect(token.projected.sources.map((s: any) => Object.keys(s)[0])).toEqual(['serviceAccountToken', 'configMap', 'downwardAPI']);
    const mountsToken = (c: any) => c.volumeMounts.some((m: any) => m.name === 'kube-api-access' && m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    expect([...pod.initContainers, ...pod.containers].map((c: any) => [c.name, mountsToken(c)])).toEqual([['render', true], ['agent', true], ['keepalived', false]]);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.initContainers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(pod.shareProcessNamespace).toBe(true);
    expect(pod.initContainers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['render', undefined], ['agent', 'Always']]);
    const agent = pod.initContainers[1];
    expect(agent.command).toEqual([
      'node', '/opt/keepalived-constructs/keepalived-agent.js', 'run',
      '--spec', '/etc/keepalived-constructs/spec.json', '--node-name', '$(NODE_NAME)', '--out', '/etc/keepalived/keepalived.conf',
      '--pid-file', '/run/keepalived/keepalived.pid',
      '--state-dir', '/var/lib/keepalived-constructs/net/edge', '--notify-fifo', '/run/keepalived/notify.fifo',
      '--host-ip', '$(HOST_IP)', '--metrics-address', '$(HOST_IP)',
    ]);
    expect(agent.securityContext).toMatchObject({ runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    // KILL alone: one capability keepalived lacks keeps its /proc from keepalived (netns-security proves it).
    expect(agent.securityContext.capabilities.add).toEqual(['KILL']);
    expect(pod.volumes.find((v: any) => v.name === 'state').hostPath).toEqual({ path: '/var/lib/keepalived-constructs/net/edge', type: 'DirectoryOrCreate' });
    expect(pod.initContainers[0].command).toEqual(expect.arrayContaining(['--state-dir', '/var/lib/keepalived-constructs/net/edge']));
  });

  test('classic sidecar for clusters older than 1.29: with or without discovery (the metrics sidecar runs by default)', () => {
    const classic = (options: object) => {
      const pod = one(edge(options), 'DaemonSet').spec.template.spec;
      expect(pod.initContainers.map((c: any) => c.name)).toEqual(['render']);
      expect(pod.containers.map((c: any) => c.name)).toEqual(['keepalived', 'agent']);
      expect(pod.containers[1].restartPolicy).toBeUndefined();
    };
    classic({ sidecar: SidecarMode.CLASSIC });
    classic({ sidecar: SidecarMode.CLASSIC, discovery: {} });
    // (discovery's own, deprecated, still applies)
    classic({ discovery: { sidecar: SidecarMode.CLASSIC } });
    expect(one(edge({ sidecar: SidecarMode.NATIVE }), 'DaemonSet').spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['render', 'agent']);
  });

  test('spec.json carries the discovery contract', () => {
    const spec = JSON.parse(one(edge({ discovery: { unicast: true, leaseDurationSeconds: 30, minReloadIntervalSeconds: 2 } }), 'ConfigMap').data['spec.json']);
    expect(spec.discovery).toEqual({
      nodeSelector: { 'node-role.kubernetes.io/edge': '' }, namespace: 'net', leases: true, leasePrefix: 'keepalived-edge',
      leaseDurationSeconds: 30, unicast: true, minReloadIntervalSeconds: 2, maxNodes: 64, maxNodeSetChange: 0.5,
    });
  });

  test.each([
    [{ discovery: { unicast: true }, unicastPeers: ['198.51.100.1'] }, /target.unicastPeers = \["198.51.100.1"\]: static unicast peers and discovery.unicast exclude each other/],
    [{ discovery: { leaseDurationSeconds: 1 } }, /target.discovery.leaseDurationSeconds = 1: is not a lease duration/],
    [{ discovery: { minReloadIntervalSeconds: -1 } }, /target.discovery.minReloadIntervalSeconds = -1/],
    [{ discovery: { sidecar: 'sometimes' } }, /target.discovery.sidecar = "sometimes": is not a sidecar mode/],
    [{ sidecar: 'sometimes' }, /target.sidecar = "sometimes": is not a sidecar mode. Valid: SidecarMode.NATIVE, SidecarMode.CLASSIC/],
    [{ sidecar: SidecarMode.CLASSIC, discovery: { sidecar: SidecarMode.NATIVE } }, /target.discovery.sidecar = "native": contradicts target.sidecar \("classic"\). Valid: omit it/],
  ])('rejects %j', (options, message) => expect(() => edge(options)).toThrow(message));
});
