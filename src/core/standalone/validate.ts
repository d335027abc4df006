/** The standalone target's own rules: its options, and what its groups may use. */
import { IpFamily, isNetwork, networkOf, parseCidr, parseIp } from '../address';
import { describeKind, ValidationIssue } from '../errors';
import { checkKnownFields, enumNames, enumValues } from '../fields';
import { ClusterDefinition, GroupDefinition } from '../model';
import { checkAnnotations, checkLabels, isPlainObject, listIn } from '../metadata';
import { dnsLabelProblem, dnsSubdomainProblem } from '../names';
import { exceedsLimit, QUANTITY_EXPECTED, quantityAmount } from '../quantity';
import { metricsOptionsIssues } from '../monitoring/metrics-options';
import {
  DEFAULT_MAX_NODE_SET_CHANGE, DEFAULT_MAX_NODES, leaseDurationProblem, MAX_LEASE_DURATION_SECONDS, MAX_RELOAD_INTERVAL_SECONDS, maxNodeSetChangeProblem, maxNodesProblem,
  MIN_LEASE_DURATION_SECONDS,
  MIN_RELOAD_INTERVAL_FLOOR_SECONDS, minReloadIntervalProblem,
} from '../discovery-limits';
import { advertIntervalExpected, advertIntervalProblem, AUTH_PASS_EXPECTED, authPasswordProblem, GARP_REFRESH_EXPECTED, garpRefreshProblem, nodeOrderIssues } from '../rules';
import { leastPriorityDrop, MAX_NODE_ORDER } from '../priority';
import { effectiveHealthChecks, HealthActionKind, HealthCheck } from '../health-check';
import type { IssueReport } from '../target';
import { groupNameOf } from './names';
import {
  ContainerResources, FailoverProfile, ImagePullPolicy, REQUEST_LIMIT_PAIRS, SidecarMode, STANDALONE_OPTIONS_FIELDS, StandaloneOptions, UpdateStrategy, VrrpAuth, VrrpPolicyFlavor,
  VrrpVersion,
} from './options';
import { advertIntervalOf, authSelectsVrrpV2, familyOf, vrrpVersionOf } from './agent-spec-of';
import { DEFAULT_AGENT_IMAGE } from './daemon-set';

