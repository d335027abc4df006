/**
 * Health checks: a VRRP group leaves a node whose service is broken. The node agent probes each check
 * on the node and writes a keepalived track file; keepalived itself runs no scripts. Standalone target
 * only (the Deckhouse KeepalivedInstance CRD has no health checks).
 */
import { AgentHealthCheck, AgentSpec, AgentTrack } from './agent-spec';
import { ValidationIssue } from './errors';
import { checkKnownFields, KnownFields, knownFields } from './fields';
import {
  countProblem, defaultTimeoutSeconds, HEALTH_CHECK_DEFAULTS, HealthCheckKind, healthInterfaceProblem, HealthRuleProblem,
  hostHeaderProblem, httpPathProblem, intervalProblem, KUBE_APISERVER_PATH, KUBE_APISERVER_PORT, MAX_GROUP_HEALTH_CHECKS,
  MAX_HEALTH_CHECKS, portProblem, priorityDeltaProblem, timeoutProblem,
} from './health-spec';
import type { ClusterDefinition, VrrpGroup } from './model';

/** What a `HealthAction` does. */
export enum HealthActionKind {
  /** The node gives the group up (keepalived FAULT state): its addresses go to a healthy node. */
  RELEASE = 'release',
  /** The node's priority for the group drops by `priorityDecrease` (a keepalived track weight). */
  LOWER_PRIORITY = 'lower-priority',
}

/**
 * What a node does with a group while one of the group's health checks fails.
 *
 * @example
 * HealthAction.release()            // give the addresses up; with every node failing, nobody holds them
 * HealthAction.lowerPriority(100)   // prefer healthy nodes; with every node failing, the VIP stays somewhere
 */
export class HealthAction {
  /**
   * This node gives the group up: keepalived puts the group's instance in FAULT, sends a priority-0
   * advert (so a healthy backup takes over at once) and removes the addresses. With every node
   * failing, no node holds the addresses until one recovers.
   */
  public static release(): HealthAction {
    return new HealthAction(HealthActionKind.RELEASE);
  }

  /**
   * This node's priority for the group drops by `by` (keepalived `track_file` weight `-by`), so a
   * healthier node with a higher priority takes over (after the master-down interval, and only where
   * `preempt` is on). With every node failing, all drop alike and the addresses stay where they are.
   * keepalived does not move a group between equal priorities: `by` must put the failing master
   * strictly below the next node, i.e. exceed one rank step with a node order or discovery (26 at the
   * default 0.1 s adverts, 3 at 1 s; a preferred node leads by 4): synth checks it. With hashing the
   * priorities lie anywhere in 2..249: synth warns below 248.
   *
   * @param by 1..253
   */
  public static lowerPriority(by: number): HealthAction {
    return new HealthAction(HealthActionKind.LOWER_PRIORITY, by);
  }

  private constructor(
    /** What the action does. */
    public readonly kind: HealthActionKind,
    /**
     * `LOWER_PRIORITY`: by how much.
     *
     * @default - none (`RELEASE`)
     */
    public readonly priorityDecrease?: number,
  ) {}

  /**
   * keepalived's `track_file` weight: 0 (a non-zero file value means FAULT) or -n.
   *
   * @internal
   */
  public get _trackWeight(): number {
    return this.kind === HealthActionKind.RELEASE ? 0 : -(this.priorityDecrease ?? 0);
  }

  /** A short text for messages, e.g. `lowerPriority(100)`. */
  public toString(): string {
    return this.kind === HealthActionKind.RELEASE ? 'release()' : `lowerPriority(${this.priorityDecrease})`;
  }
}

/** How often a check probes, how it decides, and what the node does while it fails. */
export interface HealthCheckOptions {
  /**
   * Seconds between two probes (0.1 to 3600).
   *
   * @default 1
   */
  readonly intervalSeconds?: number;

  /**
   * How long one probe may take, in seconds (0.05 up to `intervalSeconds`); a slower answer is a failure.
   *
   * @default - `intervalSeconds`, at most 1
   */
  readonly timeoutSeconds?: number;

