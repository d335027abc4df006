/**
 * Health checks as the node agent runs them: the kinds, the defaults and limits, and the rules that
 * both the synth-time validation (`health-check.ts`) and the agent (renderer and prober) apply to
 * them, so that a check that synthesizes is a check the agent runs, and a spec.json edited by hand is
 * held to the same rules.
 */
import type { AgentHealthCheck, AgentTrack } from './agent-spec';
import { interfaceNameProblem } from './names';

/** What a health check probes. */
export enum HealthCheckKind {
  /** An HTTP(S) GET on the node's loopback; a 2xx status is healthy. */
  HTTP = 'http',
  /** A TCP connection to a port on the node's loopback; an accepted connection is healthy. */
  TCP = 'tcp',
  /** The API server's `/readyz` on the node's loopback (HTTPS); a 2xx status is healthy. */
  KUBE_APISERVER = 'kube-apiserver',
  /** The link state of a network interface of the node; operationally up is healthy. */
  INTERFACE = 'interface',
}

/** The defaults of a check's timing. */
export const HEALTH_CHECK_DEFAULTS = {
  /** Seconds between two probes. */
  intervalSeconds: 1,
  /** Consecutive failed probes that make a healthy check failing. */
  fall: 3,
  /** Consecutive successful probes that make a failing check healthy. */
  rise: 2,
  /** The default timeout is the interval, at most this many seconds. */
  maxDefaultTimeoutSeconds: 1,
} as const;

/** The API server's secure port on the node, for `HealthCheck.kubeApiserver()`. */
export const KUBE_APISERVER_PORT = 6443;
/** The API server's readiness endpoint, readable without credentials (`system:public-info-viewer`). */
export const KUBE_APISERVER_PATH = '/readyz';

/** At most this many distinct checks per cluster (the agent runs one probe loop per check). */
export const MAX_HEALTH_CHECKS = 32;
/** At most this many checks per group (or as the cluster's default). */
export const MAX_GROUP_HEALTH_CHECKS = 16;
/** The shortest and longest probe interval, in seconds. */
export const HEALTH_INTERVAL_RANGE = [0.1, 3600] as const;
/** The shortest probe timeout, in seconds. */
export const HEALTH_TIMEOUT_MIN = 0.05;
/** The range of `fall` and `rise`. */
export const HEALTH_COUNT_RANGE = [1, 100] as const;
/** The range of `HealthAction.lowerPriority(n)`: keepalived clamps priorities to 1..254, and -254 means FAULT. */
export const PRIORITY_DELTA_RANGE = [1, 253] as const;

/**
 * Where the agent writes the track files and keepalived reads them: a volume both containers mount
 * (read-write for both: keepalived creates a missing file with `init_file`).
 */
export const DEFAULT_TRACK_DIR = '/run/keepalived-health';

/** What a track file holds: keepalived multiplies it by the instance's weight (0 means FAULT when non-zero). */
export const TRACK_FILE_HEALTHY = '0';
/** See `TRACK_FILE_HEALTHY`. A missing file is created with this value (`init_file`): failing until proven healthy. */
export const TRACK_FILE_FAILING = '1';

/** A problem with one value and what would be valid. */
export interface HealthRuleProblem {
  readonly problem: string;
  readonly expected: string;
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `intervalSeconds`. */
export function intervalProblem(v: unknown): HealthRuleProblem | undefined {
  const [min, max] = HEALTH_INTERVAL_RANGE;
  if (!isNumber(v) || v < min || v > max) return { problem: 'is not a probe interval', expected: `a number of seconds from ${min} to ${max}` };
  return undefined;
}

/** `timeoutSeconds`: a probe ends before the next one is due. */
export function timeoutProblem(v: unknown, intervalSeconds: unknown): HealthRuleProblem | undefined {
  const max = isNumber(intervalSeconds) ? intervalSeconds : HEALTH_INTERVAL_RANGE[1];
  if (!isNumber(v) || v < HEALTH_TIMEOUT_MIN || v > max) {
    return {
      problem: isNumber(v) && v > max ? 'is longer than the probe interval: a probe waits for the one before it, so a slow service would be probed less often than intervalSeconds says' : 'is not a probe timeout',
      expected: `a number of seconds from ${HEALTH_TIMEOUT_MIN} to the interval (${max})`,
    };
  }
  return undefined;
}

/** The timeout when none is given: the interval, at most 1 s. */
export function defaultTimeoutSeconds(intervalSeconds: number): number {
  return Math.min(intervalSeconds, HEALTH_CHECK_DEFAULTS.maxDefaultTimeoutSeconds);
}

/** `fall` and `rise`. */
export function countProblem(v: unknown): HealthRuleProblem | undefined {
  const [min, max] = HEALTH_COUNT_RANGE;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) return { problem: 'is not a count of consecutive probes', expected: `an integer from ${min} to ${max}` };
  return undefined;
}

/** A TCP port. */
export function portProblem(v: unknown): HealthRuleProblem | undefined {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) return { problem: 'is not a TCP port', expected: 'an integer from 1 to 65535' };
  return undefined;
}

/** An HTTP request path: absolute, visible ASCII, bounded (it goes into the request line as written). */
export function httpPathProblem(v: unknown): HealthRuleProblem | undefined {
  if (typeof v !== 'string' || !/^\/[\x21-\x7e]{0,2047}$/.test(v)) {
    return { problem: 'is not an HTTP request path', expected: 'a path starting with "/", of at most 2048 visible ASCII characters (percent-encode the rest), e.g. "/healthz"' };
  }
  return undefined;
}

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[0-9]{1,5})?$/;

