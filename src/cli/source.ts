/**
 * Input files as YAML documents that remember where each value stands, so that every message can name
 * the file, the line and the column.
 */
import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, Tags, visit } from 'yaml';
import { FieldPath } from './field-path';

/** An input file's name as the user gave it (`-` is stdin) and its text. */
export interface InputFile {
  readonly name: string;
  readonly text: string;
}

/** A 1-based line and column. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** One thing wrong, where it is, and what would be valid. Printed as `file:line:col: message`. */
export interface Diagnostic {
  /** The file (`<stdin>` for `-`), or a command-line option such as `--node-order`. */
  readonly where: string;
  readonly position?: Position;
  readonly message: string;
  /** Lines that show the place (YAML syntax errors). */
  readonly excerpt?: string;
}

/** A non-empty YAML document of an input file. */
export interface YamlDocument {
  /** The file's display name. */
  readonly file: string;
  /** 1-based number of the document among the file's non-empty documents. */
  readonly number: number;
  /** The document as plain data (YAML 1.1, as kubectl reads it). */
  readonly value: unknown;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/** The largest input file we read: far above any real KeepalivedInstance list. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/**
 * The most documents read, in all inputs together: far above any real app (its VRRP groups share the
 * VRIDs 1..255), and a bound on the work that hostile input can cause.
 */
export const MAX_DOCUMENTS = 1024;

/**
 * An input file's bytes as text: UTF-8, or UTF-16 after its byte-order mark (Windows PowerShell 5's
 * `>` writes that), as kubectl reads them. Bytes that are no UTF-8 are an error that says where: a
 * replacement character in their place would read as part of a name or an address.
 */
export function decodeInput(bytes: Uint8Array): string {
  // Too large to read (parseFile says so): cut anywhere, perhaps inside a character.
  if (bytes.length > MAX_INPUT_BYTES) return new TextDecoder('utf-8').decode(bytes);
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;
  if (utf16) {
    try {
      // (ignoreBOM: the mark is taken off here; a second one would be text)
      return new TextDecoder(utf16, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(2));
    } catch {
      throw new Error(`is not ${utf16.toUpperCase()} text (a lone surrogate, or an odd number of bytes). Valid: YAML in UTF-8 (or UTF-16 with a byte-order mark)`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, at)).split('\n');
    const column = [...before[before.length - 1]].length + 1;
    throw new Error(`is not UTF-8 text: line ${before.length}, column ${column} has the byte 0x${bytes[at].toString(16).padStart(2, '0')}. Valid: YAML in UTF-8 (or UTF-16 with a byte-order mark)`);
  }
}

/** Where the first byte stands that does not begin or continue a UTF-8 character. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  while (at < bytes.length) {
    const lead = bytes[at];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
    if (length === 0 || at + length > bytes.length) return at;
    try {
      decoder.decode(bytes.subarray(at, at + length));
    } catch {
      return at;
    }
    at += length;
  }
  return at;
}

/** The display name of an input file. */
export const displayName = (name: string) => (name === '-' ? '<stdin>' : name);

/** The non-empty documents of a file, and its syntax errors. An empty file is an error. */
export function parseFile(input: InputFile, maxDocuments = MAX_DOCUMENTS): { documents: YamlDocument[]; diagnostics: Diagnostic[] } {
  const file = displayName(input.name);
  const diagnostics: Diagnostic[] = [];
  const documents: YamlDocument[] = [];
  if (Buffer.byteLength(input.text, 'utf8') > MAX_INPUT_BYTES) {
    return { documents, diagnostics: [{ where: file, message: `is larger than ${MAX_INPUT_BYTES} bytes. Valid: KeepalivedInstance YAML documents` }] };
  }
  const lines = new LineCounter();
  // A byte-order mark is no column of the first line.
  // (logLevel 'error': what the library would print as a warning is this function's to say.)
  const docs = parseAllDocuments(input.text.replace(/^\uFEFF/, ''), { lineCounter: lines, version: '1.1', uniqueKeys: true, customTags: asKubectlReads, logLevel: 'error' });
  for (const doc of docs) {
    if (documents.length >= maxDocuments) {
      diagnostics.push({ where: file, position: positionOf(lines, doc.range[0]), message: `has more documents than the ${MAX_DOCUMENTS} read in all; the rest is not read. Valid: at most ${MAX_DOCUMENTS} KeepalivedInstance documents` });
      break;
    }
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const [first, ...rest] = error.message.split('\n');
        diagnostics.push({
          where: file,
          position: error.linePos ? { line: error.linePos[0].line, col: error.linePos[0].col } : undefined,
          message: `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`,
          excerpt: rest.join('\n').replace(/^\n+|\n+$/g, '') || undefined,
        });
      }
      continue;
    }
    if (doc.contents === null) continue;
    const collectionKey = collectionKeyOffset(doc);
    if (collectionKey !== undefined) {
      diagnostics.push({ where: file, position: positionOf(lines, collectionKey), message: 'a key that is a list or a map (`? [a, b] : c`). Valid: a string key, as every Kubernetes object has' });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      diagnostics.push({ where: file, position: positionOf(lines, unresolvedAliasOffset(doc) ?? doc.contents.range?.[0]), message: `YAML error: ${(e as Error).message}` });
      continue;
    }
    // `---` at the end of a file opens a document with nothing in it.
    if (value === null || value === undefined) continue;
    documents.push({ file, number: documents.length + 1, value, doc, lines });
  }
  if (documents.length === 0 && diagnostics.length === 0) {
    diagnostics.push({ where: file, message: 'has no YAML document (the file is empty). Valid: one or more KeepalivedInstance documents, separated by ---' });
  }
  return { documents, diagnostics };
}

/** Where the first key that is a list or a map stands, if there is one (JSON has no such key). */
function collectionKeyOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      // (`? *x : v`, an alias of a list or a map, is one too.)
      const key = isAlias(pair.key) ? pair.key.resolve(doc) : pair.key;
      if (!isMap(key) && !isSeq(key)) return undefined;
      offset = (pair.key as { range?: [number, number, number] }).range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/** Where the first alias without an anchor before it stands, if there is one. */
function unresolvedAliasOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) !== undefined) return undefined;
      offset = alias.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * YAML 1.1 as kubectl reads manifests (go-yaml v2): `yes` is a boolean and `010` octal there, but
 * `22:30` is no base-60 number and `2001-12-14` no timestamp: both stay strings.
 */
function asKubectlReads(tags: Tags): Tags {
  const dropped = ['intTime', 'floatTime', 'timestamp'];
  return tags.filter((t) => (typeof t === 'string' ? !dropped.includes(t) : t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp'));
}

function positionOf(lines: LineCounter, offset: number | undefined): Position | undefined {
  if (offset === undefined) return undefined;
  const p = lines.linePos(offset);
  return { line: p.line, col: p.col };
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

/**
 * Where a field stands in the document: its value (or with `at: 'key'`, its key). For a field that is
 * missing, the nearest enclosing value that exists.
 */
export function locate(d: YamlDocument, path: FieldPath, at: 'value' | 'key' = 'value'): Position | undefined {
  let node: unknown = d.doc.contents;
  let offset = (node as any)?.range?.[0] as number | undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    let next: any;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (!pair) break;
      if ((i === path.length - 1 && at === 'key') || pair.value === null) {
        offset = (pair.key as any)?.range?.[0] ?? offset;
        break;
      }
      next = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (!next?.range) break;
    node = next;
    offset = next.range[0];
  }
  return positionOf(d.lines, offset);
}