  /**
   * Consecutive failed probes after which a healthy check is failing (1 to 100). A failure is detected
   * within about `intervalSeconds x fall`.
   *
   * @default 3
   */
  readonly fall?: number;

  /**
   * Consecutive successful probes after which a failing check is healthy again (1 to 100). A check
   * starts failing when the pod starts, so a node takes a group only once its service has answered
   * `rise` times.
   *
   * @default 2
   */
  readonly rise?: number;

  /**
   * What the node does with the group while the check fails.
   *
   * @default HealthAction.release()
   */
  readonly onFailure?: HealthAction;
}

/** The scheme of an HTTP health check. */
export enum HttpScheme {
  /** Plain HTTP. */
  HTTP = 'HTTP',
  /** HTTP over TLS. */
  HTTPS = 'HTTPS',
}

/** Options of `HealthCheck.http`. */
export interface HttpHealthCheckOptions extends HealthCheckOptions {
  /** The port on the node's loopback (127.0.0.1), e.g. 10254 for ingress-nginx's `/healthz`. */
  readonly port: number;

  /**
   * The request path.
   *
   * @default '/'
   */
  readonly path?: string;

  /**
   * The Host header, and with HTTPS the TLS server name that the certificate must match.
   *
   * @default - 127.0.0.1:<port>
   */
  readonly host?: string;

  /**
   * HTTP or HTTPS.
   *
   * @default HttpScheme.HTTP
   */
  readonly scheme?: HttpScheme;

  /**
   * With HTTPS, accept any certificate (as the kubelet's HTTPS probes do). Without it, the certificate
   * must chain to the agent image's trusted roots and match `host` (or 127.0.0.1).
   *
   * @default false
   */
  readonly insecureSkipTlsVerify?: boolean;
}

/** Options of `HealthCheck.tcp`. */
export interface TcpHealthCheckOptions extends HealthCheckOptions {
  /** The port on the node's loopback (127.0.0.1) that must accept a connection. */
  readonly port: number;
}

/** Options of `HealthCheck.kubeApiserver`. */
export interface KubeApiserverHealthCheckOptions extends HealthCheckOptions {
  /**
   * The API server's secure port on the node.
   *
   * @default 6443
   */
  readonly port?: number;
}

/** A health check as plain data, as given (validated at synth). */
export interface HealthCheckSpec extends HealthCheckOptions {
  readonly kind: HealthCheckKind;
  readonly port?: number;
  readonly path?: string;
  readonly host?: string;
  readonly scheme?: HttpScheme;
  readonly insecureSkipTlsVerify?: boolean;
  readonly interface?: string;
}

const CHECK_OPTIONS = { intervalSeconds: true, timeoutSeconds: true, fall: true, rise: true, onFailure: true } as const satisfies
  { readonly [K in keyof Required<HealthCheckOptions>]: true };

/** The fields of each kind of check's options. */
const HEALTH_CHECK_FIELDS: { readonly [K in HealthCheckKind]: KnownFields } = {
  [HealthCheckKind.HTTP]: knownFields<HttpHealthCheckOptions>('a field of HealthCheck.http\'s options', {
    ...CHECK_OPTIONS, port: true, path: true, host: true, scheme: true, insecureSkipTlsVerify: true,
  }),
  [HealthCheckKind.TCP]: knownFields<TcpHealthCheckOptions>('a field of HealthCheck.tcp\'s options', { ...CHECK_OPTIONS, port: true }),
  [HealthCheckKind.KUBE_APISERVER]: knownFields<KubeApiserverHealthCheckOptions>('a field of HealthCheck.kubeApiserver\'s options', { ...CHECK_OPTIONS, port: true }),
  [HealthCheckKind.INTERFACE]: knownFields<HealthCheckOptions>('a field of HealthCheck.interface\'s options', CHECK_OPTIONS),
};

/** A check's options as the user gave them: its spec without what its factory set (the kind, the interface's name). */
function optionsOf(s: HealthCheckSpec): object {
  const { kind: _kind, ...options } = s;
  if (s.kind !== HealthCheckKind.INTERFACE) return options;
  const { interface: _name, ...rest } = options;
  return rest;
}

