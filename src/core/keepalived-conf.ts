/**
 * The keepalived.conf renderer: the one place that turns the agent's spec into keepalived's syntax.
 * The node agent calls it on every node; the tests call it and check the result with `keepalived -t`.
 */
import { contains, IpFamily, networkOf, parseCidr, parseIp } from './address';
import { AGENT_SPEC_VERSION, AgentGroup, AgentSpec, AgentVirtualIp } from './agent-spec';
import { DiscoveredView } from './discovered-nodes';
import { agentHealthCheckProblems, agentTrackProblems, DEFAULT_TRACK_DIR, TRACK_FILE_FAILING } from './health-spec';
import { InterfaceSelectorSpec } from './interface-selector';
import { dnsLabelProblem, dnsSubdomainProblem } from './names';
import { describeSelector, interfaceNameIsSafe, NodeView, resolveInterface, SAFE_INTERFACE_NAME } from './node-view';
import { ExpectedRole, expectedRoleOf, isTrailingIn, priorityOf, PriorityOrder } from './priority';
import { advertIntervalProblem, authPasswordProblem, garpRefreshProblem, nodeOrderProblems, vipCountProblem, vridProblem } from './rules';

/** This node, as the agent knows it from its flags. */
export interface RenderNode {
  /** The Kubernetes node name. */
  readonly nodeName: string;
  /** The node's address (`status.hostIP`); needed with unicast peers. */
  readonly hostIp?: string;
  /** The VRRPv2 PASS password; needed when `spec.auth` is true. */
  readonly authPass?: string;
  /**
   * keepalived's `notify_fifo` (global_defs), where it writes each instance's state changes. The agent
   * passes it where `run` reads it: discovery with Leases, or metrics. An absolute path of letters, digits, `_`, `-`, `.`, `/`.
   */
  readonly notifyFifo?: string;
  /**
   * The directory of the health checks' track files, as both the agent and keepalived see it (a volume
   * they share). Same rules as `notifyFifo`.
   *
   * @default DEFAULT_TRACK_DIR
   */
  readonly trackDir?: string;
}

