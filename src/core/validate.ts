/**
 * The rules a cluster's own props must follow. Each rule is a small function that returns issues;
 * `validateCluster` runs them all. Rules that need the whole app (VRIDs, duplicate addresses and names)
 * live in `domain.ts`.
 */
import { Cidr, parseCidr, isNetwork, networkOf, maxPrefix, IpFamily } from './address';
import { ValidationIssue } from './errors';
import { keepalivedVersionIssues } from './keepalived-version';
import { InterfaceSelector } from './interface-selector';
import { ClusterDefinition, GroupDefinition, Toleration } from './model';
import { clusterName, dnsLabelProblem, dnsSubdomainProblem, maxNameLength } from './names';
import { FailoverProfile, SidecarMode, StandaloneOptions, VrrpAuth, VrrpPolicyFlavor } from './target';
import { parseIp } from './address';
import { VRID_MAX, VRID_MIN } from './vrid';
import { MAX_NODE_ORDER } from './priority';

type Report = (field: string, value: unknown, problem: string, expected: string) => void;

/** Every issue with a cluster's own props (not those that need the rest of the app). */
export function validateCluster(def: ClusterDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report: Report = (field, value, problem, expected) => issues.push({ path: def.path, field, value, problem, expected });
  checkName(def, report);
  checkNodeSelector(def, report);
  def.tolerations.forEach((t, i) => checkToleration(t, `tolerations[${i}]`, report));
  if (def.target.kind === 'standalone') checkStandalone(def.target.options, report);
  def.groups.forEach((g) => checkGroup(def, g, report));
  issues.push(...keepalivedVersionIssues(def), ...def.groups.flatMap((g) => keepalivedVersionIssues(def, g)));
  return issues;
}

/** Every issue with one group of a cluster. */
export function validateGroup(def: ClusterDefinition, group: GroupDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkGroup(def, group, (field, value, problem, expected) => issues.push({ path: def.path, field, value, problem, expected }));
  issues.push(...keepalivedVersionIssues(def, group));
  return issues;
}

function checkName(def: ClusterDefinition, report: Report) {
  const max = maxNameLength(def);
  const name = clusterName(def);
  const problem = dnsLabelProblem(name, max);
  if (!problem) return;
  const why = def.target.kind === 'deckhouse'
    ? `the Deckhouse module names a StatefulSet keepalived-${name}, whose pods' controller-revision-hash label must fit in 63 characters`
    : `the DaemonSet keepalived-${name} names pods that must be DNS labels`;
  report(def.name === undefined ? 'name (derived from the construct path)' : 'name', name,
    `${problem}; ${why}`, `lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`);
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$/;
const LABEL_KEY_EXPECTED = 'an optional DNS subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
const LABEL_VALUE_EXPECTED = 'a string of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit, or ""';

/** Whether a label key (also a taint key) is invalid: `[prefix/]name`. */
function labelKeyProblem(key: unknown): boolean {
  if (typeof key !== 'string') return true;
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return !LABEL_NAME.test(name) || (prefix !== undefined && dnsSubdomainProblem(prefix) !== undefined);
}

function checkNodeSelector(def: ClusterDefinition, report: Report) {
  if (def.nodeSelector === null || typeof def.nodeSelector !== 'object' || Array.isArray(def.nodeSelector)) {
    report('nodeSelector', def.nodeSelector, 'is not a map of labels', "a map of node labels, e.g. { 'node-role.kubernetes.io/edge': '' }");
    return;
  }
  for (const [key, value] of Object.entries(def.nodeSelector)) {
    if (labelKeyProblem(key)) report(`nodeSelector[${JSON.stringify(key)}]`, key, 'is not a valid label key', LABEL_KEY_EXPECTED);
    if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      report(`nodeSelector[${JSON.stringify(key)}]`, value, 'is not a valid label value', LABEL_VALUE_EXPECTED);
    }
  }
}

