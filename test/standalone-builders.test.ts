// The standalone builders one by one, in the cdk-nag spirit: each file's rule, with a compliant and a
// non-compliant case where it has one. The whole output is tested in standalone-manifests.test.ts.
import { createHash } from 'crypto';
import {
  agentConfigMap, agentConfigMapName, authSecret, authSecretRef, calicoSelector, ciliumPolicy, ClusterDefinition, discoveryRbacForTest, FailoverProfile,
  keepalivedCpuLimit, keepalivedPrefixed, namespaceManifest, networkPolicy, resourcesOf, specConfigMap, standaloneNames, Target, VrrpAuth,
} from './support/standalone-builders';
import { dnsSubdomainProblem } from '../src/core/names';

const def = (name: string | undefined, id = 'edge', namespace?: string): ClusterDefinition => ({
  path: `test/${id}`, id, name, nodeSelector: { 'node-role.kubernetes.io/edge': '' }, tolerations: [],
  target: Target.standalone({ namespace }), groups: [],
});

describe('names.ts', () => {
  test('a DNS-1123 subdomain is DNS labels joined by dots, at most 253 characters (node, Secret, PriorityClass names)', () => {
    // The definition, part by part, against the one expression the check uses.
    const byParts = (name: string) => name.length <= 253 && name.split('.').every((part) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(part));
    const names = ['node-a', 'a', '0', 'n1.example.org', 'a-b.c-d', 'x'.repeat(253), `${'a'.repeat(63)}.b`,
      '', '.', 'a.', '.a', 'a..b', '-a', 'a-', 'a.-b', 'a-.b', 'A', 'a_b', 'a b', 'a/b', 'é', 'x'.repeat(254), 'a.b\n'];
    for (const name of names) expect([name, dnsSubdomainProblem(name) === undefined]).toEqual([name, byParts(name)]);
    expect(dnsSubdomainProblem('a..b')).toBe('is not a DNS subdomain');
    expect(dnsSubdomainProblem('x'.repeat(254))).toBe('is longer than 253 characters');
    expect(dnsSubdomainProblem(7)).toBe('is empty or not a string');
  });
  test('keepalived- prefixes a name once: no stutter', () => {
    expect(keepalivedPrefixed('edge')).toBe('keepalived-edge');
    expect(keepalivedPrefixed('keepalived-edge')).toBe('keepalived-edge');
    expect(keepalivedPrefixed('keepalived')).toBe('keepalived');
    expect(keepalivedPrefixed('keepalivedx')).toBe('keepalived-keepalivedx');
  });
  test('cluster-scoped names carry a namespace other than the default one', () => {
    expect(standaloneNames(def(undefined), {}).clusterPolicy).toBe('keepalived-edge-vrrp');
    expect(standaloneNames(def(undefined, 'edge', 'net'), { namespace: 'net' }).clusterPolicy).toBe('keepalived-edge-net-vrrp');
    expect(standaloneNames(def(undefined, 'edge', 'net'), { namespace: 'net' }).clusterRole).toBe('keepalived:net:edge:nodes');
  });
});

describe('config-maps.ts', () => {
  const spec = { version: 1, cluster: 'edge', auth: false, groups: [] } as any;
  test('the spec ConfigMap\'s name hashes its content, and only spec.json is in it', () => {
    const a = specConfigMap('keepalived-edge-spec', 'keepalived', {}, spec);
    const b = specConfigMap('keepalived-edge-spec', 'keepalived', {}, { ...spec, nodeOrder: ['x'] });
    expect(a.metadata.name).toMatch(/^keepalived-edge-spec-[0-9a-f]{10}$/);
    expect(a.metadata.name).not.toBe(b.metadata.name);
    expect(Object.keys(a.data as object)).toEqual(['spec.json']);
  });
  test('the hash is SHA-256 over each key and value after its length in UTF-8 bytes, whichever hash API Node offers', () => {
    // Pinned from the definition, so that the one-shot crypto.hash (Node 20.12+) and a Hash object give the same names.
    const json = `${JSON.stringify({ ...spec, cluster: 'édge' }, null, 2)}\n`;
    const expected = createHash('sha256').update(`9:spec.json${Buffer.byteLength(json)}:${json}`).digest('hex').slice(0, 10);
    expect(specConfigMap('p', 'keepalived', {}, { ...spec, cluster: 'édge' }).metadata.name).toBe(`p-${expected}`);
  });
  test('the agent ConfigMap is named after the agent alone, so clusters share it', () => {
    expect(agentConfigMap('keepalived', {}, 'agent v1').metadata.name).toBe(agentConfigMapName('agent v1'));
    expect(agentConfigMapName('agent v1')).not.toBe(agentConfigMapName('agent v2'));
  });
});

