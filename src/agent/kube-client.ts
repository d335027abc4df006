/**
 * A small Kubernetes API client for the agent, on Node built-ins only (the agent is one dependency-free
 * file). It talks to the API server exactly as a pod does: the service's address from the environment,
 * the service account's token and CA from the projected volume. It knows lists, watches and plain JSON
 * get/create/update, which is all that node discovery and Leases need.
 */
import { readBoundedFile } from './bounded-read';
import { IncomingMessage } from 'http';
import { request as httpsRequest } from 'https';
import { join } from 'path';

/** Where a pod finds its service account: token, ca.crt, namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The API server is not configured as a pod would see it (no env, no token file, ...). */
export class KubeConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeConfigError';
  }
}

/**
 * The API server could not be reached or the connection broke: refused, reset, timed out, or the TLS
 * handshake failed (e.g. the server's certificate is not signed by our CA). `code` is Node's error code
 * (`ECONNREFUSED`, `ECONNRESET`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...) when there is one.
 */
export class KubeTransportError extends Error {
  readonly code: string | undefined;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.name = 'KubeTransportError';
    this.code = options?.code ?? (options?.cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** The API server sent something that is not the Kubernetes protocol (e.g. a watch line that is not JSON). */
export class KubeProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeProtocolError';
  }
}

/**
 * A list holds more items than the caller takes (`maxItems`): the client stopped reading at the first
 * page past the bound, so a hostile or broken server cannot make it hold an unbounded list.
 */
export class KubeListTooLargeError extends Error {
  constructor(
    /** The items read before stopping: more than `maxItems`. */
    public readonly seen: number,
    public readonly maxItems: number,
    context: string,
  ) {
    super(`${context}: more than ${maxItems} items (stopped reading at ${seen})`);
    this.name = 'KubeListTooLargeError';
  }
}

/** A service account token is a JWT of a few KiB. */
const MAX_TOKEN_BYTES = 64 * 1024;

/**
 * The largest response body the client reads, by default. A page of big Node objects (some 40 KiB
 * each with 50 images and addresses) fits twice; and parsed, the worst 2 MiB of JSON a hostile
 * server could send (about 700,000 empty objects) stays some 45 MB of heap, inside the agent's 128 Mi.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** The longest watch line (one event: one object) by default; etcd refuses objects over 1.5 MiB. */
export const DEFAULT_MAX_WATCH_LINE_CHARS = 2 * 1024 * 1024;
/** Items per page of a list, by default (`limit`; the rest follows with `continue`). */
export const DEFAULT_LIST_PAGE_SIZE = 25;
/** The most an error response is read for its Status. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The `Status` object the API server sends with a failure. */
export interface KubeStatus {
  readonly kind?: 'Status';
  readonly apiVersion?: string;
  readonly status?: 'Success' | 'Failure';
  readonly message?: string;
  /** Machine-readable: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, `Gone`, `Unauthorized`, ... */
  readonly reason?: string;
  readonly details?: { readonly name?: string; readonly group?: string; readonly kind?: string };
  /** The HTTP status code. */
  readonly code?: number;
}

/** The API server answered with an HTTP error status (or a watch ERROR event). */
export class KubeApiError extends Error {
  /** The HTTP status code, e.g. 401, 403, 404, 409, 410. */
  readonly status: number;
  /** The Status reason, e.g. `Unauthorized`, `Conflict`. */
  readonly reason: string | undefined;
  /** The Status object, when the server sent one. */
  readonly body: KubeStatus | undefined;
  constructor(status: number, message: string, body?: KubeStatus) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = body?.reason;
    this.body = body;
  }
}

/** 404: the object does not exist. */
export class KubeNotFoundError extends KubeApiError {
  constructor(status: number, message: string, body?: KubeStatus) {
    super(status, message, body);
    this.name = 'KubeNotFoundError';
  }
}

/**
 * 409: `create` found the object already there (reason `AlreadyExists`), or `update` carried a
 * resourceVersion that is no longer the current one (reason `Conflict`): re-read and try again.
 */
export class KubeConflictError extends KubeApiError {
  constructor(status: number, message: string, body?: KubeStatus) {
    super(status, message, body);
    this.name = 'KubeConflictError';
  }
}

/** 410: the resourceVersion is too old (compacted); list again and watch from the new one. */
export class KubeGoneError extends KubeApiError {
  constructor(status: number, message: string, body?: KubeStatus) {
    super(status, message, body);
    this.name = 'KubeGoneError';
  }
}

