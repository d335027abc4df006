/**
 * Reads keepalived's notify_fifo: one line per state change, `INSTANCE "<name>" <STATE> <priority>`
 * (and `GROUP "<name>" <STATE>` for sync groups). keepalived makes the fifo itself (mode 0600) and, on
 * every SIGHUP, unlinks it and makes a new one; so the reader checks the path every `pollMs` and
 * reopens it when it is a different fifo, and waits while it does not exist. It opens the fifo
 * read-write and non-blocking, as keepalived does: the open never blocks, and the reader never sees an
 * end of file while no writer has it open. Lines written to a new fifo before the reader reopens it wait
 * in the pipe's buffer.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'fs';
import { Socket } from 'net';
import { LineDecoder } from './kube-client';
import { Logger } from './node-watch';

/** keepalived's instance states. */
export type VrrpState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** One line of the fifo. */
export interface NotifyEvent {
  readonly kind: 'INSTANCE' | 'GROUP';
  readonly name: string;
  /** MASTER, BACKUP, FAULT, STOP (and, for other kinds of lines, whatever keepalived wrote). */
  readonly state: string;
  readonly priority?: number;
}

/**
 * The longest fifo line the reader takes. keepalived's lines are an instance name (a few dozen
 * characters), a state and a priority; a longer one is dropped, so a writer that never sends a newline
 * cannot grow the reader's buffer.
 */
export const MAX_NOTIFY_LINE_CHARS = 4096;

/**
 * Opens the fifo read-write and non-blocking, never through a symbolic link (`O_NOFOLLOW`: a link
 * put in its place on the shared volume fails with ELOOP), and checks that what it opened is a fifo.
 * Returns the descriptor and the fifo's identity (`dev:ino`); throws otherwise.
 */
export function openFifo(path: string): { readonly fd: number; readonly identity: string } {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFIFO()) throw new Error(`${path} is not a fifo`);
    return { fd, identity: `${st.dev}:${st.ino}` };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Parses one fifo line; undefined for lines of other kinds (virtual servers, MASTER_RX_LOWER_PRI, ...). */
export function parseNotifyLine(line: string): NotifyEvent | undefined {
  const m = /^(INSTANCE|GROUP) "((?:[^"\\]|\\.)*)" (\S+)(?: (\d+))?\s*$/.exec(line.trim());
  if (!m) return undefined;
  return { kind: m[1] as 'INSTANCE' | 'GROUP', name: m[2], state: m[3], ...(m[4] === undefined ? {} : { priority: Number(m[4]) }) };
}

/** Options of a `NotifyFifoReader`. */
export interface NotifyFifoOptions {
  readonly path: string;
  readonly onEvent: (event: NotifyEvent) => void;
  readonly logger: Logger;
  /** How often the path is checked for a new fifo. @default 1000 */
  readonly pollMs?: number;
}

/** The reader; `start()` and `stop()`. */
export class NotifyFifoReader {
  private socket: Socket | undefined;
  private identity: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProblem: string | undefined;
  private stopped = false;

  constructor(private readonly options: NotifyFifoOptions) {}

  /** Opens the fifo when it exists, and checks the path every pollMs from now on. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.check();
    this.timer = setInterval(() => this.check(), this.options.pollMs ?? 1000);
  }

  /** Checks the path now: opens a new fifo, or notices that it is gone. */
  check(): void {
    if (this.stopped) return;
    let identity: string | undefined;
    let problem: string | undefined;
    try {
      // lstat: a symbolic link is not the fifo keepalived made, whatever it points to.
      const st = lstatSync(this.options.path);
      if (st.isFIFO()) identity = `${st.dev}:${st.ino}`;
      else problem = `${this.options.path} is not a fifo${st.isSymbolicLink() ? ' (a symbolic link; not followed)' : ''}`;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? `${this.options.path} does not exist yet` : `cannot stat ${this.options.path}: ${(e as Error).message}`;
    }
    if (identity !== undefined && identity === this.identity && this.socket !== undefined) return;
    this.close();
    if (identity === undefined) {
      this.note(problem!, problem!.includes('symbolic link') ? 'warn' : 'info');
      return;
    }
    this.open();
  }

  /** Stops reading. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.close();
  }

  private open(): void {
    let fd: number;
    let identity: string;
    try {
      ({ fd, identity } = openFifo(this.options.path));
    } catch (e) {
      this.note(`cannot open ${this.options.path}: ${(e as Error).message}`, 'warn');
      return;
    }
    const socket = new Socket({ fd, readable: true, writable: false });
    const lines = new LineDecoder(MAX_NOTIFY_LINE_CHARS, (chars) => {
      this.options.logger.warn(`notify fifo: dropped a line longer than ${MAX_NOTIFY_LINE_CHARS} characters (${chars} read)`);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) this.line(line);
    });
    socket.on('error', (e) => {
      this.options.logger.warn(`reading ${this.options.path}: ${e.message}; reopening`);
      if (this.socket === socket) this.close();
    });
    socket.on('close', () => {
      if (this.socket === socket) this.close();
    });
    this.socket = socket;
    this.identity = identity;
    this.lastProblem = undefined;
    this.options.logger.info(`reading keepalived's state changes from ${this.options.path}`);
  }

  private line(line: string): void {
    const event = parseNotifyLine(line);
    if (event === undefined) {
      this.options.logger.debug(`notify fifo: ignored ${JSON.stringify(line)}`);
      return;
    }
    try {
      this.options.onEvent(event);
    } catch (e) {
      this.options.logger.error(`notify fifo: handling ${JSON.stringify(line)} failed: ${(e as Error).message}`);
    }
  }

  private close(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.identity = undefined;
    socket?.destroy();
  }

  private note(problem: string, level: 'info' | 'warn'): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.options.logger[level](`notify fifo: ${problem}`);
  }
}
