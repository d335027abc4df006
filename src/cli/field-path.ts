/**
 * Field paths in a YAML document, as segments (`['spec', 'vrrpInstances', 2, 'id']`) and as the text
 * users read in messages (`spec.vrrpInstances[2].id`, `spec.nodeSelector["node-role.example/x"]`).
 */

/** A path from a document's root: map keys and sequence indexes. */
export type FieldPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path as text: `spec.vrrpInstances[2].id`; keys that are not identifiers in `["..."]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(the document)' : out;
}

const TOKEN = /^(?:\.?([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** Parses a path in the text form of `formatPath`, or undefined when the text is not one. */
export function parsePath(text: string): FieldPath | undefined {
  const out: Array<string | number> = [];
  let rest = text;
  while (rest.length > 0) {
    const m = TOKEN.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
    rest = rest.slice(m[0].length);
  }
  return out;
}
