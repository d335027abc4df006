/**
 * A fake Kubernetes API server for the agent's client tests: real HTTPS on 127.0.0.1 with a CA and a
 * server certificate made by the `openssl` CLI at test time, bearer-token authentication, and the
 * list/watch protocol for `/api/v1/nodes` as the real one speaks it (label selectors, a global
 * resourceVersion counter, resumable watches with history, bookmarks, 410 Gone in both forms,
 * selector transitions as ADDED/DELETED). Leases under coordination.k8s.io/v1 with optimistic
 * concurrency. Tests inject faults: dropped connections, compaction, an API server that is away.
 */
import { execFileSync } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'fs';
import { IncomingMessage, ServerResponse } from 'http';
import { createServer, Server } from 'https';
import { AddressInfo, Socket } from 'net';
import { join } from 'path';

/** A CA made with openssl: its files, and the certificate as PEM. */
export interface CertificateAuthority {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
}

/** Makes a self-signed CA (EC P-256, valid one day) in `dir`. */
export function createCertificateAuthority(dir: string, commonName: string): CertificateAuthority {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'ca.cnf');
  writeFileSync(config, [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = v3_ca',
    '[dn]', `CN = ${commonName}`,
    '[v3_ca]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash',
    '',
  ].join('\n'));
  const certFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'ca.key');
  openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-config', config]);
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}

/**
 * Issues a server certificate for `127.0.0.1` (and the in-cluster DNS names, and any `extraIps`, e.g. an
 * address the API is reached at from network namespaces) signed by `ca`.
 */
export function issueServerCertificate(ca: CertificateAuthority, dir: string, extraIps: readonly string[] = []): { certPem: string; keyPem: string } {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'server.cnf');
  writeFileSync(config, [
    '[req]', 'distinguished_name = dn', 'prompt = no',
    '[dn]', 'CN = kube-apiserver',
    '[v3_server]', 'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth', 'authorityKeyIdentifier = keyid',
    `subjectAltName = IP:127.0.0.1, ${extraIps.map((ip) => `IP:${ip}, `).join('')}DNS:kubernetes, DNS:kubernetes.default.svc`,
    '',
  ].join('\n'));
  const keyFile = join(dir, 'server.key');
  const csrFile = join(dir, 'server.csr');
  const certFile = join(dir, 'server.crt');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', csrFile, '-config', config]);
  openssl(['x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '1', '-out', certFile, '-extfile', config, '-extensions', 'v3_server']);
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Lays out a service account directory as the kubelet's projected volume does: the files are symlinks
 * into `..data`, itself a symlink to a timestamped directory, swapped atomically on every update.
 * Calling it again on the same directory is a rotation.
 */
export function writeServiceAccount(dir: string, files: { token: string; caPem: string; namespace: string }): void {
  mkdirSync(dir, { recursive: true });
  const version = `..${new Date().toISOString().replace(/[-:.]/g, '_')}.${randomBytes(4).toString('hex')}`;
  mkdirSync(join(dir, version));
  writeFileSync(join(dir, version, 'token'), files.token);
  writeFileSync(join(dir, version, 'ca.crt'), files.caPem);
  writeFileSync(join(dir, version, 'namespace'), files.namespace);
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of ['token', 'ca.crt', 'namespace']) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** A node to create. */
export interface FakeNodeSpec {
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly internalIPv4?: string;
  readonly internalIPv6?: string;
  /** @default true */
  readonly ready?: boolean;
  readonly unschedulable?: boolean;
}

/** One request the server saw. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The bearer token sent, if any. */
  readonly token: string | undefined;
  readonly watch: boolean;
  /** The status answered (200 for a watch that was accepted). */
  status: number;
}

/** How a too-old resourceVersion is refused: an HTTP 410, or 200 then an ERROR event with code 410. */
export type GoneForm = 'http' | 'event';

type Json = any;

interface HistoryEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Json;
  /** The object before a MODIFIED or DELETED. */
  readonly old: Json | undefined;
}

interface Watcher {
  readonly res: ServerResponse;
  readonly selector: (labels: Record<string, string>) => boolean;
  readonly bookmarks: boolean;
  timer?: NodeJS.Timeout;
  /** Writes in order, even when split writes are delayed. */
  queue: Promise<void>;
  closed: boolean;
}

