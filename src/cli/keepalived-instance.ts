/**
 * The shape of a `deckhouse.io/v1alpha1` KeepalivedInstance document: the fields the CRD has, which are
 * required, and which containers they sit in. Values inside (VRIDs, addresses, labels) are checked by
 * core's rules, the same ones the constructs apply; this file only makes sure there is a model to check.
 */
import { isPlainObject, nearestName } from '../core';
import { FieldPath } from './field-path';

export const KEEPALIVED_INSTANCE_API_VERSION = 'deckhouse.io/v1alpha1';
export const KEEPALIVED_INSTANCE_KIND = 'KeepalivedInstance';

/** An interface selector as the CRD writes it. */
export type SelectorInput =
  | { readonly detectionStrategy: 'DefaultRoute' }
  | { readonly detectionStrategy: 'NetworkAddress'; readonly networkAddress: string }
  | { readonly detectionStrategy: 'Name'; readonly name: string };

/** A virtual IP address entry of a vrrpInstance. */
export interface VirtualIpInput {
  /** As written; core checks it. */
  readonly address: unknown;
  readonly interface?: SelectorInput;
}

/** One `spec.vrrpInstances[]` entry. */
export interface VrrpInstanceInput {
  /** Its index in `spec.vrrpInstances` (entries too broken to model are left out of the instance). */
  readonly index: number;
  /** As written; core checks that it is a VRID. */
  readonly id: unknown;
  readonly interface: SelectorInput;
  readonly virtualIPAddresses: readonly VirtualIpInput[];
  /** As written (absent when not given); core checks that it is a boolean. */
  readonly preempt?: unknown;
}

/**
 * A KeepalivedInstance whose shape holds a model; its values are still to be checked by core. Entries
 * of `spec.vrrpInstances` whose shape does not hold one are left out (and reported as shape issues), so
 * that the rest is still checked.
 */
export interface KeepalivedInstanceInput {
  readonly name: string;
  /** `metadata.labels` as written (absent when none); core checks them. */
  readonly labels?: { readonly [key: string]: unknown };
  /** `metadata.annotations` as written, kubectl's last-applied one dropped (absent when none); core checks them. */
  readonly annotations?: { readonly [key: string]: unknown };
  readonly nodeSelector: { readonly [key: string]: unknown };
  /** Absent when the document has none. */
  readonly tolerations?: ReadonlyArray<{ readonly [key: string]: unknown }>;
  readonly vrrpInstances: readonly VrrpInstanceInput[];
}

/** A problem with the document's shape, at a field. */
export interface ShapeIssue {
  readonly path: FieldPath;
  /** Point at the key (unknown fields) rather than the value. */
  readonly at?: 'key';
  readonly message: string;
}

const STRATEGIES = ['DefaultRoute', 'NetworkAddress', 'Name'];
/**
 * What the API server and controllers add to an object (`kubectl get -o yaml` prints it): read and
 * dropped, so that exported objects can be read as they are. Everything else the CLI does not carry
 * is an error.
 */
const SERVER_METADATA = [
  'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink',
  'finalizers', 'ownerReferences', 'deletionTimestamp', 'deletionGracePeriodSeconds',
];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const TOLERATION_FIELDS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];

/** A value in a message: its kind, and a scalar's text, cut short (input may be anything, a secret too). */
const typeName = (v: unknown) => (v === null || v === undefined ? 'empty' : Array.isArray(v) ? 'a list' : v instanceof Set ? 'a set (!!set)'
  : v instanceof Map ? 'an ordered map (!!omap)' : typeof v === 'object' ? 'a mapping' : `the ${typeof v} ${shortText(JSON.stringify(v))}`);
const shortText = (text: string) => (text.length <= 80 ? text : `${text.slice(0, 60)}…" (${text.length} characters)`);

/**
 * Reads a document as a KeepalivedInstance. Returns the instance when its shape holds a model (unknown
 * fields do not prevent that: they are reported, and the rest is still checked), and every shape issue.
 */
