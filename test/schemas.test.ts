// The schema validation that every synthesized object goes through can fail: prove it on bad objects.
import { schemaErrors } from './support/schemas';

describe('schema validation catches what the cluster would reject', () => {
  const instance = (spec: object) => ({ apiVersion: 'deckhouse.io/v1alpha1', kind: 'KeepalivedInstance', metadata: { name: 'x' }, spec });
  const group = { id: 1, interface: { detectionStrategy: 'DefaultRoute' }, virtualIPAddresses: [{ address: '192.0.2.1/32' }] };

  test('a valid KeepalivedInstance passes', () => expect(schemaErrors(instance({ nodeSelector: {}, vrrpInstances: [group] }))).toEqual([]));
  test('a VRID out of range', () => expect(schemaErrors(instance({ nodeSelector: {}, vrrpInstances: [{ ...group, id: 300 }] })).join()).toMatch(/must be <= 255/));
  test('an interface that matches no oneOf branch', () => expect(schemaErrors(instance({
    nodeSelector: {}, vrrpInstances: [{ ...group, interface: { detectionStrategy: 'Name' } }],
  })).join()).toMatch(/oneOf/));
  test('a field the API server would prune', () => expect(schemaErrors(instance({
    nodeSelector: {}, vrrpInstances: [{ ...group, advertInterval: 1 }],
  })).join()).toMatch(/additional properties/));
  test('IPv6 in the Deckhouse CRD', () => expect(schemaErrors(instance({
    nodeSelector: {}, vrrpInstances: [{ ...group, virtualIPAddresses: [{ address: '2001:db8::1/64' }] }],
  })).join()).toMatch(/pattern/));
  test('a DaemonSet with a wrong type and no selector', () => {
    const errors = schemaErrors({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' }, spec: { template: { spec: { hostNetwork: 'yes', containers: [] } } } }).join();
    expect(errors).toMatch(/selector/);
    expect(errors).toMatch(/boolean/);
  });
  test('a Calico policy with an unknown action', () => expect(schemaErrors({
    apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'x' },
    spec: { selector: 'all()', ingress: [{ action: 'Permit', protocol: 112 }] },
  })).not.toEqual([]));
  test('a Cilium policy with an unknown protocol', () => expect(schemaErrors({
    apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'x' },
    spec: { nodeSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '0', protocol: 'CARP' }] }] }] },
  }).join()).toMatch(/allowed values/));
  test('an unknown kind has no schema', () => expect(() => schemaErrors({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toThrow(/no schema known/));
});
