import { expectedRoleOf, MAX_NODE_ORDER, priorityOf } from '../src/core/priority';

const group = (index: number, name = `g${index}`, preferredNode?: string) => ({ name, index, preferredNode });
const nodes = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

describe('with a node order', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('%i groups on %i nodes: exactly one master per node', (n) => {
    // GIVEN
    const spec = { nodeOrder: nodes(n) };
    const groups = Array.from({ length: n }, (_, i) => group(i));
    // WHEN: each group's master is the node with the highest priority
    const masters = groups.map((g) => {
      const priorities = spec.nodeOrder.map((node) => priorityOf(spec, g, node));
      expect(new Set(priorities).size).toBe(n); // no ties within a group
      return spec.nodeOrder[priorities.indexOf(Math.max(...priorities))];
    });
    // THEN
    expect([...masters].sort()).toEqual([...spec.nodeOrder].sort());
    groups.forEach((g, i) => expect(expectedRoleOf(spec, g, masters[i])).toBe('master'));
  });

  test('the group at index i is led by the node at rank i, then the next ranks follow', () => {
    const spec = { nodeOrder: ['a', 'b', 'c'] };
    expect(['a', 'b', 'c'].map((node) => priorityOf(spec, group(1), node))).toEqual([244, 250, 247]);
    expect(['a', 'b', 'c'].map((node) => priorityOf(spec, group(4), node))).toEqual([244, 250, 247]);
  });

  test('unlisted nodes are always below every listed node', () => {
    for (const n of [1, 3, 8, 100, 247, 248, MAX_NODE_ORDER]) {
      const spec = { nodeOrder: nodes(n) };
      for (let i = 0; i < 20; i++) {
        const g = group(i);
        const lowestListed = Math.min(...spec.nodeOrder.map((node) => priorityOf(spec, g, node)));
        for (const stranger of ['stranger-1', 'stranger-2', 'edge-z.example.com']) {
          const p = priorityOf(spec, g, stranger);
          expect(p).toBeGreaterThanOrEqual(1);
          expect(p).toBeLessThan(lowestListed);
          expect(expectedRoleOf(spec, g, stranger)).toBe('backup');
        }
      }
    }
  });

  test('unlisted nodes spread over the band below the listed ones', () => {
    const spec = { nodeOrder: nodes(3) };
    const seen = new Set(nodes(200).map((n) => priorityOf(spec, group(0), `other-${n}`)));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...seen)).toBeLessThanOrEqual(246); // 2 + (245 - 1)
    expect(seen.size).toBeGreaterThan(50);
  });

  test('a node order longer than priorities allow is a RangeError', () => {
    expect(() => priorityOf({ nodeOrder: nodes(MAX_NODE_ORDER + 1) }, group(0), 'node-0')).toThrow(RangeError);
  });
});

describe('preferredNode', () => {
  test('the preferred node gets 254, above every computed priority, with or without a node order', () => {
    for (const spec of [{ nodeOrder: ['a', 'b', 'c'] }, {}]) {
      const g = group(0, 'front', 'b');
      expect(priorityOf(spec, g, 'b')).toBe(254);
      expect(priorityOf(spec, g, 'a')).toBeLessThan(254);
      expect(expectedRoleOf(spec, g, 'b')).toBe('master');
      expect(expectedRoleOf(spec, g, 'a')).toBe('backup');
    }
  });
});

describe('rendezvous hashing (no node order)', () => {
  test('deterministic and within 2..249, never 255', () => {
    const all: number[] = [];
    for (const node of nodes(50)) {
      for (let i = 0; i < 20; i++) {
        const p = priorityOf({}, group(i), node);
        expect(priorityOf({}, group(i), node)).toBe(p);
        all.push(p);
      }
    }
    expect(Math.min(...all)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...all)).toBeLessThanOrEqual(249);
    expect(new Set(all).size).toBeGreaterThan(100);
  });

  test('depends on the group name, not its index', () => {
    expect(priorityOf({}, group(0, 'front'), 'node-a')).toBe(priorityOf({}, group(7, 'front'), 'node-a'));
    // Pinned: fnv1a32('node-a/front') % 248 + 2; a change here moves masters on upgrade.
    expect(priorityOf({}, group(0, 'front'), 'node-a')).toBe(2 + (fnv('node-a/front') % 248));
  });

  test('masters spread: 3 nodes lead a fair share of 300 groups', () => {
    const names = ['node-a', 'node-b', 'node-c'];
    const led = new Map(names.map((n) => [n, 0]));
    for (let i = 0; i < 300; i++) {
      const p = names.map((n) => priorityOf({}, group(i), n));
      const master = names[p.indexOf(Math.max(...p))];
      led.set(master, led.get(master)! + 1);
    }
    for (const n of names) expect(led.get(n)).toBeGreaterThan(60);
    expect(expectedRoleOf({}, group(0), 'node-a')).toBe('elected by hash');
  });
});

// An independent FNV-1a, so that the pinned value above does not just call the code under test.
function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(text)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}
