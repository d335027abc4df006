/**
 * The agent's log lines: `keepalived-agent: ...` on stdout, warnings and errors on stderr (the kubelet
 * keeps both; it adds the timestamps). Debug lines only with KEEPALIVED_AGENT_DEBUG=1.
 *
 * Messages quote what the agent read (a Lease's holder, an API server's message, a group's name): one
 * message is one line, whatever it quotes. Control characters are escaped, so that a newline in a
 * Lease's `holderIdentity` cannot forge a log line of its own, and a line is cut at MAX_LINE_CHARS.
 */
import { Logger } from './node-watch';

/** The longest line written; the rest is cut (an API server's message may be 64 KiB). */
export const MAX_LINE_CHARS = 8192;

/** A message as one line: control characters escaped (`\n`, `\u001b`), at most MAX_LINE_CHARS. */
export function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  const line = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}... (${line.length - MAX_LINE_CHARS} more characters)` : line;
}

/** A logger writing to the given streams. */
export function streamLogger(out: NodeJS.WritableStream, err: NodeJS.WritableStream, debug = false): Logger {
  return {
    debug: (m) => {
      if (debug) out.write(`keepalived-agent: debug: ${oneLine(m)}\n`);
    },
    info: (m) => {
      out.write(`keepalived-agent: ${oneLine(m)}\n`);
    },
    warn: (m) => {
      err.write(`keepalived-agent: warning: ${oneLine(m)}\n`);
    },
    error: (m) => {
      err.write(`keepalived-agent: error: ${oneLine(m)}\n`);
    },
  };
}
