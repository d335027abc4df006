/**
 * The health checks of `run`: each check of spec.healthChecks is probed on the node every
 * `intervalSeconds` (HTTP(S) GET or TCP connect on 127.0.0.1, an interface's link state), and its
 * state, with `fall` / `rise` hysteresis, goes to its track file, which keepalived watches
 * (`vrrp_track_file`): `0` healthy, `1` failing. keepalived runs no scripts, and the agent needs no
 * privilege: loopback connections, /sys reads, and writes in a directory shared with keepalived.
 *
 * - A track file is replaced atomically (write, rename; keepalived re-reads it on the rename), only
 *   when the state changes, without fsync (it lives in a memory-backed emptyDir that dies with the pod).
 * - A check starts from its track file's state when the file exists (an agent restart changes
 *   nothing), else failing (the file a fresh pod's keepalived creates with `init_file 1`), so a node
 *   takes a group only once its service has answered `rise` times.
 * - When the agent dies, the files keep their last state and keepalived keeps acting on it.
 * - Reads are bounded: HTTP headers (16 KiB), the part of a body kept for the log (256 bytes), sysfs
 *   files (64 bytes), the track file (64 bytes).
 */
import { accessSync, constants, promises as fsp, statSync } from 'fs';
import { readBoundedFile } from './bounded-read';
import * as http from 'http';
import * as https from 'https';
import { isIP, Socket } from 'net';
import { join } from 'path';
import { checkServerIdentity, PeerCertificate } from 'tls';
import { AgentHealthCheck, AgentSpec } from '../core/agent-spec';
import {
  agentHealthCheckProblems, DEFAULT_TRACK_DIR, describeHealthCheck, HealthCheckKind, MAX_HEALTH_CHECKS, TRACK_FILE_FAILING,
  TRACK_FILE_HEALTHY,
} from '../core/health-spec';
import { trackFileName } from '../core/keepalived-conf';
import { writeFileAtomic } from './atomic-file';
import { Logger } from './node-watch';

/** The outcome of one probe. */
export interface ProbeResult {
  readonly ok: boolean;
  /** What was seen, for logs: `HTTP 200`, `ECONNREFUSED`, `no answer within 1000 ms`, `operstate down`. */
  readonly detail: string;
}