export function validateStandaloneOptions(o: StandaloneOptions, report: IssueReport): void {
  checkKnownFields('target', o, STANDALONE_OPTIONS_FIELDS, report);
  if (o.createNamespace !== undefined && typeof o.createNamespace !== 'boolean') {
    report('target.createNamespace', o.createNamespace, 'is not a boolean', 'true or false');
  }
  if (o.namespace !== undefined && dnsLabelProblem(o.namespace, 63)) {
    report('target.namespace', o.namespace, `${dnsLabelProblem(o.namespace, 63)}`, 'a namespace name: a DNS label of at most 63 characters');
  }
  for (const { index, problem, expected } of nodeOrderIssues(o.nodeOrder)) {
    if (index === undefined) report('target.nodeOrder', Array.isArray(o.nodeOrder) ? `(${o.nodeOrder.length} nodes)` : o.nodeOrder, problem, expected);
    else report(`target.nodeOrder[${index}]`, o.nodeOrder![index], problem, expected);
  }
  for (const key of ['keepalived', 'agent'] as const) {
    const image = o.images?.[key];
    if (image !== undefined && (typeof image !== 'string' || image.trim() === '' || /\s/.test(image))) {
      report(`target.images.${key}`, image, 'is not an image reference', 'an image such as "registry.example/keepalived:2.2.7"');
    }
  }
  if (o.images?.agentInImage === true && o.images.agent === undefined) {
    report('target.images.agentInImage', true, `needs images.agent: the default agent image (${DEFAULT_AGENT_IMAGE}) has no agent baked in, so the pods would not start`,
      'images.agent set to an image with this package\'s agent at /opt/keepalived-constructs/keepalived-agent.js (image/Containerfile builds one), or omit agentInImage');
  }
  if (o.sidecar !== undefined && !enumValues(SidecarMode).includes(o.sidecar)) {
    report('target.sidecar', o.sidecar, 'is not a sidecar mode', enumNames('SidecarMode', SidecarMode));
  }
  if (o.images?.pullPolicy !== undefined && !enumValues(ImagePullPolicy).includes(o.images.pullPolicy)) {
    report('target.images.pullPolicy', o.images.pullPolicy, 'is not an image pull policy', enumNames('ImagePullPolicy', ImagePullPolicy));
  }
  listIn('target.images.pullSecrets', o.images?.pullSecrets, report, 'a list of Secret names, e.g. ["regcred"]').forEach((s, i) => {
    if (dnsSubdomainProblem(s)) report(`target.images.pullSecrets[${i}]`, s, `${dnsSubdomainProblem(s)}, so it cannot be a Secret name`, 'the name of a Secret in the cluster\'s namespace');
  });
  const policies = listIn('target.policies', o.policies, report, `a list of ${enumNames('VrrpPolicyFlavor', VrrpPolicyFlavor)}`);
  policies.forEach((p, i) => {
    if (!enumValues(VrrpPolicyFlavor).includes(p as VrrpPolicyFlavor)) report(`target.policies[${i}]`, p, 'is not a policy flavour', `one of ${enumNames('VrrpPolicyFlavor', VrrpPolicyFlavor)}`);
    else if (policies.indexOf(p) !== i) report(`target.policies[${i}]`, p, 'is listed twice', 'each policy flavour once');
  });
  const nodeNetworks = listIn('target.nodeNetworks', o.nodeNetworks, report, 'a list of networks, e.g. ["192.0.2.0/24"]');
  if (policies.includes(VrrpPolicyFlavor.NETWORK_POLICY) && nodeNetworks.length === 0) {
    report('target.nodeNetworks', o.nodeNetworks, 'the NetworkPolicy flavour needs the nodes\' networks for its ipBlock rule', 'the networks of the nodes, e.g. ["192.0.2.0/24"]');
  }
  nodeNetworks.forEach((net, i) => {
    const cidr = parseCidr(net as string);
    if (!cidr || !isNetwork(cidr)) report(`target.nodeNetworks[${i}]`, net, 'is not a network', cidr ? `the network address, "${networkOf(cidr).text}"` : 'a network such as "192.0.2.0/24"');
  });
  if (o.auth !== undefined) validateAuth(o.auth, report);
  const peers = new Set<string>();
  listIn('target.unicastPeers', o.unicastPeers, report, 'a list of node addresses, e.g. ["192.0.2.11"]').forEach((peer, i) => {
    const ip = parseIp(peer as string);
    if (!ip) report(`target.unicastPeers[${i}]`, peer, 'is not an IP address', 'a node address without a prefix, e.g. "192.0.2.11"');
    else if (peers.has(ip.text)) report(`target.unicastPeers[${i}]`, peer, 'is listed twice', 'each peer once');
    if (ip) peers.add(ip.text);
  });
  if (o.profile !== undefined && !enumValues(FailoverProfile).includes(o.profile)) {
    report('target.profile', o.profile, 'is not a failover profile', enumNames('FailoverProfile', FailoverProfile));
  }
  if (o.vrrpVersion !== undefined && !enumValues(VrrpVersion).includes(o.vrrpVersion)) {
    report('target.vrrpVersion', o.vrrpVersion, 'is not a VRRP version', 'VrrpVersion.V2 or VrrpVersion.V3');
  }
  if (o.garpRefreshSeconds !== undefined) {
    const problem = garpRefreshProblem(o.garpRefreshSeconds);
    if (problem) report('target.garpRefreshSeconds', o.garpRefreshSeconds, problem, GARP_REFRESH_EXPECTED);
  }
  if (o.discovery !== undefined) validateDiscovery(o, report);
  if (o.vrrpVersion === VrrpVersion.V2 && o.profile === FailoverProfile.FAST) {
    report('target.vrrpVersion', 2, 'the fast profile\'s sub-second adverts need VRRPv3', 'VrrpVersion.V3, or omit it');
  }
  for (const issue of metricsOptionsIssues('', o.metrics)) report(`target.${issue.field}`, issue.value, issue.problem, issue.expected);
  checkLabels('target.labels', o.labels, report);
  checkLabels('target.podLabels', o.podLabels, report);
  checkAnnotations('target.annotations', o.annotations, report);
  checkAnnotations('target.podAnnotations', o.podAnnotations, report);
  if (o.resources !== undefined && !isPlainObject(o.resources)) {
    report('target.resources', o.resources, 'is not an object of containers\' resources', '{ keepalived: { ... }, agent: { ... } }');
  }
  for (const [which, r] of Object.entries(isPlainObject(o.resources) ? o.resources : {})) {
    if (r === undefined || isPlainObject(r)) validateResources(`target.resources.${which}`, r as ContainerResources, report);
    else report(`target.resources.${which}`, r, 'is not an object of resources', '{ cpuRequest, cpuLimit, memoryRequest, memoryLimit }, e.g. { cpuLimit: "200m" }');
  }
  if (o.priorityClassName !== undefined && dnsSubdomainProblem(o.priorityClassName)) {
    report('target.priorityClassName', o.priorityClassName, `${dnsSubdomainProblem(o.priorityClassName)}`, 'the name of a PriorityClass');
  }
  if (o.updateStrategy !== undefined && !enumValues(UpdateStrategy).includes(o.updateStrategy)) {
    report('target.updateStrategy', o.updateStrategy, 'is not an update strategy', enumNames('UpdateStrategy', UpdateStrategy));
  } else if (o.updateStrategy === UpdateStrategy.ON_DELETE && o.maxUnavailable !== undefined) {
    report('target.maxUnavailable', o.maxUnavailable, 'applies to rolling updates only, and the update strategy is ON_DELETE', 'no maxUnavailable, or UpdateStrategy.ROLLING_UPDATE');
  }
  if (o.maxUnavailable !== undefined && (!Number.isInteger(o.maxUnavailable) || o.maxUnavailable < 1)) {
    report('target.maxUnavailable', o.maxUnavailable, 'is not a positive whole number of nodes', 'an integer of at least 1');
  }
  if (o.minReadySeconds !== undefined && (!Number.isInteger(o.minReadySeconds) || o.minReadySeconds < 0)) {
    report('target.minReadySeconds', o.minReadySeconds, 'is not a whole number of seconds', 'an integer of at least 0');
  }
  checkAffinity(o.affinity, report);
}