/**
 * A health check that the node agent runs on each node for a VRRP group (standalone target). While it
 * fails, the node acts as `onFailure` says. The pod is on the host network, so 127.0.0.1 is the node.
 *
 * @example
 * HealthCheck.http({ port: 10254, path: '/healthz' })              // ingress-nginx
 * HealthCheck.tcp({ port: 443 })
 * HealthCheck.kubeApiserver()                                      // GET https://127.0.0.1:6443/readyz
 * HealthCheck.interface('bond0', { onFailure: HealthAction.lowerPriority(100) })
 */
export class HealthCheck {
  // (Object.assign, not a spread and a new field: see `readOnlyRoot` in standalone/daemon-set.ts.)

  /** An HTTP(S) GET on the node's loopback; a 2xx status is healthy, anything else (or no answer in time) a failure. */
  public static http(options: HttpHealthCheckOptions): HealthCheck {
    return new HealthCheck(Object.assign({}, options, { kind: HealthCheckKind.HTTP }));
  }

  /** A TCP connect to a port on the node's loopback; an accepted connection is healthy. */
  public static tcp(options: TcpHealthCheckOptions): HealthCheck {
    return new HealthCheck(Object.assign({}, options, { kind: HealthCheckKind.TCP }));
  }

  /**
   * The API server's readiness: GET https://127.0.0.1:6443/readyz (readable without credentials
   * where the API server allows anonymous requests, its default; with `--anonymous-auth=false` it
   * answers 401 and the check never passes); 2xx is healthy. The certificate is not verified (it
   * rarely names 127.0.0.1; nothing secret is sent).
   */
  public static kubeApiserver(options: KubeApiserverHealthCheckOptions = {}): HealthCheck {
    return new HealthCheck(Object.assign({}, options, { kind: HealthCheckKind.KUBE_APISERVER }));
  }

  /** The link state of a network interface on the node (by name); operationally up is healthy. */
  public static interface(name: string, options: HealthCheckOptions = {}): HealthCheck {
    return new HealthCheck(Object.assign({}, options, { kind: HealthCheckKind.INTERFACE, interface: name }));
  }

  private constructor(
    /**
     * The check as plain data.
     *
     * @internal
     */
    public readonly _spec: HealthCheckSpec,
  ) {}

  /** What the node does while the check fails. */
  public get onFailure(): HealthAction {
    return this._spec.onFailure ?? HealthAction.release();
  }

  /** A short text for messages, e.g. `http(:10254/healthz)`. */
  public toString(): string {
    const s = this._spec;
    switch (s.kind) {
      case HealthCheckKind.INTERFACE: return `interface(${s.interface})`;
      case HealthCheckKind.TCP: return `tcp(:${s.port})`;
      case HealthCheckKind.KUBE_APISERVER: return `kubeApiserver(:${s.port ?? KUBE_APISERVER_PORT})`;
      default: return `http(:${s.port}${s.path ?? '/'})`;
    }
  }
}

/**
 * The issue for health checks on a target that cannot run them (the Deckhouse KeepalivedInstance CRD
 * has none), or none when the list is empty or absent.
 */
export function unsupportedHealthCheckIssues(checks: unknown, field: string, path: string): ValidationIssue[] {
  if (!Array.isArray(checks) || checks.length === 0) return [];
  return [{
    path, field, value: checks.map(String),
    problem: 'the Deckhouse KeepalivedInstance CRD has no health checks, so the module would ignore them',
    expected: 'no healthChecks on Target.deckhouse(), or Target.standalone() where the node agent runs them',
  }];
}

/**
 * Every issue with a list of health checks as such (any target): `field` names the list in the
 * user's terms (`healthChecks`, `groups[0].healthChecks`).
 */
