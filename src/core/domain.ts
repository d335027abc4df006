/**
 * The VRRP domain: every cluster, VRID reservation and shared namespace of one app (a cdk8s App, or a
 * Pulumi program). It holds the rules that need all of them at once: VRID uniqueness and stable
 * allocation, one holder per virtual IP, unique resource names, clusters that agree with their shared
 * namespace's owner, and one listener per host port on nodes that clusters share.
 */
import { parseCidr, parseIp } from './address';
import { ValidationIssue } from './errors';
import { sharesNodes } from './host-ports';
import { clusterObjectHeads } from './manifests';
import { ClusterDefinition } from './model';
import { NamespaceOwner, NamespaceUse, namespaceDisagreement, namespaceUseOf } from './namespace-owner';
import { clusterName } from './names';
import { allocateVrids, VridClaim, VridReservation } from './vrid';
import { isVrid, VRID_EXPECTED } from './rules';

/** What the domain concluded: the VRID of every group, and the app-wide issues. */
export interface DomainResolution {
  /** The VRID of a cluster's group (by index), or undefined when allocation failed for it. */
  vridOf(cluster: ClusterDefinition, groupIndex: number): number | undefined;
  /** Every app-wide issue. */
  readonly issues: readonly ValidationIssue[];
}

/** All clusters, reservations and shared namespaces of one app. */
export class VrrpDomain {
  private readonly clusters: ClusterDefinition[] = [];
  private readonly reservations: VridReservation[] = [];
  private readonly namespaces: NamespaceOwner[] = [];
  private cached?: { revision: number; resolution: DomainResolution };
  private revision = 0;

  /** Adds a cluster. Its `groups` array may grow later: call `changed()` after each change. */
  public addCluster(def: ClusterDefinition): void {
    this.clusters.push(def);
    this.changed();
  }

  /** Reserves VRIDs that other routers on the segment use. */
  public reserve(reservation: VridReservation): void {
    this.reservations.push(reservation);
    this.changed();
  }

  /** Adds the owner of a namespace's shared objects. */
  public addNamespace(owner: NamespaceOwner): void {
    this.namespaces.push(owner);
    this.changed();
  }

  /** Removes the owner of a namespace's shared objects (an implicit one that an explicit one replaces). */
  public removeNamespace(owner: NamespaceOwner): void {
    const i = this.namespaces.indexOf(owner);
    if (i >= 0) this.namespaces.splice(i, 1);
    this.changed();
  }

  /** The owner of a namespace's shared objects, if one was added. */
  public namespaceOwner(name: string): NamespaceOwner | undefined {
    return this.namespaces.find((n) => n.name === name);
  }

  /** Marks the domain as changed, so that the next `resolve()` computes afresh. */
  public changed(): void {
    this.revision++;
  }

  /** Allocates VRIDs and checks the app-wide rules; cached until the next change. */
  public resolve(): DomainResolution {
    if (this.cached?.revision === this.revision) return this.cached.resolution;
    const resolution = this.compute();
    this.cached = { revision: this.revision, resolution };
    return resolution;
  }

  private compute(): DomainResolution {
    const claims: VridClaim[] = [];
    const index = new Map<ClusterDefinition, number>();
    for (const def of this.clusters) {
      index.set(def, claims.length);
      // The key is what both frameworks share (the name and where it is unique), not the construct
      // path: the same props give the same VRIDs in cdk8s and in Pulumi.
      const scope = `${def.target._strategy.nameScope}/${clusterName(def)}`;
      def.groups.forEach((g, i) => claims.push({
        owner: def.path,
        field: g.fieldOf('id'),
        key: `${scope}#${g.group.name ?? g.group.addresses?.[0]?.address ?? i}`,
        explicit: g.group.id,
      }));
    }
    const reservationIssues = this.checkReservations();
    const allocation = allocateVrids(claims, this.reservations);
    const vridOf = (cluster: ClusterDefinition, groupIndex: number) => {
      const start = index.get(cluster);
      return start === undefined ? undefined : allocation.vrids[start + groupIndex];
    };
    const issues = [
      ...reservationIssues, ...allocation.issues, ...this.checkAddresses(), ...this.checkNames(), ...this.checkNamespaces(), ...this.checkHostPorts(),
      ...this.clusters.flatMap((def) => def.target._strategy.resolvedIssues(def, (i) => vridOf(def, i))),
    ];
    return { vridOf, issues };
  }

