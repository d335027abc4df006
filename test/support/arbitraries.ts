/**
 * fast-check arbitraries for random VALID apps across the whole model (the three shapes, both
 * targets, every option), as plain data, and the builder that turns such data into constructs.
 *
 * Plain data (no class instances) so that a mutation can deep-copy an app and break one field, and so
 * that fast-check prints a readable counterexample. Addresses are documentation addresses only:
 * 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
 */
import { App, Chart } from 'cdk8s';
import * as fc from 'fast-check';
import {
  FrontendVips, GatewayPair, InterfaceSelector, KeepalivedCluster, ReservedVrids, Target, VrrpAuth, VrrpGroup,
} from '../../src/internal';
import { misreadByKeepalived20 } from '../../src/core/standalone/keepalived-version';

// ---------------------------------------------------------------------------------------------------
// The plain-data model
// ---------------------------------------------------------------------------------------------------

/** An interface selector as data. */
export type SelSpec = { kind: 'default' } | { kind: 'net'; cidr: string } | { kind: 'name'; name: string };

/** A virtual IP: what the user writes, and its canonical form as the output must carry it. */
export interface VipSpec {
  address: string;
  /** Canonical `address/prefix` (dotted quad, or RFC 5952 IPv6). */
  canonical: string;
  family: 4 | 6;
  /** Its own interface (KeepalivedCluster groups), or for GatewayPair: lan.interface / wan.interface. */
  interface?: SelSpec;
}

/** A group of a KeepalivedCluster. */
export interface GroupSpec {
  id?: number;
  name?: string;
  interface?: SelSpec;
  addresses: VipSpec[];
  preempt?: boolean;
  advertInterval?: number;
  preferredNode?: string;
}

export type AuthSpec = { kind: 'secret'; secretName: string; key?: string } | { kind: 'literal'; password: string };

export interface DiscoverySpec {
  unicast?: boolean;
  leases?: boolean;
  leaseDurationSeconds?: number;
  minReloadIntervalSeconds?: number;
  maxNodes?: number;
  maxNodeSetChange?: number;
  peersInInterfaceNetwork?: boolean;
  sidecar?: string;
}

export interface StandaloneSpec {
  namespace?: string;
  createNamespace?: boolean;
  nodeOrder?: string[];
  images?: { keepalived?: string; agent?: string };
  policies?: string[];
  nodeNetworks?: string[];
  auth?: AuthSpec;
  unicastPeers?: string[];
  profile?: string;
  vrrpVersion?: number;
  garpRefreshSeconds?: number;
  discovery?: DiscoverySpec;
  metrics?: { port: number };
}

