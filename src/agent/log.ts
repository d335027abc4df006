/**
 * The agent's log lines: `keepalived-agent: ...` on stdout, warnings and errors on stderr (the kubelet
 * keeps both; it adds the timestamps). Debug lines only with KEEPALIVED_AGENT_DEBUG=1.
 */
import { Logger } from './node-watch';

/** A logger writing to the given streams. */
export function streamLogger(out: NodeJS.WritableStream, err: NodeJS.WritableStream, debug = false): Logger {
  return {
    debug: (m) => {
      if (debug) out.write(`keepalived-agent: debug: ${m}\n`);
    },
    info: (m) => {
      out.write(`keepalived-agent: ${m}\n`);
    },
    warn: (m) => {
      err.write(`keepalived-agent: warning: ${m}\n`);
    },
    error: (m) => {
      err.write(`keepalived-agent: error: ${m}\n`);
    },
  };
}
