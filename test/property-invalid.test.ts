// Property: every random INVALID app, made by breaking one field of a random valid one, fails to
// build or synthesize, with a message that names the construct path and the field in the user's terms
// (`[test/c1gw] lan.interface = ...`), and produces no output.
//
// Reproduce a run: FC_SEED=<seed> npx jest test/property-invalid.test.ts (FC_RUNS=<n> to change the runs;
// FC_MUTATION=<text> runs only the mutations whose name contains <text>).
import * as fs from 'fs';
import * as fc from 'fast-check';
import {
  AppOptions, AppSpec, buildApp, ClusterSpec, effectiveName, groupsOf, nameScopeOf, pathOf, SelSpec, StandaloneSpec,
  deepCopy, TolSpec, usedVrids, V4_BLOCKS, validApp, VipSpec,
} from './support/arbitraries';
import { MAX_NODE_ORDER } from '../src/internal';
import { newChart, synth } from './support/synth';

// Random apps put `preempt: false` on the Deckhouse target, which warns at synth (tested in validation.test.ts).
beforeAll(() => { jest.spyOn(console, 'warn').mockImplementation(() => undefined); });

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Math.random() * 0x100000000) | 0;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : undefined;
/** Only the mutations whose name contains this text (for reproducing one). */
const ONLY = process.env.FC_MUTATION;

// ---------------------------------------------------------------------------------------------------
// Deterministic choices from a list of random numbers (so that fast-check can shrink them)
// ---------------------------------------------------------------------------------------------------