/** The typed error for an HTTP status and the Status object the server sent with it. */
export function kubeApiErrorOf(status: number, body: KubeStatus | undefined, context: string): KubeApiError {
  const message = `${context}: ${status}${body?.reason ? ` ${body.reason}` : ''}${body?.message ? `: ${body.message}` : ''}`;
  switch (status) {
    case 404: return new KubeNotFoundError(status, message, body);
    case 409: return new KubeConflictError(status, message, body);
    case 410: return new KubeGoneError(status, message, body);
    default: return new KubeApiError(status, message, body);
  }
}

/** The metadata fields the agent reads and writes. */
export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Any Kubernetes object. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

/** A list's items and the resourceVersion to watch from. */
export interface KubeList<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

/** The kinds of watch events. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * One watch event. A BOOKMARK carries only `metadata.resourceVersion`: the point the watch has
 * reached, so that a reconnect resumes there. An ERROR carries a Status (code 410: relist).
 */
export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: T }
  | { readonly type: 'ERROR'; readonly object: KubeStatus };

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** Per-request options. */
export interface RequestOptions {
  /** Aborts the request; the call then rejects with an `AbortError`. */
  readonly signal?: AbortSignal;
}

/** Options of a list. */
export interface ListOptions extends RequestOptions {
  /**
   * The most items the caller takes: the list rejects with `KubeListTooLargeError` as soon as a page
   * takes it past this, without reading further pages. @default - no bound on the count (each page's
   * body is still bounded by `maxResponseBytes`)
   */
  readonly maxItems?: number;
}

/** What to watch. */
export interface WatchOptions extends RequestOptions {
  /** Watch from after this version (from a list or the last event or bookmark). */
  readonly resourceVersion?: string;
  /** e.g. `node-role.kubernetes.io/edge=`; see `labelSelectorOf` in node-watch.ts. */
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Ask for BOOKMARK events, so that a quiet watch still advances its resourceVersion. */
  readonly allowWatchBookmarks?: boolean;
  /** The server ends the watch after this long (the stream then ends cleanly). */
  readonly timeoutSeconds?: number;
}

/** How to reach the API server. */
export interface KubeClientConfig {
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** The bearer token's file: read for every request, because bound tokens rotate (about hourly). */
  readonly tokenFile: string;
  /** The CA bundle that signs the API server's certificate. */
  readonly caFile: string;
  /** The pod's namespace, when the namespace file exists. */
  readonly namespace: string | undefined;
  /** A non-watch request fails after this long without data. @default 30000 */
  readonly requestTimeoutMs?: number;
  /**
   * A watch fails when nothing arrives for its timeoutSeconds plus this long: the server should have
   * ended it by then, so the connection is dead without anyone having said so (a half-open TCP
   * connection after a node or network failure). @default 30000
   */
  readonly watchIdleGraceMs?: number;
  /** Sent as User-Agent. @default 'keepalived-agent' */
  readonly userAgent?: string;
  /** A response body longer than this fails the request (`KubeProtocolError`). @default DEFAULT_MAX_RESPONSE_BYTES */
  readonly maxResponseBytes?: number;
  /** A watch line (one event) longer than this many characters fails the watch. @default DEFAULT_MAX_WATCH_LINE_CHARS */
  readonly maxWatchLineChars?: number;
  /** Items per list page (`limit`). @default DEFAULT_LIST_PAGE_SIZE */
  readonly listPageSize?: number;
}

/** Overrides for `inClusterConfig`; the defaults are what a pod sees. */
export interface InClusterOptions {
  /** The environment to read KUBERNETES_SERVICE_HOST/PORT from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The service account directory. @default SERVICE_ACCOUNT_DIR */
  readonly serviceAccountDir?: string;
  /** @default `${serviceAccountDir}/token` */
  readonly tokenFile?: string;
  /** @default `${serviceAccountDir}/ca.crt` */
  readonly caFile?: string;
  /** @default `${serviceAccountDir}/namespace` */
  readonly namespaceFile?: string;
  readonly requestTimeoutMs?: number;
  readonly watchIdleGraceMs?: number;
}

/**
 * The in-cluster configuration, as client-go's `rest.InClusterConfig` builds it. Throws
 * `KubeConfigError` when the environment or the token is missing (not running in a pod, or
 * `automountServiceAccountToken: false`).
 */