/** The KeepalivedInstance's own metadata (`Target.deckhouse({ labels, annotations })`). */
export interface DeckhouseMetadataSpec {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** `explicit`: `target: Target.deckhouse(...)` rather than the default (always so with metadata). */
export type TargetSpec = { kind: 'deckhouse'; explicit: boolean; metadata?: DeckhouseMetadataSpec } | { kind: 'standalone'; options: StandaloneSpec };

export interface TolSpec {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

interface CommonSpec {
  /** The construct id; the construct path is `test/<id>`. */
  id: string;
  name?: string;
  nodeSelector: Record<string, string>;
  tolerations?: TolSpec[];
  target: TargetSpec;
}

export interface FrontendSpec extends CommonSpec {
  shape: 'frontend';
  addresses: VipSpec[];
  vrids?: number[];
  interface?: SelSpec;
  preempt?: boolean;
  advertInterval?: number;
}

/** `lan.interface` / `wan.interface` live in the VipSpecs' `interface`. */
export interface GatewaySpec extends CommonSpec {
  shape: 'gateway';
  lan: VipSpec;
  wan: VipSpec;
  vrid?: number;
  preempt?: boolean;
  advertInterval?: number;
  preferredNode?: string;
}

/** The first `inProps` groups go into the props' `groups`, the others through `addGroup`. */
export interface ClusterShapeSpec extends CommonSpec {
  shape: 'cluster';
  groups: GroupSpec[];
  inProps: number;
}

export type ClusterSpec = FrontendSpec | GatewaySpec | ClusterShapeSpec;

/** A whole app: ReservedVrids constructs (at the app root, `reserved<i>`), then the clusters. */
export interface AppSpec {
  reserved: number[][];
  clusters: ClusterSpec[];
}

/** The chart every app is built in (its constructs' paths are `test/<id>`). */
export const CHART_ID = 'test';

export const pathOf = (c: ClusterSpec) => `${CHART_ID}/${c.id}`;

/** The name a cluster's objects carry: its own, or the one derived from its id (ids are short, lower case). */
export const effectiveName = (c: ClusterSpec) => c.name ?? c.id;

export const namespaceOfSpec = (c: ClusterSpec) => (c.target.kind === 'standalone' ? c.target.options.namespace ?? 'keepalived' : undefined);

/** Where a cluster's name must be unique. */
export const nameScopeOf = (c: ClusterSpec) => (c.target.kind === 'deckhouse' ? 'deckhouse' : `ns/${namespaceOfSpec(c)}`);

/** One VRRP group of any shape, in the user's terms. */
export interface GroupView {
  /** The VRID as the user gave it (undefined: automatic). */
  id: number | undefined;
  /** The prop that holds the VRID, e.g. `vrids[1]`, `vrid`, `groups[0].id`. */
  idField: string;
  vips: { vip: VipSpec; field: string }[];
  family: 4 | 6;
  advertInterval?: number;
}

/** The groups of a cluster, in order, with their fields named as the user wrote them. */
export function groupsOf(c: ClusterSpec): GroupView[] {
  switch (c.shape) {
    case 'frontend':
      return c.addresses.map((vip, i) => ({
        id: c.vrids?.[i], idField: `vrids[${i}]`, vips: [{ vip, field: `addresses[${i}]` }], family: vip.family, advertInterval: c.advertInterval,
      }));
    case 'gateway':
      return [{
        id: c.vrid, idField: 'vrid', vips: [{ vip: c.lan, field: 'lan.address' }, { vip: c.wan, field: 'wan.address' }],
        family: c.lan.family, advertInterval: c.advertInterval,
      }];
    case 'cluster':
      return c.groups.map((g, i) => ({
        id: g.id, idField: `groups[${i}].id`,
        vips: g.addresses.map((vip, j) => ({ vip, field: `groups[${i}].addresses[${j}].address` })),
        family: g.addresses[0]?.family ?? 4, advertInterval: g.advertInterval,
      }));
  }
}

// ---------------------------------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------------------------------

function selector(s: SelSpec | undefined): InterfaceSelector | undefined {
  if (s === undefined) return undefined;
  if (s.kind === 'default') return InterfaceSelector.defaultRoute();
  if (s.kind === 'net') return InterfaceSelector.networkAddress(s.cidr);
  return InterfaceSelector.name(s.name);
}

function auth(a: AuthSpec | undefined): VrrpAuth | undefined {
  if (a === undefined) return undefined;
  if (a.kind === 'literal') return VrrpAuth.literal(a.password);
  return a.key === undefined ? VrrpAuth.fromSecret(a.secretName) : VrrpAuth.fromSecret(a.secretName, a.key);
}

/**
 * A deep copy of plain data (objects, arrays, primitives), keeping shared references shared. Not
 * `structuredClone`: under jest that builds objects of another realm, which fast-check then prints as
 * "[object Object]" in counterexamples.
 */
export function deepCopy<T>(value: T, seen = new Map<unknown, unknown>()): T {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value) as T;
  const out: any = Array.isArray(value) ? [] : {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) out[k] = deepCopy(v, seen);
  return out;
}

const copy = <T>(value: T): T => deepCopy(value);

function target(t: TargetSpec): Target | undefined {
  if (t.kind === 'deckhouse') return t.explicit ? Target.deckhouse(copy(t.metadata)) : undefined;
  const { auth: authSpec, ...rest } = copy(t.options);
  const options: any = { ...rest };
  if (authSpec !== undefined) options.auth = auth(authSpec);
  return Target.standalone(options);
}

function vrrpGroup(g: GroupSpec): VrrpGroup {
  return compact({
    id: g.id,
    name: g.name,
    interface: selector(g.interface),
    addresses: g.addresses.map((v) => compact({ address: v.address, interface: selector(v.interface) })),
    preempt: g.preempt,
    advertInterval: g.advertInterval,
    preferredNode: g.preferredNode,
  }) as VrrpGroup;
}

/** Declares one cluster of the spec in `chart`. */
export function buildCluster(chart: Chart, c: ClusterSpec): KeepalivedCluster {
  const base = compact({
    name: c.name,
    nodeSelector: copy(c.nodeSelector),
    // An empty selector must be asked for.
    selectAllNodes: Object.keys(c.nodeSelector ?? {}).length === 0 ? true : undefined,
    tolerations: copy(c.tolerations) as any,
    target: target(c.target),
  });
  switch (c.shape) {
    case 'frontend':
      return new FrontendVips(chart, c.id, compact({
        ...base,
        addresses: c.addresses.map((v) => v.address),
        vrids: copy(c.vrids),
        interface: selector(c.interface),
        preempt: c.preempt,
        advertInterval: c.advertInterval,
      }) as any);
    case 'gateway':
      return new GatewayPair(chart, c.id, compact({
        ...base,
        lan: compact({ address: c.lan.address, interface: selector(c.lan.interface) }),
        wan: compact({ address: c.wan.address, interface: selector(c.wan.interface) }),
        vrid: c.vrid,
        preempt: c.preempt,
        advertInterval: c.advertInterval,
        preferredNode: c.preferredNode,
      }) as any);
    case 'cluster': {
      const cluster = new KeepalivedCluster(chart, c.id, { ...base, groups: c.groups.slice(0, c.inProps).map(vrrpGroup) } as any);
      for (const g of c.groups.slice(c.inProps)) cluster.addGroup(vrrpGroup(g));
      return cluster;
    }
  }
}

/** Declares the whole app: the reservations, then the clusters in order. */
export function buildApp(spec: AppSpec, app: App, chart: Chart): void {
  spec.reserved.forEach((ids, i) => new ReservedVrids(app, `reserved${i}`, { ids: [...ids] }));
  for (const c of spec.clusters) buildCluster(chart, c);
}

/** An object without its undefined fields. */
export function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------------
// Addresses (independent of src: canonical forms are computed here, not with src/core/address.ts)
// ---------------------------------------------------------------------------------------------------

export const V4_BLOCKS = ['192.0.2', '198.51.100', '203.0.113'];

/** The i-th IPv4 documentation address (0..767). */
export const v4Host = (i: number) => `${V4_BLOCKS[i >> 8]}.${i & 255}`;

/** Prefixes 24..32 for which `last` (the last octet) is neither the network nor the broadcast address. */
export function v4Prefixes(last: number): number[] {
  const out: number[] = [];
  for (let p = 24; p <= 32; p++) {
    const size = 2 ** (32 - p);
    if (p >= 31 || (last % size !== 0 && last % size !== size - 1)) out.push(p);
  }
  return out;
}

/** RFC 5952 text of 8 words. */
export function formatV6(words: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** An IPv6 documentation address written in one of four ways (canonical, upper case, expanded, uncompressed). */
export function writeV6(words: number[], variant: number): string {
  switch (variant % 4) {
    case 1: return formatV6(words).toUpperCase();
    case 2: return words.map((w) => w.toString(16).padStart(4, '0')).join(':');
    case 3: return words.map((w) => w.toString(16)).join(':');
    default: return formatV6(words);
  }
}

/** The words of the IPv6 VIP `2001:db8:<a>::<z>`. */
export const v6Words = (a: number, z: number) => [0x2001, 0xdb8, a, 0, 0, 0, 0, z];

const V6_PREFIXES = [48, 56, 64, 80, 96, 112, 120, 127, 128];

// ---------------------------------------------------------------------------------------------------
// Small arbitraries
// ---------------------------------------------------------------------------------------------------

const opt = <T>(arb: fc.Arbitrary<T>, freq = 2) => fc.option(arb, { nil: undefined, freq });
const chars = (alphabet: string) => fc.constantFrom(...alphabet.split(''));
const str = (alphabet: string, minLength: number, maxLength: number) => fc.string({ unit: chars(alphabet), minLength, maxLength });

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const ALNUM_LOWER = LOWER + DIGITS;
const ALNUM = LOWER + UPPER + DIGITS;

/** A DNS label (RFC 1123) of at most `max` characters. */
export function dnsLabel(max = 63): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: chars(ALNUM_LOWER) },
    { weight: 6, arbitrary: fc.tuple(chars(ALNUM_LOWER), str(`${ALNUM_LOWER}-`, 0, Math.max(0, Math.min(max - 2, 20))), chars(ALNUM_LOWER)).map(([a, m, z]) => `${a}${m}${z}`) },
    // Exactly at the limit, now and then.
    { weight: 1, arbitrary: fc.tuple(chars(ALNUM_LOWER), str(`${ALNUM_LOWER}-`, max - 2, max - 2), chars(ALNUM_LOWER)).map(([a, m, z]) => `${a}${m}${z}`) },
  );
}