describe('namespace.ts', () => {
  test('the Namespace admits keepalived: Pod Security privileged', () => {
    expect(namespaceManifest('net').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged' });
  });
});

describe('rbac.ts', () => {
  test('list and watch on nodes only; Leases by name', () => {
    const n = standaloneNames(def('edge'), { discovery: {} });
    const spec = { discovery: { leases: true, leasePrefix: 'keepalived-edge' }, groups: [{ vrid: 7 }] } as any;
    const objects = discoveryRbacForTest(n, spec);
    expect(objects.map((o) => o.id)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'LeaseRole', 'LeaseRoleBinding']);
    expect(objects[0].object.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] }]);
    expect((objects[2].object.rules as any[])[1].resourceNames).toEqual(['keepalived-edge-vrid-7']);
    expect(discoveryRbacForTest(n, { ...spec, discovery: { leases: false } }).map((o) => o.id)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
  });
});

describe('policies/calico.ts', () => {
  test('a selector of the node labels, sorted; all() for none', () => {
    expect(calicoSelector({ b: '2', a: '1' })).toBe("a == '1' && b == '2'");
    expect(calicoSelector({})).toBe('all()');
  });
});

describe('policies/cilium.ts', () => {
  const policy = (metricsPort?: number) => ciliumPolicy({ ...def('edge'), nodeSelector: { 'node-role.kubernetes.io/edge': '' } }, { name: 'p' }, metricsPort).spec as any;

  test('VRRP on the selected nodes both ways, from and to any address (multicast groups are `world` to Cilium), without switching the hosts to default-deny', () => {
    const spec = policy();
    expect(spec.nodeSelector).toEqual({ matchLabels: { 'node-role.kubernetes.io/edge': '' } });
    expect(spec.enableDefaultDeny).toEqual({ ingress: false, egress: false });
    expect(spec.ingress).toEqual([{ fromEntities: ['all'], toPorts: [{ ports: [{ port: '0', protocol: 'VRRP' }] }] }]);
    expect(spec.egress).toEqual([{ toEntities: ['all'], toPorts: [{ ports: [{ port: '0', protocol: 'VRRP' }] }] }]);
  });

  test('with metrics, scrapes of the agent\'s port from the cluster too', () => {
    expect(policy(9654).ingress[1]).toEqual({ fromEntities: ['cluster'], toPorts: [{ ports: [{ port: '9654', protocol: 'TCP' }] }] });
  });
});

describe('policies/network-policy.ts', () => {
  test('ingress to the cluster\'s pods from the nodes\' networks, in canonical form, with no ports (the API cannot name protocol 112)', () => {
    const np = networkPolicy('edge', { nodeNetworks: ['192.0.2.0/24', '2001:DB8:0::/64'] }, { name: 'p', namespace: 'keepalived' });
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'keepalived', 'app.kubernetes.io/instance': 'edge' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }, { ipBlock: { cidr: '2001:db8::/64' } }] }],
    });
  });
});

describe('secret.ts', () => {
  const n = standaloneNames(def('edge'), {});
  const meta = (name: string) => ({ name, namespace: n.namespace });

  test('a literal password: a Secret the package emits, in plain text as the user chose, and the pods read its key', () => {
    const options = { auth: VrrpAuth.literal('s3cret') };
    expect(authSecret(options, n, meta)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: meta(n.secret), type: 'Opaque', stringData: { password: 's3cret' } });
    expect(authSecretRef(options, n)).toEqual({ secretName: n.secret, key: 'password' });
  });

  test('the user\'s Secret: none emitted, the pods read the user\'s key; no auth: nothing', () => {
    const options = { auth: VrrpAuth.fromSecret('vrrp', 'pass') };
    expect(authSecret(options, n, meta)).toBeUndefined();
    expect(authSecretRef(options, n)).toEqual({ secretName: 'vrrp', key: 'pass' });
    expect([authSecret({}, n, meta), authSecretRef({}, n)]).toEqual([undefined, undefined]);
  });
});

describe('daemon-set.ts', () => {
  test('resources: defaults, overrides, and "none" drops a value', () => {
    const defaults = { cpuRequest: '10m', cpuLimit: '100m', memoryRequest: '16Mi', memoryLimit: '64Mi' };
    expect(resourcesOf(defaults)).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } });
    expect(resourcesOf(defaults, { cpuLimit: 'none', memoryLimit: '1Gi' })).toEqual({ requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '1Gi' } });
    expect(resourcesOf(defaults, { cpuLimit: 'none', memoryLimit: 'none' })).toEqual({ requests: { cpu: '10m', memory: '16Mi' } });
  });
  test('keepalived\'s CPU limit grows with the adverts a master of every group sends: 0.5m per advert per second, at least 100m', () => {
    const groups = (n: number) => Array.from({ length: n }, (_, i) => ({
      group: { addresses: [{ address: `198.51.100.${i + 1}/32` }] }, fieldOf: (f: string) => `groups[${i}].${f}`,
    }));
    const limit = (n: number, options: object = {}) => keepalivedCpuLimit({ ...def(undefined), groups: groups(n) } as ClusterDefinition, options);
    expect(limit(1)).toBe('100m'); // 10 adverts/s
    expect(limit(20)).toBe('100m'); // 200 adverts/s
    expect(limit(21)).toBe('105m');
    expect(limit(254)).toBe('1270m'); // the default 0.1 s
    expect(limit(254, { profile: FailoverProfile.CLASSIC })).toBe('127m'); // 1 s
  });
});
