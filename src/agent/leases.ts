/**
 * Publishes which node is each group's master: a `coordination.k8s.io/v1` Lease per group
 * (`leaseName(discovery, vrid)` in `discovery.namespace`), held by the master's node name.
 *
 * VRRP is the source of truth, and the Lease only reports it:
 * - while keepalived says this node is MASTER of a group (notify_fifo), the agent holds the group's
 *   Lease: it creates it when missing (404), takes it over from whoever holds it, and renews it every
 *   leaseDurationSeconds / 3 (holderIdentity = node name, acquireTime when it became ours, renewTime
 *   now, leaseTransitions + 1 on every change of holder); a 409 re-reads and retries;
 * - when this node leaves MASTER (BACKUP, FAULT, STOP), or keepalived is no longer running, or the
 *   agent stops, it releases a Lease it still holds: holderIdentity is removed (nobody is known to be
 *   master) and renewTime set, with the resourceVersion it last saw, so that a release never clobbers
 *   a new master's takeover (409: re-read; held by someone else: nothing to do). Nothing is deleted.
 * - A release that fails (API away) is retried at the next period; a Lease nobody renews expires
 *   after leaseDurationSeconds anyway.
 * API errors are logged and retried; they never touch keepalived.
 */
import { AgentGroup } from '../core/agent-spec';
import { KubeClient, KubeConflictError, KubeNotFoundError, KubeObject, ObjectMeta } from './kube-client';
import { Logger } from './node-watch';

/** The Lease fields the agent writes. */
export interface Lease extends KubeObject {
  readonly metadata?: ObjectMeta;
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
    readonly [key: string]: unknown;
  };
}

/** A Kubernetes MicroTime: RFC 3339 with microseconds, `2026-11-26T08:00:00.000000Z`. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

/** One group's Lease. */
export interface LeaseGroup {
  /** The group's name (for logs and the Lease's annotation). */
  readonly group: string;
  readonly leaseName: string;
}

/** Options of a `LeaseKeeper`. */
export interface LeaseKeeperOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly nodeName: string;
  readonly cluster: string;
  readonly leaseDurationSeconds: number;
  readonly groups: readonly LeaseGroup[];
  readonly logger: Logger;
  /** undefined when keepalived runs; else why not (then this node is master of nothing). */
  readonly keepalivedProblem: () => string | undefined;
  /**
   * Whether this node looks like a group's master without a word from keepalived (its addresses are
   * on the node): used once per group, at start, until keepalived says otherwise, so that an agent
   * that restarted next to a running keepalived (which does not repeat its states) still renews.
   */
  readonly looksMaster?: (group: string) => boolean;
  /** Called after each hold (create, take over, renew) or release attempt, with its outcome (for the metrics). */
  readonly onWrite?: (group: string, operation: 'hold' | 'release', ok: boolean) => void;
  /** The renewal period. @default leaseDurationSeconds * 1000 / 3 */
  readonly renewMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

interface GroupLease {
  readonly spec: LeaseGroup;
  /** What keepalived last said (undefined: nothing yet, or keepalived stopped). */
  state: string | undefined;
  /** The state came from `looksMaster`, not keepalived. */
  inferred: boolean;
  /** `looksMaster` may still be asked. */
  inferable: boolean;
  /** The Lease as last read or written (its resourceVersion is the base of the next write). */
  lease: Lease | undefined;
  /** We may hold it: a release is due when we are not master. */
  mayHold: boolean;
  running: Promise<void> | undefined;
  again: boolean;
  lastError: string | undefined;
}