const OPERATORS = ['Exists', 'Equal'];
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function checkToleration(t: Toleration, field: string, report: Report) {
  const operator = t.operator ?? 'Equal';
  if (!OPERATORS.includes(operator)) {
    report(`${field}.operator`, t.operator, 'is not a toleration operator', `one of ${OPERATORS.join(', ')}`);
  }
  if (t.effect !== undefined && !EFFECTS.includes(t.effect)) {
    report(`${field}.effect`, t.effect, 'is not a taint effect', `one of ${EFFECTS.join(', ')}, or omit it for every effect`);
  }
  if (operator === 'Exists' && t.value !== undefined && t.value !== '') {
    report(`${field}.value`, t.value, 'must be empty with operator Exists', 'no value, or operator Equal');
  }
  if (t.key !== undefined && t.key !== '' && labelKeyProblem(t.key)) {
    report(`${field}.key`, t.key, 'is not a valid label key, so the API server would reject the pod', LABEL_KEY_EXPECTED);
  }
  if (operator === 'Equal' && t.value !== undefined && !LABEL_VALUE.test(t.value)) {
    report(`${field}.value`, t.value, 'is not a valid label value, so the API server would reject the pod', LABEL_VALUE_EXPECTED);
  }
  if (operator === 'Equal' && !t.key) {
    report(`${field}.key`, t.key, 'an empty key needs operator Exists', 'a taint key, or operator Exists to tolerate every taint');
  }
  if (t.tolerationSeconds !== undefined && (t.effect !== 'NoExecute' || !Number.isInteger(t.tolerationSeconds))) {
    report(`${field}.tolerationSeconds`, t.tolerationSeconds, 'applies only to effect NoExecute, as a whole number of seconds',
      'an integer with effect NoExecute, or no tolerationSeconds');
  }
}

/** The VRRP version a group runs on the standalone target. */
export function vrrpVersionOf(def: Pick<ClusterDefinition, 'target'>, family: IpFamily): 2 | 3 {
  if (family === 6) return 3;
  const o = def.target.options;
  return o.vrrpVersion ?? (o.profile === FailoverProfile.FAST ? 3 : 2);
}

/** The family of a group: that of its first parseable address (IPv4 when none parses). */
export function familyOf(group: GroupDefinition['group']): IpFamily {
  for (const vip of group.addresses ?? []) {
    const cidr = parseCidr(vip?.address);
    if (cidr) return cidr.address.family;
  }
  return 4;
}

function checkGroup(def: ClusterDefinition, gdef: GroupDefinition, report: Report) {
  const g = gdef.group;
  const f = gdef.fieldOf;
  const deckhouse = def.target.kind === 'deckhouse';

  if (g.id !== undefined && (!Number.isInteger(g.id) || g.id < VRID_MIN || g.id > VRID_MAX)) {
    report(f('id'), g.id, 'is not a VRRP router id', `an integer from ${VRID_MIN} to ${VRID_MAX}, or omit it for automatic allocation`);
  }
  if (g.name !== undefined && dnsLabelProblem(g.name, 63)) {
    report(f('name'), g.name, `${dnsLabelProblem(g.name, 63)}`, 'a DNS label of at most 63 characters');
  }
  if (!Array.isArray(g.addresses) || g.addresses.length === 0) {
    report(f('addresses'), g.addresses, 'a VRRP group needs at least one address', 'a non-empty list of addresses such as "192.0.2.10/32"');
    return;
  }
  const family = familyOf(g);
  checkSelector(def, g.interface, f('interface'), family, report);
  g.addresses.forEach((vip, i) => {
    const field = f(`addresses[${i}].address`);
    const cidr = checkVip(vip?.address, field, deckhouse, report);
    if (cidr && cidr.address.family !== family) {
      report(field, vip.address, `mixes IPv${cidr.address.family} into an IPv${family} group; keepalived holds one address family per VRRP group`,
        `an IPv${family} address, or a separate group for IPv${cidr.address.family}`);
    }
    if (vip?.interface !== undefined) checkSelector(def, vip.interface, f(`addresses[${i}].interface`), cidr?.address.family ?? family, report);
  });
  if (g.preempt !== undefined && typeof g.preempt !== 'boolean') {
    report(f('preempt'), g.preempt, 'is not a boolean', 'true or false');
  }
  if (g.advertInterval !== undefined) {
    if (deckhouse) {
      report(f('advertInterval'), g.advertInterval, 'the Deckhouse KeepalivedInstance has no advert interval (its module always uses 1 s)', 'omit it, or use Target.standalone()');
    } else {
      checkAdvertInterval(g.advertInterval, vrrpVersionOf(def, family), f('advertInterval'), report);
    }
  }
  const peers = deckhouse ? undefined : def.target.options.unicastPeers;
  if (peers !== undefined && !peers.some((p) => parseIp(p)?.family === family)) {
    report('target.unicastPeers', peers, `has no IPv${family} address for the IPv${family} group ${f('addresses')}, whose adverts would reach no peer`,
      `the nodes' IPv${family} addresses too, or a separate cluster for IPv${family}`);
  }
  if (!deckhouse && def.target.options.auth !== undefined && vrrpVersionOf(def, family) === 3) {
    report('target.auth', '(set)', `group ${f('addresses')} runs VRRPv3${family === 6 ? ' (IPv6 always does)' : ''}, which has no PASS authentication: keepalived would ignore the password`,
      'no auth with VRRPv3 or IPv6 groups; auth only with VRRPv2 IPv4 groups');
  }
  if (g.preferredNode !== undefined) {
    if (deckhouse) {
      report(f('preferredNode'), g.preferredNode, 'the Deckhouse KeepalivedInstance cannot prefer a node', 'omit it, or use Target.standalone()');
    } else if (dnsSubdomainProblem(g.preferredNode)) {
      report(f('preferredNode'), g.preferredNode, `${dnsSubdomainProblem(g.preferredNode)}, so it cannot be a node name`, 'the name of a node, a DNS subdomain');
    }
  }
}

