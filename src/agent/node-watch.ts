/**
 * Node discovery: an informer for the Nodes that match the cluster's nodeSelector. It lists, then
 * watches from the list's resourceVersion, and hands a consistent snapshot (`NodeInfo[]`, sorted by
 * name) to a callback whenever something the agent uses changes: the set of nodes, their InternalIPs,
 * readiness, cordon or the exclude-from-external-load-balancers label. Kubelet heartbeats (a Node update every 10 s or so per node) change none of it,
 * so they emit nothing and do not make keepalived reload.
 *
 * It survives the API server's ordinary failures: an expired resourceVersion (410 Gone, as an HTTP
 * status or as an ERROR event) relists; a dropped connection, a refused one or an error retries with
 * capped exponential backoff with jitter, resuming from the last event or BOOKMARK seen.
 */
import { isIPv4, isIPv6 } from 'net';
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL } from '../core/discovered-nodes';
import { isLabelValue, labelKeyProblem } from '../core/metadata';
import {
  KubeApiError, KubeClient, KubeGoneError, KubeListTooLargeError, KubeObject, KubeStatus, KubeTransportError, kubeApiErrorOf,
} from './kube-client';

/** What the agent needs to know about one node. */
export interface NodeInfo {
  /** metadata.name */
  readonly name: string;
  /** The first IPv4 InternalIP in status.addresses, if any. */
  readonly internalIPv4?: string;
  /** The first IPv6 InternalIP in status.addresses, if any (dual-stack nodes have both). */
  readonly internalIPv6?: string;
  /** The Ready condition's status is "True". */
  readonly ready: boolean;
  /** spec.unschedulable: the node is cordoned (e.g. being drained). */
  readonly unschedulable: boolean;
  /**
   * The node carries the label `node.kubernetes.io/exclude-from-external-load-balancers` (any value),
   * as for maintenance; present (true) only then.
   */
  readonly excludedFromLoadBalancers?: boolean;
}

/** The fields of a Node that the agent reads. */
export interface KubeNode extends KubeObject {
  readonly spec?: { readonly unschedulable?: boolean };
  readonly status?: {
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
  };
}

/** Where the informer's messages go. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Timers and the time, injectable so that tests control them. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How long to wait before retrying after consecutive failures. */
export interface BackoffPolicy {
  /** The first delay. @default 500 */
  readonly initialMs: number;
  /** The cap. @default 30000 */
  readonly maxMs: number;
}

/** The default backoff: 0.5 s, doubling, capped at 30 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (0-based): `initialMs * 2^attempt`, capped at `maxMs`, then
 * scaled by a random factor in [0.5, 1). The jitter keeps the agents of many nodes from hammering a
 * recovering API server in lockstep; the floor keeps the delay growing.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() / 2));
}

/**
 * The label selector for a nodeSelector map: `k=v,k2=v2`, sorted by key; an empty value is `k=`
 * (the label is present and empty), and an empty map selects every node (''). Label syntax has no
 * escaping, so a key or value that is not a valid label (one holding `,`, `=`, `!` or a space would
 * change the selector's meaning) throws instead. The query string encoding is the client's job.
 */
export function labelSelectorOf(nodeSelector: Readonly<Record<string, string>>): string {
  return Object.keys(nodeSelector).sort().map((key) => {
    const value = nodeSelector[key];
    if (labelKeyProblem(key) !== undefined) throw new Error(`nodeSelector key ${JSON.stringify(key)} is not a valid label key`);
    if (!isLabelValue(value)) {
      throw new Error(`nodeSelector[${JSON.stringify(key)}] value ${JSON.stringify(value)} is not a valid label value`);
    }
    return `${key}=${value}`;
  }).join(',');
}