class Picks {
  private i = 0;
  constructor(private readonly values: readonly number[]) {}
  public int(n: number): number {
    const v = this.values[this.i++ % this.values.length];
    return n <= 0 ? 0 : v % n;
  }
  public pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** Where the mutation broke the app: the owner's construct path and the field in the user's terms. */
interface Broken { path: string; field: string }

interface Mutation {
  name: string;
  /** Breaks one field of `app` (a private copy) in place; undefined when the app has nowhere to apply it. */
  apply(app: AppSpec, p: Picks): Broken | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Slots: the places of an app where a mutation can apply
// ---------------------------------------------------------------------------------------------------

const standalone = (c: ClusterSpec): StandaloneSpec | undefined => (c.target.kind === 'standalone' ? c.target.options : undefined);
const isDeckhouse = (c: ClusterSpec) => c.target.kind === 'deckhouse';

interface VipSlot { c: ClusterSpec; vip: VipSpec; field: string; groupFamily: 4 | 6; indexInGroup: number; groupSize: number }

function vipSlots(app: AppSpec): VipSlot[] {
  return app.clusters.flatMap((c) => groupsOf(c).flatMap((g) => g.vips.map(({ vip, field }, j) => ({
    c, vip, field, groupFamily: g.family, indexInGroup: j, groupSize: g.vips.length,
  }))));
}

interface SelectorSlot { c: ClusterSpec; field: string; family: 4 | 6; set: (s: SelSpec) => void }

function selectorSlots(app: AppSpec): SelectorSlot[] {
  const out: SelectorSlot[] = [];
  for (const c of app.clusters) {
    if (c.shape === 'frontend') out.push({ c, field: 'interface', family: c.addresses[0].family, set: (s) => { c.interface = s; } });
    if (c.shape === 'gateway') {
      out.push({ c, field: 'lan.interface', family: c.lan.family, set: (s) => { c.lan.interface = s; } });
      out.push({ c, field: 'wan.interface', family: c.wan.family, set: (s) => { c.wan.interface = s; } });
    }
    if (c.shape === 'cluster') {
      c.groups.forEach((g, i) => {
        out.push({ c, field: `groups[${i}].interface`, family: g.addresses[0].family, set: (s) => { g.interface = s; } });
        g.addresses.forEach((v, j) => out.push({ c, field: `groups[${i}].addresses[${j}].interface`, family: v.family, set: (s) => { v.interface = s; } }));
      });
    }
  }
  return out;
}

interface VridSlot { c: ClusterSpec; field: string; set: (id: any) => void }

/** A VRID in 1..255 that the app neither uses explicitly nor reserves. */
function freshVrid(app: AppSpec, p: Picks, also: number[] = []): number {
  const used = usedVrids(app);
  for (const a of also) used.add(a);
  const free = Array.from({ length: 255 }, (_, i) => i + 1).filter((v) => !used.has(v));
  return p.pick(free);
}

function vridSlots(app: AppSpec, p: Picks): VridSlot[] {
  const out: VridSlot[] = [];
  for (const c of app.clusters) {
    if (c.shape === 'frontend') {
      c.addresses.forEach((_, i) => out.push({
        c, field: `vrids[${i}]`,
        set: (id) => {
          // Give the other addresses explicit, unused VRIDs, so that vrids has the right length.
          if (c.vrids === undefined) {
            const fresh: number[] = [];
            c.addresses.forEach(() => fresh.push(freshVrid(app, p, fresh)));
            c.vrids = fresh;
          }
          c.vrids[i] = id;
        },
      }));
    }
    if (c.shape === 'gateway') out.push({ c, field: 'vrid', set: (id) => { c.vrid = id; } });
    if (c.shape === 'cluster') c.groups.forEach((g, i) => out.push({ c, field: `groups[${i}].id`, set: (id) => { g.id = id; } }));
  }
  return out;
}

interface GroupFieldSlot { c: ClusterSpec; field: string; set: (v: any) => void; family: 4 | 6 }

/** Where a group-level option lives: shared by FrontendVips' groups, GatewayPair's one group, or groups[i]. */
function groupFieldSlots(app: AppSpec, prop: 'advertInterval' | 'preferredNode' | 'preempt'): GroupFieldSlot[] {
  const out: GroupFieldSlot[] = [];
  for (const c of app.clusters) {
    if (c.shape === 'frontend' && prop !== 'preferredNode') out.push({ c, field: prop, family: c.addresses[0].family, set: (v) => { (c as any)[prop] = v; } });
    if (c.shape === 'gateway') out.push({ c, field: prop, family: c.lan.family, set: (v) => { (c as any)[prop] = v; } });
    if (c.shape === 'cluster') c.groups.forEach((g, i) => out.push({ c, field: `groups[${i}].${prop}`, family: g.addresses[0].family, set: (v) => { (g as any)[prop] = v; } }));
  }
  return out;
}

const standaloneClusters = (app: AppSpec) => app.clusters.filter((c) => c.target.kind === 'standalone');

/** The VRRP version the groups of a family run on a standalone cluster. */
function versionOf(o: StandaloneSpec, family: 4 | 6): 2 | 3 {
  if (family === 6) return 3;
  if (o.vrrpVersion !== undefined) return o.vrrpVersion as 2 | 3;
  // The classic profile, and PASS authentication on the default profile, run VRRPv2.
  if (o.profile === 'classic' || (o.auth !== undefined && (o.profile === undefined || o.profile === 'default'))) return 2;
  return 3;
}

/** Sets `list[i]` (an existing index, or one past the end) and returns the index. */
function placeIn<T>(list: T[], p: Picks, value: T): number {
  const i = p.int(list.length + 1);
  list[i] = value;
  return i;
}

const v4HostOf = (vip: VipSpec) => vip.canonical.split('/')[0];

/** `name` misspelt as people do: a letter dropped, doubled or swapped with the next, or the case changed. */
function misspell(name: string, p: Picks): string {
  const i = 1 + p.int(name.length - 2);
  switch (p.int(4)) {
    case 0: return name.slice(0, i) + name.slice(i + 1);
    case 1: return name.slice(0, i) + name[i] + name.slice(i);
    case 2: return name[i] === name[i + 1] ? `${name}s` : name.slice(0, i) + name[i + 1] + name[i] + name.slice(i + 2);
    default: return name === name.toLowerCase() ? name.toUpperCase() : name.toLowerCase();
  }
}

// ---------------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------------

const BAD_V4 = ['198.51.100.300/32', '198.51.100.1', '198.51.100.01/32', '198.51.100.1/', 'abc/24', '198.51.100.1/24/1', ' 198.51.100.1/32', '198.51.100/24', '', '1.2.3.4.5/32'];
const BAD_V6 = ['2001:db8::g/64', '2001:db8:::1/64', '2001:db8::1', '2001:db8::1::2/64', '2001:db8:1:2:3:4:5:6:7/64', '::ffff:1.2.3/96'];
const UNUSABLE_V4 = ['224.0.0.18/32', '127.0.0.1/8', '0.0.0.0/32', '169.254.10.1/16', '240.0.0.1/32', '255.255.255.255/32'];
const UNUSABLE_V6 = ['fe80::1/64', 'ff02::12/128', '::1/128', '::/128'];
const BAD_IFNAMES = ['', '.', '..', 'eth0/1', 'eth0:1', 'eth 0', 'tab\tx', 'eth0\n', 'averyveryverylongname', 'abcdefghijklmnop', 'ü'.repeat(8)];
const BAD_NETWORKS = ['198.51.100/24', '198.51.100.0', 'eth0', '198.51.100.0/33', '', '2001:db8::/129', 'default'];
const BAD_NAMES = ['Front_1', 'UPPER', '-lead', 'trail-', 'a.b', '', 'has space', 'ünï', 'a_b'];
const BAD_LABEL_KEYS = ['bad key', 'example.com/', '/role', 'Example.com/role', '-role', 'role-', 'a'.repeat(64), 'ex_ample.com/role', 'a/b/c', 'role!', ''];
const BAD_LABEL_VALUES = ['edge node', '-x', 'x-', 'a'.repeat(64), 'ü', 'a/b', '.x'];
const BAD_NODE_NAMES = ['Node A', '', 'UPPER', '-x', 'a_b', 'a..b', 'x.'];

const MUTATIONS: Mutation[] = [
  // --- addresses
  {
    name: 'addresses: malformed',
    apply: (app, p) => {
      const s = p.pick(vipSlots(app));
      s.vip.address = p.pick(s.vip.family === 4 ? BAD_V4 : BAD_V6);
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: a node\'s own address (one of the standalone target\'s unicastPeers)',
    apply: (app, p) => {
      const slots = vipSlots(app).filter((x) => x.c.target.kind === 'standalone' && x.c.target.options.discovery?.unicast !== true);
      if (slots.length === 0) return undefined;
      const s = p.pick(slots);
      const options = (s.c.target as { options: { unicastPeers?: string[] } }).options;
      const host = s.vip.canonical.split('/')[0];
      // Multicast before: peers of both families (no VIP of the app), or the groups before
      // this one would fail first for want of a peer (addGroup throws at once).
      const vips = new Set(vipSlots(app).map((x) => x.vip.canonical.split('/')[0]));
      const peers = (options.unicastPeers ?? ['203.0.113.254', '203.0.113.253', '2001:db8:fffd::1', '2001:db8:fffd::2']).filter((x) => !vips.has(x));
      options.unicastPeers = [...peers, host];
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: bad prefix length',
    apply: (app, p) => {
      const s = p.pick(vipSlots(app));
      const host = s.vip.canonical.split('/')[0];
      s.vip.address = `${host}/${p.pick(s.vip.family === 4 ? ['33', '-1', '024', '', '99', 'x'] : ['129', '-1', '064', '', '1000'])}`;
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: the network or broadcast address of its own prefix',
    apply: (app, p) => {
      const slots = vipSlots(app).filter((s) => s.vip.family === 4 && s.groupFamily === 4);
      if (slots.length === 0) return undefined;
      const s = p.pick(slots);
      const [a, b, c, last] = v4HostOf(s.vip).split('.').map(Number);
      const prefix = 24 + p.int(7);
      const size = 2 ** (32 - prefix);
      const network = last - (last % size);
      s.vip.address = `${a}.${b}.${c}.${p.int(2) === 0 ? network : network + size - 1}/${prefix}`;
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: not a unicast address a node can hold',
    apply: (app, p) => {
      const s = p.pick(vipSlots(app));
      s.vip.address = p.pick(s.vip.family === 4 || isDeckhouse(s.c) ? UNUSABLE_V4 : UNUSABLE_V6);
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: IPv6 on the Deckhouse target',
    apply: (app, p) => {
      const slots = vipSlots(app).filter((s) => isDeckhouse(s.c));
      if (slots.length === 0) return undefined;
      const s = p.pick(slots);
      s.vip.address = p.pick(['2001:db8:ffff::1/64', '2001:DB8::5/128', '::ffff:192.0.2.1/128']);
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: two families in one group',
    apply: (app, p) => {
      const slots = vipSlots(app).filter((s) => !isDeckhouse(s.c) && s.indexInGroup > 0);
      if (slots.length === 0) return undefined;
      const s = p.pick(slots);
      s.vip.address = s.groupFamily === 4 ? '2001:db8:ffff::2/128' : '192.0.2.255/32';
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: a VIP held twice in the app (also written differently)',
    apply: (app, p) => {
      const slots = vipSlots(app);
      const targets = slots.map((s, i) => ({ s, i })).filter(({ s, i }) => slots.slice(0, i).some((e) => e.vip.family === s.groupFamily));
      if (targets.length === 0) return undefined;
      const { s, i } = p.pick(targets);
      const source = p.pick(slots.slice(0, i).filter((e) => e.vip.family === s.groupFamily));
      const [host] = source.vip.canonical.split('/');
      // The same IP with another prefix length is the same VIP.
      s.vip.address = p.pick([source.vip.address, source.vip.canonical, `${host.toUpperCase()}/${source.vip.family === 4 ? 32 : 128}`]);
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'addresses: missing',
    apply: (app, p) => {
      const s = p.pick(vipSlots(app).filter((x) => x.c.shape !== 'frontend'));
      if (s === undefined) return undefined;
      (s.vip as any).address = undefined;
      return { path: pathOf(s.c), field: s.field };
    },
  },
  // --- VRIDs
  {
    name: 'vrids: out of range or not an integer',
    apply: (app, p) => {
      const s = p.pick(vridSlots(app, p));
      s.set(p.pick([0, 256, -1, 1.5, NaN, 1000, Infinity, 254.5, '7']));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'vrids: the same explicit VRID in two groups of the app',
    apply: (app, p) => {
      const slots = vridSlots(app, p);
      if (slots.length < 2) return undefined;
      const b = 1 + p.int(slots.length - 1);
      const a = p.int(b);
      const v = freshVrid(app, p);
      slots[a].set(v);
      slots[b].set(v);
      return { path: pathOf(slots[b].c), field: slots[b].field };
    },
  },
  {
    name: 'vrids: a reserved VRID (ReservedVrids)',
    apply: (app, p) => {
      const s = p.pick(vridSlots(app, p));
      if (app.reserved.length === 0) app.reserved.push([freshVrid(app, p)]);
      const id = p.pick(p.pick(app.reserved));
      s.set(id);
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'vrids: a ReservedVrids id out of range',
    apply: (app, p) => {
      if (app.reserved.length === 0 || p.int(3) === 0) app.reserved.push([freshVrid(app, p)]);
      const k = p.int(app.reserved.length);
      const i = placeIn(app.reserved[k], p, p.pick([0, 256, -3, 2.5, NaN]));
      return { path: `reserved${k}`, field: `ids[${i}]` };
    },
  },
  {
    name: 'vrids: not one per address (FrontendVips)',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'frontend')) as Extract<ClusterSpec, { shape: 'frontend' }> | undefined;
      if (c === undefined) return undefined;
      const base = c.vrids ?? c.addresses.map(() => freshVrid(app, p));
      c.vrids = p.int(2) === 0 || base.length === 0 ? [...base, freshVrid(app, p, base)] : base.slice(0, -1);
      return { path: pathOf(c), field: 'vrids' };
    },
  },
  // --- interface selectors
  {
    name: 'interfaces: a name Linux rejects',
    apply: (app, p) => {
      const s = p.pick(selectorSlots(app));
      s.set({ kind: 'name', name: p.pick(BAD_IFNAMES) });
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'interfaces: networkAddress with host bits set',
    apply: (app, p) => {
      const s = p.pick(selectorSlots(app));
      s.set({ kind: 'net', cidr: s.family === 4 ? `${p.pick(V4_BLOCKS)}.${1 + p.int(254)}/24` : p.pick(['2001:db8::1/64', '2001:db8:0:1::/48']) });
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'interfaces: networkAddress malformed',
    apply: (app, p) => {
      const s = p.pick(selectorSlots(app));
      s.set({ kind: 'net', cidr: p.pick(BAD_NETWORKS) });
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'interfaces: networkAddress of the wrong family (or IPv6 on Deckhouse)',
    apply: (app, p) => {
      const s = p.pick(selectorSlots(app));
      s.set({ kind: 'net', cidr: s.family === 4 ? p.pick(['2001:db8::/32', '2001:db8:1::/48']) : `${p.pick(V4_BLOCKS)}.0/24` });
      return { path: pathOf(s.c), field: s.field };
    },
  },
  // --- names
  {
    name: 'name: not a DNS label',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      c.name = p.pick(BAD_NAMES);
      return { path: pathOf(c), field: 'name' };
    },
  },
  {
    name: 'name: too long for its target (41 Deckhouse, 46 standalone)',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      const max = isDeckhouse(c) ? 41 : 46;
      c.name = `${'abcdefghij0123456789-'.repeat(4)}`.slice(0, max + 1 + p.int(17)).replace(/-$/, 'z');
      return { path: pathOf(c), field: 'name' };
    },
  },
  {
    name: 'name: used twice in one scope (Deckhouse, or a standalone namespace)',
    apply: (app, p) => {
      const pairs: Array<[ClusterSpec, ClusterSpec]> = [];
      app.clusters.forEach((b, j) => app.clusters.slice(0, j).forEach((a) => { if (a.target.kind === b.target.kind) pairs.push([a, b]); }));
      if (pairs.length === 0) return undefined;
      const [a, b] = p.pick(pairs);
      if (nameScopeOf(a) !== nameScopeOf(b)) standalone(b)!.namespace = standalone(a)!.namespace ?? 'keepalived';
      b.name = effectiveName(a);
      return { path: pathOf(b), field: 'name' };
    },
  },
  {
    name: 'groups[i].name: not a DNS label',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'cluster')) as Extract<ClusterSpec, { shape: 'cluster' }> | undefined;
      if (c === undefined) return undefined;
      const i = p.int(c.groups.length);
      c.groups[i].name = p.pick(['Bad_Name', 'x'.repeat(64), '', '-g', 'g-', 'a.b']);
      return { path: pathOf(c), field: `groups[${i}].name` };
    },
  },
  // --- nodeSelector
  {
    name: 'nodeSelector: invalid label key',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      const key = p.pick(BAD_LABEL_KEYS);
      c.nodeSelector = { ...c.nodeSelector, [key]: '' };
      return { path: pathOf(c), field: `nodeSelector[${JSON.stringify(key)}]` };
    },
  },
  {
    name: 'nodeSelector: invalid label value',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      const keys = Object.keys(c.nodeSelector);
      const key = keys.length > 0 && p.int(2) === 0 ? p.pick(keys) : 'example.com/role';
      c.nodeSelector = { ...c.nodeSelector, [key]: p.pick<any>([...BAD_LABEL_VALUES, 5, null]) };
      return { path: pathOf(c), field: `nodeSelector[${JSON.stringify(key)}]` };
    },
  },
  {
    name: 'nodeSelector: not a map',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      (c as any).nodeSelector = p.pick<any>([null, [], 'edge', 5]);
      return { path: pathOf(c), field: 'nodeSelector' };
    },
  },
  // --- tolerations
  ...([
    ['operator', 'tolerations: unknown operator', (p: Picks) => ({ key: 'k', operator: p.pick(['Equals', 'exists', 'In', 'NotEqual']) })],
    ['effect', 'tolerations: unknown effect', (p: Picks) => ({ key: 'k', effect: p.pick(['NoExec', 'noschedule', 'All', 'NoScheduleX']) })],
    ['value', 'tolerations: a value with operator Exists', (p: Picks) => ({ key: 'k', operator: 'Exists', value: p.pick(['v', 'x', 'true']) })],
    ['tolerationSeconds', 'tolerations: tolerationSeconds without NoExecute, or not whole', (p: Picks) => p.pick<TolSpec>([
      { key: 'k', effect: 'NoSchedule', tolerationSeconds: 30 }, { key: 'k', tolerationSeconds: 30 },
      { key: 'k', effect: 'PreferNoSchedule', tolerationSeconds: 0 }, { key: 'k', effect: 'NoExecute', tolerationSeconds: 1.5 },
    ])],
    ['key', 'tolerations: operator Equal without a key', (p: Picks) => p.pick<TolSpec>([{ operator: 'Equal', value: 'v' }, { value: 'v' }, { key: '', operator: 'Equal' }])],
  ] as Array<[string, string, (p: Picks) => TolSpec]>).map(([prop, name, make]): Mutation => ({
    name,
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      c.tolerations = [...(c.tolerations ?? [])];
      const i = placeIn(c.tolerations, p, make(p));
      return { path: pathOf(c), field: `tolerations[${i}].${prop}` };
    },
  })),
  // --- advertInterval, preferredNode, preempt
  {
    name: 'advertInterval: on the Deckhouse target',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'advertInterval').filter((x) => isDeckhouse(x.c)));
      if (s === undefined) return undefined;
      s.set(p.pick([1, 2, 0.5]));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'advertInterval: wrong for the VRRP version (v2 whole 1..255, v3 0.01..40.95)',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'advertInterval').filter((x) => !isDeckhouse(x.c)));
      if (s === undefined) return undefined;
      const v = versionOf(standalone(s.c)!, s.family);
      s.set(p.pick(v === 2 ? [0.5, 0, 256, 1.5, -1, 2.25] : [0.001, 41, 0.015, 0, -0.1, 40.96, 100]));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'advertInterval: not a number',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'advertInterval').filter((x) => !isDeckhouse(x.c)));
      if (s === undefined) return undefined;
      s.set(p.pick<any>([NaN, Infinity, '1', -Infinity]));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'preferredNode: on the Deckhouse target',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'preferredNode').filter((x) => isDeckhouse(x.c)));
      if (s === undefined) return undefined;
      s.set(p.pick(['node-a', 'edge-1.example.com']));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'preferredNode: not a node name',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'preferredNode').filter((x) => !isDeckhouse(x.c)));
      if (s === undefined) return undefined;
      s.set(p.pick([...BAD_NODE_NAMES, 'x'.repeat(254)]));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  {
    name: 'preempt: not a boolean',
    apply: (app, p) => {
      const s = p.pick(groupFieldSlots(app, 'preempt'));
      s.set(p.pick<any>(['yes', 1, 'false', null]));
      return { path: pathOf(s.c), field: s.field };
    },
  },
  // --- standalone options
  ...standaloneMutations(),
  {
    name: 'unknown field: a misspelt toleration field',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      c.tolerations = [...(c.tolerations ?? [])];
      const field = misspell(p.pick(['key', 'operator', 'value', 'effect', 'tolerationSeconds']), p);
      const i = placeIn(c.tolerations, p, { key: 'dedicated', operator: 'Exists', [field]: 'x' } as TolSpec);
      return { path: pathOf(c), field: `tolerations[${i}].${field}` };
    },
  },
  {
    name: 'unknown field: a misspelt field of the Deckhouse target\'s options',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter(isDeckhouse));
      if (c === undefined) return undefined;
      const field = misspell(p.pick(['labels', 'annotations']), p);
      c.target = { kind: 'deckhouse', explicit: true, metadata: { ...(c.target as { metadata?: object }).metadata, [field]: {} } };
      return { path: pathOf(c), field: `target.${field}` };
    },
  },
  // --- empty
  {
    name: 'empty: FrontendVips without addresses',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'frontend')) as Extract<ClusterSpec, { shape: 'frontend' }> | undefined;
      if (c === undefined) return undefined;
      c.addresses = [];
      return { path: pathOf(c), field: 'addresses' };
    },
  },
  {
    name: 'empty: KeepalivedCluster without groups',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'cluster')) as Extract<ClusterSpec, { shape: 'cluster' }> | undefined;
      if (c === undefined) return undefined;
      c.groups = [];
      c.inProps = 0;
      return { path: pathOf(c), field: 'groups' };
    },
  },
  {
    name: 'empty: a group without addresses',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'cluster')) as Extract<ClusterSpec, { shape: 'cluster' }> | undefined;
      if (c === undefined) return undefined;
      const i = p.int(c.groups.length);
      c.groups[i].addresses = [];
      return { path: pathOf(c), field: `groups[${i}].addresses` };
    },
  },
];