  private checkReservations(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const r of this.reservations) {
      r.ids.forEach((id, i) => {
        if (!isVrid(id)) {
          issues.push({ path: r.owner, field: `${r.field}[${i}]`, value: id, problem: 'is not a VRRP router id', expected: VRID_EXPECTED });
        }
      });
    }
    return issues;
  }

  /**
   * One holder per virtual IP: the same address in two groups would make two masters fight over it.
   * And no virtual IP is a node's own address (any standalone cluster's `unicastPeers`): keepalived would
   * add it to another node, or take it (with the routes over it) from that node when another holds it.
   */
  private checkAddresses(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const seen = new Map<string, { owner: string; field: string }>();
    const nodeAddresses = new Map<string, { owner: string; field: string }>();
    for (const def of this.clusters) {
      const peers = def.target.standaloneOptions?.unicastPeers;
      (Array.isArray(peers) ? peers : []).forEach((peer, i) => {
        const ip = parseIp(peer);
        if (ip && !nodeAddresses.has(ip.text)) nodeAddresses.set(ip.text, { owner: def.path, field: `target.unicastPeers[${i}]` });
      });
    }
    for (const def of this.clusters) {
      def.groups.forEach((g) => (g.group.addresses ?? []).forEach((vip, i) => {
        const cidr = parseCidr(vip?.address);
        if (!cidr) return;
        const field = g.fieldOf(`addresses[${i}].address`);
        const node = nodeAddresses.get(cidr.address.text);
        if (node) {
          issues.push({
            path: def.path, field, value: vip.address,
            problem: `is the node address ${cidr.address.text} of ${node.owner === def.path ? '' : `${node.owner}'s `}${node.field}: keepalived would take it from that node whenever another node holds the group`,
            expected: 'an address that no node has of its own',
          });
        }
        const other = seen.get(cidr.address.text);
        if (other) {
          issues.push({
            path: def.path, field, value: vip.address,
            problem: `address ${cidr.address.text} is already held by ${other.owner} (${other.field}); two VRRP groups would both claim it`,
            expected: 'each virtual IP in exactly one group in the app',
          });
        } else {
          seen.set(cidr.address.text, { owner: def.path, field });
        }
      }));
    }
    return issues;
  }

  /**
   * One name per cluster in its target's scope, and so one cluster per object name: distinct cluster
   * names can still name one object (a standalone cluster's objects are `keepalived-<name>`, a name
   * that starts with `keepalived-` as it is, and cluster-scoped ones add a namespace other than the
   * default), and one would overwrite the other.
   */
  private checkNames(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const seen = new Map<string, string>();
    const objects = new Map<string, string>();
    for (const def of this.clusters) {
      const name = clusterName(def);
      const field = def.name === undefined ? 'name (derived from the construct id)' : 'name';
      const scope = def.target._strategy.nameScope;
      const key = `${scope}/${name}`;
      const other = seen.get(key);
      if (other) {
        issues.push({ path: def.path, field, value: name, problem: `${other} already uses this name in ${scope}`, expected: 'a name that is unique for its target: set `name`' });
        continue;
      }
      seen.set(key, def.path);
      for (const { object, contentNamed } of clusterObjectHeads(def)) {
        if (contentNamed) continue;
        const { namespace, name: objectName } = object.metadata;
        const objectKey = `${object.apiVersion.split('/')[0]} ${object.kind} ${namespace ?? ''}/${objectName}`;
        const owner = objects.get(objectKey);
        if (owner === undefined) {
          objects.set(objectKey, def.path);
        } else if (owner !== def.path) {
          issues.push({
            path: def.path, field, value: name,
            problem: `its ${object.kind} ${namespace === undefined ? '' : `${namespace}/`}${objectName} has the name of ${owner}'s, and one would overwrite the other`,
            expected: `a name whose objects' names differ from ${owner}'s (standalone objects are named keepalived-<name>, or the name itself when it starts with keepalived-)`,
          });
          break;
        }
      }
    }
    return issues;
  }

  /**
   * One listener per port on a node: pods with hostNetwork of two clusters that select the same nodes
   * (one's nodeSelector within the other's, or an empty one) cannot both listen on one port, and the
   * scheduler would leave the later cluster's pods pending there. Selectors that may or may not share
   * nodes (other labels) cannot be told apart here.
   */
  private checkHostPorts(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const byPort = new Map<number, ClusterDefinition[]>();
    for (const def of this.clusters) {
      const listens = def.target._strategy.hostPort(def);
      if (!listens) continue;
      let others = byPort.get(listens.port);
      if (!others) byPort.set(listens.port, others = []);
      const other = others.find((o) => sharesNodes(o.nodeSelector, def.nodeSelector));
      if (other) {
        const taken = new Set(byPort.keys());
        let free = listens.port + 1;
        while (taken.has(free)) free++;
        issues.push({
          path: def.path, field: listens.field, value: listens.port,
          problem: `${other.path}'s pods listen on port ${listens.port} too, in the network of the same nodes (hostNetwork), so this cluster's pods could not be scheduled there`,
          expected: `another port for one of them (e.g. ${free}), or metrics: { enabled: false }`,
        });
      }
      others.push(def);
    }
    return issues;
  }

  /**
   * Clusters that agree with their namespace's owner on what it emits, and, for an owner the package
   * made (none was declared), with each other. One owner per namespace is `declareNamespace`'s rule.
   */
  private checkNamespaces(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const uses = new Map<string, NamespaceUse[]>();
    for (const def of this.clusters) {
      const ns = def.target._strategy.namespace;
      if (ns === undefined || !this.namespaceOwner(ns)?.implicit) continue;
      let nsUses = uses.get(ns);
      if (!nsUses) uses.set(ns, nsUses = []);
      nsUses.push(namespaceUseOf(def));
    }
    const disagreeing = new Set<string>();
    for (const [ns, nsUses] of uses) {
      const found = namespaceDisagreement(ns, nsUses);
      if (found.length > 0) disagreeing.add(ns);
      issues.push(...found);
    }
    for (const def of this.clusters) {
      const ns = def.target._strategy.namespace;
      const wanted = def.target.standaloneOptions?.createNamespace;
      const owner = ns === undefined ? undefined : this.namespaceOwner(ns);
      if (!owner) continue;
      // An implicit owner was made for the clusters declared before this one (a Pulumi program that awaited in between).
      const ownedBy = owner.implicit ? `the KeepalivedNamespace made for the clusters declared before this one` : owner.path;
      const declareOwner = `a KeepalivedNamespace ${ns} declared before the program first awaits`;
      if (wanted !== undefined && wanted !== owner.createNamespace && !disagreeing.has(ns!)) {
        issues.push({
          path: def.path, field: 'target.createNamespace', value: wanted,
          problem: `namespace ${ns} is owned by ${ownedBy}, which ${owner.createNamespace ? 'emits' : 'does not emit'} the Namespace`,
          expected: `omit createNamespace (the owner decides), or set it to ${owner.createNamespace}${owner.implicit ? `, or ${declareOwner}` : ''}`,
        });
      }
      if (!owner.agentConfigMap && def.target._strategy.needsAgentConfigMap) {
        issues.push({
          path: def.path, field: 'target.images.agentInImage', value: def.target.standaloneOptions?.images?.agentInImage ?? false,
          problem: `namespace ${ns} is owned by ${ownedBy}, which emits no agent ConfigMap, and this cluster's pods mount it`,
          expected: `true with an agent image that has the agent baked in, or ${owner.implicit ? `${declareOwner} (it emits the agent ConfigMap by default)` : `agentConfigMap: true on ${owner.path}`}`,
        });
      }
    }
    return issues;
  }
}
