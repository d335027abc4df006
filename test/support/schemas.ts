/**
 * Validation of synthesized objects against the real schemas: the CRDs' schema-only copies in
 * schemas/ (ajv, honouring oneOf), with pruning made strict: a field the API server would silently
 * drop (unknown to a structural schema) is an error here.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import * as YAML from 'yaml';
import { parseCidr, parseIp } from '../../src/core/address';

const isCidr = (s: string) => parseCidr(s) !== undefined;
const isIp = (s: string) => parseIp(s) !== undefined;

const SCHEMA_DIR = path.join(__dirname, '..', '..', 'schemas');

interface CrdSchema { group: string; version: string; kind: string; validate: ValidateFunction }

/** Adds `additionalProperties: false` wherever a structural schema would prune unknown fields. */
function strict(schema: any, top = false, branch = false): any {
  // A oneOf/anyOf/allOf branch constrains the object it sits on; it does not list all of its fields.
  if (Array.isArray(schema)) return schema.map((s) => strict(s, false, branch));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'pattern' && typeof v === 'string') {
      // Go's RE2 writes one-letter Unicode classes as \PC; JavaScript needs \P{C}.
      out[k] = caseInsensitive(v.replace(/\\([pP])([A-Z])/g, '\\$1{$2}'));
      continue;
    }
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)]));
    else out[k] = strict(v, false, ['oneOf', 'anyOf', 'allOf', 'not'].includes(k));
  }
  if (!branch && schema.properties && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  if (top) {
    out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
  }
  return out;
}

/**
 * RE2's leading `(?i)` (the Prometheus Operator's `^(?i)(abort|warn)?$`), which JavaScript lacks: each
 * letter becomes a class of both cases. Enough for the plain alternations these schemas use.
 */
function caseInsensitive(pattern: string): string {
  const m = /^(\^?)\(\?i\)(.*)$/.exec(pattern);
  if (!m) return pattern;
  return m[1] + m[2].replace(/[A-Za-z]/g, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

function loadCrds(): CrdSchema[] {
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int64: true, int32: true, cidr: isCidr, ip: isIp, 'date-time': true, 'idn-hostname': true } });
  const out: CrdSchema[] = [];
  for (const file of fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.yaml'))) {
    const crd = YAML.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8'));
    for (const version of crd.spec.versions) {
      if (!version.served) continue;
      out.push({
        group: crd.spec.group,
        version: version.name,
        kind: crd.spec.names.kind,
        validate: ajv.compile(strict(version.schema.openAPIV3Schema, true)),
      });
    }
  }
  return out;
}

let crds: CrdSchema[] | undefined;

/** The CRD schema for an apiVersion and kind, if schemas/ holds one. */
export function crdSchemaFor(apiVersion: string, kind: string): CrdSchema | undefined {
  crds ??= loadCrds();
  return crds.find((c) => `${c.group}/${c.version}` === apiVersion && c.kind === kind);
}

/**
 * Calico serves `projectcalico.org/v3` through its API server and stores it as the
 * `crd.projectcalico.org/v1` CRD, whose schema is the one we have.
 */
const CRD_STORAGE_FORM: Record<string, string> = { 'projectcalico.org/v3': 'crd.projectcalico.org/v1' };

/** Kubernetes' own kinds, validated with the upstream OpenAPI schema that kubernetes-models compiles. */
function kubernetesErrors(obj: any): string[] | undefined {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [undefined, obj.apiVersion];
  let model: any;
  try {
    model = require(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`)[obj.kind];
  } catch {
    return undefined;
  }
  if (!model) return undefined;
  try {
    new model(obj).validate();
    return [];
  } catch (e: any) {
    return (e.errors ?? [{ instancePath: '', message: e.message }]).map((x: any) => `${x.instancePath || '/'} ${x.message}`);
  }
}

/** The schema errors of one object (empty when valid); throws when no schema is known for its kind. */
export function schemaErrors(obj: any): string[] {
  const crd = crdSchemaFor(CRD_STORAGE_FORM[obj.apiVersion] ?? obj.apiVersion, obj.kind);
  if (!crd) {
    const errors = kubernetesErrors(obj);
    if (errors) return errors;
    throw new Error(`no schema known for ${obj.apiVersion} ${obj.kind}`);
  }
  if (crd.validate(obj)) return [];
  return (crd.validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Throws when any object fails its schema. */
export function expectValidAgainstSchemas(objects: any[]): void {
  for (const obj of objects) {
    const errors = schemaErrors(obj);
    if (errors.length > 0) {
      throw new Error(`${obj.kind} ${obj.metadata?.name} does not validate against its schema:\n  ${errors.join('\n  ')}`);
    }
  }
}