/** Where a probe looks; the defaults are the node's. */
export interface ProbeEnvironment {
  /** The /sys root for interface link states. @default '/sys' */
  readonly sysRoot?: string;
  /** The address probes connect to. @default '127.0.0.1' */
  readonly loopback?: string;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_LOGGED_BODY = 256;
const MAX_SMALL_FILE = 64;

/** Probes a check once, within its timeout. Never rejects. */
export function probeOnce(check: AgentHealthCheck, env: ProbeEnvironment = {}): Promise<ProbeResult> {
  const timeoutMs = Math.round(check.timeoutSeconds * 1000);
  switch (check.kind) {
    case HealthCheckKind.TCP:
      return probeTcp(env.loopback ?? '127.0.0.1', check.port!, timeoutMs);
    case HealthCheckKind.INTERFACE:
      return withTimeout(probeInterface(env.sysRoot ?? '/sys', check.interface!), timeoutMs);
    default:
      return probeHttp(check, env.loopback ?? '127.0.0.1', timeoutMs);
  }
}

function withTimeout(p: Promise<ProbeResult>, ms: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${ms} ms` }), ms);
    p.then((r) => {
      clearTimeout(timer);
      resolve(r);
    }, (e) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: (e as Error).message });
    });
  });
}

function errorDetail(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}${err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}` : String(err?.message ?? e);
}

/** Printable ASCII only, bounded: a body or header from the service goes into our log. */
function printable(text: string, max = MAX_LOGGED_BODY): string {
  return text.slice(0, max).replace(/[^\x20-\x7e]/g, '.');
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `no connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => finish({ ok: true, detail: 'connected' }));
    socket.once('error', (e) => finish({ ok: false, detail: errorDetail(e) }));
    socket.connect({ host, port });
  });
}

/** The host name of a Host header value: without the port and IPv6 brackets. */
function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return colon >= 0 ? hostHeader.slice(0, colon) : hostHeader;
}

function probeHttp(check: AgentHealthCheck, loopback: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    // eslint-disable-next-line prefer-const
    let req: http.ClientRequest;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    const headers = {
      'Host': check.host ?? `${loopback}:${check.port}`,
      'User-Agent': 'keepalived-agent (health check)',
      'Accept': '*/*',
      'Connection': 'close',
    };
    const common = { host: loopback, port: check.port, path: check.path ?? '/', method: 'GET', headers, agent: false, maxHeaderSize: MAX_HEADER_BYTES };
    if (check.https) {
      // The certificate must match the Host header's name (or the loopback address); SNI only for names.
      const name = check.host === undefined ? loopback : hostName(check.host);
      req = https.request({
        ...common,
        rejectUnauthorized: check.insecureSkipTlsVerify !== true,
        ...(isIP(name) ? {} : { servername: name }),
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
      });
    } else {
      req = http.request(common);
    }
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        finish({ ok: true, detail: `HTTP ${status}` });
        return;
      }
      // Keep the start of the body for the log, and never more.
      let body = '';
      const fail = () => finish({ ok: false, detail: `HTTP ${status}${body.trim() ? `: ${printable(body.trim())}` : ''}` });
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length >= MAX_LOGGED_BODY) fail();
      });
      res.on('end', fail);
      res.on('error', fail);
    });
    req.on('error', (e) => finish({ ok: false, detail: errorDetail(e) }));
    req.end();
  });
}

async function readSmall(path: string): Promise<string> {
  const handle = await fsp.open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_SMALL_FILE);
    const { bytesRead } = await handle.read(buffer, 0, MAX_SMALL_FILE, 0);
    return buffer.subarray(0, bytesRead).toString('latin1').trim();
  } finally {
    await handle.close();
  }
}

/**
 * An interface is healthy when its operational state is `up`; `unknown` (drivers that do not report
 * it, e.g. some virtual links) counts as up when the carrier is present.
 */
async function probeInterface(sysRoot: string, name: string): Promise<ProbeResult> {
  const dir = join(sysRoot, 'class/net', name);
  let operstate: string;
  try {
    operstate = await readSmall(join(dir, 'operstate'));
  } catch (e) {
    return { ok: false, detail: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such interface' : errorDetail(e) };
  }
  if (operstate === 'up') return { ok: true, detail: 'operstate up' };
  if (operstate === 'unknown') {
    let carrier = '';
    try {
      carrier = await readSmall(join(dir, 'carrier'));
    } catch {
      // EINVAL while the interface is administratively down.
    }
    return carrier === '1' ? { ok: true, detail: 'operstate unknown, carrier up' } : { ok: false, detail: 'operstate unknown, no carrier' };
  }
  return { ok: false, detail: `operstate ${printable(operstate, 32)}` };
}

/**
 * `fall` / `rise` hysteresis: a healthy check becomes failing after `fall` consecutive failed probes,
 * a failing one healthy after `rise` consecutive successes. Any other result resets the count.
 */
export class Hysteresis {
  private streak = 0;

  constructor(private readonly fall: number, private readonly rise: number, private state: boolean) {}

  /** Whether the check is healthy. */
  public get healthy(): boolean {
    return this.state;
  }

  /** Consecutive probes that disagree with the state so far. */
  public get pending(): number {
    return this.streak;
  }

  /** Records a probe; returns true when the state changed. */
  public record(ok: boolean): boolean {
    if (ok === this.state) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < (this.state ? this.fall : this.rise)) return false;
    this.state = ok;
    this.streak = 0;
    return true;
  }
}

/** The state of one check, for logs and metrics. */
export interface HealthCheckStatus {
  /** The check's name in spec.json (`hc0`, ...). */
  readonly name: string;
  readonly kind: HealthCheckKind;
  /** What it probes, e.g. `http://127.0.0.1:10254/healthz`. */
  readonly description: string;
  /** Its track file. */
  readonly trackFile: string;
  /** The state keepalived acts on (after hysteresis). */
  readonly healthy: boolean;
  /** The groups that follow it, with their action: `front-1 (release)`, `api (priority -50)`. */
  readonly groups: readonly string[];
  /** The last probe: its result, when it started (epoch ms) and how long it took. */
  readonly last?: ProbeResult & { readonly at: number; readonly durationMs: number };
  /** Probes, failed probes and state changes since the agent started. */
  readonly probes: number;
  readonly failedProbes: number;
  readonly transitions: number;
  /** Whether the track file holds the state (false while a write keeps failing). */
  readonly written: boolean;
}

/** What the metrics endpoint (or anything else) reads: every check's status, and a call after each probe. */
export interface HealthStatusSource {
  /** Every check's status, in spec order. */
  statuses(): readonly HealthCheckStatus[];
  /** Calls `listener` after every probe of any check; returns the function that unsubscribes it. */
  subscribe(listener: (status: HealthCheckStatus) => void): () => void;
}

/** Options of `HealthProber`. */
export interface HealthProberOptions {
  readonly cluster: string;
  readonly checks: readonly AgentHealthCheck[];
  /** The groups that follow each check, for logs (`front-1 (release)`), by check name. */
  readonly groupsOf?: ReadonlyMap<string, readonly string[]>;
  /** The track files' directory. */
  readonly trackDir: string;
  readonly logger: Logger;
  readonly probeEnv?: ProbeEnvironment;
  /** Test hook: replaces `probeOnce`. */
  readonly probe?: (check: AgentHealthCheck) => Promise<ProbeResult>;
  /** Test hook: replaces `FAILING_LOG_INTERVAL_MS`. */
  readonly failingLogIntervalMs?: number;
}

interface CheckRun {
  readonly check: AgentHealthCheck;
  readonly file: string;
  readonly hysteresis: Hysteresis;
  status: HealthCheckStatus;
  timer?: NodeJS.Timeout;
  /** The state still to be written (a failed write is retried after the next probe). */
  unwritten?: boolean;
  /** Consecutive failed probes. */
  failing: number;
  /** The reason last logged for a check that keeps failing, and when (`FAILING_LOG_INTERVAL_MS`). */
  logged?: { readonly detail: string; readonly at: number };
}

/**
 * How often, at most, a check that keeps failing logs why (when the reason changes): one that never
 * passed (a wrong port or interface name) would otherwise say nothing after its start-up line.
 */
export const FAILING_LOG_INTERVAL_MS = 60_000;

/** Runs every check's probe loop and keeps its track file. */
export class HealthProber implements HealthStatusSource {
  private readonly runs: CheckRun[];
  private readonly listeners = new Set<(status: HealthCheckStatus) => void>();
  private stopped = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: HealthProberOptions) {
    this.runs = options.checks.map((check) => {
      const file = join(options.trackDir, trackFileName(options.cluster, check.name));
      const initial = readTrackFile(file);
      const healthy = initial === TRACK_FILE_HEALTHY;
      const run: CheckRun = {
        check,
        file,
        hysteresis: new Hysteresis(check.fall, check.rise, healthy),
        failing: 0,
        status: {
          name: check.name, kind: check.kind, description: describeHealthCheck(check), trackFile: file, healthy,
          groups: options.groupsOf?.get(check.name) ?? [], probes: 0, failedProbes: 0, transitions: 0, written: initial !== undefined,
        },
      };
      return run;
    });
  }