export function inClusterConfig(options: InClusterOptions = {}): KubeClientConfig {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const portText = env.KUBERNETES_SERVICE_PORT;
  if (!host || !portText) {
    throw new KubeConfigError('not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KubeConfigError(`KUBERNETES_SERVICE_PORT ${JSON.stringify(portText)} is not a port`);
  }
  const tokenFile = options.tokenFile ?? join(dir, 'token');
  const caFile = options.caFile ?? join(dir, 'ca.crt');
  // Fail now rather than at the first request: a pod without a token never works.
  readToken(tokenFile);
  readCa(caFile);
  let namespace: string | undefined;
  try {
    namespace = readBoundedFile(options.namespaceFile ?? join(dir, 'namespace'), 253).trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    // The env holds a bare IPv6 address on IPv6 clusters; Node wants it without brackets too.
    host: host.replace(/^\[(.*)\]$/, '$1'),
    port,
    tokenFile,
    caFile,
    namespace,
    requestTimeoutMs: options.requestTimeoutMs,
    watchIdleGraceMs: options.watchIdleGraceMs,
  };
}

/**
 * A client for one API server. Every request is its own connection (no pooling): requests are few
 * (a list, a watch, a Lease renewal every few seconds), a pooled socket would go stale across an API
 * server restart, and each connection reads the token and CA afresh, so rotated ones are picked up.
 */
export class KubeClient {
  /** The pod's namespace (for Leases), when known. */
  readonly namespace: string | undefined;

  constructor(private readonly config: KubeClientConfig) {
    this.namespace = config.namespace;
  }

  /** `host:port`, for messages. */
  get endpoint(): string {
    return this.config.host.includes(':') ? `[${this.config.host}]:${this.config.port}` : `${this.config.host}:${this.config.port}`;
  }

  /**
   * GETs a collection, e.g. `/api/v1/nodes`, with e.g. `{ labelSelector }`, page by page (`limit` and
   * `continue`, as client-go's pager does), so that no single response holds the whole collection.
   * All pages are one consistent snapshot at the first page's resourceVersion; an expired `continue`
   * token is a `KubeGoneError` (list again). `maxItems` bounds how many items are read at all.
   */
  async list<T extends KubeObject>(path: string, query: Query = {}, options: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    const limit = this.config.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
    let token: string | undefined;
    let resourceVersion: string | undefined;
    // A server that hands out continue tokens forever is bounded by maxItems; without it, by this.
    for (let page = 0; page < 10_000; page++) {
      const list = await this.json<{ items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET', path, { ...query, limit, continue: token }, undefined, options);
      const version = list?.metadata?.resourceVersion;
      if (typeof version !== 'string' || version === '') {
        throw new KubeProtocolError(`GET ${path}: the list has no metadata.resourceVersion`);
      }
      resourceVersion ??= version;
      // The API server sends `items: null` for an empty list in some versions.
      const pageItems = list.items ?? [];
      if (!Array.isArray(pageItems)) throw new KubeProtocolError(`GET ${path}: the list's items are not a list`);
      // The server honours `limit`; a longer page is not an API server's (and a spread of it could
      // overflow the stack).
      if (pageItems.length > limit) throw new KubeProtocolError(`GET ${path}: a page of ${pageItems.length} items for limit ${limit}`);
      for (const item of pageItems) items.push(item);
      if (options.maxItems !== undefined && items.length > options.maxItems) {
        throw new KubeListTooLargeError(items.length, options.maxItems, `GET ${path}`);
      }
      token = list.metadata?.continue || undefined;
      if (token === undefined) return { items, resourceVersion };
    }
    throw new KubeProtocolError(`GET ${path}: the server kept sending continue tokens for 10000 pages`);
  }

  /**
   * Watches a collection: yields its events as they arrive and ends when the server ends the stream
   * (e.g. after `timeoutSeconds`). Rejects with `KubeApiError` when the server refuses the watch
   * (`KubeGoneError` for an expired resourceVersion), with `KubeTransportError` when the connection
   * breaks mid-stream, and with `KubeProtocolError` on a line that is not a watch event. Leaving the
   * loop early (break, return, throw) closes the connection.
   */
  async *watch<T extends KubeObject>(path: string, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const query: Query = {
      watch: 'true',
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector || undefined,
      fieldSelector: options.fieldSelector || undefined,
      allowWatchBookmarks: options.allowWatchBookmarks || undefined,
      timeoutSeconds: options.timeoutSeconds,
    };
    // The server answers a watch within timeoutSeconds (300 s by its own default).
    const idleMs = (options.timeoutSeconds ?? 300) * 1000 + (this.config.watchIdleGraceMs ?? 30_000);
    const { response, failure } = await this.send('GET', path, query, undefined, idleMs, options.signal);
    const context = `watch ${path}`;
    if (response.statusCode !== 200) throw await errorFromResponse(response, context);
    response.setEncoding('utf8'); // decodes characters split across chunks
    const maxLine = this.config.maxWatchLineChars ?? DEFAULT_MAX_WATCH_LINE_CHARS;
    let tooLong: number | undefined;
    const lines = new LineDecoder(maxLine, (chars) => { tooLong = chars; });
    const chunks = response[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await chunks.next();
        } catch (e) {
          // The stream only says "aborted"; say why when we know (our abort, our idle timeout).
          if (options.signal?.aborted) throw abortErrorOf(options.signal);
          throw failure() ?? transportErrorOf(e, context, 'the connection broke mid-stream');
        }
        if (next.done) break;
        for (const line of lines.push(next.value)) yield parseWatchEvent<T>(line, context);
        if (tooLong !== undefined) {
          throw new KubeProtocolError(`${context}: a watch line is longer than ${maxLine} characters (${tooLong} read); dropping the watch`);
        }
      }
      const last = lines.end();
      if (last !== undefined) yield parseWatchEvent<T>(last, context);
    } finally {
      response.destroy();
    }
  }

  /** GETs one object; `KubeNotFoundError` when it does not exist. */
  get<T extends KubeObject>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('GET', path, {}, undefined, options);
  }

  /** POSTs a new object to its collection; `KubeConflictError` (AlreadyExists) when it exists. */
  create<T extends KubeObject>(collectionPath: string, object: T, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('POST', collectionPath, {}, object, options);
  }

  /**
   * PUTs an object. With `metadata.resourceVersion` set, the server applies it only over that version:
   * `KubeConflictError` (Conflict) when someone else changed it since.
   */
  update<T extends KubeObject>(path: string, object: T, options: RequestOptions = {}): Promise<T> {
    return this.json<T>('PUT', path, {}, object, options);
  }

  private async json<T>(method: string, path: string, query: Query, body: unknown, options: RequestOptions): Promise<T> {
    const context = `${method} ${path}`;
    const { response, failure } = await this.send(method, path, query, body, this.config.requestTimeoutMs ?? 30_000, options.signal);
    if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode > 299) {
      throw await errorFromResponse(response, context);
    }
    let text: string;
    try {
      text = await readBody(response, context, this.config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    } catch (e) {
      if (e instanceof KubeProtocolError) throw e;
      if (options.signal?.aborted) throw abortErrorOf(options.signal);
      throw failure() ?? e;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new KubeProtocolError(`${context}: the response is not JSON: ${snippet(text)}`);
    }
  }

  /**
   * Opens one request; resolves with the response head, and `failure`: why we broke the connection
   * ourselves, if we did (the response stream itself only reports "aborted").
   */
  private send(method: string, path: string, query: Query, body: unknown, idleTimeoutMs: number, signal: AbortSignal | undefined):
  Promise<{ response: IncomingMessage; failure: () => Error | undefined }> {
    // Read per request: a rotated token or CA is used from the next connection on.
    const token = readToken(this.config.tokenFile);
    const ca = readCa(this.config.caFile);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const context = `${method} ${path}`;
    let failure: Error | undefined;
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: this.config.host,
        port: this.config.port,
        method,
        path: `${path}${queryString(query)}`,
        ca,
        rejectUnauthorized: true,
        agent: false,
        signal,
        headers: {
          'Authorization': `Bearer ${token}`,
          'Accept': 'application/json',
          'User-Agent': this.config.userAgent ?? 'keepalived-agent',
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        },
      }, (response) => resolve({ response, failure: () => failure }));
      // An idle socket (no bytes either way) for this long is dead; this covers the response too.
      req.setTimeout(idleTimeoutMs, () => {
        failure = new KubeTransportError(`${context} to ${this.endpoint}: no data for ${idleTimeoutMs} ms`, { code: 'ETIMEDOUT' });
        req.destroy(failure);
      });
      req.on('error', (e) => reject(transportErrorOf(e, `${context} to ${this.endpoint}`, 'failed')));
      req.end(payload);
    });
  }
}

