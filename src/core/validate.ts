/**
 * The rules a cluster's own props must follow. Each rule is a small function that returns issues;
 * `validateCluster` runs them all. Rules that need the whole app (VRIDs, duplicate addresses and names)
 * live in `domain.ts`.
 */
import { Cidr, parseCidr, isNetwork, networkOf, maxPrefix, IpFamily, parseIp } from './address';
import { ValidationIssue } from './errors';
import { unsupportedHealthCheckIssues, validateHealthChecks } from './health-check';
import { InterfaceSelector } from './interface-selector';
import { checkKnownFields } from './fields';
import { ClusterDefinition, GroupDefinition, Toleration, TOLERATION_FIELDS, VRRP_GROUP_FIELDS } from './model';
import { isLabelValue, isPlainObject, LABEL_KEY_EXPECTED, LABEL_VALUE_EXPECTED, labelKeyProblem, listIn } from './metadata';
import { clusterName, dnsLabelProblem, interfaceNameProblem } from './names';
import { isVrid, VIP_COUNT_EXPECTED, vipCountProblem, VRID_EXPECTED } from './rules';
import { familyOf } from './standalone/agent-spec-of';
import { IssueReport as Report, Target } from './target';

export { familyOf };

/** Every issue with a cluster's own props (not those that need the rest of the app). */
export function validateCluster(def: ClusterDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report: Report = (field, value, problem, expected) => issues.push({ path: def.path, field, value, problem, expected });
  if (!(def.target instanceof Target)) {
    report('target', def.target, 'is not a Target', 'Target.deckhouse() or Target.standalone({...})');
    return issues;
  }
  checkName(def, report);
  checkNodeSelector(def, report);
  listIn('tolerations', def.tolerations, report, 'a list of tolerations, e.g. [{ key: "dedicated", operator: "Exists" }]').forEach((t, i) => {
    if (!isPlainObject(t)) {
      report(`tolerations[${i}]`, t, 'is not a toleration', 'an object with key, operator, value, effect and tolerationSeconds, as in a pod spec');
      return;
    }
    checkKnownFields(`tolerations[${i}]`, t, TOLERATION_FIELDS, report);
    checkToleration(t as Toleration, `tolerations[${i}]`, report);
  });
  def.target._strategy.validateCluster(def, report);
  def.groups.forEach((g) => checkGroup(def, g, report));
  issues.push(...healthCheckIssues(def, def.healthChecks, 'healthChecks'));
  return issues;
}

/** Health checks: validated as such, and refused where the target cannot run them (Deckhouse). */
function healthCheckIssues(def: ClusterDefinition, checks: unknown, field: string): ValidationIssue[] {
  if (!def.target._strategy.healthChecks) return unsupportedHealthCheckIssues(checks, field, def.path);
  return validateHealthChecks(checks, field, def.path);
}

/** Every issue with one group of a cluster. */
export function validateGroup(def: ClusterDefinition, group: GroupDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkGroup(def, group, (field, value, problem, expected) => issues.push({ path: def.path, field, value, problem, expected }));
  return issues;
}

function checkName(def: ClusterDefinition, report: Report) {
  const max = def.target._strategy.maxNameLength;
  const name = clusterName(def);
  const problem = dnsLabelProblem(name, max);
  if (!problem) return;
  // Only a name that is too long needs the reason for the limit.
  const why = typeof name === 'string' && name.length > max ? `; ${def.target._strategy.nameLengthReason(name)}` : '';
  report(def.name === undefined ? 'name (derived from the construct id)' : 'name', name,
    `${problem}${why}`, `lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`);
}