/** An HTTP Host header (also the TLS server name, without the port). */
export function hostHeaderProblem(v: unknown): HealthRuleProblem | undefined {
  if (typeof v !== 'string' || !HOST_HEADER.test(v)) {
    return { problem: 'is not a Host header value', expected: 'a host name or IP address with an optional port, e.g. "ingress.example.com"' };
  }
  return undefined;
}

/** `HealthAction.lowerPriority(n)`. */
export function priorityDeltaProblem(v: unknown): HealthRuleProblem | undefined {
  const [min, max] = PRIORITY_DELTA_RANGE;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    return { problem: 'is not a priority decrease keepalived can apply', expected: `an integer from ${min} to ${max} (keepalived priorities are 1..254)` };
  }
  return undefined;
}

/** A network interface name, as Linux allows it. */
export function healthInterfaceProblem(v: unknown): HealthRuleProblem | undefined {
  const problem = interfaceNameProblem(v);
  return problem ? { problem, expected: 'an interface name of 1..15 bytes without "/", ":" or white space, e.g. "bond0"' } : undefined;
}

const CHECK_NAME = /^[a-z0-9]{1,16}$/;

/**
 * Every problem with one check of spec.json (which the agent reads as untrusted input), each a
 * sentence that starts with the field.
 */
export function agentHealthCheckProblems(check: AgentHealthCheck): string[] {
  if (check === null || typeof check !== 'object') return ['is not an object'];
  const problems: string[] = [];
  const add = (field: string, value: unknown, p: HealthRuleProblem | undefined) => {
    if (p) problems.push(`${field} ${JSON.stringify(value)} ${p.problem}; valid: ${p.expected}`);
  };
  if (typeof check.name !== 'string' || !CHECK_NAME.test(check.name)) problems.push(`name ${JSON.stringify(check.name)} is not 1..16 lower-case letters and digits`);
  const kinds = Object.values(HealthCheckKind) as string[];
  if (!kinds.includes(check.kind)) problems.push(`kind ${JSON.stringify(check.kind)} is not one of ${kinds.join(', ')}`);
  add('intervalSeconds', check.intervalSeconds, intervalProblem(check.intervalSeconds));
  add('timeoutSeconds', check.timeoutSeconds, timeoutProblem(check.timeoutSeconds, check.intervalSeconds));
  add('fall', check.fall, countProblem(check.fall));
  add('rise', check.rise, countProblem(check.rise));
  if (check.kind === HealthCheckKind.INTERFACE) {
    add('interface', check.interface, healthInterfaceProblem(check.interface));
  } else if (kinds.includes(check.kind)) {
    add('port', check.port, portProblem(check.port));
  }
  if (check.kind === HealthCheckKind.HTTP || check.kind === HealthCheckKind.KUBE_APISERVER) {
    add('path', check.path, httpPathProblem(check.path));
    if (check.host !== undefined) add('host', check.host, hostHeaderProblem(check.host));
    if (check.https !== undefined && typeof check.https !== 'boolean') problems.push(`https ${JSON.stringify(check.https)} is not a boolean`);
    if (check.insecureSkipTlsVerify !== undefined && typeof check.insecureSkipTlsVerify !== 'boolean') {
      problems.push(`insecureSkipTlsVerify ${JSON.stringify(check.insecureSkipTlsVerify)} is not a boolean`);
    }
  }
  return problems;
}

/** Every problem with one group's tracks, given the names of the spec's checks. */
export function agentTrackProblems(tracks: readonly AgentTrack[] | undefined, checkNames: ReadonlySet<string>): string[] {
  if (tracks === undefined) return [];
  if (!Array.isArray(tracks)) return ['tracks is not a list'];
  const problems: string[] = [];
  const seen = new Set<string>();
  tracks.forEach((t, i) => {
    if (t === null || typeof t !== 'object' || !checkNames.has(t.check)) {
      problems.push(`tracks[${i}] names check ${JSON.stringify(t?.check)}, which spec.healthChecks does not have`);
      return;
    }
    if (seen.has(t.check)) problems.push(`tracks[${i}] names check ${t.check} a second time`);
    seen.add(t.check);
    // (A number only: `-"5"` is -5, and the text would go into keepalived.conf as it is.)
    if (typeof t.weight !== 'number' || (t.weight !== 0 && priorityDeltaProblem(-t.weight) !== undefined)) {
      problems.push(`tracks[${i}].weight ${JSON.stringify(t.weight)} is not 0 (release) or -1..-253 (lower the priority)`);
    }
  });
  return problems;
}

/** A short description of a check for logs and messages, e.g. `http://127.0.0.1:10254/healthz`. */
export function describeHealthCheck(check: AgentHealthCheck): string {
  switch (check.kind) {
    case HealthCheckKind.INTERFACE:
      return `interface ${check.interface}`;
    case HealthCheckKind.TCP:
      return `tcp 127.0.0.1:${check.port}`;
    default:
      return `${check.kind === HealthCheckKind.KUBE_APISERVER ? 'kube-apiserver ' : ''}${check.https ? 'https' : 'http'}://127.0.0.1:${check.port}${check.path}`
        + `${check.host === undefined ? '' : ` (Host: ${check.host})`}${check.https && check.insecureSkipTlsVerify ? ' (certificate not verified)' : ''}`;
  }
}