/** A pod spec's affinity has these parts, each an object. */
const AFFINITY_KINDS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];

/** The affinity's shape: an object of known parts (a misspelt one would reach the API server, which rejects it). */
function checkAffinity(affinity: unknown, report: IssueReport) {
  if (affinity === undefined) return;
  const expected = `an object with ${AFFINITY_KINDS.join(', ')} (each an object), as in a pod spec`;
  if (!isPlainObject(affinity)) {
    report('target.affinity', affinity, 'is not an object', expected);
    return;
  }
  for (const [key, value] of Object.entries(affinity)) {
    if (!AFFINITY_KINDS.includes(key)) report(`target.affinity.${key}`, value, 'is not a part of a pod\'s affinity', expected);
    else if (!isPlainObject(value)) report(`target.affinity.${key}`, value, 'is not an object', expected);
  }
}

function validateResources(field: string, r: ContainerResources, report: IssueReport) {
  for (const key of ['cpuRequest', 'cpuLimit', 'memoryRequest', 'memoryLimit'] as const) {
    const value = r?.[key];
    const isLimit = key.endsWith('Limit');
    if (value === undefined || (value === 'none' && isLimit)) continue;
    if (quantityAmount(value) === undefined) report(`${field}.${key}`, value, 'is not a Kubernetes quantity', isLimit ? `${QUANTITY_EXPECTED}, or "none"` : QUANTITY_EXPECTED);
  }
  for (const [request, limit] of REQUEST_LIMIT_PAIRS) {
    if (exceedsLimit(r?.[request], r?.[limit])) {
      report(`${field}.${request}`, r[request], `is more than ${field}.${limit} (${r[limit]}), which Kubernetes rejects`, `at most the limit, or a higher ${limit}`);
    }
  }
}