/** The fake API server. Start it with `FakeApiServer.start`; close it in afterAll. */
export class FakeApiServer {
  /**
   * Makes the CA and certificate in `dir` and listens on an ephemeral port of 127.0.0.1. Requests must
   * carry `Authorization: Bearer <token>`. `extraIps` go into the certificate too (for clients that
   * reach the server through a relay at another address).
   */
  static async start(options: { dir: string; token: string; extraIps?: readonly string[] }): Promise<FakeApiServer> {
    const ca = createCertificateAuthority(join(options.dir, 'ca'), 'fake-kubernetes-ca');
    const cert = issueServerCertificate(ca, join(options.dir, 'server'), options.extraIps);
    const server = new FakeApiServer(ca, cert, options.token);
    await server.listen(0);
    return server;
  }

  /** The token the server accepts; change it to simulate a rotation (the old one is then refused). */
  token: string;
  /** How a watch from a compacted resourceVersion is refused. */
  goneForm: GoneForm = 'event';
  /**
   * Write each watch event in several pieces, a few ms apart, cut at arbitrary bytes (inside the JSON,
   * inside a multi-byte character): the client must reassemble lines across chunks.
   */
  splitWrites = false;
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /**
   * A hostile or broken server: called for every authenticated request before the fake answers it;
   * returning true means it answered (or is answering) `res` itself.
   */
  intercept: ((request: RecordedRequest, res: ServerResponse) => boolean) | undefined;

  private readonly server: Server;
  private port = 0;
  private rv = 1000;
  private compactedRv = 0;
  private history: HistoryEntry[] = [];
  private readonly nodes = new Map<string, Json>();
  private readonly leases = new Map<string, Json>();
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();

  private constructor(readonly ca: CertificateAuthority, cert: { certPem: string; keyPem: string }, token: string) {
    this.token = token;
    this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // TLS handshakes that the client rejects (wrong CA) end here; they are expected.
    this.server.on('tlsClientError', () => undefined);
  }

  /** The CA certificate, as the pod's ca.crt. */
  get caPem(): string {
    return this.ca.certPem;
  }

  /** The env a pod sees for this server. */
  get env(): Record<string, string> {
    return { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(this.port) };
  }

