import { Chart } from 'cdk8s';
import { fnv1a32 } from '../src/core/hash';
import { allocateVrids, FrontendVips, GatewayPair, preferredVrid, ReservedVrids, VridClaim } from '../src/internal';
import { newChart, synth } from './support/synth';

/** A small deterministic PRNG, so that the random cases are the same on every run. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const claim = (key: string, explicit?: number): VridClaim => ({ owner: key, field: 'id', key, explicit });

// Every automatic VRID (and the agent's rendezvous priorities) hangs on this hash: pinned, so that no
// rewrite of it moves a VRID. FNV-1a 32 over UTF-8: the published test vectors, and non-ASCII keys.
test.each([
  ['', 0x811c9dc5], ['a', 0xe40c292c], ['foobar', 0xbf9cf968],
  ['namespace keepalived/front#198.51.100.1/32', 0xa0df7313], ['é', 0x1e9de8c1], ['grüße/日本', 0x2eef0761], ['a\u{1F600}b', 0x88a361a9],
])('fnv1a32(%j) = %d', (text, hash) => {
  expect(fnv1a32(text)).toBe(hash);
});

describe('allocateVrids', () => {
  test('explicit VRIDs are kept and automatic ones avoid them and the reserved ones', () => {
    const result = allocateVrids(
      [claim('a', 5), claim('b'), claim('c'), claim('d', 6)],
      [{ owner: 'r', field: 'ids', ids: [1, 2, 3, 4, 7] }],
    );
    expect(result.issues).toEqual([]);
    expect(result.vrids[0]).toBe(5);
    expect(result.vrids[3]).toBe(6);
    const auto = [result.vrids[1], result.vrids[2]];
    for (const v of auto) expect([1, 2, 3, 4, 5, 6, 7]).not.toContain(v);
    expect(new Set(result.vrids).size).toBe(4);
  });

  test('all 255 VRIDs can be allocated, and the 256th group is an error', () => {
    const claims = Array.from({ length: 255 }, (_, i) => claim(`g${i}`));
    const full = allocateVrids(claims, []);
    expect(full.issues).toEqual([]);
    expect(new Set(full.vrids).size).toBe(255);
    const over = allocateVrids([...claims, claim('one-too-many')], []);
    expect(over.issues).toHaveLength(1);
    expect(over.issues[0].problem).toMatch(/no VRID is left/);
  });

  test('stable: adding, removing and reordering other groups moves a group only when its slot collides', () => {
    const random = prng(20261126);
    let unmoved = 0;
    for (let run = 0; run < 300; run++) {
      const keys = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => `chart/c${run}-${i}#198.51.100.${i}/32`);
      const before = allocateVrids(keys.map((k) => claim(k)), []);
      // WHEN other groups are removed, new ones added, and the list is shuffled
      const kept = keys.filter(() => random() > 0.3);
      const added = Array.from({ length: Math.floor(random() * 10) }, (_, i) => `chart/new${run}-${i}#203.0.113.${i}/32`);
      const after = [...kept, ...added].sort(() => random() - 0.5);
      const result = allocateVrids(after.map((k) => claim(k)), []);
      for (const k of kept) {
        const was = before.vrids[keys.indexOf(k)]!;
        const now = result.vrids[after.indexOf(k)]!;
        // THEN a group that had its own slot keeps it, unless a group with the same own slot and an
        // earlier key arrived (a hash collision), whatever else was added, removed or reordered
        const collides = after.some((o) => o < k && preferredVrid(o) === preferredVrid(k));
        if (was === preferredVrid(k) && !collides) {
          expect(now).toBe(was);
          unmoved++;
        }
      }
      // ... and with the same set of groups, order alone never moves anything
      const reordered = allocateVrids([...after].reverse().map((k) => claim(k)), []);
      after.forEach((_, i) => expect(reordered.vrids[after.length - 1 - i]).toBe(result.vrids[i]));
    }
    expect(unmoved).toBeGreaterThan(1000);
  });

  test('a group on its own slot is not pushed off it by a group displaced from the slot before it', () => {
    // GIVEN a group A on its own slot s, and two later groups that both want s - 1 and sort before A
    const keys = Array.from({ length: 20000 }, (_, i) => `chart/k${String(i).padStart(5, '0')}#x`);
    const a = keys.find((k) => preferredVrid(k) > 1 && keys.filter((o) => o < k && preferredVrid(o) === preferredVrid(k) - 1).length >= 2)!;
    const [c, b] = keys.filter((o) => o < a && preferredVrid(o) === preferredVrid(a) - 1);
    const alone = allocateVrids([claim(a)], []).vrids[0];
    expect(alone).toBe(preferredVrid(a));
    // WHEN they are added, THEN c takes s - 1, b is displaced past it, and a keeps s
    const after = allocateVrids([claim(c), claim(b), claim(a)], []).vrids;
    expect(after[0]).toBe(preferredVrid(c));
    expect(after[2]).toBe(alone);
    expect(after[1]).not.toBe(alone);
  });

  test('a group whose slot nobody else wants keeps its VRID whatever happens to the others', () => {
    const lonely = 'chart/gw#gateway';
    const others = Array.from({ length: 60 }, (_, i) => `chart/x${i}#a`).filter((k) => preferredVrid(k) !== preferredVrid(lonely));
    const alone = allocateVrids([claim(lonely)], []).vrids[0];
    expect(alone).toBe(preferredVrid(lonely));
    // Others may take neighbouring slots, but none takes or chains into the lonely group's slot.
    const crowd = others.filter((k) => { const p = preferredVrid(k); return p !== alone && p + 1 !== alone; }).slice(0, 5);
    expect(allocateVrids([...crowd, lonely].map((k) => claim(k)), []).vrids[crowd.length]).toBe(alone);
  });
});

describe('VRIDs across a cdk8s app', () => {
  const vridsOf = (chart: Chart) => Object.fromEntries(synth(chart).map((o) => [o.metadata.name, o.spec.vrrpInstances.map((g: any) => g.id)]));

  test('an existing group keeps its VRID when other constructs are added, removed or reordered', () => {
    const build = (order: string[]) => {
      const { chart } = newChart();
      for (const id of order) {
        if (id === 'front') new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32', '203.0.113.2/32'] });
        if (id === 'gw') new GatewayPair(chart, 'gw', { nodeSelector: {}, selectAllNodes: true, lan: { address: '192.0.2.1/24' }, wan: { address: '198.51.100.1/24' } });
        if (id === 'extra') new FrontendVips(chart, 'extra', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.9/32'] });
      }
      return vridsOf(chart);
    };
    const base = build(['front', 'gw']);
    expect(build(['gw', 'front'])).toEqual(base);
    const withExtra = build(['extra', 'front', 'gw']);
    expect(withExtra['test-front']).toEqual(base['test-front']);
    expect(withExtra['test-gw']).toEqual(base['test-gw']);
    expect(build(['gw'])['test-gw']).toEqual(base['test-gw']);
  });

  test('reordering the addresses of FrontendVips keeps each address on its VRID', () => {
    const build = (addresses: string[]) => {
      const { chart } = newChart();
      new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses });
      const [obj] = synth(chart);
      return Object.fromEntries(obj.spec.vrrpInstances.map((g: any) => [g.virtualIPAddresses[0].address, g.id]));
    };
    expect(build(['203.0.113.3/32', '203.0.113.1/32', '203.0.113.2/32'])).toEqual(build(['203.0.113.1/32', '203.0.113.2/32', '203.0.113.3/32']));
  });

  test('automatic allocation never picks a reserved VRID', () => {
    const { app, chart } = newChart();
    const front = new FrontendVips(chart, 'front', { nodeSelector: {}, selectAllNodes: true, addresses: ['203.0.113.1/32'] });
    const free = front.resolveVrids()[0];
    new ReservedVrids(app, 'routers', { ids: [free] });
    const [obj] = synth(chart);
    expect(obj.spec.vrrpInstances[0].id).not.toBe(free);
  });
});