/** A DNS subdomain (node names, Secret names, label key prefixes). */
export const dnsSubdomain = (): fc.Arbitrary<string> => fc.array(dnsLabel(20), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

/** The name part of a label key, or a non-empty label value: 1..63 of [-A-Za-z0-9_.], alphanumeric at both ends. */
export const labelName = (): fc.Arbitrary<string> => fc.oneof(
  { weight: 1, arbitrary: chars(ALNUM) },
  { weight: 6, arbitrary: fc.tuple(chars(ALNUM), str(`${ALNUM}-_.`, 0, 20), chars(ALNUM)).map(([a, m, z]) => `${a}${m}${z}`) },
  { weight: 1, arbitrary: fc.tuple(chars(ALNUM), str(`${ALNUM}-_.`, 61, 61), chars(ALNUM)).map(([a, m, z]) => `${a}${m}${z}`) },
);

export const labelKey = (): fc.Arbitrary<string> => fc.oneof(
  labelName(),
  fc.tuple(fc.oneof(fc.constantFrom('node-role.kubernetes.io', 'node-role.deckhouse.io', 'example.com', 'topology.kubernetes.io'), dnsSubdomain()), labelName())
    .map(([p, n]) => `${p}/${n}`),
);

export const labelValue = (): fc.Arbitrary<string> => fc.oneof(fc.constant(''), labelName());

const effect = () => fc.constantFrom('NoSchedule', 'PreferNoSchedule', 'NoExecute');

/** A valid toleration: Exists with or without a key, or Equal (explicit or default) with a key; tolerationSeconds only with NoExecute. */
export const toleration = (): fc.Arbitrary<TolSpec> => fc.oneof(
  fc.record({ operator: fc.constant('Exists'), effect: opt(effect()) }),
  fc.record({ key: labelKey(), operator: fc.constant('Exists'), value: opt(fc.constant('')), effect: opt(effect()) }),
  fc.record({ key: labelKey(), operator: opt(fc.constant('Equal')), value: opt(labelValue()), effect: opt(effect()) }),
).chain((t) => (t.effect === 'NoExecute'
  ? opt(fc.nat(86400)).map((s): TolSpec => compact({ ...t, tolerationSeconds: s }))
  : fc.constant(compact(t) as TolSpec)));

/** A Linux interface name (1..15 bytes, no "/", ":" or white space, not "." or ".."). */
export const interfaceName = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom('eth0', 'ens7', 'bond0', 'bond0.100', 'br-lan', 'enp3s0f1', 'wg0', 'vlan42', 'e', 'abcdefghijklmno'),
  str(`${ALNUM}._@-`, 1, 15).filter((n) => n !== '.' && n !== '..'),
);

