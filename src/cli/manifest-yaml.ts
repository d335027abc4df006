/**
 * Manifests as YAML, byte for byte as `cdk8s synth` writes them, without cdk8s:
 * - each object as `ApiObject.toJson()` shapes it: keys sorted at every level, null and undefined
 *   fields dropped, then `apiVersion`, `kind` and `metadata` moved first;
 * - the objects as `Yaml.stringify` joins them: the `yaml` package with YAML 1.1, no line folding,
 *   documents separated by `---`.
 * test/cli-render.test.ts compares the result with a real cdk8s synth of the same constructs.
 */
import { stringify } from 'yaml';

/** A value as cdk8s's `sanitizeValue` leaves it: sorted keys, no null or undefined fields. */
function sanitize(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sanitize);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = sanitize((value as Record<string, unknown>)[key]);
    if (v !== undefined && v !== null) out[key] = v;
  }
  return out;
}

/** An object as cdk8s's `ApiObject.toJson()` orders it. */
export function apiObjectJson(object: object): Record<string, unknown> {
  const sorted = sanitize(object) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of ['apiVersion', 'kind', 'metadata', ...Object.keys(sorted)]) {
    if (key in sorted && !(key in out)) out[key] = sorted[key];
  }
  return out;
}

/** Objects as one multi-document YAML text, as cdk8s writes a chart's file. */
export function manifestsYaml(objects: readonly object[]): string {
  return objects
    .map((o) => stringify(apiObjectJson(o), { keepUndefined: true, lineWidth: 0, version: '1.1' }))
    .join('---\n');
}
