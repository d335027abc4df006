// The podman harness's kubelet steps, on a pod template with every kind of thing it adapts (no root needed).
import { adaptDaemonSetPod } from './support/podman-pod';

const daemonSet = {
  metadata: { name: 'keepalived-edge', namespace: 'keepalived' },
  spec: {
    template: {
      metadata: { labels: { app: 'keepalived' } },
      spec: {
        hostNetwork: true,
        securityContext: { fsGroup: 65534 },
        initContainers: [
          { name: 'render', command: ['node', 'agent.js', '--node-name', '$(NODE_NAME)', '--literal', '$$(NODE_NAME)', '--unknown', '$(NOPE)'],
            env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] },
          { name: 'agent', restartPolicy: 'Always', args: ['run', '--host-ip', '$(HOST_IP)', '--pod-ip', '$(POD_IP)'],
            env: [
              { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ] },
        ],
        containers: [{ name: 'keepalived', command: ['keepalived', '--use-file', '/etc/keepalived/keepalived.conf'] }],
        volumes: [
          { name: 'config', configMap: { name: 'cm' } },
          { name: 'rendered', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    },
  },
};

test('a Pod per node, as kubelet and the DaemonSet controller would run it, each step recorded', () => {
  // WHEN
  const { pod, adaptations, emptyDirs, stopStages, gracePeriodSeconds } = adaptDaemonSetPod(daemonSet, { name: 'node-a', hostIp: '198.51.100.11' }, 'p-node-a', '/v');

  // THEN a Pod bound to the node, with the template's labels, and the synthesized object left as it was
  expect(pod).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p-node-a', namespace: 'keepalived', labels: { app: 'keepalived' } } });
  expect(pod.spec.nodeName).toBe('node-a');
  expect(daemonSet.spec.template.spec.initContainers).toHaveLength(2);
  // the native sidecar runs as a container, ahead of keepalived; the init container stays one
  expect(pod.spec.initContainers.map((c: any) => c.name)).toEqual(['render']);
  expect(pod.spec.containers.map((c: any) => [c.name, c.restartPolicy])).toEqual([['agent', undefined], ['keepalived', undefined]]);
  expect(pod.spec.restartPolicy).toBe('OnFailure');
  // deleting the pod stops keepalived, then the sidecar, within kubelet's default grace period (the infra container last)
  expect({ stopStages, gracePeriodSeconds }).toEqual({ stopStages: [['keepalived'], ['agent']], gracePeriodSeconds: 30 });
  // fieldRefs that podman lacks become values; $(VAR) expands from them, $$ stays a literal $, unknown names stay
  expect(pod.spec.initContainers[0].command).toEqual(['node', 'agent.js', '--node-name', 'node-a', '--literal', '$(NODE_NAME)', '--unknown', '$(NOPE)']);
  expect(pod.spec.containers[0].args).toEqual(['run', '--host-ip', '198.51.100.11', '--pod-ip', '198.51.100.11']);
  expect(pod.spec.containers[0].env[2]).toEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  // emptyDirs become the harness's directories (0777; fsGroup's, set-group-id; tmpfs for Memory); fsGroup a supplementary group
  expect(pod.spec.volumes).toEqual([
    { name: 'config', configMap: { name: 'cm' } },
    { name: 'rendered', hostPath: { path: '/v/p-node-a/rendered', type: 'Directory' } },
    { name: 'scratch', hostPath: { path: '/v/p-node-a/scratch', type: 'Directory' } },
  ]);
  expect(emptyDirs).toEqual([
    { volume: 'rendered', path: '/v/p-node-a/rendered', tmpfsBytes: 1024 * 1024, fsGroup: 65534 },
    { volume: 'scratch', path: '/v/p-node-a/scratch', fsGroup: 65534 },
  ]);
  expect(pod.spec.securityContext).toEqual({ supplementalGroups: [65534] });
  // every step is said
  expect(adaptations).toEqual([
    expect.stringContaining('DaemonSet keepalived-edge -> Pod p-node-a with spec.nodeName node-a'),
    expect.stringContaining('native sidecar init containers agent -> containers'),
    expect.stringContaining('pod deletion -> podman stop of keepalived, then of agent (SIGTERM; SIGKILL when the 30 s grace period is over), then podman pod stop for the infra container'),
    expect.stringContaining('restartPolicy Always -> OnFailure'),
    'render: env NODE_NAME from fieldRef spec.nodeName -> "node-a"',
    'render: command "$(NODE_NAME)" -> "node-a" ($(VAR) expansion)',
    'render: command "$$(NODE_NAME)" -> "$(NODE_NAME)" ($(VAR) expansion)',
    'agent: env HOST_IP from fieldRef status.hostIP -> "198.51.100.11"',
    'agent: env POD_IP from fieldRef status.podIP -> "198.51.100.11"',
    'agent: args "$(HOST_IP)" -> "198.51.100.11" ($(VAR) expansion)',
    'agent: args "$(POD_IP)" -> "198.51.100.11" ($(VAR) expansion)',
    expect.stringContaining('emptyDir rendered -> hostPath /v/p-node-a/rendered, mode 2777, group 65534, a tmpfs of 1048576 bytes'),
    expect.stringContaining('emptyDir scratch -> hostPath /v/p-node-a/scratch, mode 2777, group 65534 ('),
    expect.stringContaining('fsGroup 65534 -> a supplementary group of every container'),
  ]);
});