/** Holds, renews and releases the Leases of this node's groups; see the module comment. */
export class LeaseKeeper {
  private readonly groups = new Map<string, GroupLease>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private keepalivedDown: string | undefined;
  private stopped = false;
  private readonly renewMs: number;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.renewMs = options.renewMs ?? Math.max(100, Math.floor((options.leaseDurationSeconds * 1000) / 3));
    for (const spec of options.groups) {
      this.groups.set(spec.group, { spec, state: undefined, inferred: false, inferable: true, lease: undefined, mayHold: false, running: undefined, again: false, lastError: undefined });
    }
  }

  /** The groups whose Lease this node holds right now (as far as it knows), sorted. */
  get held(): string[] {
    return [...this.groups.values()].filter((g) => g.mayHold && g.lease?.spec?.holderIdentity === this.options.nodeName).map((g) => g.spec.group).sort();
  }

  /** keepalived's state for a group: MASTER holds the Lease, anything else releases it. */
  setState(group: string, state: string): void {
    const g = this.groups.get(group);
    if (g === undefined || this.stopped) return;
    g.inferable = false;
    g.inferred = false;
    if (g.state === state) return;
    g.state = state;
    this.sync(g);
  }

  /** Starts the renewal period (and takes what `looksMaster` infers). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.renewMs);
  }

  /**
   * Stops renewing and releases the Leases this node holds, waiting at most `releaseWithinMs`; then
   * aborts whatever is still in flight.
   */
  async stop(releaseWithinMs = 500): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const releases = [...this.groups.values()].map(async (g) => {
      await g.running?.catch(() => undefined);
      if (g.mayHold) await this.release(g).catch((e) => this.options.logger.warn(`Lease ${g.spec.leaseName}: not released on stop: ${(e as Error).message}`));
    });
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(releases), new Promise((resolve) => { timeout = setTimeout(resolve, releaseWithinMs); })]);
    clearTimeout(timeout);
    this.abort.abort();
  }

  /** The periodic work: renew what we hold as master, retry releases, follow keepalived's liveness. */
  private tick(): void {
    const problem = this.options.keepalivedProblem();
    if (problem !== undefined) {
      if (this.keepalivedDown === undefined) {
        const masters = [...this.groups.values()].filter((g) => g.state === 'MASTER').map((g) => g.spec.group);
        this.options.logger.info(`keepalived is not running (${problem})${masters.length > 0 ? `: no longer master of ${masters.join(', ')}` : ''}`);
      }
      this.keepalivedDown = problem;
      for (const g of this.groups.values()) {
        g.state = undefined;
        g.inferred = false;
        g.inferable = false;
      }
    } else {
      this.keepalivedDown = undefined;
      for (const g of this.groups.values()) {
        if (g.state === undefined && g.inferable && this.options.looksMaster?.(g.spec.group)) {
          g.state = 'MASTER';
          g.inferred = true;
          this.options.logger.info(`group ${g.spec.group}: this node holds its addresses: taken as MASTER until keepalived says otherwise`);
        }
        g.inferable = false;
      }
    }
    for (const g of this.groups.values()) {
      if (g.state === 'MASTER' || g.mayHold) this.sync(g);
    }
  }

  /** Runs one hold or release for a group at a time; a request while one runs makes it run again. */
  private sync(g: GroupLease): void {
    if (this.stopped) return;
    if (g.running !== undefined) {
      g.again = true;
      return;
    }
    g.running = (async () => {
      do {
        g.again = false;
        const operation = g.state === 'MASTER' ? 'hold' : g.mayHold ? 'release' : undefined;
        try {
          if (operation === 'hold') await this.hold(g);
          else if (operation === 'release') await this.release(g);
          g.lastError = undefined;
          if (operation !== undefined) this.options.onWrite?.(g.spec.group, operation, true);
        } catch (e) {
          if (operation !== undefined) this.options.onWrite?.(g.spec.group, operation, false);
          if (this.stopped) return;
          const name = (e as Error)?.name;
          const message = name === 'AbortError' || name === 'TimeoutError'
            ? `no answer from ${this.options.client.endpoint} within ${this.requestTimeoutMs} ms`
            : (e as Error).message;
          if (message !== g.lastError) this.options.logger.warn(`Lease ${this.options.namespace}/${g.spec.leaseName} (group ${g.spec.group}): ${message}; retrying in ${this.renewMs} ms`);
          g.lastError = message;
        }
      } while (g.again && !this.stopped);
    })().finally(() => {
      g.running = undefined;
    });
  }

  private path(g: GroupLease): string {
    return `${this.collection()}/${encodeURIComponent(g.spec.leaseName)}`;
  }

  private collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
  }

  /** A request that takes longer than a renewal period is given up (the next period tries again). */
  private get requestTimeoutMs(): number {
    return Math.max(this.renewMs, 1000);
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.requestTimeoutMs)]);
  }

  /**
   * Runs one read-modify-write of a group's Lease until it goes through: a 409 (someone else wrote it)
   * or a 404 (someone deleted it) forgets the cached Lease and tries again, three times at most.
   */
  private async readModifyWrite(g: GroupLease, step: (current: Lease | undefined) => Promise<void>): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = g.lease ?? await this.read(g);
      try {
        await step(current);
        return;
      } catch (e) {
        if (!(e instanceof KubeConflictError || e instanceof KubeNotFoundError)) throw e;
        g.lease = undefined;
      }
    }
    throw new Error('the Lease kept changing under us (409 three times)');
  }

  /** Creates, takes over or renews the Lease. */
  private async hold(g: GroupLease): Promise<void> {
    const me = this.options.nodeName;
    await this.readModifyWrite(g, async (current) => {
      const now = microTime((this.options.now ?? (() => new Date()))());
      if (current === undefined) {
        // A 409 here means someone created it meanwhile: the retry reads it.
        g.lease = await this.options.client.create<Lease>(this.collection(), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: g.spec.leaseName,
            namespace: this.options.namespace,
            labels: { 'app.kubernetes.io/managed-by': 'keepalived-constructs', 'keepalived-constructs/cluster': this.options.cluster },
            annotations: { 'keepalived-constructs/group': g.spec.group },
          },
          spec: { holderIdentity: me, leaseDurationSeconds: this.options.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        }, { signal: this.signal() });
        g.mayHold = true;
        this.options.logger.info(`group ${g.spec.group}: MASTER here${g.inferred ? ' (inferred)' : ''}: created Lease ${this.options.namespace}/${g.spec.leaseName}`);
        return;
      }
      const previous = current.spec?.holderIdentity;
      const ours = previous === me;
      g.lease = await this.options.client.update<Lease>(this.path(g), {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: me,
          leaseDurationSeconds: this.options.leaseDurationSeconds,
          acquireTime: ours && current.spec?.acquireTime ? current.spec.acquireTime : now,
          renewTime: now,
          leaseTransitions: nextTransitions(current.spec?.leaseTransitions, ours),
        },
      }, { signal: this.signal() });
      g.mayHold = true;
      if (!ours) {
        this.options.logger.info(`group ${g.spec.group}: MASTER here${g.inferred ? ' (inferred)' : ''}: ${previous ? `took Lease ${this.options.namespace}/${g.spec.leaseName} over from ${previous}` : `acquired Lease ${this.options.namespace}/${g.spec.leaseName}`}`);
      }
    });
  }

  /** Removes our holderIdentity from a Lease we still hold; nothing when someone else holds it. */
  private async release(g: GroupLease): Promise<void> {
    const me = this.options.nodeName;
    await this.readModifyWrite(g, async (current) => {
      if (current === undefined || current.spec?.holderIdentity !== me) {
        g.lease = current;
        g.mayHold = false;
        return;
      }
      const { holderIdentity: _holder, ...rest } = current.spec;
      g.lease = await this.options.client.update<Lease>(this.path(g), {
        ...current,
        spec: { ...rest, renewTime: microTime((this.options.now ?? (() => new Date()))()) },
      }, { signal: this.signal() });
      g.mayHold = false;
      const why = this.stopped ? 'the agent stops' : g.state === undefined ? 'keepalived is not running' : `${g.state} here`;
      this.options.logger.info(`group ${g.spec.group}: ${why}: released Lease ${this.options.namespace}/${g.spec.leaseName}`);
    });
  }

  private async read(g: GroupLease): Promise<Lease | undefined> {
    try {
      return await this.options.client.get<Lease>(this.path(g), { signal: this.signal() });
    } catch (e) {
      if (e instanceof KubeNotFoundError) return undefined;
      throw e;
    }
  }
}

/** The Leases of a spec's groups. */
export function leaseGroupsOf(groups: readonly Pick<AgentGroup, 'name' | 'vrid'>[], leaseNameOf: (vrid: number) => string): LeaseGroup[] {
  return groups.map((g) => ({ group: g.name, leaseName: leaseNameOf(g.vrid) }));
}

/** The API's int32 bound on `leaseTransitions`. */
const MAX_INT32 = 2 ** 31 - 1;

/**
 * The Lease's `leaseTransitions` after this write: one more on a change of holder. What another writer
 * left is untrusted: a value the API would refuse once incremented (past int32, or not a count) starts
 * again from 0 rather than block every later update.
 */
export function nextTransitions(current: unknown, ours: boolean): number {
  const count = typeof current === 'number' && Number.isInteger(current) && current >= 0 ? current : 0;
  const next = count + (ours ? 0 : 1);
  return next > MAX_INT32 ? 0 : next;
}