/** An IPv4 network in the documentation blocks, prefix 24..32. */
export const v4Network = (): fc.Arbitrary<string> => fc.tuple(fc.nat(767), fc.integer({ min: 24, max: 32 })).map(([h, p]) => {
  const last = h & 255;
  const size = 2 ** (32 - p);
  return `${V4_BLOCKS[h >> 8]}.${last - (last % size)}/${p}`;
});

/** An IPv6 network inside 2001:db8::/32. */
export const v6Network = (): fc.Arbitrary<string> => fc.oneof(
  fc.constant('2001:db8::/32'),
  fc.nat(0xffff).map((a) => `${formatV6([0x2001, 0xdb8, a, 0, 0, 0, 0, 0])}/48`),
  fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([a, b]) => `${formatV6([0x2001, 0xdb8, a, b, 0, 0, 0, 0])}/64`),
);

export const networkOfFamily = (family: 4 | 6) => (family === 4 ? v4Network() : v6Network());

export const interfaceSelector = (family: 4 | 6): fc.Arbitrary<SelSpec> => fc.oneof(
  fc.constant<SelSpec>({ kind: 'default' }),
  interfaceName().map((name): SelSpec => ({ kind: 'name', name })),
  networkOfFamily(family).map((cidr): SelSpec => ({ kind: 'net', cidr })),
);

/** A selector that fits both families (no networkAddress). */
const familyFreeSelector = (): fc.Arbitrary<SelSpec> => fc.oneof(
  fc.constant<SelSpec>({ kind: 'default' }),
  interfaceName().map((name): SelSpec => ({ kind: 'name', name })),
);

const IMAGES = [
  'registry.example/keepalived:2.2.7', 'docker.io/osixia/keepalived:2.0.20', 'node:20-alpine', 'localhost:5000/net/keepalived',
  `ghcr.io/example/keepalived-agent@sha256:${'0123456789abcdef'.repeat(4)}`,
];

/** Printable ASCII without white space or # ! " ' { } $ \\ (what keepalived's parser keeps as written). */
const PASSWORD_CHARS = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)).filter((c) => !'#!"\'{}$\\'.includes(c)).join('');

export const authSpec = (): fc.Arbitrary<AuthSpec> => fc.oneof(
  fc.record({ kind: fc.constant('secret' as const), secretName: dnsSubdomain(), key: opt(str(`${ALNUM}-._`, 1, 20)) }).map((a) => compact(a) as AuthSpec),
  fc.record({ kind: fc.constant('literal' as const), password: str(PASSWORD_CHARS, 1, 8) }),
);

const discoverySpec = (): fc.Arbitrary<DiscoverySpec> => fc.record({
  unicast: opt(fc.boolean()),
  leases: opt(fc.boolean()),
  leaseDurationSeconds: opt(fc.integer({ min: 3, max: 3600 })),
  minReloadIntervalSeconds: opt(fc.oneof(fc.integer({ min: 1, max: 3600 }), fc.double({ min: 1, max: 3600, noNaN: true }))),
  maxNodes: opt(fc.integer({ min: 1, max: 249 })),
  maxNodeSetChange: opt(fc.double({ min: 0.01, max: 1, noNaN: true })),
  peersInInterfaceNetwork: opt(fc.boolean()),
  sidecar: opt(fc.constantFrom('native', 'classic')),
}).map((d) => compact(d.unicast === true ? d : { ...d, peersInInterfaceNetwork: undefined }));

