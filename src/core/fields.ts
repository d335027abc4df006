/**
 * The fields that each props interface has, so that a field the package does not know (a typo, or a
 * field of another interface) is a synth-time error instead of being silently ignored. TypeScript's
 * excess-property check catches it only in an object literal passed directly; it misses spreads,
 * variables, JSON or YAML read at run time, and plain JavaScript.
 */
import { isPlainObject } from './metadata';
import type { IssueReport } from './target';

/** The names of an enum's members (a numeric enum's reverse-mapping keys aside). */
function memberNames(e: object): string[] {
  return Object.keys(e).filter((k) => Number.isNaN(Number(k)));
}

/** The values of an enum. */
export function enumValues(e: object): unknown[] {
  return memberNames(e).map((k) => (e as Record<string, unknown>)[k]);
}

/** An enum's members as a user writes them, for messages: `ImagePullPolicy.ALWAYS, ImagePullPolicy.NEVER`. */
export function enumNames(name: string, e: object): string {
  return memberNames(e).map((k) => `${name}.${k}`).join(', ');
}

/** Every field of `T`, optional ones too, each once: the compiler sees that a list is complete and has nothing else. */
export type FieldList<T> = { readonly [K in keyof Required<T>]: true };

/** The known fields of an interface, its name for messages, and the known fields of its fields that are objects. */
export interface KnownFields {
  /** What a key that is not a field is not, in messages: "a prop of FrontendVips", "a field of StandaloneImages". */
  readonly what: string;
  readonly names: ReadonlySet<string>;
  /** The fields whose values are objects of known fields, or (`list`) lists of them. */
  readonly nested: ReadonlyMap<string, { readonly fields: KnownFields; readonly list: boolean }>;
}

/**
 * The known fields of `T`, from a list the compiler checks against `T`, and those of its fields whose
 * values are objects: `{ lan: GATEWAY_ADDRESS_FIELDS }`, or `{ addresses: [VIRTUAL_IP_FIELDS] }` for a
 * list of objects.
 */
export function knownFields<T>(what: string, fields: FieldList<T>, nested: { readonly [K in keyof T]?: KnownFields | readonly [KnownFields] } = {}): KnownFields {
  const entries = Object.entries(nested) as Array<[string, KnownFields | readonly [KnownFields]]>;
  return {
    what,
    names: new Set(Object.keys(fields)),
    nested: new Map(entries.map(([key, n]) => [key, Array.isArray(n) ? { fields: n[0], list: true } : { fields: n as KnownFields, list: false }])),
  };
}

/**
 * Reports each key of `value` (when it is an object) that is not one of `known`, naming the nearest
 * known field when one is close, and does the same in its nested objects (each item of a list).
 * `at` is the object's field path ('' for the props themselves). A key whose value is undefined is
 * reported too: `{ nodeSelecter: undefined }` is still a typo. `ownKeys: false` checks the nested
 * objects only (props of a user's subclass may have fields of its own).
 */
export function checkKnownFields(at: string, value: unknown, known: KnownFields, report: IssueReport, ownKeys = true): void {
  if (!isPlainObject(value)) return;
  // (A synth checks every group of every cluster: no allocation for a key that is known.)
  for (const key of Object.keys(value)) {
    const field = value[key];
    const nested = known.nested.size > 0 ? known.nested.get(key) : undefined;
    // A value of the wrong type (an object for a list, say) is the type checks' to report.
    if (nested !== undefined && !nested.list) checkKnownFields(fieldAt(at, key), field, nested.fields, report);
    if (nested?.list && Array.isArray(field)) field.forEach((item, i) => checkKnownFields(`${fieldAt(at, key)}[${i}]`, item, nested.fields, report));
    if (!ownKeys || known.names.has(key)) continue;
    const nearest = nearestName(key, known.names);
    const all = [...known.names].sort().join(', ');
    report(fieldAt(at, key), field, `is not ${known.what}`, nearest === undefined
      ? (known.names.size === 1 ? all : `one of ${all}`)
      : `${nearest}, if that is what was meant${known.names.size === 1 ? '' : ` (the fields: ${all})`}`);
  }
}

const fieldAt = (at: string, key: string) => (at === '' ? key : `${at}.${key}`);

/**
 * The known name closest to `name`, if one is close enough: the same but for case; else the one within
 * the smallest edit distance (at most a third of the name's length, up to 3); else one that begins
 * with the other (`interval` for `intervalSeconds`, `advertIntervalSeconds` for `advertInterval`).
 */
export function nearestName(name: string, names: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  for (const candidate of names) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(lower, candidate.toLowerCase(), bestDistance);
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  const prefixed = Array.from(names).filter((c) => Math.min(c.length, name.length) >= 4
    && (c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase())));
  return prefixed.sort((x, y) => Math.abs(x.length - name.length) - Math.abs(y.length - name.length))[0];
}

/** Levenshtein distance with adjacent transpositions; more than `max` at once when the lengths differ by more. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j], before[j - 2] + 1);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length];
}