/**
 * Splits a stream of text into lines, keeping a partial line until the rest arrives: a watch event
 * may span chunks, and one chunk may hold several events. A line longer than `maxLineChars` is never
 * held whole: it is dropped (up to its newline) and reported to `onTooLong`, so that a stream without
 * newlines cannot grow the buffer without bound.
 */
export class LineDecoder {
  private partial = '';
  /** Dropping the rest of a line that was too long, up to its newline. */
  private skipping = false;

  constructor(
    private readonly maxLineChars: number = Number.POSITIVE_INFINITY,
    private readonly onTooLong: (chars: number) => void = () => undefined,
  ) {}

  /** The complete, non-empty lines that `chunk` finishes (and that are not too long). */
  push(chunk: string): string[] {
    let text = chunk;
    if (this.skipping) {
      const newline = text.indexOf('\n');
      if (newline < 0) return [];
      this.skipping = false;
      text = text.slice(newline + 1);
    }
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    if (this.partial.length > this.maxLineChars) {
      this.onTooLong(this.partial.length);
      this.partial = '';
      this.skipping = true;
    }
    const lines: string[] = [];
    for (const part of parts) {
      if (part.length > this.maxLineChars) {
        this.onTooLong(part.length);
        continue;
      }
      const line = part.trim();
      if (line !== '') lines.push(line);
    }
    return lines;
  }

