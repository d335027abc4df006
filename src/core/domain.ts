/**
 * The VRRP domain: every cluster and VRID reservation of one app (a cdk8s App, or a Pulumi program).
 * It holds the rules that need all of them at once: VRID uniqueness and stable allocation, one holder
 * per virtual IP, and unique resource names.
 */
import { parseCidr } from './address';
import { ValidationIssue } from './errors';
import { ClusterDefinition } from './model';
import { clusterName } from './names';
import { groupNameOf } from './standalone';
import { allocateVrids, VridClaim, VridReservation } from './vrid';

/** What the domain concluded: the VRID of every group, and the app-wide issues. */
export interface DomainResolution {
  /** The VRID of a cluster's group (by index), or undefined when allocation failed for it. */
  vridOf(cluster: ClusterDefinition, groupIndex: number): number | undefined;
  /** Every app-wide issue. */
  readonly issues: readonly ValidationIssue[];
}

/** A cluster's namespace on its target: where its name must be unique. */
function nameScope(def: ClusterDefinition): string {
  return def.target.kind === 'deckhouse' ? 'KeepalivedInstance (cluster-scoped)' : `namespace ${def.target.options.namespace ?? 'keepalived'}`;
}

/** All clusters and reservations of one app. */
export class VrrpDomain {
  private readonly clusters: ClusterDefinition[] = [];
  private readonly reservations: VridReservation[] = [];
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

  /** Marks the domain as changed, so that the next `resolve()` computes afresh. */
  public changed(): void {
    this.revision++;
  }

  /**
   * Whether a standalone cluster emits its Namespace: the first cluster that creates a namespace does,
   * so that clusters sharing a namespace do not emit it twice.
   */
  public ownsNamespace(def: ClusterDefinition): boolean {
    if (def.target.kind !== 'standalone' || def.target.options.createNamespace === false) return false;
    const first = this.clusters.find((c) => c.target.kind === 'standalone' && c.target.options.createNamespace !== false
      && nameScope(c) === nameScope(def));
    return first === def;
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
      def.groups.forEach((g, i) => claims.push({
        owner: def.path,
        field: g.fieldOf('id'),
        key: `${def.path}#${g.group.name ?? g.group.addresses?.[0]?.address ?? i}`,
        explicit: g.group.id,
      }));
    }
    const reservationIssues = this.checkReservations();
    const allocation = allocateVrids(claims, this.reservations);
    const vridOf = (cluster: ClusterDefinition, groupIndex: number) => allocation.vrids[index.get(cluster)! + groupIndex];
    const issues = [...reservationIssues, ...allocation.issues, ...this.checkAddresses(), ...this.checkNames(), ...this.checkGroupNames(vridOf)];
    return {
      vridOf: (cluster, groupIndex) => {
        const start = index.get(cluster);
        return start === undefined ? undefined : allocation.vrids[start + groupIndex];
      },
      issues,
    };
  }

  private checkReservations(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const r of this.reservations) {
      r.ids.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 1 || id > 255) {
          issues.push({ path: r.owner, field: `${r.field}[${i}]`, value: id, problem: 'is not a VRRP router id', expected: 'an integer from 1 to 255' });
        }
      });
    }
    return issues;
  }

  /** One holder per virtual IP: the same address in two groups would make two masters fight over it. */
  private checkAddresses(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const seen = new Map<string, { owner: string; field: string }>();
    for (const def of this.clusters) {
      def.groups.forEach((g) => (g.group.addresses ?? []).forEach((vip, i) => {
        const cidr = parseCidr(vip?.address);
        if (!cidr) return;
        const field = g.fieldOf(`addresses[${i}].address`);
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

  /** On the standalone target each group is a `vrrp_instance` named after it: keepalived skips a second of the same name. */
  private checkGroupNames(vridOf: (cluster: ClusterDefinition, groupIndex: number) => number | undefined): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const def of this.clusters.filter((c) => c.target.kind === 'standalone')) {
      const seen = new Map<string, string>();
      def.groups.forEach((g, i) => {
        const vrid = vridOf(def, i);
        if (vrid === undefined) return;
        const name = groupNameOf(g.group, vrid);
        const other = seen.get(name);
        if (other !== undefined) {
          issues.push({
            path: def.path, field: g.fieldOf('name'), value: name,
            problem: `${other} has the same name on the node, where keepalived would skip the second vrrp_instance`,
            expected: 'a name that is unique in the cluster (unnamed groups are named vrid-<VRID>)',
          });
        } else {
          seen.set(name, g.fieldOf('name'));
        }
      });
    }
    return issues;
  }

  private checkNames(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const seen = new Map<string, string>();
    for (const def of this.clusters) {
      const name = clusterName(def);
      const key = `${nameScope(def)}/${name}`;
      const other = seen.get(key);
      if (other) {
        issues.push({
          path: def.path, field: def.name === undefined ? 'name (derived from the construct path)' : 'name', value: name,
          problem: `${other} already uses this name in ${nameScope(def)}`,
          expected: 'a name that is unique for its target',
        });
      } else {
        seen.set(key, def.path);
      }
    }
    return issues;
  }
}
