/** The Deckhouse target: what the module's KeepalivedInstance can express, and its one object. */
import { IpFamily } from '../address';
import { ValidationIssue } from '../errors';
import { ClusterObject } from '../manifest';
import { checkKnownFields, knownFields } from '../fields';
import { checkAnnotations, checkLabels, isPlainObject, snapshotOf } from '../metadata';
import { ClusterDefinition, GroupDefinition } from '../model';
import type { BuildContext, IssueReport, TargetStrategy } from '../target';
import { keepalivedInstanceManifest } from './keepalived-instance';

/**
 * The longest Deckhouse instance name. The module runs a StatefulSet `keepalived-<name>`, and a
 * StatefulSet's pods carry the label `controller-revision-hash: <statefulset>-<hash up to 10 chars>`,
 * which must fit in 63 characters: 63 - 11 - 11 = 41.
 */
export const DECKHOUSE_NAME_MAX = 41;

const STANDALONE_ONLY = 'omit it, or use Target.standalone()';

/** Options of the Deckhouse target: the KeepalivedInstance's metadata. */
export interface DeckhouseOptions {
  /**
   * Labels on the KeepalivedInstance (e.g. for a GitOps tool's ownership).
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations on the KeepalivedInstance.
   *
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
}

const DECKHOUSE_OPTIONS_FIELDS = knownFields<DeckhouseOptions>('a field of the Deckhouse target\'s options', { labels: true, annotations: true });

/** The Deckhouse module's KeepalivedInstance. */
export class DeckhouseTargetStrategy implements TargetStrategy {
  public readonly maxNameLength = DECKHOUSE_NAME_MAX;
  public readonly ipv6 = false;
  public readonly healthChecks = false;
  public readonly namespace = undefined;
  public readonly needsAgentConfigMap = false;
  public readonly nameScope = 'KeepalivedInstance (cluster-scoped)';

  public nameLengthReason(name: string): string {
    return `the Deckhouse module names a StatefulSet keepalived-${name}, whose pods' controller-revision-hash label must fit in 63 characters`;
  }

  /** The options (a snapshot; empty when what was given is not an object, which `validateCluster` reports). */
  public readonly options: DeckhouseOptions;

  constructor(private readonly given: DeckhouseOptions = {}) {
    this.options = isPlainObject(given) ? snapshotOf(given) : {};
  }

  public validateCluster(_def: ClusterDefinition, report: IssueReport): void {
    if (!isPlainObject(this.given)) {
      report('Target.deckhouse(options)', this.given, 'is not an object of options', 'Target.deckhouse({ labels, annotations }), or Target.deckhouse() for the defaults');
      return;
    }
    checkKnownFields('target', this.options, DECKHOUSE_OPTIONS_FIELDS, report);
    checkLabels('target.labels', this.options.labels, report);
    checkAnnotations('target.annotations', this.options.annotations, report);
  }

  public validateGroup(_def: ClusterDefinition, gdef: GroupDefinition, _family: IpFamily, report: IssueReport): void {
    const g = gdef.group;
    if (g.advertInterval !== undefined) {
      report(gdef.fieldOf('advertInterval'), g.advertInterval, 'the Deckhouse KeepalivedInstance has no advert interval (its module always uses 1 s)', STANDALONE_ONLY);
    }
    if (g.garpRefreshSeconds !== undefined) {
      report(gdef.fieldOf('garpRefreshSeconds'), g.garpRefreshSeconds, 'the Deckhouse KeepalivedInstance has no gratuitous ARP refresh setting (its module always refreshes every 30 s)', STANDALONE_ONLY);
    }
    if (g.preferredNode !== undefined) {
      report(gdef.fieldOf('preferredNode'), g.preferredNode, 'the Deckhouse KeepalivedInstance cannot prefer a node', STANDALONE_ONLY);
    }
  }

  public warnings(def: ClusterDefinition): ValidationIssue[] {
    // One prop may set every group's (FrontendVips' `preempt`): each field once.
    const fields = new Set(def.groups.filter((g) => g.group.preempt === false).map((g) => g.fieldOf('preempt')));
    return [...fields].map((field) => ({
      path: def.path, field, value: false,
      problem: 'the Deckhouse module ignores preempt: false (its renderer never honours it), so a returning node takes the address back',
      expected: 'Target.standalone(), which renders nopreempt, or accept preemption',
    }));
  }

  public resolvedIssues(): ValidationIssue[] {
    return [];
  }

  public hostPort(): undefined {
    return undefined;
  }

  public objects(def: ClusterDefinition, ctx: BuildContext): ClusterObject[] {
    return [{ id: 'Resource', object: keepalivedInstanceManifest(def, ctx, this.options), exclusive: true }];
  }
}