export function validateHealthChecks(checks: unknown, field: string, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (checks === undefined) return issues;
  const report = (f: string, value: unknown, p: HealthRuleProblem | undefined) => {
    if (p) issues.push({ path, field: f, value, problem: p.problem, expected: p.expected });
  };
  if (!Array.isArray(checks)) {
    report(field, checks, { problem: 'is not a list of health checks', expected: 'a list such as [HealthCheck.http({ port: 10254, path: \'/healthz\' })]' });
    return issues;
  }
  if (checks.length > MAX_GROUP_HEALTH_CHECKS) {
    report(field, `(${checks.length} checks)`, { problem: 'too many health checks', expected: `at most ${MAX_GROUP_HEALTH_CHECKS}` });
  }
  const seen = new Map<string, number>();
  checks.forEach((check, i) => {
    const at = `${field}[${i}]`;
    if (!(check instanceof HealthCheck)) {
      report(at, check, { problem: 'is not a HealthCheck', expected: 'HealthCheck.http({...}), .tcp({...}), .kubeApiserver() or .interface(name)' });
      return;
    }
    checkOne(check._spec, at, report);
    const key = probeKey(check._spec);
    const first = seen.get(key);
    if (first !== undefined) {
      report(at, String(check), {
        problem: `probes the same as ${field}[${first}] with the same timing; keepalived would track it once`,
        expected: 'each check once per group (one check with one onFailure)',
      });
    } else {
      seen.set(key, i);
    }
  });
  return issues;
}

function checkOne(s: HealthCheckSpec, at: string, report: (f: string, value: unknown, p: HealthRuleProblem | undefined) => void): void {
  checkKnownFields(at, optionsOf(s), HEALTH_CHECK_FIELDS[s.kind], (field, value, problem, expected) => report(field, value, { problem, expected }));
  if (s.intervalSeconds !== undefined) report(`${at}.intervalSeconds`, s.intervalSeconds, intervalProblem(s.intervalSeconds));
  const interval = s.intervalSeconds ?? HEALTH_CHECK_DEFAULTS.intervalSeconds;
  if (s.timeoutSeconds !== undefined) report(`${at}.timeoutSeconds`, s.timeoutSeconds, timeoutProblem(s.timeoutSeconds, interval));
  if (s.fall !== undefined) report(`${at}.fall`, s.fall, countProblem(s.fall));
  if (s.rise !== undefined) report(`${at}.rise`, s.rise, countProblem(s.rise));
  if (s.onFailure !== undefined) {
    if (!(s.onFailure instanceof HealthAction)) {
      report(`${at}.onFailure`, s.onFailure, { problem: 'is not a HealthAction', expected: 'HealthAction.release() or HealthAction.lowerPriority(n)' });
    } else if (s.onFailure.kind === HealthActionKind.LOWER_PRIORITY) {
      report(`${at}.onFailure`, s.onFailure.priorityDecrease, priorityDeltaProblem(s.onFailure.priorityDecrease));
    }
  }
  switch (s.kind) {
    case HealthCheckKind.INTERFACE:
      report(`${at}.interface`, s.interface, healthInterfaceProblem(s.interface));
      break;
    case HealthCheckKind.KUBE_APISERVER:
      if (s.port !== undefined) report(`${at}.port`, s.port, portProblem(s.port));
      break;
    case HealthCheckKind.TCP:
      report(`${at}.port`, s.port, portProblem(s.port));
      break;
    case HealthCheckKind.HTTP:
      report(`${at}.port`, s.port, portProblem(s.port));
      if (s.path !== undefined) report(`${at}.path`, s.path, httpPathProblem(s.path));
      if (s.host !== undefined) report(`${at}.host`, s.host, hostHeaderProblem(s.host));
      if (s.scheme !== undefined && !(Object.values(HttpScheme) as string[]).includes(s.scheme)) {
        report(`${at}.scheme`, s.scheme, { problem: 'is not an HTTP scheme', expected: 'HttpScheme.HTTP or HttpScheme.HTTPS' });
      }
      if (s.insecureSkipTlsVerify !== undefined && typeof s.insecureSkipTlsVerify !== 'boolean') {
        report(`${at}.insecureSkipTlsVerify`, s.insecureSkipTlsVerify, { problem: 'is not a boolean', expected: 'true or false' });
      } else if (s.insecureSkipTlsVerify === true && s.scheme !== HttpScheme.HTTPS) {
        report(`${at}.insecureSkipTlsVerify`, true, { problem: 'applies only to HTTPS', expected: 'scheme: HttpScheme.HTTPS, or no insecureSkipTlsVerify' });
      }
      break;
  }
}