/** A Node as the agent sees it. */
export function nodeInfoOf(node: KubeNode): NodeInfo {
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  const internalIPv4 = internal.find((a) => isIPv4(a));
  const internalIPv6 = internal.find((a) => isIPv6(a));
  return {
    name: node.metadata?.name ?? '',
    ...(internalIPv4 === undefined ? {} : { internalIPv4 }),
    ...(internalIPv6 === undefined ? {} : { internalIPv6 }),
    ready: (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    unschedulable: node.spec?.unschedulable === true,
    ...(node.metadata?.labels?.[EXCLUDE_FROM_LOAD_BALANCERS_LABEL] !== undefined ? { excludedFromLoadBalancers: true } : {}),
  };
}

/** What to watch and where to report. */
export interface NodeWatchOptions {
  readonly client: KubeClient;
  /** The cluster's nodeSelector; see `labelSelectorOf`. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Called with the new snapshot: once after the first list, then whenever it changes. */
  readonly onChange: (nodes: readonly NodeInfo[]) => void;
  readonly logger: Logger;
  /** Called on each failed list or watch (an expired resourceVersion is not a failure). */
  readonly onError?: (error: Error) => void;
  /** @default DEFAULT_BACKOFF */
  readonly backoff?: BackoffPolicy;
  /**
   * Ask the server to end each watch after this long; it is then resumed at once. A fresh watch now and
   * then limits how long a silently broken one can go unnoticed. @default 300
   */
  readonly watchTimeoutSeconds?: number;
  /**
   * A watch that ends (cleanly or not) before this long without any event counts as a failure and backs
   * off, so a server that ends or drops every watch at once is not hammered. @default 1000
   */
  readonly minWatchMs?: number;
  /** @default SYSTEM_CLOCK */
  readonly clock?: Clock;
  /** In [0, 1), for the backoff's jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * The most nodes the informer holds. A list or watch that takes it past this empties the store,
   * calls `onTooMany` (no snapshot is emitted for it), and lists again with backoff until the matching
   * nodes fit: memory stays bounded whatever the API server sends. @default - no bound
   */
  readonly maxNodes?: number;
  /** Called with a lower bound of the matching nodes when there are more than `maxNodes`. */
  readonly onTooMany?: (seen: number, maxNodes: number) => void;
}

const NODES_PATH = '/api/v1/nodes';

/**
 * The informer. `start()` begins listing and watching in the background; `stop()` aborts the request
 * in flight and any pending retry. Errors are logged and retried, never thrown: the agent keeps
 * running on the last snapshot while the API server is away.
 */
export class NodeWatch {
  /** The label selector in use. */
  readonly labelSelector: string;
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly nodes = new Map<string, NodeInfo>();
  private snapshotKey: string | undefined;
  private current: readonly NodeInfo[] | undefined;
  private version: string | undefined;
  private failure: Error | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** This round's watch delivered something (or ran its course): the next round need not back off. */
  private progressed = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: NodeWatchOptions) {
    this.labelSelector = labelSelectorOf(options.nodeSelector);
    this.client = options.client;
    this.logger = options.logger;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** The last snapshot emitted, sorted by name; undefined until the first list succeeds. */
  get snapshot(): readonly NodeInfo[] | undefined {
    return this.current;
  }

  /** The resourceVersion the next watch resumes from (advanced by events and bookmarks). */
  get resourceVersion(): string | undefined {
    return this.version;
  }

  /** The last failure; cleared by the next successful list or watch event. */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Starts listing and watching; calling it again does nothing. */
  start(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = this.run().catch((e) => {
      // run() handles its own errors; this is a bug, and must not become an unhandled rejection.
      this.logger.error(`node watch stopped unexpectedly: ${(e as Error)?.stack ?? String(e)}`);
    });
  }

  /** Stops: aborts the request in flight, cancels a pending retry; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let needList = true;
    while (!this.stopped) {
      this.progressed = false;
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        if (await this.watchOnce() === 'gone') {
          needList = true;
          this.logger.info(`node watch: resourceVersion ${this.version} expired (410 Gone event); listing again`);
        } else {
          this.logger.debug(`node watch: the server ended the watch at resourceVersion ${this.version}; resuming`);
        }
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof KubeGoneError) {
          needList = true;
          this.logger.info(`node watch: resourceVersion ${this.version} expired (${e.message}); listing again`);
        } else if (e instanceof KubeListTooLargeError) {
          needList = true;
          this.tooMany(e.seen);
        } else {
          this.failure = e as Error;
          this.logFailure(e as Error, attempt);
          this.options.onError?.(e as Error);
        }
      }
      if (this.stopped) break;
      // A watch that delivered something proves the server healthy: resume at once, as client-go
      // does. Anything else (refused, 401, a relist whose watch failed at once) backs off.
      if (this.progressed) {
        attempt = 0;
        continue;
      }
      const delay = backoffDelay(attempt, this.backoff, this.random);
      attempt++;
      this.logger.debug(`node watch: retrying in ${delay} ms (attempt ${attempt})`);
      await this.sleep(delay);
    }
  }

  /** Logs a failure at a level that matches how much a person needs to act. */
  private logFailure(e: Error, attempt: number): void {
    const text = `node watch (${this.client.endpoint}, selector ${JSON.stringify(this.labelSelector)}): ${e.message}`;
    // 401/403 and TLS failures need a person (token, RBAC, CA); network blips do not, unless they last.
    const tls = e instanceof KubeTransportError && e.code !== undefined && /CERT|SIGNATURE|TLS|SSL/.test(e.code);
    if ((e instanceof KubeApiError && (e.status === 401 || e.status === 403)) || tls) {
      this.logger.error(text);
    } else if (attempt === 0) {
      this.logger.info(text);
    } else {
      this.logger.warn(text);
    }
  }

  /** Lists the nodes and replaces the store: the snapshot after a relist is the server's, whole. */
  private async relist(): Promise<void> {
    const controller = this.newRequest();
    const list = await this.client.list<KubeNode>(NODES_PATH, { labelSelector: this.labelSelector || undefined }, {
      signal: controller.signal,
      maxItems: this.options.maxNodes,
    });
    this.failure = undefined;
    this.nodes.clear();
    for (const node of list.items) {
      const info = nodeInfoOf(node);
      if (info.name !== '') this.nodes.set(info.name, info);
    }
    this.version = list.resourceVersion;
    this.logger.info(`node watch: listed ${this.nodes.size} node(s) at resourceVersion ${this.version}`);
    this.emitIfChanged();
  }

  /**
   * One watch, from the current resourceVersion until the server ends it: `gone` when it ended with a
   * 410 ERROR event. Sets `progressed` when it delivered an event or lasted `minWatchMs`, however it
   * ended: a connection that worked for a while and then dropped is resumed at once.
   */
  private async watchOnce(): Promise<'gone' | 'ended'> {
    const controller = this.newRequest();
    const started = this.clock.now();
    try {
      const events = this.client.watch<KubeNode>(NODES_PATH, {
        resourceVersion: this.version,
        labelSelector: this.labelSelector,
        allowWatchBookmarks: true,
        timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
        signal: controller.signal,
      });
      for await (const event of events) {
        if (event.type === 'ERROR') {
          if (event.object.code === 410) return 'gone';
          throw watchErrorOf(event.object);
        }
        this.failure = undefined;
        this.progressed = true;
        const object = event.object;
        const version = object.metadata?.resourceVersion;
        if (version) this.version = version;
        if (event.type === 'BOOKMARK') continue;
        const name = object.metadata?.name;
        if (!name) continue;
        if (event.type === 'DELETED') {
          this.nodes.delete(name);
        } else {
          this.nodes.set(name, nodeInfoOf(object));
          const max = this.options.maxNodes;
          if (max !== undefined && this.nodes.size > max) throw new KubeListTooLargeError(this.nodes.size, max, `watch ${NODES_PATH}`);
        }
        this.emitIfChanged();
      }
      return 'ended';
    } finally {
      if (this.clock.now() - started >= (this.options.minWatchMs ?? 1000)) this.progressed = true;
    }
  }

  /** Too many nodes: forget them (the next list that fits is emitted whatever it holds) and say so. */
  private tooMany(seen: number): void {
    this.nodes.clear();
    this.snapshotKey = undefined;
    const max = this.options.maxNodes!;
    this.logger.warn(`node watch: more than ${max} nodes match the selector (${seen} seen); listing again with backoff until they fit`);
    try {
      this.options.onTooMany?.(seen, max);
    } catch (e) {
      this.logger.error(`node watch: the too-many handler failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Emits the snapshot when it differs from the last one emitted (or none was). */
  private emitIfChanged(): void {
    const snapshot = [...this.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const key = JSON.stringify(snapshot);
    if (key === this.snapshotKey) return;
    this.snapshotKey = key;
    this.current = Object.freeze(snapshot.map((n) => Object.freeze(n)));
    try {
      this.options.onChange(this.current);
    } catch (e) {
      // A failing consumer must not kill discovery; it gets the next snapshot.
      this.logger.error(`node watch: the change handler failed: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private newRequest(): AbortController {
    this.abort = new AbortController();
    return this.abort;
  }

  /** Waits `ms`, or less when stopped. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(handle);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

function watchErrorOf(status: KubeStatus): KubeApiError {
  return kubeApiErrorOf(status.code ?? 500, status, `watch ${NODES_PATH} ERROR event`);
}
