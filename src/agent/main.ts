/**
 * The node agent's entry point, bundled into lib/agent/keepalived-agent.js (one dependency-free file
 * that the standalone ConfigMap carries). Exit codes: 0 done, 1 the node cannot run the spec or a file
 * cannot be read or written, 2 a bad command line.
 */
import { parseCommandLine, USAGE, UsageError } from './cli';
import { renderCommand } from './render-command';

/** Runs one command line; returns the exit code. Messages go to the given streams. */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  try {
    const invocation = parseCommandLine(argv);
    switch (invocation.command) {
      case 'help':
        out.write(`${USAGE}\n`);
        return 0;
      case 'render':
        out.write(`keepalived-agent: ${renderCommand(invocation.options, env)}\n`);
        return 0;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`keepalived-agent: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    err.write(`keepalived-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2), process.env, process.stdout, process.stderr);