/** A check as the agent runs it (defaults applied), without its name. */
function agentCheckOf(s: HealthCheckSpec): Omit<AgentHealthCheck, 'name'> {
  const intervalSeconds = s.intervalSeconds ?? HEALTH_CHECK_DEFAULTS.intervalSeconds;
  const timing = {
    intervalSeconds,
    timeoutSeconds: s.timeoutSeconds ?? defaultTimeoutSeconds(intervalSeconds),
    fall: s.fall ?? HEALTH_CHECK_DEFAULTS.fall,
    rise: s.rise ?? HEALTH_CHECK_DEFAULTS.rise,
  };
  switch (s.kind) {
    case HealthCheckKind.INTERFACE:
      return { kind: s.kind, interface: s.interface, ...timing };
    case HealthCheckKind.TCP:
      return { kind: s.kind, port: s.port, ...timing };
    case HealthCheckKind.KUBE_APISERVER:
      return { kind: s.kind, port: s.port ?? KUBE_APISERVER_PORT, path: KUBE_APISERVER_PATH, https: true, insecureSkipTlsVerify: true, ...timing };
    default: {
      const https = s.scheme === HttpScheme.HTTPS;
      return {
        kind: s.kind, port: s.port, path: s.path ?? '/',
        ...(s.host === undefined ? {} : { host: s.host }),
        https,
        ...(https ? { insecureSkipTlsVerify: s.insecureSkipTlsVerify === true } : {}),
        ...timing,
      };
    }
  }
}

/** Two checks are one probe when they probe the same thing with the same timing (the action may differ). */
function probeKey(s: HealthCheckSpec): string {
  return JSON.stringify(agentCheckOf(s));
}

/** The checks a group follows: its own, or else the cluster's. */
export function effectiveHealthChecks(group: VrrpGroup, cluster: Pick<ClusterDefinition, 'healthChecks'>): readonly HealthCheck[] {
  return group.healthChecks ?? cluster.healthChecks ?? [];
}

/** Whether any group of the cluster follows a health check (the pod then needs the agent's `run` and the track-file volume). */
export function hasHealthChecks(def: Pick<ClusterDefinition, 'groups' | 'healthChecks'>): boolean {
  return def.groups.some(({ group }) => effectiveHealthChecks(group, def).length > 0);
}

/**
 * Adds the health checks to the agent's spec: each distinct probe once in `healthChecks` (named
 * `hc0`, `hc1`, ... in order of first use), and each group's `tracks` with its action's weight.
 * Returns the spec unchanged when no group has a check.
 */
export function withHealthChecks(def: ClusterDefinition, spec: AgentSpec): AgentSpec {
  const checks: AgentHealthCheck[] = [];
  const byKey = new Map<string, string>();
  const tracksOf = def.groups.map(({ group }) => effectiveHealthChecks(group, def).map((check): AgentTrack => {
    const probe = agentCheckOf(check._spec);
    const key = JSON.stringify(probe);
    let name = byKey.get(key);
    if (name === undefined) {
      name = `hc${checks.length}`;
      byKey.set(key, name);
      checks.push({ name, ...probe });
    }
    return { check: name, weight: check.onFailure._trackWeight };
  }));
  if (checks.length === 0) return spec;
  if (checks.length > MAX_HEALTH_CHECKS) {
    throw new RangeError(`${def.path}: ${checks.length} distinct health checks; the agent runs at most ${MAX_HEALTH_CHECKS}`);
  }
  // Object.assign, not a spread and new fields: see `readOnlyRoot` in standalone/daemon-set.ts.
  return Object.assign({}, spec, {
    groups: spec.groups.map((g, i) => (tracksOf[i].length === 0 ? g : Object.assign({}, g, { tracks: tracksOf[i] }))),
    healthChecks: checks,
  });
}