/** Thrown when a node cannot run the spec; the message lists every problem, group by group. */
export class AgentRenderError extends Error {
  constructor(
    /** The node the config was for. */
    public readonly nodeName: string,
    /** Every problem, each a full sentence naming its group where it has one. */
    public readonly problems: readonly string[],
  ) {
    super(`cannot render keepalived.conf for node ${JSON.stringify(nodeName)}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentRenderError';
  }
}


/** One `vrrp_instance` as decided for this node. */
export interface InstancePlan {
  /** The group it runs. */
  readonly group: AgentGroup;
  /** The `vrrp_instance` name. */
  readonly instanceName: string;
  /** The resolved interface that sends and receives adverts. */
  readonly interface: string;
  /** This node's priority (`priorityOf`). */
  readonly priority: number;
  /** What the priority implies, for logs. */
  readonly role: ExpectedRole;
  /** Each VIP with the interface it goes on. */
  readonly addresses: readonly { readonly address: string; readonly dev: string }[];
  /** IPv6 groups: the virtual router's link-local address (`virtualRouterLinkLocal`), rendered first on the VRRP interface. */
  readonly linkLocal?: string;
  /** The PASS password, for VRRPv2 groups when `spec.auth` is set. */
  readonly authPass?: string;
  /** Unicast source and peers; absent for multicast. */
  readonly unicast?: { readonly source: string; readonly peers: readonly string[] };
  /**
   * Discovered peers left out because they are outside the networks of this instance's interface
   * (`discovery.peersInInterfaceNetwork`), for the agent's logs.
   */
  readonly peersOutsideNetwork?: readonly string[];
  /** The track files it follows (`track_file`): their `vrrp_track_file` names and weights. */
  readonly tracks: readonly { readonly name: string; readonly weight: number }[];
}

/** A health check's track file (`vrrp_track_file`). */
export interface TrackFilePlan {
  /** The `vrrp_track_file` name, `trackFileName(cluster, check)`. */
  readonly name: string;
  /** The file's absolute path. */
  readonly path: string;
}

/** Everything decided for one node: what `formatKeepalivedConf` writes and the agent logs. */
export interface NodePlan {
  readonly nodeName: string;
  readonly cluster: string;
  /** `notify_fifo` in global_defs, when set. */
  readonly notifyFifo?: string;
  /** The track files the instances follow. */
  readonly trackFiles: readonly TrackFilePlan[];
  readonly instances: readonly InstancePlan[];
  /** Discovered addresses refused as unicast peers (`DiscoveredView.refusedPeers`), for the agent's logs. */
  readonly refusedPeers?: readonly string[];
  /**
   * The `nopreempt` groups this node gives up while it is drained (discovery mode: cordoned, or
   * excluded from load balancers): rendered as comments, with no `vrrp_instance`. See `planNode`.
   */
  readonly releasedGroups?: readonly string[];
}

/**
 * Renders keepalived.conf for one node: one `vrrp_instance` per group, all `state BACKUP` so that
 * priorities alone elect the master, with interfaces resolved on `view` and priorities from `priorityOf`.
 * Deterministic: the same spec, view, node and discovered view give the same text.
 *
 * `discovered` (discovery mode) replaces the spec's static `nodeOrder` by the derived one, and, when it
 * carries unicast peers, the spec's `unicastPeers` by them with its own source per family; see
 * `deriveDiscoveredView`. Without it the spec's static order and peers (or hashing, multicast) apply.
 *
 * Drain (discovery mode): a node that is cordoned or labelled
 * `node.kubernetes.io/exclude-from-external-load-balancers` while other nodes are not hands its VIPs
 * over before it goes down. Every group gets a priority below every other node's (`priorityOf`), so a
 * preempting backup takes a `preempt` group over (after its master-down interval; the drained master
 * keeps the addresses until the new master's first advert, so there is no gap). A `nopreempt` group
 * would never move that way: its backups do not preempt a lower-priority master. So the drained node
 * renders no `vrrp_instance` for its `nopreempt` groups: on the reload keepalived removes the instance,
 * and a master sends a priority-0 advert and drops the addresses, so that the backup with the highest
 * priority takes over within its skew time, (256 - priority) / 256 x advert_int, as after a graceful
 * stop. The drained node is then no backup of those groups until it is uncordoned (it stays the backup
 * of last resort of its `preempt` groups). When every node is drained, none is treated as drained.
 *
 * Throws `AgentRenderError` listing every problem: an unknown spec version, an interface that does not
 * resolve, a missing or unusable auth password, a missing or foreign host address with unicast peers,
 * a fractional advert interval on VRRPv2, or a malformed spec.
 */
export function renderKeepalivedConf(spec: AgentSpec, view: NodeView, node: RenderNode, discovered?: DiscoveredView): string {
  return formatKeepalivedConf(planNode(spec, view, node, discovered));
}

/** Decides every group's interface, priority, addresses and peers on this node; throws `AgentRenderError`. */
export function planNode(spec: AgentSpec, view: NodeView, node: RenderNode, discovered?: DiscoveredView): NodePlan {
  const nodeName = node.nodeName;
  if (spec?.version !== AGENT_SPEC_VERSION) {
    throw new AgentRenderError(nodeName, [
      `spec.json version ${JSON.stringify(spec?.version)} is not supported: this agent reads version ${AGENT_SPEC_VERSION}; deploy the agent that came with the spec`,
    ]);
  }
  if (!Array.isArray(spec.groups)) throw new AgentRenderError(nodeName, ['spec.groups is not a list']);

  const problems: string[] = [];
  const nodeProblem = dnsSubdomainProblem(nodeName);
  if (nodeProblem) problems.push(`--node-name ${JSON.stringify(nodeName)} ${nodeProblem}, so it is not a Kubernetes node name`);
  const clusterProblem = dnsLabelProblem(spec.cluster, 63);
  if (clusterProblem) problems.push(`spec.cluster ${JSON.stringify(spec.cluster)} ${clusterProblem}`);
  const order: PriorityOrder = discovered === undefined ? spec : { nodeOrder: discovered.nodeOrder, leaderCount: discovered.leaderCount };
  const orderProblems = nodeOrderProblems(order.nodeOrder, discovered === undefined ? 'spec.nodeOrder' : 'the discovered node order');
  problems.push(...orderProblems);
  if (spec.auth) problems.push(...authPassProblems(node.authPass));
  if (node.notifyFifo !== undefined && !NOTIFY_FIFO_PATH.test(node.notifyFifo)) {
    problems.push(`--notify-fifo ${JSON.stringify(node.notifyFifo)} must be an absolute path of letters, digits, _, -, . and / (keepalived reads it as one word)`);
  }
  const trackDir = node.trackDir ?? DEFAULT_TRACK_DIR;
  const checkNames = healthCheckNames(spec, problems);
  if (checkNames.size > 0 && !NOTIFY_FIFO_PATH.test(trackDir)) {
    problems.push(`--track-dir ${JSON.stringify(trackDir)} must be an absolute path of letters, digits, _, -, . and / (keepalived reads it as one word)`);
  }

  const ownView = withoutVips(view, spec.groups);
  let unicast: Map<IpFamily, UnicastFamily> | undefined;
  if (discovered?.unicastPeers !== undefined) {
    unicast = discoveredUnicastOf(discovered, node.hostIp);
  } else if (spec.unicastPeers !== undefined) {
    unicast = unicastOf(spec.unicastPeers, node.hostIp, ownView, problems);
  }
  const ctx: PlanContext = {
    spec,
    order,
    nodeName,
    view: ownView,
    unicast,
    orderSound: orderProblems.length === 0,
    authPass: node.authPass,
    peersInInterfaceNetwork: discovered?.unicastPeers !== undefined && spec.discovery?.peersInInterfaceNetwork === true,
    checkNames,
  };

  const instances: InstancePlan[] = [];
  const releasedGroups: string[] = [];
  // A drained node gives its nopreempt groups up only while a Ready node takes masters: with none
  // (the other node of a pair is down), it stays their holder of last resort.
  const drained = discovered !== undefined && discovered.readyLeaderCount > 0 && orderProblems.length === 0 && isTrailingIn(order, nodeName);
  for (const group of spec.groups) {
    if (drained && group?.preempt === false) {
      releasedGroups.push(String(group.name));
      continue;
    }
    const groupProblems: string[] = [];
    const instance = planInstance(ctx, group, groupProblems);
    problems.push(...groupProblems.map((p) => `group ${JSON.stringify(group?.name)}: ${p}`));
    if (instance) instances.push(instance);
  }
  if (problems.length > 0) throw new AgentRenderError(nodeName, problems);
  // Only the files some instance follows (an unused one would be watched for nothing).
  const used = new Set(instances.flatMap((i) => i.tracks.map((t) => t.name)));
  const trackFiles = (spec.healthChecks ?? [])
    .map((c) => trackFileName(spec.cluster, c.name))
    .filter((name) => used.has(name))
    .map((name) => ({ name, path: `${trackDir.replace(/\/+$/, '')}/${name}` }));
  return {
    nodeName,
    cluster: spec.cluster,
    ...(node.notifyFifo === undefined ? {} : { notifyFifo: node.notifyFifo }),
    trackFiles,
    instances,
    ...(discovered?.refusedPeers === undefined ? {} : { refusedPeers: discovered.refusedPeers }),
    ...(releasedGroups.length > 0 ? { releasedGroups } : {}),
  };
}

/** The names of the spec's health checks; their problems go to `problems`. */
function healthCheckNames(spec: AgentSpec, problems: string[]): Set<string> {
  const names = new Set<string>();
  if (spec.healthChecks === undefined) return names;
  if (!Array.isArray(spec.healthChecks)) {
    problems.push('spec.healthChecks is not a list');
    return names;
  }
  spec.healthChecks.forEach((check, i) => {
    const checkProblems = agentHealthCheckProblems(check);
    problems.push(...checkProblems.map((p) => `spec.healthChecks[${i}] ${p}`));
    if (checkProblems.length > 0) return;
    if (names.has(check.name)) problems.push(`spec.healthChecks[${i}] name ${check.name} is used twice`);
    names.add(check.name);
  });
  return names;
}

/**
 * A health check's `vrrp_track_file` name and file name: `<cluster>_<check>` (unique in the config,
 * and on a node whose clusters share a track directory).
 */
export function trackFileName(cluster: string, check: string): string {
  return `${keepalivedName(cluster)}_${keepalivedName(check)}`;
}

const NOTIFY_FIFO_PATH = /^\/[A-Za-z0-9_.\/-]+$/;

/**
 * keepalived.conf for a plan, with a trailing newline.
 *
 * With unicast peers, keepalived skips the TTL-255 check that confines multicast adverts to the link,
 * and by default accepts a unicast advert from any source: a host anywhere that reaches the interface
 * could send priority-254 adverts and take every VIP. `vrrp_check_unicast_src` makes it drop adverts
 * whose source is not in the instance's `unicast_peer` list. It is the global_defs form on purpose:
 * the per-instance `check_unicast_src` does not exist in keepalived 2.0.20 (the default image's; its
 * vrrp_parser.c has no such keyword, so the config would fail), while `vrrp_check_unicast_src` is in
 * global_parser.c of 2.0.20, 2.2.7 and 2.3.4 alike and applies to every instance that has peers
 * (multicast instances are untouched).
 */
export function formatKeepalivedConf(plan: NodePlan): string {
  const unicast = plan.instances.some((i) => i.unicast !== undefined && i.unicast.peers.length > 0);
  return [
    `# Rendered by keepalived-constructs for node ${plan.nodeName} (cluster ${plan.cluster}). Do not edit: the agent rewrites it.`,
    'global_defs {',
    `    router_id ${keepalivedName(plan.nodeName)}`,
    ...(plan.notifyFifo === undefined ? [] : [`    notify_fifo ${plan.notifyFifo}`]),
    ...(unicast ? ['    # unicast adverts only from the listed peers', '    vrrp_check_unicast_src'] : []),
    '}',
    ...(plan.releasedGroups ?? []).map((g) => `# group ${keepalivedName(g)}: released while this node is drained (cordoned or excluded from load balancers)`),
    // Before the instances, which name them. `vrrp_track_file` (not 2.1's `track_file`) so that 2.0 reads
    // it too. init_file: a file that does not exist yet reads as failing until the agent says otherwise.
    ...plan.trackFiles.flatMap((t) => ['', `vrrp_track_file ${t.name} {`, `    file "${t.path}"`, `    init_file ${TRACK_FILE_FAILING}`, '}']),
    ...plan.instances.flatMap((i) => ['', formatInstance(i)]),
  ].join('\n') + '\n';
}

function formatInstance(plan: InstancePlan): string {
  const g = plan.group;
  const lines = [
    'state BACKUP',
    `interface ${plan.interface}`,
    `virtual_router_id ${g.vrid}`,
    `priority ${plan.priority}`,
    // Inside vrrp_instance: keepalived rejects advert_int in global_defs (where Deckhouse puts it).
    `advert_int ${advertIntText(g.advertInterval)}`,
    `version ${g.vrrpVersion}`,
  ];
  if (!g.preempt) lines.push('nopreempt');
  // The master re-announces its addresses (gratuitous ARP / unsolicited NA) every so many seconds.
  if (g.garpRefreshSeconds !== undefined && g.garpRefreshSeconds > 0) lines.push(`garp_master_refresh ${g.garpRefreshSeconds}`);
  if (plan.authPass !== undefined) lines.push('authentication {', '    auth_type PASS', `    auth_pass ${plan.authPass}`, '}');
  if (plan.unicast) {
    if (plan.unicast.peers.length === 0) {
      // unicast_src_ip without peers means nothing (2.2 and later warn and use multicast); alone, the
      // node simply stays master.
      lines.push(`# no other IPv${g.family} unicast peer: keepalived uses multicast`);
    } else {
      lines.push(`unicast_src_ip ${plan.unicast.source}`, 'unicast_peer {', ...plan.unicast.peers.map((p) => `    ${p}`), '}');
    }
  }
  const addresses = [...(plan.linkLocal === undefined ? [] : [{ address: plan.linkLocal, dev: plan.interface }]), ...plan.addresses];
  lines.push('virtual_ipaddress {', ...addresses.map((a) => `    ${a.address} dev ${a.dev}`), '}');
  if (plan.tracks.length > 0) lines.push('track_file {', ...plan.tracks.map((t) => `    ${t.name} weight ${t.weight}`), '}');
  return [`vrrp_instance ${plan.instanceName} {`, ...lines.map((l) => `    ${l}`), '}'].join('\n');
}

/** `advert_int` as rendered: seconds in centiseconds (VRRPv3's unit), e.g. `0.1`, `1`, `32.05`. */
export function advertIntText(seconds: number): string {
  return String(Math.round(seconds * 100) / 100);
}

/**
 * The IPv6 link-local address of the virtual router with this VRID: the EUI-64 link-local address of
 * its virtual MAC 00-00-5E-00-02-{VRID} (RFC 5798, 7.3), e.g. `fe80::200:5eff:fe00:20a/64` for VRID 10.
 * RFC 5798 (5.2.9) makes it the first address of an IPv6 virtual router, and keepalived 2.0.20 reports an
 * IPv6 instance whose first virtual address is not link-local as a configuration error ("the first IPv6
 * VIP address must be link local"; `keepalived -t` fails), so every IPv6 group renders it first. The OUI is IANA's, reserved
 * for VRRP, so no network card has it; and one VRID names one virtual router per link.
 */
export function virtualRouterLinkLocal(vrid: number): string {
  return `fe80::200:5eff:fe00:2${vrid.toString(16).padStart(2, '0')}/64`;
}

/** A name keepalived reads as one word: letters, digits, `_` and `-`; anything else becomes `_`. */
export function keepalivedName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The `vrrp_instance` name of a group: `<cluster>_<group>`, unique since neither part has `_`. */
export function vrrpInstanceName(cluster: string, groupName: string): string {
  return `${keepalivedName(cluster)}_${keepalivedName(groupName)}`;
}

/**
 * The view without the spec's own VIPs. A SIGKILLed keepalived leaves its VIPs on the node; they must
 * not make a NetworkAddress selector ambiguous, point it at the VIP's interface, or pass for a peer.
 */
function withoutVips(view: NodeView, groups: readonly AgentGroup[]): NodeView {
  const vips = new Set(groups.flatMap((g) => (Array.isArray(g?.addresses) ? g.addresses : [])
    .map((v: AgentVirtualIp | undefined) => parseCidr(v?.address as string)?.address.text)));
  return {
    ...view,
    interfaces: view.interfaces.map((i) => ({ ...i, addresses: i.addresses.filter((a) => !vips.has(parseCidr(a)?.address.text)) })),
  };
}

/** This node's unicast source and the peers of one family. */
interface UnicastFamily {
  /** The address this node sends from, or a problem. */
  readonly source: string | { readonly problem: string };
  /** The other peers of the family. */
  readonly peers: readonly string[];
}

function unicastOf(peerTexts: readonly string[], hostIpText: string | undefined, view: NodeView, problems: string[]): Map<IpFamily, UnicastFamily> | undefined {
  if (!Array.isArray(peerTexts)) {
    problems.push('spec.unicastPeers is not a list of addresses');
    return undefined;
  }
  const peers = peerTexts.map((p) => ({ text: p, ip: parseIp(p) }));
  const bad = peers.filter((p) => !p.ip);
  if (bad.length > 0) problems.push(`spec.unicastPeers has entries that are not IP addresses: ${bad.map((p) => JSON.stringify(p.text)).join(', ')}`);
  if (hostIpText === undefined || hostIpText === '') {
    problems.push('spec.unicastPeers is set, so the node address is needed: pass --host-ip (status.hostIP)');
    return undefined;
  }
  const hostIp = parseIp(hostIpText);
  if (!hostIp) {
    problems.push(`--host-ip ${JSON.stringify(hostIpText)} is not an IP address`);
    return undefined;
  }
  const held = new Set(view.interfaces.flatMap((i) => i.addresses.map((a) => parseCidr(a)?.address.text)));
  const result = new Map<IpFamily, UnicastFamily>();
  for (const family of [4, 6] as const) {
    const ofFamily = [...new Set(peers.filter((p) => p.ip?.family === family).map((p) => p.ip!.text))];
    // The node's own peer entry: its host address, or else the one peer address it holds (the peers
    // may list addresses on the VRRP network that differ from the Kubernetes node address).
    const mine = ofFamily.includes(hostIp.text) ? [hostIp.text] : ofFamily.filter((p) => held.has(p));
    let source: UnicastFamily['source'];
    if (ofFamily.length === 0) {
      source = { problem: `spec.unicastPeers has no IPv${family} address, so an IPv${family} group has no peer to send adverts to; list the nodes' IPv${family} addresses too` };
    } else if (mine.length === 0) {
      source = { problem: `neither --host-ip ${hostIp.text} nor any address of this node is among the IPv${family} unicast peers (${ofFamily.join(', ')}), so the other nodes would not send it adverts` };
    } else if (mine.length > 1) {
      source = { problem: `this node holds several IPv${family} unicast peers (${mine.join(', ')}); pass the one to send from as --host-ip` };
    } else {
      source = mine[0];
    }
    result.set(family, { source, peers: ofFamily.filter((p) => p !== (typeof source === 'string' ? source : undefined)) });
  }
  return result;
}

/**
 * Unicast from discovery: each family's peers are the discovered addresses other than this node's own,
 * and its source is this node's InternalIP of the family (else `--host-ip`), as `deriveDiscoveredView`
 * decided.
 */
function discoveredUnicastOf(discovered: DiscoveredView, hostIpText: string | undefined): Map<IpFamily, UnicastFamily> {
  const result = new Map<IpFamily, UnicastFamily>();
  const all = [...new Set((discovered.unicastPeers ?? []).map((p) => parseIp(p)).filter((ip) => ip !== undefined).map((ip) => ip!))];
  for (const family of [4, 6] as const) {
    const sourceText = family === 4 ? discovered.unicastSource?.ipv4 : discovered.unicastSource?.ipv6;
    const source = sourceText === undefined ? undefined : parseIp(sourceText);
    const peers = [...new Set(all.filter((ip) => ip.family === family && ip.text !== source?.text).map((ip) => ip.text))];
    if (source === undefined || source.family !== family) {
      const host = hostIpText === undefined ? 'no --host-ip was given' : `--host-ip ${hostIpText} is not IPv${family}`;
      result.set(family, {
        source: { problem: `discovery.unicast: this node has no IPv${family} address to send adverts from: its Node lists no IPv${family} InternalIP and ${host}` },
        peers,
      });
    } else {
      result.set(family, { source: source.text, peers });
    }
  }
  return result;
}

/** What every group of one node shares. */
interface PlanContext {
  readonly spec: AgentSpec;
  /** The node order priorities follow: the spec's, or the discovered one. */
  readonly order: PriorityOrder;
  readonly nodeName: string;
  readonly view: NodeView;
  readonly unicast: Map<IpFamily, UnicastFamily> | undefined;
  /** priorityOf needs a sound node order; with a broken one only the problems are reported. */
  readonly orderSound: boolean;
  readonly authPass: string | undefined;
  /** Discovered unicast peers only within the networks of each instance's interface. */
  readonly peersInInterfaceNetwork: boolean;
  /** The names of the spec's (sound) health checks. */
  readonly checkNames: ReadonlySet<string>;
}

function planInstance(ctx: PlanContext, group: AgentGroup, problems: string[]): InstancePlan | undefined {
  if (group === null || typeof group !== 'object') {
    problems.push('is not an object');
    return undefined;
  }
  problems.push(...groupShapeProblems(group));
  problems.push(...agentTrackProblems(group.tracks, ctx.checkNames));
  const resolve = (selector: InterfaceSelectorSpec, family: IpFamily, what: string): string | undefined => {
    const resolution = resolveInterface(selector, family, ctx.view);
    if ('name' in resolution) {
      // The name comes from the node (or a hand-edited spec): a legal Linux name such as `x}#` would
      // close the vrrp_instance block and comment out the rest of the line.
      if (interfaceNameIsSafe(resolution.name)) return resolution.name;
      problems.push(`${what} ${describeSelector(selector)}: the interface name ${JSON.stringify(resolution.name)} does not match ${SAFE_INTERFACE_NAME}, so it is not written into keepalived.conf`);
      return undefined;
    }
    problems.push(`${what} ${describeSelector(selector)}: ${resolution.problem}`);
    return undefined;
  };
  const family: IpFamily = group.family === 6 ? 6 : 4;
  const iface = resolve(group.interface, family, 'interface');

  if (!Array.isArray(group.addresses) || group.addresses.length === 0) {
    problems.push('has no addresses');
    return undefined;
  }
  const addresses = group.addresses.map((vip, i) => {
    const cidr = parseCidr(vip?.address);
    if (!cidr) {
      problems.push(`addresses[${i}] ${JSON.stringify(vip?.address)} is not an address with a prefix length`);
      return undefined;
    }
    if (cidr.address.family !== family) {
      problems.push(`addresses[${i}] ${cidr.text} is IPv${cidr.address.family} in an IPv${family} group; keepalived holds one family per virtual_ipaddress block`);
      return undefined;
    }
    const dev = vip.interface === undefined ? iface : resolve(vip.interface, family, `addresses[${i}] (${cidr.text}) interface`);
    return dev === undefined ? undefined : { address: cidr.text, dev };
  });

  const unicast = ctx.unicast?.get(family);
  if (unicast && typeof unicast.source !== 'string') problems.push(unicast.source.problem);
  if (problems.length > 0 || !ctx.orderSound || iface === undefined) return undefined;
  let peers = unicast?.peers ?? [];
  let peersOutsideNetwork: string[] = [];
  if (ctx.peersInInterfaceNetwork) {
    const networks = (ctx.view.interfaces.find((i) => i.name === iface)?.addresses ?? [])
      .map((a) => parseCidr(a)).filter((c) => c !== undefined).map((c) => networkOf(c!));
    const inside = (p: string) => networks.some((n) => contains(n, parseIp(p)!));
    peersOutsideNetwork = peers.filter((p) => !inside(p));
    peers = peers.filter(inside);
  }
  return {
    group,
    instanceName: vrrpInstanceName(ctx.spec.cluster, group.name),
    interface: iface,
    priority: priorityOf(ctx.order, group, ctx.nodeName),
    role: expectedRoleOf(ctx.order, group, ctx.nodeName),
    addresses: addresses as { address: string; dev: string }[],
    ...(family === 6 ? { linkLocal: virtualRouterLinkLocal(group.vrid) } : {}),
    // VRRPv3 has no authentication; keepalived warns about (and ignores) it there.
    authPass: ctx.spec.auth && group.vrrpVersion === 2 ? ctx.authPass : undefined,
    unicast: unicast && { source: unicast.source as string, peers },
    ...(peersOutsideNetwork.length === 0 ? {} : { peersOutsideNetwork }),
    tracks: (group.tracks ?? []).map((t) => ({ name: trackFileName(ctx.spec.cluster, t.check), weight: t.weight })),
  };
}

function groupShapeProblems(group: AgentGroup): string[] {
  const problems: string[] = [];
  const nameProblem = dnsLabelProblem(group.name, 63);
  if (nameProblem) problems.push(`name ${nameProblem}`);
  if (!Number.isInteger(group.index) || group.index < 0) problems.push(`index ${JSON.stringify(group.index)} is not a non-negative integer`);
  const vrid = vridProblem(group.vrid);
  if (vrid) problems.push(`vrid ${JSON.stringify(group.vrid)} ${vrid}`);
  if (group.family !== 4 && group.family !== 6) problems.push(`family ${JSON.stringify(group.family)} is not 4 or 6`);
  else {
    const tooMany = Array.isArray(group.addresses) ? vipCountProblem(group.addresses.length, group.family) : undefined;
    if (tooMany) problems.push(`addresses ${tooMany}`);
  }
  if (group.vrrpVersion !== 2 && group.vrrpVersion !== 3) {
    problems.push(`vrrpVersion ${JSON.stringify(group.vrrpVersion)} is not 2 or 3`);
  } else if (group.family === 6 && group.vrrpVersion !== 3) {
    problems.push('IPv6 groups need VRRPv3 (vrrpVersion 3)');
  }
  if (typeof group.preempt !== 'boolean') problems.push(`preempt ${JSON.stringify(group.preempt)} is not a boolean`);
  const advert = advertIntervalProblem(group.advertInterval, group.vrrpVersion);
  if (advert) problems.push(`advertInterval ${JSON.stringify(group.advertInterval)} ${advert}`);
  if (group.garpRefreshSeconds !== undefined) {
    const garpProblem = garpRefreshProblem(group.garpRefreshSeconds);
    if (garpProblem) problems.push(`garpRefreshSeconds ${JSON.stringify(group.garpRefreshSeconds)} ${garpProblem}`);
  }
  if (group.preferredNode !== undefined && typeof group.preferredNode !== 'string') problems.push(`preferredNode ${JSON.stringify(group.preferredNode)} is not a node name`);
  return problems;
}


function authPassProblems(pass: string | undefined): string[] {
  if (pass === undefined) return ['spec.auth is true, so a password is needed: pass --auth-pass-file'];
  const problem = authPasswordProblem(pass);
  return problem ? [`the auth password ${problem}`] : [];
}
