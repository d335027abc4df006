import { fnv1a32Hex } from './hash';
import { ClusterDefinition } from './model';
import { interfaceNameIsSafe, SAFE_INTERFACE_NAME } from './node-view';

/** A DNS-1123 label; Kubernetes' subdomain is such labels joined by dots. */
const DNS_LABEL_PATTERN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_LABEL = new RegExp(`^${DNS_LABEL_PATTERN}$`);
/** One expression, not a test per label: every cluster's names go through it. */
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL_PATTERN}(\\.${DNS_LABEL_PATTERN})*$`);

/**
 * A DNS label derived from a construct path, e.g. `keepalived/front` -> `keepalived-front`.
 * Paths too long for `max` keep a readable prefix and end in a hash of the whole path, so that
 * different paths still get different names.
 */
export function nameFromPath(path: string, max: number): string {
  const base = path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'keepalived';
  return shortenedLabel(base, max, path);
}

/**
 * `label` when it has at most `max` characters; otherwise a readable prefix of it ending in a hash of
 * `key` (the label itself by default), so that different keys still get different labels.
 */
export function shortenedLabel(label: string, max: number, key = label): string {
  if (label.length <= max) return label;
  const hash = fnv1a32Hex(key);
  return `${label.slice(0, max - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/**
 * The cluster's resource name: the given one, or one derived from its id (the construct id in cdk8s,
 * the resource name in Pulumi), so that both frameworks derive the same name.
 */
export function clusterName(def: Pick<ClusterDefinition, 'name' | 'id' | 'target'>): string {
  return def.name ?? nameFromPath(def.id, def.target._strategy.maxNameLength);
}

/** Why `name` is not a valid DNS label of at most `max` characters, or undefined when it is. */
export function dnsLabelProblem(name: unknown, max: number): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty or not a string';
  if (name.length > max) return `is ${name.length} characters long, more than ${max}`;
  if (!DNS_LABEL.test(name)) return 'is not a DNS label';
  return undefined;
}

/** Why `name` is not a DNS-1123 subdomain (node names, namespaces' objects), or undefined. */
export function dnsSubdomainProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty or not a string';
  if (name.length > 253) return 'is longer than 253 characters';
  if (!DNS_SUBDOMAIN.test(name)) return 'is not a DNS subdomain';
  return undefined;
}

/** Linux's dev_valid_name: 1..15 bytes, not "." or "..", no "/", ":" or white space. */
export function interfaceNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > 15) return 'is longer than 15 bytes (IFNAMSIZ - 1)';
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or white space';
  if (!interfaceNameIsSafe(name)) return `has characters keepalived.conf cannot carry (it must match ${SAFE_INTERFACE_NAME})`;
  return undefined;
}