function checkVip(address: unknown, field: string, deckhouse: boolean, report: Report): Cidr | undefined {
  const cidr = parseCidr(address as string);
  if (!cidr) {
    report(field, address, 'is not an IP address with a prefix length',
      deckhouse ? 'an IPv4 address and prefix such as "192.0.2.10/32"' : 'an address and prefix such as "192.0.2.10/32" or "2001:db8::10/64"');
    return undefined;
  }
  if (deckhouse && cidr.address.family === 6) {
    report(field, address, 'the Deckhouse KeepalivedInstance CRD accepts IPv4 addresses only',
      'an IPv4 address and prefix, or Target.standalone() for IPv6');
    return undefined;
  }
  const family = cidr.address.family;
  if (family === 4 && cidr.prefix <= 30 && (isNetwork(cidr) || broadcastOf(cidr) === cidr.address.text)) {
    report(field, address, `is the ${isNetwork(cidr) ? 'network' : 'broadcast'} address of ${networkOf(cidr).text}`,
      'a host address inside the prefix, e.g. the network address + 1');
    return undefined;
  }
  if (isUnusableVip(cidr)) {
    report(field, address, 'is not a unicast address a node can hold (unspecified, loopback, multicast or link-local)',
      'a unicast address on the node\'s network');
    return undefined;
  }
  return cidr;
}

function broadcastOf(cidr: Cidr): string {
  const hostBits = maxPrefix(4) - cidr.prefix;
  const n = cidr.address.bytes.reduce((acc, b) => acc * 256 + b, 0);
  const bcast = (Math.floor(n / 2 ** hostBits) * 2 ** hostBits) + 2 ** hostBits - 1;
  return [24, 16, 8, 0].map((s) => Math.floor(bcast / 2 ** s) % 256).join('.');
}

function isUnusableVip(cidr: Cidr): boolean {
  const b = cidr.address.bytes;
  if (cidr.address.family === 4) return b[0] === 0 || b[0] === 127 || b[0] >= 224 || (b[0] === 169 && b[1] === 254);
  const zero = b.every((x) => x === 0);
  const loopback = b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  return zero || loopback || b[0] === 0xff || (b[0] === 0xfe && (b[1] & 0xc0) === 0x80);
}

/** Linux's dev_valid_name: 1..15 bytes, not "." or "..", no "/", ":" or white space. */
export function interfaceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > 15) return 'is longer than 15 bytes (IFNAMSIZ - 1)';
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or white space';
  return undefined;
}