function validateAuth(auth: VrrpAuth, report: IssueReport) {
  if (!(auth instanceof VrrpAuth)) {
    report('target.auth', auth, 'is not a VrrpAuth', 'VrrpAuth.fromSecret(name, key) or VrrpAuth.literal(password)');
    return;
  }
  const { secretName, key, password } = auth._spec;
  if (password !== undefined) {
    const problem = authPasswordProblem(password);
    // Never echo the password itself into an error message.
    if (problem) report('target.auth', typeof password === 'string' ? `(a literal of ${password.length} characters)` : `(a literal that is ${describeKind(password)})`, problem, AUTH_PASS_EXPECTED);
  } else {
    if (dnsSubdomainProblem(secretName)) report('target.auth', secretName, `the Secret name ${dnsSubdomainProblem(secretName)}`, 'the name of a Secret in the cluster\'s namespace');
    if (typeof key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(key)) report('target.auth', key, 'is not a Secret data key', 'a key of letters, digits, "-", "_" or "."');
  }
}

function validateDiscovery(o: StandaloneOptions, report: IssueReport) {
  const d = o.discovery!;
  if (d === null || typeof d !== 'object') {
    report('target.discovery', d, 'is not a DiscoveryOptions object', '{} to turn discovery on, with optional unicast, leases, leaseDurationSeconds, minReloadIntervalSeconds, maxNodes, maxNodeSetChange, peersInInterfaceNetwork, sidecar');
    return;
  }
  if (d.unicast && o.unicastPeers !== undefined) {
    report('target.unicastPeers', o.unicastPeers, 'static unicast peers and discovery.unicast exclude each other', 'either unicastPeers, or discovery: { unicast: true }');
  }
  if (d.leaseDurationSeconds !== undefined && leaseDurationProblem(d.leaseDurationSeconds)) {
    report('target.discovery.leaseDurationSeconds', d.leaseDurationSeconds, 'is not a lease duration the agent can renew in time', `an integer from ${MIN_LEASE_DURATION_SECONDS} to ${MAX_LEASE_DURATION_SECONDS}`);
  }
  // The same predicates as the agent's reading of spec.json (discoveryLimitsOf).
  const reloadProblem = d.minReloadIntervalSeconds === undefined ? undefined : minReloadIntervalProblem(d.minReloadIntervalSeconds);
  if (reloadProblem) {
    report('target.discovery.minReloadIntervalSeconds', d.minReloadIntervalSeconds, reloadProblem, `a number of seconds from ${MIN_RELOAD_INTERVAL_FLOOR_SECONDS} to ${MAX_RELOAD_INTERVAL_SECONDS}`);
  }
  const nodesProblem = d.maxNodes === undefined ? undefined : maxNodesProblem(d.maxNodes);
  if (nodesProblem) report('target.discovery.maxNodes', d.maxNodes, nodesProblem, `an integer from 1 to ${MAX_NODE_ORDER}, e.g. ${DEFAULT_MAX_NODES}`);
  const changeProblem = d.maxNodeSetChange === undefined ? undefined : maxNodeSetChangeProblem(d.maxNodeSetChange);
  if (changeProblem) report('target.discovery.maxNodeSetChange', d.maxNodeSetChange, changeProblem, `a fraction such as ${DEFAULT_MAX_NODE_SET_CHANGE}`);
  if (d.peersInInterfaceNetwork !== undefined && typeof d.peersInInterfaceNetwork !== 'boolean') {
    report('target.discovery.peersInInterfaceNetwork', d.peersInInterfaceNetwork, 'is not a boolean', 'true or false');
  } else if (d.peersInInterfaceNetwork === true && d.unicast !== true) {
    report('target.discovery.peersInInterfaceNetwork', true, 'filters discovered unicast peers, and discovery.unicast is off', 'discovery: { unicast: true, peersInInterfaceNetwork: true }, or omit it');
  }
  if (d.sidecar !== undefined && !enumValues(SidecarMode).includes(d.sidecar)) {
    report('target.discovery.sidecar', d.sidecar, 'is not a sidecar mode', enumNames('SidecarMode', SidecarMode));
  } else if (d.sidecar !== undefined && o.sidecar !== undefined && d.sidecar !== o.sidecar) {
    report('target.discovery.sidecar', d.sidecar, `contradicts target.sidecar (${JSON.stringify(o.sidecar)})`, 'omit it: target.sidecar replaces it');
  }
}