function checkNodeSelector(def: ClusterDefinition, report: Report) {
  if (!isPlainObject(def.nodeSelector)) {
    report('nodeSelector', def.nodeSelector, 'is not a map of labels', "a map of node labels, e.g. { 'node-role.kubernetes.io/edge': '' }");
    return;
  }
  if (def.selectAllNodes !== undefined && typeof def.selectAllNodes !== 'boolean') {
    report('selectAllNodes', def.selectAllNodes, 'is not a boolean', 'true or false');
  } else if (Object.keys(def.nodeSelector).length === 0 && def.selectAllNodes !== true) {
    report('nodeSelector', def.nodeSelector, 'is empty, so keepalived would run on every schedulable node',
      "the labels of the nodes that hold the addresses, e.g. { 'node-role.kubernetes.io/edge': '' }, or selectAllNodes: true to mean every node");
  }
  for (const [key, value] of Object.entries(def.nodeSelector)) {
    if (labelKeyProblem(key) !== undefined) report(`nodeSelector[${JSON.stringify(key)}]`, key, 'is not a valid label key', LABEL_KEY_EXPECTED);
    if (!isLabelValue(value)) {
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
  if (t.key !== undefined && t.key !== '' && labelKeyProblem(t.key) !== undefined) {
    report(`${field}.key`, t.key, 'is not a valid label key, so the API server would reject the pod', LABEL_KEY_EXPECTED);
  }
  if (operator === 'Equal' && t.value !== undefined && !isLabelValue(t.value)) {
    report(`${field}.value`, t.value, 'is not a valid label value, so the API server would reject the pod', LABEL_VALUE_EXPECTED);
  }
  if (operator === 'Equal' && !t.key) {
    report(`${field}.key`, t.key, 'an empty key needs operator Exists', 'a taint key, or operator Exists to tolerate every taint');
  }
  if (t.tolerationSeconds !== undefined) {
    const expected = 'a whole number of seconds with effect NoExecute, or no tolerationSeconds';
    if (!Number.isInteger(t.tolerationSeconds)) report(`${field}.tolerationSeconds`, t.tolerationSeconds, 'is not a whole number of seconds', expected);
    else if (t.effect !== 'NoExecute') report(`${field}.tolerationSeconds`, t.tolerationSeconds, `applies only to effect NoExecute (this toleration's effect is ${t.effect ?? 'unset: every effect'})`, expected);
  }
}

function checkGroup(def: ClusterDefinition, gdef: GroupDefinition, report: Report) {
  const g = gdef.group;
  const f = gdef.fieldOf;
  const target = def.target._strategy;
  if (!isPlainObject(g)) {
    // groups[i] itself (addGroup() from plain JavaScript, say): name it by its first field's path.
    report(f('addresses').replace(/\.addresses$/, ''), g, 'is not a VRRP group', 'an object with addresses, e.g. { addresses: [{ address: "192.0.2.10/32" }] }');
    return;
  }
  if (gdef.userObject) checkKnownFields('', g, VRRP_GROUP_FIELDS, (field, value, problem, expected) => report(f(field), value, problem, expected));
  for (const i of healthCheckIssues(def, g.healthChecks, f('healthChecks'))) report(i.field, i.value, i.problem, i.expected);

  if (g.id !== undefined && !isVrid(g.id)) {
    report(f('id'), g.id, 'is not a VRRP router id', `${VRID_EXPECTED}, or omit it for automatic allocation`);
  }
  if (g.name !== undefined && dnsLabelProblem(g.name, 63)) {
    report(f('name'), g.name, `${dnsLabelProblem(g.name, 63)}`, 'a DNS label of at most 63 characters');
  }
  if (!Array.isArray(g.addresses) || g.addresses.length === 0) {
    report(f('addresses'), g.addresses, 'a VRRP group needs at least one address', 'a non-empty list of addresses such as "192.0.2.10/32"');
    return;
  }
  // A target without IPv6 reports IPv6 addresses on their own; its selectors must select IPv4 networks.
  const family = target.ipv6 ? familyOf(g) : 4;
  const tooMany = vipCountProblem(g.addresses.length, family);
  if (tooMany) report(f('addresses'), `(${g.addresses.length} addresses)`, tooMany, VIP_COUNT_EXPECTED);
  checkSelector(def, g.interface, f('interface'), family, report);
  g.addresses.forEach((vip, i) => {
    const field = f(`addresses[${i}].address`);
    const cidr = checkVip(vip?.address, field, target.ipv6, report);
    if (cidr && cidr.address.family !== family) {
      report(field, vip.address, `mixes IPv${cidr.address.family} into an IPv${family} group; keepalived holds one address family per VRRP group`,
        `an IPv${family} address, or a separate group for IPv${cidr.address.family}`);
    }
    if (vip?.interface !== undefined) checkSelector(def, vip.interface, f(`addresses[${i}].interface`), cidr?.address.family ?? family, report);
  });
  if (g.preempt !== undefined && typeof g.preempt !== 'boolean') {
    report(f('preempt'), g.preempt, 'is not a boolean', 'true or false');
  }
  target.validateGroup(def, gdef, family, report);
}

function checkVip(address: unknown, field: string, ipv6: boolean, report: Report): Cidr | undefined {
  const cidr = parseCidr(address as string);
  if (!cidr) {
    const expected = ipv6 ? 'an address and prefix such as "192.0.2.10/32" or "2001:db8::10/64"' : 'an IPv4 address and prefix such as "192.0.2.10/32"';
    const [ip, prefix] = typeof address === 'string' ? address.split('/') : [];
    const parsedIp = parseIp(ip);
    if (parsedIp && prefix !== undefined && /^0\d+$/.test(prefix) && Number(prefix) <= maxPrefix(parsedIp.family)) {
      report(field, address, `has the prefix length /${prefix} with a leading zero, which some parsers read as octal`, `"${parsedIp.text}/${Number(prefix)}"`);
    } else if (parsedIp && prefix !== undefined && /^\d+$/.test(prefix)) {
      const max = maxPrefix(parsedIp.family);
      report(field, address, `has the prefix length /${prefix}, out of range for IPv${parsedIp.family} (0 to ${max})`, `a prefix length from 0 to ${max}, e.g. "${parsedIp.text}/${max}"`);
    } else if (parsedIp && prefix === undefined) {
      report(field, address, 'has no prefix length', `the address with its prefix, e.g. "${parsedIp.text}/${maxPrefix(parsedIp.family)}"`);
    } else {
      report(field, address, 'is not an IP address with a prefix length', expected);
    }
    return undefined;
  }
  if (!ipv6 && cidr.address.family === 6) {
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

function checkSelector(def: ClusterDefinition, selector: InterfaceSelector | undefined, field: string, family: IpFamily, report: Report) {
  if (selector === undefined) return;
  if (!(selector instanceof InterfaceSelector)) {
    report(field, selector, 'is not an InterfaceSelector', 'InterfaceSelector.defaultRoute(), .networkAddress(cidr) or .name(ifname)');
    return;
  }
  const s = selector._spec;
  if (s.detectionStrategy === 'Name') {
    const problem = interfaceNameProblem(s.name);
    if (problem) {
      const why = problem.startsWith('has characters') ? problem : `${problem}, so Linux would reject it as an interface name`;
      report(field, s.name, why, 'an interface name of 1..15 letters, digits, "_", ".", "@" or "-", e.g. "ens7"');
    }
  } else if (s.detectionStrategy === 'NetworkAddress') {
    const cidr = parseCidr(s.networkAddress);
    if (!cidr) {
      report(field, s.networkAddress, 'is not a network with a prefix length', 'a network such as "192.168.42.0/24"');
    } else if (!isNetwork(cidr)) {
      report(field, s.networkAddress, `is not a network: host bits are set (the network is ${networkOf(cidr).text})`, `the network address, "${networkOf(cidr).text}"`);
    } else if (!def.target._strategy.ipv6 && cidr.address.family === 6) {
      report(field, s.networkAddress, 'the Deckhouse KeepalivedInstance CRD accepts IPv4 networks only', 'an IPv4 network, or Target.standalone() for IPv6');
    } else if (cidr.address.family !== family) {
      report(field, s.networkAddress, `is an IPv${cidr.address.family} network for IPv${family} addresses`, `an IPv${family} network`);
    }
  }
}
