/**
 * Kubernetes' rules for object metadata that users set: label keys and values, annotation keys and
 * values. The API server rejects an object that breaks them, so the constructs check them at synth.
 */
import { isPulumiOutput } from './errors';
import { dnsSubdomainProblem } from './names';
import type { IssueReport } from './target';

/** The name part of a label or annotation key, and a non-empty label value: at most 63, alphanumeric at both ends. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** What a label key (also an annotation key and a taint key) is: for the messages. */
export const LABEL_KEY_EXPECTED = 'an optional DNS subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
/** What a label value is: for the messages. */
export const LABEL_VALUE_EXPECTED = 'a string of at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit, or ""';
/** The API server's limit on the total size of an object's annotations. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Why `key` is not a label key (`[prefix/]name`; also an annotation or taint key), or undefined when it is one. */
export function labelKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'is not a string';
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined) {
    const problem = dnsSubdomainProblem(prefix);
    if (problem) return `has a prefix that ${problem}`;
  }
  if (!QUALIFIED_NAME.test(name)) return name.length > 63 ? 'has a name longer than 63 characters' : 'has a name that is not a qualified name';
  return undefined;
}

/** Whether `value` is a valid label value (the empty string is one). */
export function isLabelValue(value: unknown): value is string {
  return typeof value === 'string' && (value === '' || QUALIFIED_NAME.test(value));
}

/**
 * Whether `value` is an object of keys and values: a map, in YAML's words. An object literal, what
 * `JSON.parse` or a YAML map make, or an instance of a class of the user's (props as a class) are; null,
 * an array, a Pulumi Output (whose fields are Pulumi's), and the built-in kinds whose content is not in
 * their own keys (a `Map` or a `Set`, as YAML's `!!omap` and `!!set` make them, a `Date`) are not: they
 * would read as empty.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Object]' && !isPulumiOutput(value);
}

/**
 * Whether an object is as a literal makes it: its prototype is Object.prototype (of any realm: a vm
 * context's, jest's), which has no prototype of its own, or it has none.
 */
function isLiteral(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * A copy of the plain data in `value` (objects as literals make them, and arrays, all the way down),
 * taken when a construct is declared: a change the program makes to the same objects afterwards (for
 * the next cluster's props, say) cannot reach what this one emits without being checked. Instances of
 * classes (Target, HealthCheck, VrrpAuth, InterfaceSelector, which do not change) are kept.
 */
export function snapshotOf<T>(value: T, copies = new Map<object, unknown>()): T {
  if (typeof value !== 'object' || value === null) return value;
  // An object met again (a cycle, in a subclass's props of its own) is its one copy.
  if (copies.has(value)) return copies.get(value) as T;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    copies.set(value, list);
    for (const item of value) list.push(snapshotOf(item, copies));
    return list as T;
  }
  // A class's instance (a Pulumi Output too) is kept.
  if (!isLiteral(value)) return value;
  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const key of Object.keys(value)) {
    const item = snapshotOf((value as Record<string, unknown>)[key], copies);
    // `JSON.parse` and YAML make "__proto__" a key of its own; an assignment would set the copy's
    // prototype instead (or nothing), and the key would vanish unchecked.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}

/**
 * The items of a prop that must be a list: none when it is absent, and none, with an issue, when it is
 * something else (a plain-JavaScript caller's string, say).
 */
export function listIn(field: string, value: unknown, report: IssueReport, expected: string): readonly unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  report(field, value, 'is not a list', expected);
  return [];
}

function checkMap(field: string, map: unknown, report: IssueReport, what: string): [string, unknown][] {
  if (map === undefined) return [];
  if (!isPlainObject(map)) {
    report(field, map, `is not a map of ${what}`, `an object of string keys and values, e.g. { team: "network" }`);
    return [];
  }
  const entries = Object.entries(map);
  for (const [key] of entries) {
    const problem = labelKeyProblem(key);
    if (problem) report(`${field}[${JSON.stringify(key)}]`, key, `is not a valid key: it ${problem}`, LABEL_KEY_EXPECTED);
  }
  return entries;
}

/** Checks labels: keys, and values of at most 63 characters (Kubernetes' label syntax). */
export function checkLabels(field: string, labels: unknown, report: IssueReport): void {
  for (const [key, value] of checkMap(field, labels, report, 'labels')) {
    if (!isLabelValue(value)) {
      report(`${field}[${JSON.stringify(key)}]`, value, 'is not a valid label value', LABEL_VALUE_EXPECTED);
    }
  }
}

/**
 * Reports each of the user's labels that the package sets itself on the same objects, to another
 * value: the package's would silently replace the user's.
 */
export function checkPackageLabels(field: string, labels: unknown, packageLabels: { readonly [key: string]: string }, report: IssueReport): void {
  if (!isPlainObject(labels)) return;
  for (const [key, value] of Object.entries(labels)) {
    const own = Object.prototype.hasOwnProperty.call(packageLabels, key) ? packageLabels[key] : undefined;
    if (own !== undefined && value !== own) {
      report(`${field}[${JSON.stringify(key)}]`, value, `is a label the package sets itself, to ${JSON.stringify(own)}, so this value would be replaced`,
        `${JSON.stringify(own)}, or a label key of your own`);
    }
  }
}

/** Checks annotations: keys, string values, and the API server's 256 KiB limit on all of them. */
export function checkAnnotations(field: string, annotations: unknown, report: IssueReport): void {
  let bytes = 0;
  for (const [key, value] of checkMap(field, annotations, report, 'annotations')) {
    if (typeof value !== 'string') report(`${field}[${JSON.stringify(key)}]`, value, 'is not a string', 'a string');
    else bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    report(field, `(${bytes} bytes)`, `is larger than the ${MAX_ANNOTATIONS_BYTES / 1024} KiB the API server admits for an object's annotations`, 'fewer or shorter annotations');
  }
}