/** What a standalone group may use, given its options. */
export function validateStandaloneGroup(o: StandaloneOptions, gdef: GroupDefinition, family: IpFamily, report: IssueReport): void {
  const g = gdef.group;
  const f = gdef.fieldOf;
  const version = vrrpVersionOf(o, family);
  if (g.advertInterval !== undefined) {
    const problem = advertIntervalProblem(g.advertInterval, version);
    if (problem && version === VrrpVersion.V2 && authSelectsVrrpV2(o) && advertIntervalProblem(g.advertInterval, VrrpVersion.V3) === undefined) {
      // The interval is fine on the default VRRPv3: the password made the group VRRPv2. Either field
      // may be the mistake, so both are named.
      report('target.auth', authShown(o.auth!),
        `makes the IPv4 groups run VRRPv2 (VRRPv3 has no PASS authentication), whose adverts are whole seconds, but ${f('advertInterval')} is ${g.advertInterval}`,
        `no auth with fractional advert intervals, or a whole-second ${f('advertInterval')}`);
    }
    if (problem) {
      report(f('advertInterval'), g.advertInterval, problem, version === VrrpVersion.V2
        ? `${advertIntervalExpected(2)}, or VrrpVersion.V3 (the default, unless FailoverProfile.CLASSIC or auth) for fractional intervals`
        : advertIntervalExpected(3));
    }
  }
  if (g.garpRefreshSeconds !== undefined) {
    const problem = garpRefreshProblem(g.garpRefreshSeconds);
    if (problem) report(f('garpRefreshSeconds'), g.garpRefreshSeconds, problem, GARP_REFRESH_EXPECTED);
  }
  const peers = o.unicastPeers;
  if (Array.isArray(peers) && !peers.some((p) => parseIp(p)?.family === family)) {
    report('target.unicastPeers', peers, `has no IPv${family} address for the IPv${family} group ${f('addresses')}, whose adverts would reach no peer`,
      `the nodes' IPv${family} addresses too, or a separate cluster for IPv${family}`);
  }
  if (o.auth !== undefined && version === VrrpVersion.V3) {
    report('target.auth', authShown(o.auth),
      `VRRPv3 has no PASS authentication, and the group of ${f('addresses')} runs VRRPv3${family === 6 ? ' (IPv6 always does)' : ''}, so keepalived would ignore the password`,
      'no auth when any group runs VRRPv3 or IPv6; auth only with VRRPv2 IPv4 groups');
  }
  if (g.preferredNode !== undefined && dnsSubdomainProblem(g.preferredNode)) {
    report(f('preferredNode'), g.preferredNode, `${dnsSubdomainProblem(g.preferredNode)}, so it cannot be a node name`, 'the name of a node, a DNS subdomain');
  }
}

function authShown(auth: VrrpAuth): string {
  return auth?._spec?.password !== undefined ? 'VrrpAuth.literal(...)' : `VrrpAuth.fromSecret(${JSON.stringify(auth?._spec?.secretName)})`;
}

/**
 * Each group is a `vrrp_instance` named after it: keepalived skips a second of the same name. Two
 * unnamed groups share a name only when they share a VRID, which is reported as such.
 */