export function readKeepalivedInstance(value: unknown): { instance?: KeepalivedInstanceInput; issues: ShapeIssue[] } {
  const issues: ShapeIssue[] = [];
  const fail = (path: FieldPath, message: string) => issues.push({ path, message });
  const unknownFields = (obj: Record<string, unknown>, path: FieldPath, known: string[], hint = '') => {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        const nearest = nearestName(key, known);
        const valid = nearest === undefined ? known.join(', ') : `${nearest}, if that is what was meant (the fields: ${known.join(', ')})`;
        issues.push({ path: [...path, key], at: 'key', message: `is not a field of a KeepalivedInstance${hint}. Valid: ${valid}` });
      }
    }
  };
  const map = (v: unknown, path: FieldPath, what: string): Record<string, unknown> | undefined => {
    if (isPlainObject(v)) return v;
    fail(path, v === undefined ? `is missing. Valid: ${what}` : `is ${typeName(v)}. Valid: ${what}`);
    return undefined;
  };
  const list = (v: unknown, path: FieldPath, what: string): unknown[] | undefined => {
    if (Array.isArray(v) && v.length > 0) return v;
    fail(path, v === undefined ? `is missing. Valid: ${what}` : Array.isArray(v) ? `is empty. Valid: ${what}` : `is ${typeName(v)}. Valid: ${what}`);
    return undefined;
  };

  if (!isPlainObject(value)) {
    fail([], `is ${typeName(value)}, not a KeepalivedInstance. Valid: a mapping with apiVersion: ${KEEPALIVED_INSTANCE_API_VERSION}, kind: ${KEEPALIVED_INSTANCE_KIND}, metadata and spec`);
    return { issues };
  }
  const wrongKind = value.apiVersion !== KEEPALIVED_INSTANCE_API_VERSION || value.kind !== KEEPALIVED_INSTANCE_KIND;
  if (value.apiVersion !== KEEPALIVED_INSTANCE_API_VERSION) {
    fail(['apiVersion'], `${value.apiVersion === undefined ? 'is missing' : `is ${typeName(value.apiVersion)}`}. Valid: ${KEEPALIVED_INSTANCE_API_VERSION}`);
  }
  if (value.kind !== KEEPALIVED_INSTANCE_KIND) {
    fail(['kind'], `${value.kind === undefined ? 'is missing' : `is ${typeName(value.kind)}`}; keepalived-constructs reads KeepalivedInstance documents only. Valid: ${KEEPALIVED_INSTANCE_KIND}`);
  }
  // Another kind of document: its other fields mean something else, so say nothing more about them.
  if (wrongKind) return { issues };
  unknownFields(value, [], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);

  const metadata = map(value.metadata, ['metadata'], 'a mapping with the instance\'s name');
  let labels: Record<string, unknown> | undefined;
  let annotations: Record<string, unknown> | undefined;
  if (metadata) {
    unknownFields(metadata, ['metadata'], ['name', 'labels', 'annotations', ...SERVER_METADATA], ' that keepalived-constructs carries');
    if (metadata.labels !== undefined && metadata.labels !== null) {
      labels = map(metadata.labels, ['metadata', 'labels'], 'a mapping of label keys to values, e.g. team: network');
    }
    if (metadata.annotations !== undefined && metadata.annotations !== null) {
      const all = map(metadata.annotations, ['metadata', 'annotations'], 'a mapping of annotation keys to values');
      // kubectl's own annotation is dropped with the server's fields: it describes the object as applied.
      annotations = all && Object.fromEntries(Object.entries(all).filter(([key]) => key !== LAST_APPLIED));
    }
    if (typeof metadata.name !== 'string' || metadata.name === '') {
      fail(['metadata', 'name'], `${metadata.name === undefined ? 'is missing' : `is ${typeName(metadata.name)}`}. Valid: the instance's name, a DNS label of at most 41 characters`);
    }
  }

  const spec = map(value.spec, ['spec'], 'a mapping with nodeSelector and vrrpInstances');
  if (!spec) return { issues };
  unknownFields(spec, ['spec'], ['nodeSelector', 'tolerations', 'vrrpInstances']);
  const nodeSelector = map(spec.nodeSelector, ['spec', 'nodeSelector'], "a mapping of node labels, e.g. node-role.deckhouse.io/frontend: \"\"");

  let tolerations: Array<Record<string, unknown>> | undefined;
  if (spec.tolerations !== undefined && spec.tolerations !== null) {
    if (!Array.isArray(spec.tolerations)) {
      fail(['spec', 'tolerations'], `is ${typeName(spec.tolerations)}. Valid: a list of tolerations`);
    } else {
      tolerations = [];
      spec.tolerations.forEach((t, i) => {
        const toleration = map(t, ['spec', 'tolerations', i], `a toleration: a mapping of ${TOLERATION_FIELDS.join(', ')}`);
        if (!toleration) return;
        unknownFields(toleration, ['spec', 'tolerations', i], TOLERATION_FIELDS);
        tolerations!.push(Object.fromEntries(Object.entries(toleration).filter(([k]) => TOLERATION_FIELDS.includes(k))));
      });
    }
  }

  const selector = (v: unknown, path: FieldPath, required: boolean): SelectorInput | undefined => {
    // The API server drops a field set to null, as if it were not there.
    if ((v === undefined || v === null) && !required) return undefined;
    const s = map(v, path, `an interface selector: detectionStrategy ${STRATEGIES.join(', ')}`);
    if (!s) return undefined;
    const strategy = s.detectionStrategy;
    if (typeof strategy !== 'string' || !STRATEGIES.includes(strategy)) {
      fail([...path, 'detectionStrategy'], `${strategy === undefined ? 'is missing' : `is ${typeName(strategy)}`}. Valid: one of ${STRATEGIES.join(', ')}`);
      return undefined;
    }
    const field = strategy === 'Name' ? 'name' : strategy === 'NetworkAddress' ? 'networkAddress' : undefined;
    unknownFields(s, path, ['detectionStrategy', ...(field ? [field] : [])], ` interface selector with detectionStrategy ${strategy}`);
    if (field === undefined) return { detectionStrategy: 'DefaultRoute' };
    if (typeof s[field] !== 'string') {
      fail([...path, field], `${s[field] === undefined ? 'is missing' : `is ${typeName(s[field])}`}. Valid: ${field === 'name' ? 'an interface name such as ens7' : 'a network such as 192.168.42.0/24'}`);
      return undefined;
    }
    return field === 'name' ? { detectionStrategy: 'Name', name: s.name as string } : { detectionStrategy: 'NetworkAddress', networkAddress: s.networkAddress as string };
  };

  const vrrpInstances: VrrpInstanceInput[] = [];
  const groups = list(spec.vrrpInstances, ['spec', 'vrrpInstances'], 'a non-empty list of VRRP instances (id, interface, virtualIPAddresses)');
  (groups ?? []).forEach((raw, i) => {
    const path = ['spec', 'vrrpInstances', i];
    const before = issues.length;
    const g = map(raw, path, 'a VRRP instance: a mapping of id, interface, virtualIPAddresses and optional preempt');
    if (!g) return;
    unknownFields(g, path, ['id', 'interface', 'virtualIPAddresses', 'preempt']);
    if (g.id === undefined || g.id === null) fail([...path, 'id'], 'is missing. Valid: the VRRP router id, an integer from 1 to 255');
    const iface = selector(g.interface, [...path, 'interface'], true);
    const vips: VirtualIpInput[] = [];
    const addresses = list(g.virtualIPAddresses, [...path, 'virtualIPAddresses'], 'a non-empty list of addresses such as - address: 192.0.2.10/32');
    (addresses ?? []).forEach((rawVip, j) => {
      const vipPath = [...path, 'virtualIPAddresses', j];
      const vip = map(rawVip, vipPath, 'a mapping with address and optional interface');
      if (!vip) return;
      unknownFields(vip, vipPath, ['address', 'interface']);
      if (vip.address === undefined || vip.address === null) fail([...vipPath, 'address'], 'is missing. Valid: an IPv4 address with its prefix, such as 192.0.2.10/32');
      const vipInterface = selector(vip.interface, [...vipPath, 'interface'], false);
      vips.push(vipInterface ? { address: vip.address, interface: vipInterface } : { address: vip.address });
    });
    // Only unknown fields (reported, ignored) may stand between this entry and the model.
    if (issues.slice(before).every((i) => i.at === 'key')) {
      vrrpInstances.push(g.preempt === undefined
        ? { index: i, id: g.id, interface: iface!, virtualIPAddresses: vips }
        : { index: i, id: g.id, interface: iface!, virtualIPAddresses: vips, preempt: g.preempt });
    }
  });

  if (!metadata || typeof metadata.name !== 'string' || metadata.name === '' || !nodeSelector || !groups) return { issues };
  return {
    instance: {
      name: metadata.name as string,
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
      nodeSelector, tolerations, vrrpInstances,
    },
    issues,
  };
}
