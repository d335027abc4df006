// The target knows its image's keepalived version; a feature that needs a newer one is a synth-time error.
import { App, Chart } from 'cdk8s';
import { FailoverProfile, KeepalivedCluster, Target } from '../src';
import {
  compareKeepalivedVersions, DEFAULT_KEEPALIVED_VERSION, KEEPALIVED_FEATURES, KeepalivedFeature, keepalivedVersionIssues, misreadByKeepalived20, parseKeepalivedVersion,
  PROVEN_KEEPALIVED_VERSIONS,
} from '../src/core/standalone/keepalived-version';
import { ClusterDefinition, GroupDefinition } from '../src/core/model';
import { DEBIAN_KEEPALIVED_VERSION } from './support/keepalived-versions';
import { newChart, synth } from './support/synth';

/** Builds and synthesizes a standalone cluster with these images; returns the error message, or undefined. */
function failure(images: object | undefined): string | undefined {
  const { app, chart }: { app: App; chart: Chart } = newChart();
  try {
    const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ images }) });
    c.addGroup({ addresses: [{ address: '198.51.100.10/32' }] });
    synth(chart);
    void app;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('the image\'s keepalived version', () => {
  test('defaults to the default image\'s (2.0.20), and the default synthesizes', () => {
    expect(DEFAULT_KEEPALIVED_VERSION).toBe('2.0.20');
    expect(failure(undefined)).toBeUndefined();
    expect(failure({ keepalived: 'registry.example/keepalived:2.2.7', keepalivedVersion: '2.2.7' })).toBeUndefined();
  });

  test('a version older than the oldest proven release names the feature, the version it needs and the field', () => {
    const message = failure({ keepalived: 'registry.example/keepalived:1.3.5', keepalivedVersion: '1.3.5' });
    expect(message).toContain('[test/c]');
    expect(message).toContain('target.images.keepalivedVersion = "1.3.5"');
    expect(message).toContain('the standalone target\'s pod and keepalived.conf needs keepalived 2.0.20 or later, but the keepalived image runs 1.3.5');
    expect(message).toContain('Valid: an image with keepalived 2.0.20 or later');
    expect(failure({ keepalivedVersion: '2.0.19' })).toContain('needs keepalived 2.0.20 or later');
  });

  test.each(['2.2', 'v2.2.7', '2.2.7-1', '', 'latest'])('%j is not a version', (version) => {
    const message = failure({ keepalivedVersion: version });
    expect(message).toContain(`target.images.keepalivedVersion = ${JSON.stringify(version)}: is not a keepalived release version`);
    expect(message).toContain('MAJOR.MINOR.PATCH');
  });

  test('versions compare numerically, not as text', () => {
    expect(compareKeepalivedVersions('2.0.20', '2.0.4')).toBeGreaterThan(0);
    expect(compareKeepalivedVersions('2.0.20', '2.2.7')).toBeLessThan(0);
    expect(compareKeepalivedVersions('2.3.4', '2.3.4')).toBe(0);
    expect(parseKeepalivedVersion('10.0.1')).toEqual([10, 0, 1]);
    expect(parseKeepalivedVersion('2.0')).toBeUndefined();
  });

  test('the proven versions: the default image\'s, Debian\'s (the one on PATH in the tests) and the newest', () => {
    expect(PROVEN_KEEPALIVED_VERSIONS).toEqual(['2.0.20', DEBIAN_KEEPALIVED_VERSION, '2.3.4']);
    for (const f of KEEPALIVED_FEATURES) expect(parseKeepalivedVersion(f.since)).toBeDefined();
  });
});

describe('VRRPv3 advert intervals that keepalived 2.0 misreads', () => {
  const withInterval = (advertInterval: number, images?: object) => (): string | undefined => {
    const { chart } = newChart();
    try {
      const c = new KeepalivedCluster(chart, 'c', { nodeSelector: {}, selectAllNodes: true, target: Target.standalone({ profile: FailoverProfile.FAST, images }) });
      c.addGroup({ addresses: [{ address: '198.51.100.10/32' }], advertInterval });
      synth(chart);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };

  test('76 of the 4095 centisecond intervals, e.g. 2.01, 4.1 and 32.05 s; not 0.1, 1, 4.2 or 32.1', () => {
    const misread = Array.from({ length: 4095 }, (_, i) => (i + 1) / 100).filter(misreadByKeepalived20);
    expect(misread).toHaveLength(76);
    expect(misread).toEqual(expect.arrayContaining([2.01, 4.1, 32.05]));
    expect([0.1, 1, 4.2, 32.1].filter(misreadByKeepalived20)).toEqual([]);
  });

  test('is a synth-time error on the default image, naming the field, the version it needs and the nearest intervals that work', () => {
    const message = withInterval(32.05)();
    expect(message).toContain('[test/c] groups[0].advertInterval = 32.05: this VRRPv3 advert interval needs keepalived 2.2.7 or later, but the keepalived image runs 2.0.20 (the default image\'s');
    expect(message).toContain('must be in units of 10ms');
    expect(message).toContain('Valid: an advert interval of 32.04 or 32.06 s, or an image with keepalived 2.2.7 or later');
  });

  test('is fine with a newer keepalived, and other intervals are fine on 2.0.20', () => {
    expect(withInterval(32.05, { keepalived: 'registry.example/keepalived:2.2.7', keepalivedVersion: '2.2.7' })()).toBeUndefined();
    expect(withInterval(32.1)()).toBeUndefined();
    expect(withInterval(4.2)()).toBeUndefined();
  });
});

describe('a group feature that needs a newer keepalived', () => {
  // GIVEN a feature table with a group-level row (the real table's rows work the same way)
  const sixFeature: KeepalivedFeature = {
    feature: 'IPv6 groups', since: '2.2.0', why: 'for the test',
    usedBy: (_def, group) => (group?.group.addresses[0].address.includes(':') ? { field: group.fieldOf('addresses'), value: '(IPv6)' } : undefined),
  };
  const def = (keepalivedVersion?: string): ClusterDefinition => ({
    path: 'app/edge', id: 'edge', nodeSelector: {}, selectAllNodes: true, tolerations: [], groups: [],
    target: Target.standalone({ images: keepalivedVersion === undefined ? undefined : { keepalivedVersion } }),
  });
  const group = (address: string): GroupDefinition => ({ group: { addresses: [{ address }] }, fieldOf: (f) => `groups[0].${f}` });

  test('is reported on the group that uses it, naming the feature and both versions', () => {
    expect(keepalivedVersionIssues(def(), group('2001:db8::1/64'), [sixFeature])).toEqual([expect.objectContaining({
      path: 'app/edge', field: 'groups[0].addresses',
      problem: expect.stringContaining('IPv6 groups needs keepalived 2.2.0 or later, but the keepalived image runs 2.0.20 (the default image\'s'),
    })]);
    expect(keepalivedVersionIssues(def('2.1.5'), group('2001:db8::1/64'), [sixFeature])[0].problem).toContain('image runs 2.1.5:');
  });

  test('is not reported where the image is new enough, the group does not use it, or on the Deckhouse target', () => {
    expect(keepalivedVersionIssues(def('2.2.0'), group('2001:db8::1/64'), [sixFeature])).toEqual([]);
    expect(keepalivedVersionIssues(def(), group('198.51.100.1/32'), [sixFeature])).toEqual([]);
    expect(keepalivedVersionIssues({ ...def(), target: Target.deckhouse() }, group('2001:db8::1/64'), [sixFeature])).toEqual([]);
  });
});