/** A unicast peer address (canonical), outside the VIPs' ranges. */
const peer = (): fc.Arbitrary<string> => fc.oneof(
  fc.integer({ min: 1, max: 254 }).map((i) => `192.0.2.${i}`),
  fc.integer({ min: 1, max: 0xffff }).map((i) => formatV6([0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, i])),
);

// ---------------------------------------------------------------------------------------------------
// Clusters and apps
// ---------------------------------------------------------------------------------------------------

/** A VIP before the app assigns it a unique address: its family, a prefix choice and a way to write it. */
interface VipDraft { family: 4 | 6; prefixPick: number; variant: number; interface?: SelSpec }

const vipDraft = (family: 4 | 6, withInterface: boolean): fc.Arbitrary<VipDraft> => fc.record({
  family: fc.constant(family),
  prefixPick: fc.nat(100),
  variant: fc.nat(3),
  interface: withInterface ? opt(interfaceSelector(family), 3) : fc.constant(undefined),
}).map((d) => compact(d) as VipDraft);

/** The explicit-VRID placeholder: replaced by a unique VRID when the app is assembled. */
const EXPLICIT = 0;
const explicitOrAuto = () => opt(fc.constant(EXPLICIT), 1);

/** The VRRP versions the groups of a family run with these options. */
function versionOf(o: StandaloneSpec | undefined, family: 4 | 6): 2 | 3 {
  if (family === 6) return 3;
  if (o === undefined) return 2;
  if (o.vrrpVersion !== undefined) return o.vrrpVersion as 2 | 3;
  // The classic profile, and PASS authentication on the default profile, run VRRPv2.
  if (o.profile === 'classic' || (o.auth !== undefined && (o.profile === undefined || o.profile === 'default'))) return 2;
  return 3;
}

/**
 * An advert interval valid for all of `versions`: whole seconds on v2, centiseconds up to 40.95 on v3
 * (skipping those that keepalived 2.0, the default image's, misreads: they need a newer image).
 */
function advertIntervalFor(versions: Set<2 | 3>, pick: number): number {
  if (versions.has(2) && versions.has(3)) return 1 + (pick % 40);
  if (versions.has(2)) return 1 + (pick % 255);
  let c = 1 + (pick % 4095);
  while (misreadByKeepalived20(c / 100)) c = 1 + (c % 4095);
  return c / 100;
}

interface Draft {
  shape: 'frontend' | 'gateway' | 'cluster';
  deckhouse: boolean;
  explicitDeckhouse: boolean;
  deckhouseMetadata?: DeckhouseMetadataSpec;
  nameBase?: string;
  nodeSelector: Record<string, string>;
  tolerations?: TolSpec[];
  options: StandaloneSpec & { authPick?: AuthSpec };
  advertPick?: number;
  preferredPick?: string;
  preempt?: boolean;
  // frontend
  addresses?: VipDraft[];
  vridsExplicit?: boolean;
  interface?: SelSpec;
  // gateway
  lan?: VipDraft;
  wan?: VipDraft;
  vrid?: number;
  // cluster
  groups?: Array<{ id?: number; named: boolean; nameBase: string; interface?: SelSpec; addresses: VipDraft[]; preempt?: boolean; advertPick?: number; preferredPick?: string }>;
  inPropsPick: number;
}

const standaloneOptions = (): fc.Arbitrary<StandaloneSpec & { authPick?: AuthSpec }> => fc.record({
  namespace: opt(fc.oneof(fc.constantFrom('keepalived', 'net-system', 'vrrp'), dnsLabel(63))),
  createNamespace: opt(fc.boolean()),
  nodeOrder: opt(fc.uniqueArray(fc.oneof(dnsSubdomain(), fc.constantFrom('edge-a', 'edge-b', 'edge-c')), { minLength: 1, maxLength: 6 })),
  images: opt(fc.record({ keepalived: opt(fc.constantFrom(...IMAGES)), agent: opt(fc.constantFrom(...IMAGES)) }).map((i) => compact(i))),
  policies: opt(fc.shuffledSubarray(['calico', 'cilium', 'network-policy'])),
  nodeNetworks: opt(fc.array(fc.oneof(v4Network(), v6Network()), { minLength: 1, maxLength: 3 })),
  authPick: opt(authSpec()),
  unicastPeers: opt(fc.uniqueArray(peer(), { minLength: 1, maxLength: 4 })),
  profile: opt(fc.constantFrom('default', 'fast', 'classic')),
  vrrpVersion: opt(fc.constantFrom(2, 3)),
  garpRefreshSeconds: opt(fc.oneof(fc.constantFrom(0, 1, 30, 86_400), fc.integer({ min: 0, max: 86_400 }))),
  discovery: opt(discoverySpec(), 4),
}).map((o) => compact(o));