function standaloneMutations(): Mutation[] {
  /** Applies `f` to the options of a random standalone cluster. */
  const onStandalone = (name: string, f: (o: StandaloneSpec, p: Picks, c: ClusterSpec, app: AppSpec) => string | undefined): Mutation => ({
    name,
    apply: (app, p) => {
      const c = p.pick(standaloneClusters(app));
      if (c === undefined) return undefined;
      const field = f(standalone(c)!, p, c, app);
      return field === undefined ? undefined : { path: pathOf(c), field };
    },
  });
  const families = (c: ClusterSpec) => new Set(groupsOf(c).map((g) => g.family));
  return [
    onStandalone('unknown field: a misspelt field of the standalone options (or of their discovery options)', (o, p) => {
      if (o.discovery !== undefined && p.int(2) === 0) {
        const field = misspell(p.pick(['unicast', 'leases', 'maxNodes', 'maxNodeSetChange', 'leaseDurationSeconds', 'sidecar']), p);
        o.discovery = { ...o.discovery, [field]: true };
        return `target.discovery.${field}`;
      }
      const field = misspell(p.pick(['namespace', 'nodeOrder', 'images', 'policies', 'nodeNetworks', 'unicastPeers', 'profile', 'vrrpVersion', 'discovery', 'metrics']), p);
      (o as Record<string, unknown>)[field] = p.pick<unknown>([true, 'x', 3, {}]);
      return `target.${field}`;
    }),
    onStandalone('target.namespace: not a DNS label', (o, p) => {
      o.namespace = p.pick(['Bad_NS', '', 'x'.repeat(64), 'a.b', '-ns']);
      return 'target.namespace';
    }),
    onStandalone('target.nodeOrder: a node listed twice', (o, p) => {
      const order = o.nodeOrder ?? [p.pick(['edge-a', 'node-1.example.com'])];
      o.nodeOrder = [...order, p.pick(order)];
      return `target.nodeOrder[${o.nodeOrder.length - 1}]`;
    }),
    onStandalone('target.nodeOrder: not a node name', (o, p) => {
      o.nodeOrder = [...(o.nodeOrder ?? [])];
      return `target.nodeOrder[${placeIn(o.nodeOrder, p, p.pick(BAD_NODE_NAMES))}]`;
    }),
    onStandalone('target.images: not an image reference', (o, p) => {
      const key = p.pick(['keepalived', 'agent'] as const);
      o.images = { ...o.images, [key]: p.pick<any>(['', ' ', 'has space', 'a\tb', 'x\n', 42]) };
      return `target.images.${key}`;
    }),
    onStandalone('target.policies: unknown flavour', (o, p) => {
      o.policies = [...(o.policies ?? [])];
      return `target.policies[${placeIn(o.policies, p, p.pick(['iptables', 'Calico', '', 'networkpolicy']))}]`;
    }),
    onStandalone('target.nodeNetworks: missing for the NetworkPolicy flavour', (o, p) => {
      o.policies = o.policies?.includes('network-policy') ? o.policies : [...(o.policies ?? []), 'network-policy'];
      o.nodeNetworks = p.pick([undefined, []]);
      return 'target.nodeNetworks';
    }),
    onStandalone('target.nodeNetworks: not a network', (o, p) => {
      o.nodeNetworks = [...(o.nodeNetworks ?? [])];
      return `target.nodeNetworks[${placeIn(o.nodeNetworks, p, p.pick(['192.0.2.7/24', 'garbage', '192.0.2.0', '2001:db8::1/64', '']))}]`;
    }),
    onStandalone('target.auth: a literal keepalived would truncate or misread', (o, p) => {
      o.auth = { kind: 'literal', password: p.pick(['', 'ninechars', 'x'.repeat(20), 'pass word', 'pa#ss', 'pässwd', 'a"b', 'a{b}', '$x']) };
      return 'target.auth';
    }),
    onStandalone('target.auth: a bad Secret reference', (o, p) => {
      o.auth = p.pick<any>([
        { kind: 'secret', secretName: 'Bad_Name' }, { kind: 'secret', secretName: '' }, { kind: 'secret', secretName: 'vrrp', key: 'bad key' },
        { kind: 'secret', secretName: 'vrrp', key: '' }, { kind: 'secret', secretName: 'vrrp', key: 'a/b' },
      ]);
      return 'target.auth';
    }),
    onStandalone('target.auth: with VRRPv3 or an IPv6 group', (o, p, c) => {
      o.auth = { kind: 'literal', password: 'secret1' };
      if (!families(c).has(6) || p.int(2) === 0) {
        if (o.vrrpVersion === 2 || p.int(2) === 0) o.vrrpVersion = 3;
        else o.profile = 'fast';
      }
      return 'target.auth';
    }),
    onStandalone('target.unicastPeers: not an IP address', (o, p) => {
      o.unicastPeers = [...(o.unicastPeers ?? [])];
      return `target.unicastPeers[${placeIn(o.unicastPeers, p, p.pick(['198.51.100.300', '198.51.100.1/32', 'node-a', '', '2001:db8::g', '::1::2']))}]`;
    }),
    onStandalone('target.unicastPeers: a peer listed twice (also written differently)', (o, p) => {
      const peers = o.unicastPeers ?? ['192.0.2.1', '2001:db8:ffff::1'];
      const dup = p.pick(peers);
      o.unicastPeers = [...peers, dup.includes(':') ? p.pick([dup, dup.toUpperCase(), dup.replace('::', ':0::')]) : dup];
      return `target.unicastPeers[${o.unicastPeers.length - 1}]`;
    }),
    onStandalone('target.profile: unknown', (o, p) => {
      o.profile = p.pick(['turbo', 'FAST', '', 'Default']);
      return 'target.profile';
    }),
    onStandalone('target.vrrpVersion: not 2 or 3', (o, p) => {
      o.vrrpVersion = p.pick<any>([1, 4, '3', 2.5, 0]);
      return 'target.vrrpVersion';
    }),
    onStandalone('target.garpRefreshSeconds: not whole seconds from 0 to a day', (o, p) => {
      (o as any).garpRefreshSeconds = p.pick<any>([-1, 0.5, 86_401, '30', Number.NaN]);
      return 'target.garpRefreshSeconds';
    }),
    onStandalone('target.vrrpVersion: 2 with the fast profile', (o) => {
      o.vrrpVersion = 2;
      o.profile = 'fast';
      return 'target.vrrpVersion';
    }),
    onStandalone('target.discovery: not an object', (o, p) => {
      (o as any).discovery = p.pick<any>(['on', true, 5, null]);
      return 'target.discovery';
    }),
    onStandalone('target.unicastPeers: together with discovery.unicast', (o, p) => {
      o.discovery = { ...o.discovery, unicast: true };
      o.unicastPeers = o.unicastPeers ?? p.pick([['192.0.2.1'], ['192.0.2.1', '2001:db8:ffff::1']]);
      return 'target.unicastPeers';
    }),
    onStandalone('target.discovery.leaseDurationSeconds: out of range or not whole', (o, p) => {
      o.discovery = { ...o.discovery, leaseDurationSeconds: p.pick([2, 3601, 1.5, -1, NaN, 0]) };
      return 'target.discovery.leaseDurationSeconds';
    }),
    onStandalone('target.discovery.minReloadIntervalSeconds: out of range or not a number', (o, p) => {
      o.discovery = { ...o.discovery, minReloadIntervalSeconds: p.pick<any>([-1, NaN, 3601, '5', Infinity, 0, 0.5]) };
      return 'target.discovery.minReloadIntervalSeconds';
    }),
    onStandalone('target.discovery.maxNodes: out of range or not whole', (o, p) => {
      o.discovery = { ...o.discovery, maxNodes: p.pick<any>([0, -1, 250, 5000, 1.5, NaN, '64']) };
      return 'target.discovery.maxNodes';
    }),
    onStandalone('target.discovery.maxNodeSetChange: not a fraction in (0, 1]', (o, p) => {
      o.discovery = { ...o.discovery, maxNodeSetChange: p.pick<any>([0, -0.5, 1.01, 2, NaN, Infinity, '0.5']) };
      return 'target.discovery.maxNodeSetChange';
    }),
    onStandalone('target.discovery.sidecar: unknown', (o, p) => {
      o.discovery = { ...o.discovery, sidecar: p.pick(['sidecar', 'NATIVE', '', 'init']) };
      return 'target.discovery.sidecar';
    }),
  ];
}