  /** The current resourceVersion (etcd's revision: every write bumps it, nodes and leases alike). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Open watch streams. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Requests of one kind: `list` or `watch` of nodes. */
  nodeRequests(kind: 'list' | 'watch'): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/v1/nodes' && r.watch === (kind === 'watch'));
  }

  /** Open TCP connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Forgets all nodes, leases, history and requests, and kills every connection: a request that a
   * stopped client had in flight must not show up in the next test's log.
   */
  reset(token: string): void {
    for (const w of [...this.watchers]) this.forget(w);
    for (const socket of this.sockets) socket.destroy();
    this.nodes.clear();
    this.leases.clear();
    this.history = [];
    this.compactedRv = this.rv;
    this.requests.length = 0;
    this.token = token;
    this.goneForm = 'event';
    this.splitWrites = false;
    this.intercept = undefined;
  }

  // ---- nodes ----

  /** Creates a node (ADDED). */
  addNode(spec: FakeNodeSpec): Json {
    if (this.nodes.has(spec.name)) throw new Error(`node ${spec.name} exists`);
    const now = new Date().toISOString();
    const node = {
      kind: 'Node',
      apiVersion: 'v1',
      metadata: {
        name: spec.name,
        uid: randomUUID(),
        resourceVersion: '',
        creationTimestamp: now,
        labels: {
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': spec.name,
          'kubernetes.io/os': 'linux',
          ...spec.labels,
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', ...spec.annotations },
      },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'], ...(spec.unschedulable ? { unschedulable: true } : {}) },
      status: {
        addresses: [
          ...(spec.internalIPv4 ? [{ type: 'InternalIP', address: spec.internalIPv4 }] : []),
          ...(spec.internalIPv6 ? [{ type: 'InternalIP', address: spec.internalIPv6 }] : []),
          { type: 'Hostname', address: spec.name },
        ],
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now),
          spec.ready === false
            ? condition('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready', now)
            : condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', now),
        ],
        nodeInfo: { kubeletVersion: 'v1.30.4', containerRuntimeVersion: 'containerd://1.7.20', operatingSystem: 'linux', architecture: 'amd64' },
      },
    };
    this.write('ADDED', node, undefined);
    return node;
  }

  /** Changes a node (MODIFIED); `change` edits a copy. */
  modifyNode(name: string, change: (node: Json) => void): void {
    const old = this.nodes.get(name);
    if (old === undefined) throw new Error(`no node ${name}`);
    const node = structuredClone(old);
    change(node);
    this.write('MODIFIED', node, old);
  }

  /** What the kubelet does every ~10 s: only the conditions' heartbeat times change (and the resourceVersion). */
  heartbeat(name: string): void {
    const later = new Date(Date.now() + 10_000).toISOString();
    this.modifyNode(name, (node) => {
      for (const c of node.status.conditions) c.lastHeartbeatTime = later;
    });
  }

  /** Sets the Ready condition. */
  setReady(name: string, ready: boolean): void {
    this.modifyNode(name, (node) => {
      const c = node.status.conditions.find((x: Json) => x.type === 'Ready');
      Object.assign(c, ready
        ? { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
        : { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' },
      { lastTransitionTime: new Date().toISOString() });
    });
  }

  /** `kubectl cordon` / `uncordon`. */
  setUnschedulable(name: string, unschedulable: boolean): void {
    this.modifyNode(name, (node) => {
      if (unschedulable) node.spec.unschedulable = true;
      else delete node.spec.unschedulable;
    });
  }

  /** Sets (or, with undefined, removes) a label. */
  setLabel(name: string, key: string, value: string | undefined): void {
    this.modifyNode(name, (node) => {
      if (value === undefined) delete node.metadata.labels[key];
      else node.metadata.labels[key] = value;
    });
  }

  /** Deletes a node (DELETED). */
  deleteNode(name: string): void {
    const old = this.nodes.get(name);
    if (old === undefined) throw new Error(`no node ${name}`);
    this.write('DELETED', structuredClone(old), old);
  }

  // ---- faults ----

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks) this.send(w, { type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Forgets the history: watches from an older resourceVersion are refused with 410 (see `goneForm`). */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
  }

  /**
   * What the API server does to a watcher whose position it can no longer serve: an ERROR event with a
   * 410 Status, then the end of the stream. Compacts too, so resuming fails and the client must relist.
   */
  expireWatches(): void {
    this.compact();
    for (const w of [...this.watchers]) {
      this.send(w, { type: 'ERROR', object: goneStatus(this.compactedRv - 1, this.compactedRv) });
      this.finish(w);
    }
  }

  /** Kills every watch's TCP connection mid-stream: no final chunk, the client sees a reset. */
  dropWatches(): void {
    for (const w of [...this.watchers]) {
      this.forget(w);
      w.res.socket?.destroy();
    }
  }

  /** Ends every watch cleanly, as a timeout would. */
  endWatches(): void {
    for (const w of [...this.watchers]) this.finish(w);
  }

  /** The API server goes away: stops listening and kills every connection. */
  async goDown(): Promise<void> {
    for (const w of [...this.watchers]) this.forget(w);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The API server is back, on the same port, with its state. */
  comeBack(): Promise<void> {
    return this.listen(this.port);
  }

  /** Stops for good. */
  async close(): Promise<void> {
    if (this.server.listening) await this.goDown();
  }

  // ---- protocol ----

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const watch = query.watch === 'true' || query.watch === '1';
    const record: RecordedRequest = { method: req.method ?? '', path: url.pathname, query, token, watch, status: 0 };
    this.requests.push(record);
    const reply = (code: number, body: Json) => {
      record.status = code;
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (token !== this.token) {
      reply(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (this.intercept?.(record, res)) return;
    readBody(req).then((body) => {
      if (url.pathname === '/api/v1/nodes' && req.method === 'GET') {
        if (watch) this.watchNodes(query, res, record, reply);
        else this.listNodes(query, reply);
        return;
      }
      const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(url.pathname);
      if (lease) {
        this.leaseRequest(req.method ?? '', lease[1], lease[2], body, reply);
        return;
      }
      reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }, () => reply(400, status(400, 'BadRequest', 'the request body is not JSON')));
  }

  private listNodes(query: Record<string, string>, reply: (code: number, body: Json) => void): void {
    const selector = parseSelector(query.labelSelector ?? '');
    if (selector === undefined) {
      reply(400, status(400, 'BadRequest', `unable to parse requirement: ${query.labelSelector}`));
      return;
    }
    // Pagination as the real server does it: `limit` items, and a `continue` token (here the list's
    // resourceVersion and the last name given) for the rest, from the same snapshot's resourceVersion.
    let rv = String(this.rv);
    let after: string | undefined;
    if (query.continue) {
      try {
        const token = JSON.parse(Buffer.from(query.continue, 'base64').toString('utf8'));
        rv = String(token.rv);
        after = String(token.after);
      } catch {
        reply(400, status(400, 'BadRequest', 'continue key is not valid'));
        return;
      }
      if (Number(rv) < this.compactedRv) {
        reply(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
        return;
      }
    }
    const all = [...this.nodes.values()]
      .filter((n) => selector(n.metadata.labels ?? {}))
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
      .filter((n) => after === undefined || n.metadata.name > after)
      // The items of a list carry no kind/apiVersion; the list does.
      .map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    const limit = Number(query.limit);
    const items = Number.isInteger(limit) && limit > 0 ? all.slice(0, limit) : all;
    const more = items.length < all.length;
    const metadata = more
      ? { resourceVersion: rv, continue: Buffer.from(JSON.stringify({ rv, after: items[items.length - 1].metadata.name })).toString('base64'), remainingItemCount: all.length - items.length }
      : { resourceVersion: rv };
    reply(200, { kind: 'NodeList', apiVersion: 'v1', metadata, items });
  }

  private watchNodes(query: Record<string, string>, res: ServerResponse, record: RecordedRequest, reply: (code: number, body: Json) => void): void {
    const selector = parseSelector(query.labelSelector ?? '');
    if (selector === undefined) {
      reply(400, status(400, 'BadRequest', `unable to parse requirement: ${query.labelSelector}`));
      return;
    }
    const from = query.resourceVersion;
    const fromRv = from === undefined || from === '' || from === '0' ? undefined : Number(from);
    if (fromRv !== undefined && (!Number.isInteger(fromRv) || fromRv < 0)) {
      reply(400, status(400, 'BadRequest', `invalid resourceVersion ${from}`));
      return;
    }
    if (fromRv !== undefined && fromRv < this.compactedRv && this.goneForm === 'http') {
      reply(410, goneStatus(fromRv, this.compactedRv));
      return;
    }
    record.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher = { res, selector, bookmarks: query.allowWatchBookmarks === 'true', queue: Promise.resolve(), closed: false };
    this.watchers.add(watcher);
    res.on('close', () => this.forget(watcher));
    if (fromRv !== undefined && fromRv < this.compactedRv) {
      this.send(watcher, { type: 'ERROR', object: goneStatus(fromRv, this.compactedRv) });
      this.finish(watcher);
      return;
    }
    if (fromRv === undefined) {
      // No resourceVersion: the current state as ADDED events, then changes.
      for (const node of this.nodes.values()) {
        if (selector(node.metadata.labels ?? {})) this.send(watcher, { type: 'ADDED', object: node });
      }
    } else {
      for (const entry of this.history) {
        if (entry.rv > fromRv) this.deliver(watcher, entry);
      }
    }
    const timeout = Number(query.timeoutSeconds);
    if (Number.isFinite(timeout) && timeout > 0) watcher.timer = setTimeout(() => this.finish(watcher), timeout * 1000);
  }

  /** Records a change and sends it to the watches it concerns. */
  private write(type: HistoryEntry['type'], object: Json, old: Json | undefined): void {
    this.rv++;
    object.metadata.resourceVersion = String(this.rv);
    if (type === 'DELETED') this.nodes.delete(object.metadata.name);
    else this.nodes.set(object.metadata.name, object);
    const entry: HistoryEntry = { rv: this.rv, type, object: structuredClone(object), old };
    this.history.push(entry);
    for (const w of this.watchers) this.deliver(w, entry);
  }

  /**
   * Sends an entry as this watch sees it through its selector, as the watch cache does: an object that
   * starts matching is ADDED, one that stops matching is DELETED.
   */
  private deliver(w: Watcher, entry: HistoryEntry): void {
    const wasIn = entry.old !== undefined && w.selector(entry.old.metadata.labels ?? {});
    const isIn = entry.type !== 'DELETED' && w.selector(entry.object.metadata.labels ?? {});
    if (entry.type === 'DELETED') {
      if (wasIn) this.send(w, { type: 'DELETED', object: entry.object });
    } else if (isIn) {
      this.send(w, { type: wasIn || entry.type === 'ADDED' ? entry.type : 'ADDED', object: entry.object });
    } else if (wasIn) {
      const gone = structuredClone(entry.old);
      gone.metadata.resourceVersion = String(entry.rv);
      this.send(w, { type: 'DELETED', object: gone });
    }
  }

  private send(w: Watcher, event: Json): void {
    if (w.closed) return;
    const bytes = Buffer.from(`${JSON.stringify(event)}\n`, 'utf8');
    if (!this.splitWrites) {
      w.res.write(bytes);
      return;
    }
    // Three pieces at arbitrary byte offsets, a few ms apart, so they arrive as separate chunks.
    const cuts = [Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3) + 1];
    const pieces = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
    for (const piece of pieces) {
      w.queue = w.queue.then(() => new Promise<void>((resolve) => {
        if (!w.closed) w.res.write(piece);
        setTimeout(resolve, 5);
      }));
    }
  }

  /** Ends a watch cleanly, after what is queued for it. */
  private finish(w: Watcher): void {
    if (w.closed) return;
    void w.queue.then(() => {
      this.forget(w);
      w.res.end();
    });
  }

  private forget(w: Watcher): void {
    if (w.timer) clearTimeout(w.timer);
    w.closed = true;
    this.watchers.delete(w);
  }

  private leaseRequest(method: string, namespace: string, name: string | undefined, body: Json, reply: (code: number, body: Json) => void): void {
    const details = (n: string | undefined) => ({ name: n, group: 'coordination.k8s.io', kind: 'leases' });
    const key = (n: string) => `${namespace}/${n}`;
    if (method === 'POST' && name === undefined) {
      const leaseName = body?.metadata?.name;
      if (typeof leaseName !== 'string' || leaseName === '') {
        reply(422, status(422, 'Invalid', 'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required'));
        return;
      }
      if (this.leases.has(key(leaseName))) {
        reply(409, status(409, 'AlreadyExists', `leases.coordination.k8s.io "${leaseName}" already exists`, details(leaseName)));
        return;
      }
      const lease = this.stamp({ ...body, kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' }, namespace, undefined);
      this.leases.set(key(leaseName), lease);
      reply(201, lease);
      return;
    }
    if (name === undefined) {
      reply(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      return;
    }
    const current = this.leases.get(key(name));
    if (method === 'GET' || method === 'PUT') {
      if (current === undefined) {
        reply(404, status(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`, details(name)));
        return;
      }
      if (method === 'GET') {
        reply(200, current);
        return;
      }
      if (body?.metadata?.name !== name) {
        reply(400, status(400, 'BadRequest', `the name of the object (${body?.metadata?.name}) does not match the name on the URL (${name})`));
        return;
      }
      const expected = body.metadata.resourceVersion;
      if (expected !== undefined && expected !== current.metadata.resourceVersion) {
        reply(409, status(409, 'Conflict',
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          details(name)));
        return;
      }
      const lease = this.stamp({ ...body, kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' }, namespace, current);
      this.leases.set(key(name), lease);
      reply(200, lease);
      return;
    }
    reply(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }

  private stamp(object: Json, namespace: string, current: Json | undefined): Json {
    this.rv++;
    return {
      ...object,
      metadata: {
        ...object.metadata,
        namespace,
        uid: current?.metadata.uid ?? randomUUID(),
        creationTimestamp: current?.metadata.creationTimestamp ?? new Date().toISOString(),
        resourceVersion: String(this.rv),
      },
    };
  }
}

function condition(type: string, statusValue: string, reason: string, message: string, time: string): Json {
  return { type, status: statusValue, lastHeartbeatTime: time, lastTransitionTime: time, reason, message };
}

function status(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function goneStatus(requested: number, oldest: number): Json {
  return status(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/**
 * A label selector as a predicate: `k=v`, `k==v`, `k!=v`, `k` (exists), `!k` (does not exist),
 * separated by commas; undefined when it does not parse. Set-based forms are not needed here.
 */
export function parseSelector(text: string): ((labels: Record<string, string>) => boolean) | undefined {
  const tests: ((labels: Record<string, string>) => boolean)[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') {
      if (text.trim() === '') continue;
      return undefined;
    }
    let m: RegExpExecArray | null;
    if ((m = /^([^=!\s]+)\s*!=\s*([^=!\s]*)$/.exec(part))) {
      const [, k, v] = m;
      tests.push((l) => l[k] !== v);
    } else if ((m = /^([^=!\s]+)\s*==?\s*([^=!\s]*)$/.exec(part))) {
      const [, k, v] = m;
      tests.push((l) => Object.prototype.hasOwnProperty.call(l, k) && l[k] === v);
    } else if ((m = /^!\s*([^=!\s]+)$/.exec(part))) {
      const [, k] = m;
      tests.push((l) => !Object.prototype.hasOwnProperty.call(l, k));
    } else if ((m = /^([^=!\s]+)$/.exec(part))) {
      const [, k] = m;
      tests.push((l) => Object.prototype.hasOwnProperty.call(l, k));
    } else {
      return undefined;
    }
  }
  return (labels) => tests.every((t) => t(labels));
}

function readBody(req: IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
  });
}
