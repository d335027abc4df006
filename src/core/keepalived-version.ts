/**
 * Which keepalived the standalone target's image runs, and what the rendered config and pod need of it.
 * The target knows its image's version (`StandaloneImages.keepalivedVersion`); a feature that needs a
 * newer keepalived than that is a synth-time error naming the feature and the version.
 *
 * The tests prove every rendered config (`keepalived -t`) and the end-to-end scenarios on 2.0.20 (the
 * default image's), 2.2.7 (Debian bookworm) and 2.3.4 (the newest release).
 */
import { ValidationIssue } from './errors';
import { ClusterDefinition, GroupDefinition } from './model';

/** The keepalived of the default image, `docker.io/osixia/keepalived:2.0.20`. */
export const DEFAULT_KEEPALIVED_VERSION = '2.0.20';

/** The keepalived releases the tests prove the rendered configs and the pod on, oldest first. */
export const PROVEN_KEEPALIVED_VERSIONS: readonly string[] = ['2.0.20', '2.2.7', '2.3.4'];

/** A keepalived feature that the standalone target may use, and the first release that has it. */
export interface KeepalivedFeature {
  /** What needs it, in the user's terms. */
  readonly feature: string;
  /** The first keepalived release that has it. */
  readonly since: string;
  /** Why, briefly: what keepalived does before that release. */
  readonly why: string;
  /**
   * The field that makes a cluster use it (`undefined`: not used). Called with the cluster alone
   * (target-wide features) and with each of its groups.
   */
  readonly usedBy: (def: ClusterDefinition, group?: GroupDefinition) => string | undefined;
}

/**
 * What the standalone target needs of keepalived, by feature. Every row names the release that brought
 * the feature; the first is what every pod and config of this target needs.
 */
export const KEEPALIVED_FEATURES: readonly KeepalivedFeature[] = [
  {
    feature: 'the standalone target\'s pod and keepalived.conf',
    since: '2.0.20',
    why: 'it is the oldest release they are proven on (keepalived -t and the end-to-end tests); keepalived -t itself came in 2.0.4',
    usedBy: (_def, group) => (group === undefined ? 'target' : undefined),
  },
];

/** A version as numbers, or undefined when the text is not `MAJOR.MINOR.PATCH`. */
export function parseKeepalivedVersion(text: unknown): number[] | undefined {
  if (typeof text !== 'string' || !/^\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(text)) return undefined;
  return text.split('.').map(Number);
}

/** Orders two `MAJOR.MINOR.PATCH` versions (negative when `a` is older). */
export function compareKeepalivedVersions(a: string, b: string): number {
  const pa = parseKeepalivedVersion(a) ?? [];
  const pb = parseKeepalivedVersion(b) ?? [];
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The keepalived version of a standalone cluster's image: the prop, or the default image's. */
export function keepalivedVersionOf(def: ClusterDefinition): string {
  return def.target.options.images?.keepalivedVersion ?? DEFAULT_KEEPALIVED_VERSION;
}

/**
 * The issues of a standalone cluster's keepalived version: a version that is not `MAJOR.MINOR.PATCH`,
 * and each feature the cluster (`group` undefined) or one of its groups uses that needs a newer
 * keepalived than the image's (`features`: the table, by default `KEEPALIVED_FEATURES`). The Deckhouse
 * target runs the module's own keepalived: no issues.
 */
export function keepalivedVersionIssues(
  def: ClusterDefinition, group?: GroupDefinition, features: readonly KeepalivedFeature[] = KEEPALIVED_FEATURES,
): ValidationIssue[] {
  if (def.target.kind !== 'standalone') return [];
  const version = keepalivedVersionOf(def);
  const declared = def.target.options.images?.keepalivedVersion !== undefined;
  const field = 'target.images.keepalivedVersion';
  if (parseKeepalivedVersion(version) === undefined) {
    return group !== undefined ? [] : [{
      path: def.path, field, value: version,
      problem: 'is not a keepalived release version',
      expected: `the version of keepalived in target.images.keepalived, as MAJOR.MINOR.PATCH, e.g. "2.2.7" (default "${DEFAULT_KEEPALIVED_VERSION}", the default image's)`,
    }];
  }
  const issues: ValidationIssue[] = [];
  for (const f of features) {
    const user = f.usedBy(def, group);
    if (user === undefined || compareKeepalivedVersions(version, f.since) >= 0) continue;
    issues.push({
      path: def.path,
      field: user === 'target' ? field : user,
      value: user === 'target' ? version : `(needs keepalived ${f.since})`,
      problem: `${f.feature} needs keepalived ${f.since} or later, but the keepalived image runs ${version}`
        + `${declared ? '' : ' (the default image\'s, since target.images.keepalivedVersion is not set)'}: ${f.why}`,
      expected: `an image with keepalived ${f.since} or later, with target.images.keepalivedVersion set to its version`,
    });
  }
  return issues;
}
