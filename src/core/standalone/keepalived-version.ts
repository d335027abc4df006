/**
 * Which keepalived the standalone target's image runs, and what the rendered config and pod need of it.
 * The target knows its image's version (`StandaloneImages.keepalivedVersion`); a feature that needs a
 * newer keepalived than that is a synth-time error naming the feature and the version.
 *
 * The tests prove every rendered config (`keepalived -t`) and the end-to-end scenarios on 2.0.20 (the
 * default image's), 2.2.7 (Debian bookworm) and 2.3.4 (the newest release).
 */
import { ValidationIssue } from '../errors';
import { advertIntText } from '../keepalived-conf';
import { ClusterDefinition, GroupDefinition } from '../model';
import { advertIntervalProblem } from '../rules';
import { familyOf, vrrpVersionOf } from './agent-spec-of';

/** The keepalived of the default image, `docker.io/osixia/keepalived:2.0.20`. */
export const DEFAULT_KEEPALIVED_VERSION = '2.0.20';

/** The keepalived releases the tests prove the rendered configs and the pod on, oldest first. */
export const PROVEN_KEEPALIVED_VERSIONS: readonly string[] = ['2.0.20', '2.2.7', '2.3.4'];

/** Where a cluster uses a feature: the field in the user's terms, its value, and what would do instead. */
export interface FeatureUse {
  readonly field: string;
  readonly value: unknown;
  /** A value that needs no newer keepalived, when there is one. */
  readonly alternative?: string;
}

/** A keepalived feature that the standalone target may use, and the release it needs. */
export interface KeepalivedFeature {
  /** What needs it, in the user's terms. */
  readonly feature: string;
  /** The oldest release known to have it: the tests prove the feature on it. */
  readonly since: string;
  /** Why, briefly: what older keepalived does. */
  readonly why: string;
  /**
   * Where a cluster uses it (`undefined`: not used). Called with the cluster alone (target-wide
   * features) and with each of its groups.
   */
  readonly usedBy: (def: ClusterDefinition, group?: GroupDefinition) => FeatureUse | undefined;
}

/**
 * Whether keepalived 2.0.x misreads a VRRPv3 advert interval: it parses `advert_int` as a binary
 * floating-point number and truncates it to microseconds, so 76 of the 4095 centisecond values (2.01,
 * 4.1, 32.05, ...) come out a microsecond short, which it reports as a configuration error ("must be
 * in units of 10ms - rounding"; `keepalived -t` fails) before it rounds them back.
 * Later releases parse the decimal digits exactly.
 */
export function misreadByKeepalived20(seconds: number): boolean {
  const parsed = Number(advertIntText(seconds));
  return Math.trunc(parsed * 1_000_000) % 10_000 !== 0;
}

/** The nearest centisecond intervals to `seconds` that keepalived 2.0.x reads exactly. */
function nearestExact(seconds: number): string {
  const c = Math.round(seconds * 100);
  const ok = (x: number) => x >= 1 && x <= 4095 && !misreadByKeepalived20(x / 100);
  const below = Array.from({ length: c }, (_, i) => c - 1 - i).find(ok);
  const above = Array.from({ length: 4095 - c }, (_, i) => c + 1 + i).find(ok);
  return [below, above].filter((x): x is number => x !== undefined).map((x) => `${x / 100}`).join(' or ');
}

/**
 * What the standalone target needs of keepalived, by feature. The first row is what every pod and
 * config of this target needs.
 */
export const KEEPALIVED_FEATURES: readonly KeepalivedFeature[] = [
  {
    feature: 'the standalone target\'s pod and keepalived.conf',
    since: '2.0.20',
    why: 'it is the oldest release they are proven on (keepalived -t and the end-to-end tests); keepalived -t itself came in 2.0.4',
    usedBy: (def, group) => (group === undefined ? { field: 'target.images.keepalivedVersion', value: keepalivedVersionOf(def) } : undefined),
  },
  {
    feature: 'this VRRPv3 advert interval',
    since: '2.2.7',
    why: 'keepalived 2.0 parses advert_int as a binary fraction and truncates it to microseconds, so it reads this interval '
      + 'a microsecond short and reports a configuration error ("must be in units of 10ms - rounding", so keepalived -t fails); 2.2.7 reads it exactly',
    usedBy: (def, group) => {
      const seconds = group?.group.advertInterval;
      // Only intervals that are otherwise valid (validate.ts reports the others).
      if (typeof seconds !== 'number' || advertIntervalProblem(seconds, 3) !== undefined) return undefined;
      if (vrrpVersionOf(def.target.standaloneOptions ?? {}, familyOf(group!.group)) !== 3 || !misreadByKeepalived20(seconds)) return undefined;
      return { field: group!.fieldOf('advertInterval'), value: seconds, alternative: `an advert interval of ${nearestExact(seconds)} s` };
    },
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
  return def.target.standaloneOptions?.images?.keepalivedVersion ?? DEFAULT_KEEPALIVED_VERSION;
}

/**
 * The issues of a standalone cluster's keepalived version: a version that is not `MAJOR.MINOR.PATCH`,
 * and each feature the cluster (`group` undefined) or one of its groups uses that needs a newer
 * keepalived than the image's (`features`: the table, by default `KEEPALIVED_FEATURES`). Standalone
 * only: the Deckhouse target runs the module's own keepalived.
 */
export function keepalivedVersionIssues(
  def: ClusterDefinition, group?: GroupDefinition, features: readonly KeepalivedFeature[] = KEEPALIVED_FEATURES,
): ValidationIssue[] {
  if (def.target.standaloneOptions === undefined) return [];
  const version = keepalivedVersionOf(def);
  const declared = def.target.standaloneOptions.images?.keepalivedVersion !== undefined;
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
    const use = f.usedBy(def, group);
    if (use === undefined || compareKeepalivedVersions(version, f.since) >= 0) continue;
    issues.push({
      path: def.path,
      field: use.field,
      value: use.value,
      problem: `${f.feature} needs keepalived ${f.since} or later, but the keepalived image runs ${version}`
        + `${declared ? '' : ' (the default image\'s, since target.images.keepalivedVersion is not set)'}: ${f.why}`,
      expected: `${use.alternative === undefined ? '' : `${use.alternative}, or `}an image with keepalived ${f.since} or later, with target.images.keepalivedVersion set to its version`,
    });
  }
  return issues;
}
