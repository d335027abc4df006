/**
 * Helpers for the discovery tests of the bundled agent: building the bundle, a fixture node (interface
 * table and /proc files), a fake keepalived (a node process named `keepalived` that writes its pid
 * file, counts SIGHUPs and, like keepalived, makes its notify fifo and makes it anew on every SIGHUP),
 * writing lines into that fifo as keepalived does, and the agent's `run` as a child process whose
 * output can be awaited.
 */
import { ChildProcess, spawn } from 'child_process';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'fs';
import { join } from 'path';
import { performance } from 'perf_hooks';

import { AGENT } from './agent-bundle';

export { AGENT, buildAgent, ROOT } from './agent-bundle';

/** Polls until `condition` holds; fails naming what it waited for (and `detail()`, if given). */
export async function until(what: string, condition: () => boolean, timeoutMs = 8000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fixture node: eth0 with `198.51.100.<host>/24` and `2001:db8:1::<host>/64`, default routes via eth0. */
export interface NodeFixture {
  /** For --interfaces-json. */
  readonly interfacesJson: string;
  /** For KEEPALIVED_AGENT_PROC. */
  readonly procRoot: string;
}

export function writeNodeFixture(dir: string, host: number, extraAddresses: readonly string[] = []): NodeFixture {
  mkdirSync(join(dir, 'proc', 'net'), { recursive: true });
  const info = (address: string, family: string, cidr: string, extra = {}) => ({ address, netmask: '', family, mac: '02:00:00:00:00:01', internal: false, cidr, ...extra });
  const interfacesJson = join(dir, 'interfaces.json');
  writeFileSync(interfacesJson, JSON.stringify({
    lo: [info('127.0.0.1', 'IPv4', '127.0.0.1/8', { internal: true })],
    eth0: [
      info(`198.51.100.${host}`, 'IPv4', `198.51.100.${host}/24`),
      info(`2001:db8:1::${host}`, 'IPv6', `2001:db8:1::${host}/64`, { scopeid: 0 }),
      ...extraAddresses.map((a) => info(a.split('/')[0], a.includes(':') ? 'IPv6' : 'IPv4', a)),
    ],
  }));
  writeFileSync(join(dir, 'proc/net/route'), [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t016433C6\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'proc/net/ipv6_route'), [
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000100000000000000000001 00000400 00000002 00000000 00000003     eth0',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'proc/net/dev'), 'Inter-|\n face |\n    lo: 0\n  eth0: 0\n');
  return { interfacesJson, procRoot: join(dir, 'proc') };
}

const FAKE_KEEPALIVED = `
const fs = require('fs');
const { execFileSync } = require('child_process');
const [pidFile, hupLog, fifo] = process.argv.slice(2);
let fifoFd;
function makeFifo() {
  if (!fifo) return;
  if (fifoFd !== undefined) fs.closeSync(fifoFd);
  try { fs.unlinkSync(fifo); } catch {}
  // Made and opened under a temporary name, then renamed into place: a test that writes as soon as
  // the path appears must find it held open, or the kernel drops its line when the writer closes.
  const partial = fifo + '.partial';
  try { fs.unlinkSync(partial); } catch {}
  execFileSync('mkfifo', ['-m', '600', partial]);
  // keepalived keeps its fifo open read-write and non-blocking: lines wait in the pipe for a reader.
  fifoFd = fs.openSync(partial, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  fs.renameSync(partial, fifo);
}
makeFifo();
process.on('SIGHUP', () => {
  fs.appendFileSync(hupLog, Date.now() + '\\n');
  makeFifo();
});
process.on('SIGTERM', () => {
  try { fs.unlinkSync(pidFile); } catch {}
  process.exit(0);
});
fs.writeFileSync(pidFile, process.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

/** A fake keepalived: argv[0] is `keepalived`, it handles SIGHUP, and it makes the notify fifo. */
export class FakeKeepalived {
  readonly child: ChildProcess;
  readonly hupLog: string;

  constructor(readonly dir: string, readonly pidFile: string, readonly fifo?: string) {
    const script = join(dir, 'fake-keepalived.js');
    if (!existsSync(script)) writeFileSync(script, FAKE_KEEPALIVED);
    this.hupLog = join(dir, `hups-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(this.hupLog, '');
    this.child = spawn(process.execPath, [script, pidFile, this.hupLog, ...(fifo ? [fifo] : [])], { argv0: 'keepalived', stdio: 'ignore' });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGHUPs received so far. */
  get hups(): number {
    return readFileSync(this.hupLog, 'utf8').split('\n').filter((l) => l !== '').length;
  }

  /** Resolves once it has written its pid file. */
  async started(): Promise<void> {
    await until('the fake keepalived to write its pid file', () => existsSync(this.pidFile) && readFileSync(this.pidFile, 'utf8').trim() === String(this.pid));
    if (this.fifo) await until('the fake keepalived to make its fifo', () => existsSync(this.fifo!));
  }

  /** SIGTERM, as the kubelet stops keepalived; waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Writes one line into the notify fifo as keepalived does (a writer that may be the only one). */
export function writeFifoLine(fifo: string, line: string): void {
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}

/** The agent as a child process, with its output kept. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly output: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  private readonly exited: Promise<void>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [AGENT, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        this.output.push(...parts);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      this.exit = { code, signal, at: performance.now() };
      resolve();
    }));
  }

  /** The whole output so far. */
  get text(): string {
    return this.output.join('\n');
  }

  /** Lines matching a pattern. */
  lines(pattern: RegExp): string[] {
    return this.output.filter((l) => pattern.test(l));
  }

  /** Waits until `count` lines match. */
  async waitFor(pattern: RegExp, timeoutMs = 8000, count = 1): Promise<string> {
    await until(`${count} agent line(s) matching ${pattern}`, () => this.lines(pattern).length >= count || this.exit !== undefined, timeoutMs, () => this.text);
    if (this.lines(pattern).length < count) throw new Error(`the agent exited (${JSON.stringify(this.exit)}) before printing ${pattern}:\n${this.text}`);
    return this.lines(pattern)[count - 1];
  }

  /** SIGTERM; resolves with the exit and how long it took (ms). */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    if (this.exit) return { code: this.exit.code, signal: this.exit.signal, ms: 0 };
    const t0 = performance.now();
    this.child.kill('SIGTERM');
    await this.exited;
    return { code: this.exit!.code, signal: this.exit!.signal, ms: this.exit!.at - t0 };
  }

  /** SIGKILL, for cleanup after a failure. */
  async kill(): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls an async condition until it holds. */
export async function eventually(what: string, condition: () => Promise<boolean>, timeoutMs = 8000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(25);
  }
}

/** Runs the agent to completion, asynchronously (a fake API server in this process must keep answering). */
export async function runAgentOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [AGENT, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout, stderr, ms: performance.now() - t0 };
}