  /** Writes the track files that do not exist yet (failing), then starts every probe loop. */
  public start(): void {
    for (const run of this.runs) {
      const from = run.status.written ? `${run.status.healthy ? 'healthy' : 'failing'} (its track file)` : 'failing (no track file yet) until it answers';
      this.options.logger.info(`health check ${run.check.name}: ${run.status.description} every ${run.check.intervalSeconds} s `
        + `(timeout ${run.check.timeoutSeconds} s, fall ${run.check.fall}, rise ${run.check.rise}) for ${run.status.groups.join(', ') || 'no group'}; `
        + `starts ${from}; track file ${run.file}`);
      if (!run.status.written) this.write(run);
      this.loop(run);
    }
  }

  /** Stops probing; the track files keep their state. */
  public async stop(): Promise<void> {
    this.stopped = true;
    for (const run of this.runs) if (run.timer !== undefined) clearTimeout(run.timer);
    await Promise.all([...this.inFlight]);
  }

  public statuses(): readonly HealthCheckStatus[] {
    return this.runs.map((r) => r.status);
  }

  public subscribe(listener: (status: HealthCheckStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private loop(run: CheckRun): void {
    if (this.stopped) return;
    const startedAt = Date.now();
    const started = performance.now();
    const probe = this.options.probe ?? ((c: AgentHealthCheck) => probeOnce(c, this.options.probeEnv));
    const pending = probe(run.check).catch((e): ProbeResult => ({ ok: false, detail: errorDetail(e) })).then((result) => {
      const durationMs = performance.now() - started;
      if (this.stopped) return;
      this.record(run, result, startedAt, durationMs);
      const delay = Math.max(0, run.check.intervalSeconds * 1000 - (performance.now() - started));
      run.timer = setTimeout(() => this.loop(run), delay);
    });
    this.inFlight.add(pending);
    void pending.finally(() => this.inFlight.delete(pending));
  }

  private record(run: CheckRun, result: ProbeResult, at: number, durationMs: number): void {
    const before = run.hysteresis.healthy;
    const changed = run.hysteresis.record(result.ok);
    const log = this.options.logger;
    if (!result.ok && before && !changed) {
      log.debug(`health check ${run.check.name}: probe failed (${run.hysteresis.pending}/${run.check.fall}): ${result.detail}`);
    }
    run.failing = result.ok ? 0 : run.failing + 1;
    if (result.ok) {
      run.logged = undefined;
    } else if (changed) {
      run.logged = { detail: result.detail, at };
    } else if (!run.hysteresis.healthy && run.failing >= run.check.fall && run.logged?.detail !== result.detail
      && (run.logged === undefined || at - run.logged.at >= (this.options.failingLogIntervalMs ?? FAILING_LOG_INTERVAL_MS))) {
      log.warn(`health check ${run.check.name} (${run.status.description}) fails: ${result.detail} (${run.failing} probes in a row); `
        + `keepalived acts on the groups: ${run.status.groups.join(', ') || 'none'}`);
      run.logged = { detail: result.detail, at };
    }
    run.status = {
      ...run.status,
      healthy: run.hysteresis.healthy,
      last: { ...result, at, durationMs },
      probes: run.status.probes + 1,
      failedProbes: run.status.failedProbes + (result.ok ? 0 : 1),
      transitions: run.status.transitions + (changed ? 1 : 0),
    };
    if (changed) run.unwritten = true;
    // The file first: the log line says what keepalived has been told.
    if (run.unwritten) this.write(run);
    if (changed) {
      const effect = run.hysteresis.healthy ? 'keepalived takes the groups back' : 'keepalived acts on the groups';
      log.info(`health check ${run.check.name} (${run.status.description}) is ${run.hysteresis.healthy
        ? `healthy after ${run.check.rise} successful probe(s)` : `failing after ${run.check.fall} failed probe(s)`}, last: ${result.detail}; `
        + `${effect}: ${run.status.groups.join(', ') || 'none'}`);
    }
    for (const listener of this.listeners) {
      try {
        listener(run.status);
      } catch (e) {
        log.warn(`a health status listener failed: ${(e as Error).message}`);
      }
    }
  }

  private write(run: CheckRun): void {
    try {
      // World-readable: keepalived runs as root without CAP_DAC_OVERRIDE. Nothing in it is secret.
      writeFileAtomic(run.file, `${run.hysteresis.healthy ? TRACK_FILE_HEALTHY : TRACK_FILE_FAILING}\n`, 0o644, false);
      run.unwritten = false;
      run.status = { ...run.status, written: true };
    } catch (e) {
      run.unwritten = true;
      run.status = { ...run.status, written: false };
      this.options.logger.error(`health check ${run.check.name}: cannot write ${run.file}: ${(e as Error).message}; keepalived keeps the previous state, retrying after the next probe`);
    }
  }
}

/** A track file's value (`0` / `1`), or undefined when it is missing or holds anything else. */
function readTrackFile(file: string): string | undefined {
  try {
    const value = readBoundedFile(file, MAX_SMALL_FILE, 'latin1').trim();
    return value === TRACK_FILE_HEALTHY || value === TRACK_FILE_FAILING ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Thrown when the spec's health checks cannot run on this node: `run` exits 1. */
export class HealthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HealthSetupError';
  }
}

/**
 * The prober for a spec, or undefined when it has no health checks. Throws `HealthSetupError` for a
 * malformed check or a track directory the agent cannot write (keepalived would then never see a
 * change, or, without the directory, silently track nothing).
 */
export function healthProberFor(spec: AgentSpec, trackDir: string | undefined, logger: Logger, probeEnv?: ProbeEnvironment): HealthProber | undefined {
  const checks = spec.healthChecks;
  if (checks === undefined || (Array.isArray(checks) && checks.length === 0)) return undefined;
  if (!Array.isArray(checks)) throw new HealthSetupError('spec.healthChecks is not a list');
  if (checks.length > MAX_HEALTH_CHECKS) throw new HealthSetupError(`spec.healthChecks has ${checks.length} checks; the agent runs at most ${MAX_HEALTH_CHECKS}`);
  const problems = checks.flatMap((c, i) => agentHealthCheckProblems(c).map((p) => `spec.healthChecks[${i}] ${p}`));
  const names = checks.map((c) => c.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) problems.push(`spec.healthChecks[${i}] name ${n} is used twice`);
  });
  if (problems.length > 0) throw new HealthSetupError(`cannot run the health checks:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const dir = trackDir ?? DEFAULT_TRACK_DIR;
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new HealthSetupError(`--track-dir ${dir} is not a directory the agent can write (${(e as Error).message}): `
      + 'it must be a volume that the agent and keepalived both mount, or keepalived tracks nothing');
  }
  const groupsOf = new Map<string, string[]>();
  for (const group of Array.isArray(spec.groups) ? spec.groups : []) {
    for (const track of Array.isArray(group?.tracks) ? group.tracks : []) {
      const list = groupsOf.get(track.check) ?? [];
      list.push(`${group.name} (${track.weight === 0 ? 'release' : `priority ${track.weight}`})`);
      groupsOf.set(track.check, list);
    }
  }
  return new HealthProber({ cluster: spec.cluster, checks, groupsOf, trackDir: dir, logger, probeEnv });
}
