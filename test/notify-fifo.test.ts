import { execFileSync } from 'child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, symlinkSync, writeSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { MAX_NOTIFY_LINE_CHARS, NotifyEvent, NotifyFifoReader, openFifo } from '../src/agent/notify-fifo';
import { Logger } from '../src/agent/node-watch';

/*
 * The notify fifo is on a volume that keepalived writes too: the reader never follows a symbolic link
 * put in its place, and bounds every line it holds.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'notify-fifo-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mkfifo = (path: string) => execFileSync('mkfifo', ['-m', '600', path]);

function reader(path: string): { events: NotifyEvent[]; logs: string[]; reader: NotifyFifoReader } {
  const events: NotifyEvent[] = [];
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`debug ${m}`), info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`),
  };
  return { events, logs, reader: new NotifyFifoReader({ path, logger, pollMs: 20, onEvent: (e) => events.push(e) }) };
}

function write(path: string, text: string): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a symbolic link in the fifo\'s place is refused (O_NOFOLLOW), even when it points to a fifo', async () => {
  // GIVEN a real fifo elsewhere, and a symlink to it where keepalived's fifo should be
  const elsewhere = join(dir, 'elsewhere.fifo');
  mkfifo(elsewhere);
  const path = join(dir, 'notify.fifo');
  symlinkSync(elsewhere, path);
  // THEN opening it fails with ELOOP rather than following the link
  expect(() => openFifo(path)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  expect(openFifo(elsewhere).identity).toMatch(/^\d+:\d+$/);
  // AND the reader does not read through it
  const r = reader(path);
  r.reader.start();
  try {
    write(elsewhere, 'INSTANCE "edge_front" MASTER 250\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.events).toEqual([]);
    expect(r.logs).toContain(`warn notify fifo: ${path} is not a fifo (a symbolic link; not followed)`);
  } finally {
    r.reader.stop();
  }
});

test('a line longer than MAX_NOTIFY_LINE_CHARS is dropped with a warning; the lines around it are read', async () => {
  const path = join(dir, 'notify.fifo');
  mkfifo(path);
  const r = reader(path);
  r.reader.start();
  try {
    await until('the fifo open', () => r.logs.some((l) => l.includes('reading keepalived\'s state changes')));
    write(path, 'INSTANCE "edge_front" BACKUP 250\n');
    // A writer that never ends its line: far more than the bound, in pieces.
    for (let i = 0; i < 16; i++) {
      write(path, 'x'.repeat(4096));
      await new Promise((resolve) => setTimeout(resolve, 5)); // the pipe holds 64 KiB: let the reader drain it
    }
    write(path, '\nINSTANCE "edge_front" MASTER 250\n');
    await until('two events', () => r.events.length === 2);
    expect(r.events.map((e) => e.state)).toEqual(['BACKUP', 'MASTER']);
    expect(r.logs.filter((l) => l.startsWith('warn notify fifo: dropped a line longer than'))).toHaveLength(1);
    expect(MAX_NOTIFY_LINE_CHARS).toBe(4096);
  } finally {
    r.reader.stop();
  }
});