export function groupNameIssues(def: ClusterDefinition, vridOf: (groupIndex: number) => number | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, GroupDefinition>();
  def.groups.forEach((g, i) => {
    const vrid = vridOf(i);
    if (vrid === undefined) return;
    const name = groupNameOf(g.group, vrid);
    const other = seen.get(name);
    if (other === undefined) {
      seen.set(name, g);
    } else if (g.group.name !== undefined || other.group.name !== undefined) {
      issues.push({
        path: def.path, field: g.fieldOf('name'), value: name,
        problem: `${other.fieldOf('name')} has the same name on the node, where keepalived would skip the second vrrp_instance`,
        expected: 'a name that is unique in the cluster (unnamed groups are named vrid-<VRID>)',
      });
    }
  });
  return issues;
}

/** Whether the nodes' priorities follow a node order (static, or discovery's), not hashing. */
export function ordersNodes(o: StandaloneOptions): boolean {
  return o.nodeOrder !== undefined || o.discovery !== undefined;
}

/**
 * Groups with a preferred node that do not preempt: the preferred node takes the top priority, but
 * with `preempt: false` a node that holds the VIP keeps it, so the preferred node is master only when
 * it wins an election (every node starting, or the master failing); after a rollout, whichever node
 * came back first may keep it. Valid, so a warning.
 */
export function preferredNodeIssues(def: ClusterDefinition): ValidationIssue[] {
  return def.groups.flatMap(({ group: g, fieldOf: f }) => (g.preferredNode === undefined || g.preempt !== false ? [] : [{
    path: def.path, field: f('preferredNode'), value: g.preferredNode,
    problem: `has the top priority, but with ${f('preempt')} false the node that holds the VIP keeps it: ${g.preferredNode} becomes master only when it wins an election (the master failing, or every node starting)`,
    expected: `preempt true (the default) to have the VIP move back to ${g.preferredNode}, or no preferredNode`,
  }]));
}

/**
 * The `lowerPriority(n)` health checks that may leave a failing master's VIP where it is: `n` at most
 * the gap to the next node's priority (`leastPriorityDrop`), for the group that follows the check with
 * the widest gap; each check once. With a node order (or discovery) the gap is known; with hashing it
 * is any, so these are warnings there (the caller decides).
 */
export function priorityDropIssues(def: ClusterDefinition, o: StandaloneOptions): ValidationIssue[] {
  const ordered = ordersNodes(o);
  // Discovery orders every matching node, however many there are: its count is not known here.
  const order = !ordered ? undefined : { nodeCount: o.discovery === undefined ? o.nodeOrder?.length : undefined };
  const worst = new Map<string, { check: HealthCheck; least: number; group: string }>();
  for (const gdef of def.groups) {
    const g = gdef.group;
    const own = g.healthChecks !== undefined;
    const interval = advertIntervalOf(o, g, vrrpVersionOf(o, familyOf(g)));
    const least = leastPriorityDrop({ preferredNode: g.preferredNode, advertInterval: interval }, order);
    effectiveHealthChecks(g, def).forEach((check, i) => {
      if (!(check instanceof HealthCheck) || check.onFailure.kind !== HealthActionKind.LOWER_PRIORITY) return;
      const field = `${own ? gdef.fieldOf('healthChecks') : 'healthChecks'}[${i}].onFailure`;
      const known = worst.get(field);
      if (known === undefined || least > known.least) worst.set(field, { check, least, group: g.name ?? g.addresses?.[0]?.address ?? '' });
    });
  }
  return [...worst].flatMap(([field, { check, least, group }]) => {
    const by = check.onFailure.priorityDecrease ?? 0;
    if (by >= least) return [];
    return [{
      path: def.path, field, value: by,
      problem: ordered
        ? `lowerPriority(${by}) leaves a failing master at or above the next node's priority for group ${group} (${least - 1} apart), so keepalived keeps the VIP there`
        : `with hashed priorities (no nodeOrder, no discovery) the next node's priority for group ${group} may be up to ${least - 1} below the master's, so lowerPriority(${by}) may leave the VIP on a failing node`,
      expected: `lowerPriority(${least}) or more${ordered ? '' : ', a nodeOrder or discovery'}, or HealthAction.release()`,
    }];
  });
}
