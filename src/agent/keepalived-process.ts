/**
 * keepalived as the sidecar sees it through the shared process namespace: its pid file, whether that
 * pid is really a running keepalived that handles SIGHUP, and the reload itself, retried until it
 * lands (keepalived may not have started yet, or may be restarting).
 */
import { readFileSync, statSync } from 'fs';
import { readBoundedFile } from './bounded-read';
import { basename } from 'path';
import { Clock, Logger, SYSTEM_CLOCK } from './node-watch';

/** A running keepalived, or why there is none to signal. */
export type KeepalivedProcess =
  | { readonly pid: number; readonly pidFileMtimeMs: number; readonly handlesHup: boolean }
  | { readonly problem: string };

/** Where to look; the default is the real /proc (not KEEPALIVED_AGENT_PROC, which is for network files). */
export interface ProcessProbe {
  readonly procRoot?: string;
  /** Our own pid, never taken for keepalived. @default process.pid */
  readonly selfPid?: number;
}

/**
 * Reads keepalived's pid file and checks the process: it exists, it is keepalived (its comm or its
 * argv[0] is `keepalived`, so that a stale pid file whose pid was reused is not trusted), and whether
 * it already handles SIGHUP (SigBlk, as keepalived's signalfd needs, or SigCgt): a keepalived still
 * starting up would be killed by one.
 */
export function probeKeepalived(pidFile: string, probe: ProcessProbe = {}): KeepalivedProcess {
  const proc = probe.procRoot ?? '/proc';
  let text: string;
  let mtimeMs: number;
  try {
    text = readBoundedFile(pidFile, 64);
    mtimeMs = statSync(pidFile).mtimeMs;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? `no pid file ${pidFile} (keepalived is not running yet)` : `cannot read the pid file ${pidFile}: ${(e as Error).message}` };
  }
  const pidText = text.trim();
  if (!/^[1-9][0-9]{0,9}$/.test(pidText)) return { problem: `the pid file ${pidFile} holds ${JSON.stringify(text.slice(0, 40))}, not a pid` };
  const pid = Number(pidText);
  if (pid === (probe.selfPid ?? process.pid)) return { problem: `the pid file ${pidFile} names this agent (pid ${pid})` };
  let comm: string;
  let argv0: string;
  let status: string;
  try {
    comm = readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
    argv0 = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0')[0];
    status = readFileSync(`${proc}/${pid}/status`, 'utf8');
  } catch {
    return { problem: `the pid file ${pidFile} names pid ${pid}, which is not running (a stale pid file)` };
  }
  if (comm !== 'keepalived' && basename(argv0) !== 'keepalived') {
    return { problem: `the pid file ${pidFile} names pid ${pid}, which is ${JSON.stringify(comm)}, not keepalived (a stale pid file)` };
  }
  if (/^State:\s+Z/m.test(status)) return { problem: `keepalived (pid ${pid}) has exited` };
  // SIGHUP is signal 1: bit 0 of the masks. keepalived blocks its signals and reads them from a
  // signalfd (SigBlk); a process that catches it with a handler shows it in SigCgt. Either way SIGHUP
  // no longer has its default action, which is to terminate.
  const hasHup = (field: string) => {
    const mask = new RegExp(`^${field}:\\s+([0-9a-fA-F]+)$`, 'm').exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & 1n) === 1n;
  };
  const handlesHup = hasHup('SigCgt') || hasHup('SigBlk');
  return { pid, pidFileMtimeMs: mtimeMs, handlesHup };
}

/** Options of a `Reloader`. */
export interface ReloaderOptions {
  readonly pidFile: string;
  readonly logger: Logger;
  /** How often a pending reload is retried. @default 1000 */
  readonly retryMs?: number;
  readonly clock?: Clock;
  readonly probe?: ProcessProbe;
  /** Sends the signal (tests may observe it). @default process.kill */
  readonly kill?: (pid: number, signal: NodeJS.Signals) => void;
  /** Called after each SIGHUP sent, with keepalived's pid. */
  readonly onReloaded?: (pid: number) => void;
}

/**
 * Sends keepalived SIGHUP after the agent rewrote its config, and retries until it can: while there is
 * no pid file, the pid is stale, or keepalived does not catch SIGHUP yet. A keepalived whose pid file
 * is newer than the config started after it was written, and read it already: no signal then.
 */
export class Reloader {
  private pending: { writtenAt: number; reason: string } | undefined;
  private timer: unknown;
  private lastProblem: string | undefined;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: ReloaderOptions) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Whether a reload waits for keepalived. */
  get isPending(): boolean {
    return this.pending !== undefined;
  }

  /** Asks for a reload of the config written at `writtenAt` (ms since the epoch); tries at once. */
  request(writtenAt: number, reason: string): void {
    if (this.stopped) return;
    this.pending = { writtenAt, reason };
    this.lastProblem = undefined;
    this.attempt();
  }

  /** Cancels any retry. */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private attempt(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    if (pending === undefined || this.stopped) return;
    const found = probeKeepalived(this.options.pidFile, this.options.probe);
    let problem: string | undefined;
    if ('problem' in found) {
      problem = found.problem;
    } else if (found.pidFileMtimeMs > pending.writtenAt) {
      this.options.logger.info(`keepalived (pid ${found.pid}) started after the config was written and read it: no SIGHUP needed`);
      this.pending = undefined;
      return;
    } else if (!found.handlesHup) {
      problem = `keepalived (pid ${found.pid}) does not handle SIGHUP yet (still starting)`;
    } else {
      try {
        if (this.options.kill) this.options.kill(found.pid, 'SIGHUP');
        else process.kill(found.pid, 'SIGHUP');
        this.pending = undefined;
        this.options.logger.info(`sent SIGHUP to keepalived (pid ${found.pid}): ${pending.reason}`);
        this.options.onReloaded?.(found.pid);
        return;
      } catch (e) {
        problem = `cannot signal keepalived (pid ${found.pid}): ${(e as Error).message}`;
      }
    }
    if (problem !== this.lastProblem) {
      this.options.logger.warn(`the reload waits: ${problem}; retrying every ${this.options.retryMs ?? 1000} ms`);
      this.lastProblem = problem;
    }
    this.timer = this.clock.setTimeout(() => this.attempt(), this.options.retryMs ?? 1000);
  }
}