function checkSelector(def: ClusterDefinition, selector: InterfaceSelector | undefined, field: string, family: IpFamily, report: Report) {
  if (selector === undefined) return;
  if (!(selector instanceof InterfaceSelector)) {
    report(field, selector, 'is not an InterfaceSelector', 'InterfaceSelector.defaultRoute(), .networkAddress(cidr) or .name(ifname)');
    return;
  }
  const s = selector.spec;
  if (s.detectionStrategy === 'Name') {
    const problem = interfaceNameProblem(s.name);
    if (problem) report(field, s.name, `${problem}, so Linux would reject it as an interface name`, 'an interface name of 1..15 bytes without "/", ":" or white space, e.g. "ens7"');
  } else if (s.detectionStrategy === 'NetworkAddress') {
    const cidr = parseCidr(s.networkAddress);
    if (!cidr) {
      report(field, s.networkAddress, 'is not a network with a prefix length', 'a network such as "192.168.42.0/24"');
    } else if (!isNetwork(cidr)) {
      report(field, s.networkAddress, `is not a network: host bits are set (the network is ${networkOf(cidr).text})`, `the network address, "${networkOf(cidr).text}"`);
    } else if (def.target.kind === 'deckhouse' && cidr.address.family === 6) {
      report(field, s.networkAddress, 'the Deckhouse KeepalivedInstance CRD accepts IPv4 networks only', 'an IPv4 network, or Target.standalone() for IPv6');
    } else if (cidr.address.family !== family) {
      report(field, s.networkAddress, `is an IPv${cidr.address.family} network for IPv${family} addresses`, `an IPv${family} network`);
    }
  }
}

function checkAdvertInterval(value: number, version: 2 | 3, field: string, report: Report) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    report(field, value, 'is not a number of seconds', 'a number of seconds, e.g. 1');
  } else if (version === 2 && (!Number.isInteger(value) || value < 1 || value > 255)) {
    report(field, value, 'VRRPv2 adverts are whole seconds from 1 to 255 (fractional intervals need VRRPv3)',
      'an integer from 1 to 255, or vrrpVersion: 3 / FailoverProfile.FAST for fractional intervals');
  } else if (version === 3 && (value < 0.01 || value > 40.95 || Math.abs(Math.round(value * 100) - value * 100) > 1e-6)) {
    report(field, value, 'VRRPv3 adverts are centiseconds from 0.01 to 40.95 s', 'a multiple of 0.01 from 0.01 to 40.95');
  }
}