  /** What is left when the stream ends, if anything: a last event without its newline. */
  end(): string | undefined {
    const rest = this.partial.trim();
    this.partial = '';
    this.skipping = false;
    return rest === '' ? undefined : rest;
  }
}

const WATCH_EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** One line of a watch stream as an event. */
export function parseWatchEvent<T>(line: string, context = 'watch'): WatchEvent<T> {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line);
  } catch {
    throw new KubeProtocolError(`${context}: a line is not JSON: ${snippet(line)}`);
  }
  if (event === null || typeof event !== 'object' || typeof event.type !== 'string' || !WATCH_EVENT_TYPES.has(event.type)
      || event.object === null || typeof event.object !== 'object') {
    throw new KubeProtocolError(`${context}: not a watch event: ${snippet(line)}`);
  }
  return event as WatchEvent<T>;
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function readToken(file: string): string {
  let token: string;
  try {
    token = readBoundedFile(file, MAX_TOKEN_BYTES).trim();
  } catch (e) {
    throw new KubeConfigError(`cannot read the service account token ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (token === '') throw new KubeConfigError(`the service account token ${file} is empty`);
  return token;
}

function readCa(file: string): string {
  try {
    return readBoundedFile(file);
  } catch (e) {
    throw new KubeConfigError(`cannot read the API server CA ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function transportErrorOf(e: unknown, context: string, what: string): Error {
  // Keep our own errors and aborts as they are: the caller asked for the abort.
  if (e instanceof KubeTransportError || (e as Error)?.name === 'AbortError') return e as Error;
  const code = (e as NodeJS.ErrnoException)?.code;
  return new KubeTransportError(`${context} ${what}: ${(e as Error)?.message ?? String(e)}${code ? ` (${code})` : ''}`, { cause: e, code });
}

function abortErrorOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('the request was aborted', { cause: reason });
  error.name = 'AbortError';
  return error;
}

/**
 * The body as text, read up to `maxBytes`: a longer body (announced by Content-Length, or as it
 * arrives) closes the connection and rejects with `KubeProtocolError`, before more is buffered.
 */
async function readBody(response: IncomingMessage, context: string, maxBytes: number): Promise<string> {
  const tooLarge = () => new KubeProtocolError(`${context}: the response is larger than ${maxBytes} bytes; not reading it`);
  const announced = Number(response.headers['content-length']);
  if (Number.isFinite(announced) && announced > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.destroy();
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof KubeProtocolError) throw e;
    throw transportErrorOf(e, context, 'lost the connection while reading the response');
  }
  // Decoded once at the end: a character split across chunks stays whole.
  return Buffer.concat(chunks, size).toString('utf8');
}

async function errorFromResponse(response: IncomingMessage, context: string): Promise<Error> {
  const status = response.statusCode ?? 0;
  let text: string;
  try {
    text = await readBody(response, context, MAX_ERROR_BODY_BYTES);
  } catch {
    text = '';
  }
  let body: KubeStatus | undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && parsed.kind === 'Status') body = parsed;
  } catch {
    body = undefined;
  }
  return kubeApiErrorOf(status, body ?? (text ? { message: snippet(text) } : undefined), context);
}

function snippet(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}