/** Any text, and texts that YAML would read as something else unquoted. */
const annotationValue = () => fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', 'true', '1', 'null', '~', 'a: b', '- x', '#c', 'multi\nline\n', ' lead', 'trail ', "it's \"q\""),
);

/** Labels and annotations for a KeepalivedInstance; annotation values are any text (YAML must keep them). */
const deckhouseMetadata = (): fc.Arbitrary<DeckhouseMetadataSpec> => fc.record({
  labels: opt(fc.dictionary(labelKey(), labelValue(), { minKeys: 1, maxKeys: 3 })),
  annotations: opt(fc.dictionary(labelKey(), annotationValue(), { minKeys: 1, maxKeys: 3 })),
}).map((m) => compact(m));

const preferredPick = () => opt(fc.oneof(dnsSubdomain(), fc.constant('@order')), 2);

function clusterDraft(deckhouse: boolean): fc.Arbitrary<Draft> {
  const families = deckhouse ? fc.constant<4 | 6>(4) : fc.constantFrom<4 | 6>(4, 6);
  const common = fc.record({
    explicitDeckhouse: fc.boolean(),
    deckhouseMetadata: deckhouse ? opt(deckhouseMetadata(), 4) : fc.constant(undefined),
    nameBase: opt(dnsLabel(63)),
    nodeSelector: fc.dictionary(labelKey(), labelValue(), { maxKeys: 3 }),
    tolerations: opt(fc.array(toleration(), { maxLength: 3 })),
    options: deckhouse ? fc.constant({}) : standaloneOptions(),
    advertPick: deckhouse ? fc.constant(undefined) : opt(fc.nat(10000)),
    preferredPick: deckhouse ? fc.constant(undefined) : preferredPick(),
    preempt: opt(fc.boolean()),
    inPropsPick: fc.nat(10),
  });
  const frontend = fc.record({
    shape: fc.constant('frontend' as const),
    mode: deckhouse ? fc.constant<4 | 6 | 'mixed'>(4) : fc.constantFrom<4 | 6 | 'mixed'>(4, 6, 'mixed'),
    vridsExplicit: fc.boolean(),
  }).chain((f) => fc.record({
    addresses: fc.array(f.mode === 'mixed' ? families.chain((fam) => vipDraft(fam, false)) : vipDraft(f.mode, false), { minLength: 1, maxLength: 4 }),
    interface: opt(f.mode === 'mixed' ? familyFreeSelector() : interfaceSelector(f.mode)),
  }).map((rest) => ({ ...f, ...rest })));
  const gateway = families.chain((family) => fc.record({
    shape: fc.constant('gateway' as const),
    lan: vipDraft(family, true),
    wan: vipDraft(family, true),
    vrid: explicitOrAuto(),
  }));
  const group = families.chain((family) => fc.record({
    id: explicitOrAuto(),
    named: fc.boolean(),
    nameBase: dnsLabel(40),
    interface: opt(interfaceSelector(family)),
    addresses: fc.array(vipDraft(family, true), { minLength: 1, maxLength: 3 }),
    preempt: opt(fc.boolean()),
    advertPick: deckhouse ? fc.constant(undefined) : opt(fc.nat(10000)),
    preferredPick: deckhouse ? fc.constant(undefined) : preferredPick(),
  }));
  const cluster = fc.record({ shape: fc.constant('cluster' as const), groups: fc.array(group, { minLength: 1, maxLength: 4 }) });
  return fc.tuple(fc.oneof(frontend, gateway, cluster), common)
    .map(([shape, c]) => ({ ...c, ...shape, deckhouse } as Draft));
}