// Printable ASCII without the characters keepalived's parser reads as comments, quotes, blocks or escapes.
const PASSWORD = /^[^\s#!"'{}$\\\x00-\x1f\x7f-\uffff]{1,8}$/;

function checkStandalone(o: StandaloneOptions, report: Report) {
  if (o.namespace !== undefined && dnsLabelProblem(o.namespace, 63)) {
    report('target.namespace', o.namespace, `${dnsLabelProblem(o.namespace, 63)}`, 'a namespace name: a DNS label of at most 63 characters');
  }
  if ((o.nodeOrder ?? []).length > MAX_NODE_ORDER) {
    report('target.nodeOrder', `(${o.nodeOrder!.length} nodes)`, `VRRP priorities leave room for at most ${MAX_NODE_ORDER} ordered nodes`,
      `at most ${MAX_NODE_ORDER} nodes; the others are ranked by hash`);
  }
  const seen = new Set<string>();
  (o.nodeOrder ?? []).forEach((node, i) => {
    const problem = dnsSubdomainProblem(node);
    if (problem) report(`target.nodeOrder[${i}]`, node, `${problem}, so it cannot be a node name`, 'node names (DNS subdomains)');
    else if (seen.has(node)) report(`target.nodeOrder[${i}]`, node, 'is listed twice', 'each node once');
    seen.add(node);
  });
  for (const [key, image] of Object.entries(o.images ?? {})) {
    if (key === 'keepalivedVersion') continue; // keepalived-version.ts
    if (typeof image !== 'string' || image.trim() === '' || /\s/.test(image)) {
      report(`target.images.${key}`, image, 'is not an image reference', 'an image such as "registry.example/keepalived:2.2.7"');
    }
  }
  const flavors = Object.values(VrrpPolicyFlavor) as string[];
  (o.policies ?? []).forEach((p, i) => {
    if (!flavors.includes(p)) report(`target.policies[${i}]`, p, 'is not a policy flavour', `one of VrrpPolicyFlavor.${Object.keys(VrrpPolicyFlavor).join(', VrrpPolicyFlavor.')}`);
    else if (o.policies!.indexOf(p) !== i) report(`target.policies[${i}]`, p, 'is listed twice', 'each policy flavour once');
  });
  if ((o.policies ?? []).includes(VrrpPolicyFlavor.NETWORK_POLICY) && (o.nodeNetworks ?? []).length === 0) {
    report('target.nodeNetworks', o.nodeNetworks, 'the NetworkPolicy flavour needs the nodes\' networks for its ipBlock rule', 'the networks of the nodes, e.g. ["192.0.2.0/24"]');
  }
  (o.nodeNetworks ?? []).forEach((net, i) => {
    const cidr = parseCidr(net);
    if (!cidr || !isNetwork(cidr)) report(`target.nodeNetworks[${i}]`, net, 'is not a network', cidr ? `the network address, "${networkOf(cidr).text}"` : 'a network such as "192.0.2.0/24"');
  });
  if (o.auth !== undefined) checkAuth(o.auth, report);
  const peers = new Set<string>();
  (o.unicastPeers ?? []).forEach((peer, i) => {
    const ip = parseIp(peer);
    if (!ip) report(`target.unicastPeers[${i}]`, peer, 'is not an IP address', 'a node address without a prefix, e.g. "192.0.2.11"');
    else if (peers.has(ip.text)) report(`target.unicastPeers[${i}]`, peer, 'is listed twice', 'each peer once');
    if (ip) peers.add(ip.text);
  });
  if (o.profile !== undefined && !(Object.values(FailoverProfile) as string[]).includes(o.profile)) {
    report('target.profile', o.profile, 'is not a failover profile', 'FailoverProfile.DEFAULT or FailoverProfile.FAST');
  }
  if (o.vrrpVersion !== undefined && o.vrrpVersion !== 2 && o.vrrpVersion !== 3) {
    report('target.vrrpVersion', o.vrrpVersion, 'is not a VRRP version', '2 or 3');
  }
  if (o.discovery !== undefined) checkDiscovery(o, report);
  if (o.vrrpVersion === 2 && o.profile === FailoverProfile.FAST) {
    report('target.vrrpVersion', 2, 'the fast profile\'s sub-second adverts need VRRPv3', 'vrrpVersion 3, or omit it');
  }
}

function checkAuth(auth: VrrpAuth, report: Report) {
  if (!(auth instanceof VrrpAuth)) {
    report('target.auth', auth, 'is not a VrrpAuth', 'VrrpAuth.fromSecret(name, key) or VrrpAuth.literal(password)');
    return;
  }
  const { secretName, key, password } = auth.spec;
  if (password !== undefined) {
    // Never echo the password itself into an error message.
    if (typeof password !== 'string' || !PASSWORD.test(password)) {
      report('target.auth', `(a literal of ${typeof password === 'string' ? password.length : 0} characters)`,
        'keepalived\'s PASS authentication takes 1..8 printable characters and silently truncates longer ones',
        '1 to 8 printable ASCII characters without spaces or any of # ! " \' { } $ \\');
    }
  } else {
    if (dnsSubdomainProblem(secretName)) report('target.auth', secretName, `the Secret name ${dnsSubdomainProblem(secretName)}`, 'the name of a Secret in the cluster\'s namespace');
    if (typeof key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(key)) report('target.auth', key, 'is not a Secret data key', 'a key of letters, digits, "-", "_" or "."');
  }
}

function checkDiscovery(o: StandaloneOptions, report: Report) {
  const d = o.discovery!;
  if (d === null || typeof d !== 'object') {
    report('target.discovery', d, 'is not a DiscoveryOptions object', '{} to turn discovery on, with optional unicast, leases, leaseDurationSeconds, minReloadIntervalSeconds, sidecar');
    return;
  }
  if (d.unicast && o.unicastPeers !== undefined) {
    report('target.unicastPeers', o.unicastPeers, 'static unicast peers and discovery.unicast exclude each other', 'either unicastPeers, or discovery: { unicast: true }');
  }
  if (d.leaseDurationSeconds !== undefined && (!Number.isInteger(d.leaseDurationSeconds) || d.leaseDurationSeconds < 3 || d.leaseDurationSeconds > 3600)) {
    report('target.discovery.leaseDurationSeconds', d.leaseDurationSeconds, 'is not a lease duration the agent can renew in time', 'an integer from 3 to 3600');
  }
  if (d.minReloadIntervalSeconds !== undefined && (typeof d.minReloadIntervalSeconds !== 'number' || !(d.minReloadIntervalSeconds >= 0) || d.minReloadIntervalSeconds > 3600)) {
    report('target.discovery.minReloadIntervalSeconds', d.minReloadIntervalSeconds, 'is not a number of seconds', 'a number from 0 to 3600');
  }
  if (d.sidecar !== undefined && !(Object.values(SidecarMode) as string[]).includes(d.sidecar)) {
    report('target.discovery.sidecar', d.sidecar, 'is not a sidecar mode', 'SidecarMode.NATIVE or SidecarMode.CLASSIC');
  }
}