/**
 * Invalid input that the property found src accepting, fixed since; test/property-regressions.test.ts
 * keeps their minimal cases.
 */
const FOUND_BY_THE_PROPERTY: Mutation[] = [
  {
    name: 'tolerations: a key that is not a label key',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      c.tolerations = [...(c.tolerations ?? [])];
      const i = placeIn(c.tolerations, p, { key: p.pick(['bad key!', 'a/b/c', '-k', 'Example.com/k']), operator: 'Exists' });
      return { path: pathOf(c), field: `tolerations[${i}].key` };
    },
  },
  {
    name: 'tolerations: an Equal value that is not a label value',
    apply: (app, p) => {
      const c = p.pick(app.clusters);
      c.tolerations = [...(c.tolerations ?? [])];
      const i = placeIn(c.tolerations, p, { key: 'k', operator: 'Equal', value: p.pick(['has space', '-x', 'a'.repeat(64)]) });
      return { path: pathOf(c), field: `tolerations[${i}].value` };
    },
  },
  {
    name: 'target.nodeOrder: longer than the 249 nodes VRRP priorities leave room for',
    apply: (app, p) => {
      const c = p.pick(standaloneClusters(app));
      if (c === undefined) return undefined;
      standalone(c)!.nodeOrder = Array.from({ length: MAX_NODE_ORDER + 1 + p.int(10) }, (_, i) => `node-${i}`);
      return { path: pathOf(c), field: 'target.nodeOrder' };
    },
  },
  {
    name: 'target.unicastPeers: no peer of a group\'s family',
    apply: (app, p) => {
      const c = p.pick(standaloneClusters(app));
      if (c === undefined) return undefined;
      const family = p.pick(groupsOf(c)).family;
      standalone(c)!.unicastPeers = family === 6 ? ['192.0.2.11', '192.0.2.12'] : ['2001:db8:ffff::11', '2001:db8:ffff::12'];
      delete standalone(c)!.discovery;
      return { path: pathOf(c), field: 'target.unicastPeers' };
    },
  },
  {
    name: 'groups[i].name: two groups of a cluster with the same name',
    apply: (app, p) => {
      const c = p.pick(app.clusters.filter((x) => x.shape === 'cluster' && x.groups.length >= 2 && !isDeckhouse(x))) as Extract<ClusterSpec, { shape: 'cluster' }> | undefined;
      if (c === undefined) return undefined;
      c.groups[0].name = 'web';
      c.groups[1].name = 'web';
      return { path: pathOf(c), field: 'groups[1].name' };
    },
  },
  {
    name: 'target.policies: a flavour listed twice',
    apply: (app, p) => {
      const c = p.pick(standaloneClusters(app));
      if (c === undefined) return undefined;
      const o = standalone(c)!;
      o.policies = ['calico', 'cilium'];
      o.policies.push(p.pick(o.policies));
      return { path: pathOf(c), field: 'target.policies[2]' };
    },
  },
];