/** Turns a cluster draft into a spec, with VIPs and explicit VRIDs still to be assigned by `assemble`. */
function finishCluster(d: Draft, index: number): { spec: ClusterSpec; drafts: Array<{ draft: VipDraft; vip: VipSpec }> } {
  const drafts: Array<{ draft: VipDraft; vip: VipSpec }> = [];
  const vip = (draft: VipDraft): VipSpec => {
    const v: VipSpec = compact({ address: '', canonical: '', family: draft.family, interface: draft.interface });
    drafts.push({ draft, vip: v });
    return v;
  };
  const id = `c${index}${['front', 'gw', 'edge'][['frontend', 'gateway', 'cluster'].indexOf(d.shape)]}`;
  const max = d.deckhouse ? 41 : 46;
  const suffix = `-e${index}`;
  const name = d.nameBase === undefined ? undefined : `${d.nameBase.slice(0, max - suffix.length)}${suffix}`;

  const { authPick, ...rawOptions } = d.options;
  const o: StandaloneSpec = { ...rawOptions };
  const pickNode = (p: string | undefined) => (p === '@order' ? o.nodeOrder?.[0] ?? 'edge-a' : p);
  let target: TargetSpec;
  const familiesOf = (fams: Array<4 | 6>) => new Set(fams);
  let families: Set<4 | 6>;
  if (d.shape === 'frontend') families = familiesOf(d.addresses!.map((a) => a.family));
  else if (d.shape === 'gateway') families = familiesOf([d.lan!.family]);
  else families = familiesOf(d.groups!.map((g) => g.addresses[0].family));

  if (d.deckhouse) {
    target = d.deckhouseMetadata ? { kind: 'deckhouse', explicit: true, metadata: d.deckhouseMetadata } : { kind: 'deckhouse', explicit: d.explicitDeckhouse };
  } else {
    if (o.profile === 'fast' && o.vrrpVersion === 2) o.vrrpVersion = 3;
    if (o.policies?.includes('network-policy') && o.nodeNetworks === undefined) o.nodeNetworks = ['192.0.2.0/24'];
    // Authentication only where every group runs VRRPv2 (IPv4).
    if (authPick && [...families].every((f) => versionOf({ ...o, auth: authPick }, f) === 2)) o.auth = authPick;
    // Static peers and discovered ones exclude each other.
    if (o.discovery?.unicast && o.unicastPeers !== undefined) o.discovery = compact({ ...o.discovery, unicast: undefined, peersInInterfaceNetwork: undefined });
    if (o.unicastPeers) {
      // Peers of every family a group uses, or the agent has no one to send a group's adverts to.
      const peers = [...o.unicastPeers];
      if (families.has(4) && !peers.some((p) => !p.includes(':'))) peers.push('198.51.100.250');
      if (families.has(6) && !peers.some((p) => p.includes(':'))) peers.push('2001:db8:fffe::fa');
      o.unicastPeers = peers;
    }
    target = { kind: 'standalone', options: compact(o) };
  }
  const versions = (fams: Set<4 | 6>) => new Set([...fams].map((f) => versionOf(d.deckhouse ? undefined : o, f)));
  const advert = (pick: number | undefined, fams: Set<4 | 6>) => (pick === undefined ? undefined : advertIntervalFor(versions(fams), pick));

  const common = compact({ id, name, nodeSelector: d.nodeSelector, tolerations: d.tolerations, target });
  let spec: ClusterSpec;
  if (d.shape === 'frontend') {
    const addresses = d.addresses!.map(vip);
    spec = compact({
      ...common, shape: 'frontend' as const, addresses,
      vrids: d.vridsExplicit ? addresses.map(() => EXPLICIT) : undefined,
      interface: d.interface, preempt: d.preempt, advertInterval: advert(d.advertPick, families),
    });
  } else if (d.shape === 'gateway') {
    spec = compact({
      ...common, shape: 'gateway' as const, lan: vip(d.lan!), wan: vip(d.wan!), vrid: d.vrid, preempt: d.preempt,
      advertInterval: advert(d.advertPick, families), preferredNode: pickNode(d.preferredPick),
    });
  } else {
    spec = {
      ...common, shape: 'cluster' as const, inProps: d.inPropsPick % (d.groups!.length + 1),
      groups: d.groups!.map((g, i) => compact({
        id: g.id,
        // Unique in the cluster, and never of the form vrid-<n> that unnamed groups get.
        name: g.named ? `g${i}-${g.nameBase}` : undefined,
        interface: g.interface,
        addresses: g.addresses.map(vip),
        preempt: g.preempt,
        advertInterval: advert(g.advertPick, new Set([g.addresses[0].family])),
        preferredNode: pickNode(g.preferredPick),
      })),
    };
  }
  return { spec, drafts };
}

export interface AppOptions {
  /** Which targets the clusters use. */
  targets: 'deckhouse' | 'standalone' | 'mixed';
  maxClusters: number;
  /** Up to this many ReservedVrids constructs. */
  maxReservations?: number;
}

