import { Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import {
  clusterGroupDefinition, clusterManifestHeads, clusterManifests, clusterName, declareCluster, declareGroup, DeclaredCluster,
  describeIssue, DomainResolution, GroupDefinition, KeepalivedClusterProps, ManifestObject, missingGroupIssues, Target, VrrpGroup,
  vridsOf,
} from '../core';
import { KeepalivedInstance, KeepalivedInstanceSpec } from '../imports/deckhouse.io';
import { domainOf, validateInDomain } from './domain';
import { ProducedApiObject } from './manifest-object';

/**
 * A keepalived cluster: a set of nodes (by `nodeSelector`) that hold VRRP groups of virtual IPs.
 * On the Deckhouse target it is one KeepalivedInstance; on the standalone target, a DaemonSet and
 * what it needs.
 *
 * @example
 * const edge = new KeepalivedCluster(chart, 'edge', { nodeSelector: { 'node-role.kubernetes.io/edge': '' } });
 * edge.addGroup({ id: 10, addresses: [{ address: '192.0.2.10/24' }] });
 */
export class KeepalivedCluster extends Construct {
  /** The cluster's resource name. */
  public readonly name: string;

  /** Where keepalived runs. */
  public readonly target: Target;

  private readonly definition: DeclaredCluster;
  private produced?: { resolution: DomainResolution; manifests: ManifestObject[] };

  constructor(scope: Construct, id: string, props: KeepalivedClusterProps) {
    super(scope, id);
    this.definition = declareCluster(domainOf(this), this.node.path, props);
    this.target = this.definition.target;
    this.name = clusterName(this.definition);
    validateInDomain(this);
    this.node.addValidation({ validate: () => missingGroupIssues(this.definition).map(describeIssue) });
    for (const group of props.groups ?? []) this.addGroup(group);

    if (this.target.kind === 'deckhouse') {
      new KeepalivedInstance(this, 'Resource', {
        metadata: { name: this.name },
        spec: Lazy.any({ produce: () => toL1Spec(this.manifests()[0].spec as DeckhouseSpec) }),
      });
    } else {
      this.emitStandalone();
    }
  }

  /** Adds a VRRP group. Throws at once when the group is invalid. */
  public addGroup(group: VrrpGroup): void {
    this.addGroupDefinition(clusterGroupDefinition(group, this.definition.groups.length));
  }

  /** The groups declared so far. */
  public get groups(): readonly VrrpGroup[] {
    return this.definition.groups.map((g) => g.group);
  }

  /**
   * The VRID of each group, in order. Final only once the whole app is declared (allocation is
   * app-wide), so read it at synth time, not while constructs are still being added.
   */
  public resolveVrids(): number[] {
    return vridsOf(domainOf(this).resolve(), this.definition);
  }

  /** Adds a group whose fields the subclass names in its own props' terms. */
  protected addGroupDefinition(definition: GroupDefinition): void {
    declareGroup(domainOf(this), this.definition, definition);
  }

  /** The manifests of this cluster, from the app-wide resolution. */
  private manifests(): ManifestObject[] {
    const resolution = domainOf(this).resolve();
    if (this.produced?.resolution === resolution) return this.produced.manifests;
    const manifests = clusterManifests(this.definition, domainOf(this));
    this.produced = { resolution, manifests };
    return manifests;
  }

  /**
   * One ApiObject per standalone object. Which objects exist depends on the props alone; their content
   * (VRIDs, the ConfigMap's hashed name) is produced at synth time.
   */
  private emitStandalone(): void {
    clusterManifestHeads(this.definition, domainOf(this)).forEach((head, i) => {
      new ProducedApiObject(this, head.kind === 'DaemonSet' ? 'Resource' : head.kind, head, () => this.manifests()[i]);
    });
  }

}

type DeckhouseSpec = Omit<KeepalivedInstanceSpec, 'vrrpInstances'> & {
  vrrpInstances: Array<Omit<KeepalivedInstanceSpec['vrrpInstances'][number], 'virtualIpAddresses'> & {
    virtualIPAddresses: KeepalivedInstanceSpec['vrrpInstances'][number]['virtualIpAddresses'];
  }>;
};

/** The CRD's JSON field `virtualIPAddresses` is `virtualIpAddresses` in the imported L1's props. */
function toL1Spec(spec: DeckhouseSpec): KeepalivedInstanceSpec {
  return {
    ...spec,
    vrrpInstances: spec.vrrpInstances.map(({ virtualIPAddresses, ...group }) => ({ ...group, virtualIpAddresses: virtualIPAddresses })),
  };
}