// ---------------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------------

/** Builds and synthesizes; returns the output (if any) and the error message (if any). */
function attempt(app: AppSpec): { output?: any[]; message?: string } {
  const { app: cdkApp, chart } = newChart();
  let output: any[] | undefined;
  try {
    buildApp(app, cdkApp, chart);
    output = synth(chart);
    return { output };
  } catch (e) {
    return { output, message: (e as Error).message };
  } finally {
    fs.rmSync(cdkApp.outdir, { recursive: true, force: true });
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function runProperty(label: string, options: AppOptions, numRuns: number) {
  const catalogue = [...MUTATIONS, ...FOUND_BY_THE_PROPERTY].filter((m) => ONLY === undefined || m.name.includes(ONLY));
  const runs = RUNS ?? numRuns;
  const counts = new Map<string, number>();
  // eslint-disable-next-line no-console
  console.log(`${label}: fc.assert with seed=${SEED} numRuns=${runs}, ${catalogue.length} mutations (reproduce: FC_SEED=${SEED} FC_RUNS=${runs} npx jest test/property-invalid.test.ts -t '${label}')`);
  const started = Date.now();
  const property = fc.property(
    validApp(options),
    fc.noBias(fc.nat(10000)),
    fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    (valid, which, picks) => {
      // One mutation, uniformly among those that apply to this app (each breaks its own copy).
      const applicable: Array<{ mutation: Mutation; app: AppSpec; broken: Broken }> = [];
      for (const mutation of catalogue) {
        const app = deepCopy(valid);
        const broken = mutation.apply(app, new Picks(picks));
        if (broken) applicable.push({ mutation, app, broken });
      }
      fc.pre(applicable.length > 0);
      const { mutation, app, broken } = applicable[which % applicable.length];
      counts.set(mutation.name, (counts.get(mutation.name) ?? 0) + 1);
      const { output, message } = attempt(app);
      // Synth threw before returning anything, and the message names the construct path and the
      // field, as `[path] field = value: ...`.
      const named = message !== undefined && new RegExp(`\\[${escape(broken.path)}\\] ${escape(broken.field)} = `).test(message);
      if (output !== undefined || !named) {
        throw new Error([
          `mutation "${mutation.name}" broke [${broken.path}] ${broken.field}, but`,
          output !== undefined ? `  it synthesized ${output.length} objects: ${output.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`
            : `  the message does not name "[${broken.path}] ${broken.field} = ":\n    ${message}`,
          `  the invalid app: ${fc.stringify(app)}`,
        ].join('\n'));
      }
    },
  );
  fc.assert(property, { seed: SEED, numRuns: runs });
  const unused = catalogue.filter((m) => !counts.has(m.name)).map((m) => m.name);
  // eslint-disable-next-line no-console
  console.log(`${label}: ${runs} invalid apps rejected in ${((Date.now() - started) / 1000).toFixed(1)} s; by mutation:\n  ${
    [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, k]) => `${k}\t${n}`).join('\n  ')}${unused.length ? `\n  never applied: ${unused.join('; ')}` : ''}`);
}

describe('random invalid apps (one field broken) fail with the construct path and the field, and no output', () => {
  test('Deckhouse target: 1,500 apps', () => {
    runProperty('deckhouse', { targets: 'deckhouse', maxClusters: 3 }, 1500);
  });

  test('standalone target (with some Deckhouse clusters mixed in): 1,500 apps', () => {
    runProperty('standalone', { targets: 'standalone', maxClusters: 3 }, 1100);
    runProperty('mixed', { targets: 'mixed', maxClusters: 3 }, 400);
  });
});