/** A random valid app: unique VIPs, unique explicit VRIDs (none of them reserved), unique names. */
export function validApp(opts: AppOptions): fc.Arbitrary<AppSpec> {
  const draft = opts.targets === 'mixed'
    ? fc.boolean().chain((deck) => clusterDraft(deck))
    : clusterDraft(opts.targets === 'deckhouse');
  return fc.record({
    drafts: fc.array(draft, { minLength: 1, maxLength: opts.maxClusters }),
    reservedSizes: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: opts.maxReservations ?? 2 }),
  }).chain(({ drafts, reservedSizes }) => {
    const finished = drafts.map(finishCluster);
    const all = finished.flatMap((f) => f.drafts);
    const n4 = all.filter((d) => d.draft.family === 4).length;
    const n6 = all.length - n4;
    const explicitCount = finished.reduce((n, f) => n + groupsOf(f.spec).filter((g) => g.id === EXPLICIT).length, 0);
    const reservedCount = reservedSizes.reduce((a, b) => a + b, 0);
    return fc.record({
      v4: fc.uniqueArray(fc.nat(767), { minLength: n4, maxLength: n4 }),
      v6: fc.uniqueArray(fc.tuple(fc.nat(0xfeff), fc.integer({ min: 1, max: 0xffff })), { minLength: n6, maxLength: n6, selector: ([a, z]) => a * 0x10000 + z }),
      vrids: fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { minLength: explicitCount + reservedCount, maxLength: explicitCount + reservedCount }),
    }).map(({ v4, v6, vrids }) => assemble(finished, reservedSizes, v4, v6, vrids));
  });
}

function assemble(
  finished: Array<{ spec: ClusterSpec; drafts: Array<{ draft: VipDraft; vip: VipSpec }> }>,
  reservedSizes: number[], v4: number[], v6: Array<[number, number]>, vrids: number[],
): AppSpec {
  // fast-check may map the same drafts again while shrinking: fill a copy, never the drafts themselves.
  // (deepCopy keeps each draft linked to its VipSpec inside the copy.)
  finished = deepCopy(finished);
  let i4 = 0;
  let i6 = 0;
  for (const { draft, vip } of finished.flatMap((f) => f.drafts)) {
    if (draft.family === 4) {
      const h = v4[i4++];
      const prefixes = v4Prefixes(h & 255);
      const text = `${v4Host(h)}/${prefixes[draft.prefixPick % prefixes.length]}`;
      vip.address = text;
      vip.canonical = text;
    } else {
      const [a, z] = v6[i6++];
      const words = v6Words(a, z);
      const prefix = V6_PREFIXES[draft.prefixPick % V6_PREFIXES.length];
      vip.address = `${writeV6(words, draft.variant)}/${prefix}`;
      vip.canonical = `${formatV6(words)}/${prefix}`;
    }
  }
  // A VIP is no node's own address (keepalived would take it from that node): a peer that is a VIP of
  // the app is replaced by an address that is neither a VIP nor another peer.
  const vipHosts = new Set(finished.flatMap((f) => f.drafts.map(({ vip }) => vip.canonical.split('/')[0])));
  for (const { spec } of finished) {
    if (spec.target.kind !== 'standalone' || !spec.target.options.unicastPeers) continue;
    const used = new Set(spec.target.options.unicastPeers);
    spec.target.options.unicastPeers = spec.target.options.unicastPeers.map((p) => {
      if (!vipHosts.has(p)) return p;
      for (let k = 0; ; k++) {
        const other = p.includes(':') ? formatV6([0x2001, 0xdb8, 0xfffd, 0, 0, 0, 0, k + 1]) : `203.0.113.${254 - k}`;
        if (!vipHosts.has(other) && !used.has(other)) return used.add(other), other;
      }
    });
  }
  let iv = 0;
  const next = () => vrids[iv++];
  for (const { spec } of finished) {
    if (spec.shape === 'frontend' && spec.vrids) spec.vrids = spec.vrids.map(next);
    if (spec.shape === 'gateway' && spec.vrid === EXPLICIT) spec.vrid = next();
    if (spec.shape === 'cluster') for (const g of spec.groups) if (g.id === EXPLICIT) g.id = next();
  }
  const reserved = reservedSizes.map((n) => Array.from({ length: n }, next));
  // Clusters of one namespace agree on whether it exists: where some say it does (false), so do the others.
  const exists = new Set(finished.map((f) => f.spec).filter((c) => c.target.kind === 'standalone' && c.target.options.createNamespace === false).map(namespaceOfSpec));
  for (const { spec } of finished) {
    if (spec.target.kind === 'standalone' && exists.has(namespaceOfSpec(spec))) {
      (spec.target.options as { createNamespace?: boolean }).createNamespace = false;
    }
  }
  // Standalone clusters may share nodes: each listens on a metrics port of its own (the first on the default).
  finished.filter(({ spec }) => spec.target.kind === 'standalone').forEach(({ spec }, k) => {
    if (k > 0 && spec.target.kind === 'standalone') spec.target.options.metrics = { port: 9654 + k };
  });
  return { reserved, clusters: finished.map((f) => f.spec) };
}

/** Every VRID the app uses explicitly, or reserves. */
export function usedVrids(app: AppSpec): Set<number> {
  const used = new Set<number>(app.reserved.flat());
  for (const c of app.clusters) for (const g of groupsOf(c)) if (g.id !== undefined) used.add(g.id);
  return used;
}
