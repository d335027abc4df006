/**
 * The node agent's entry point, bundled into lib/agent/keepalived-agent.js (one dependency-free file
 * that the standalone ConfigMap carries). Exit codes: 0 done (or `run` stopped by SIGTERM), 1 the node
 * cannot run the spec or a file cannot be read or written, 2 a bad command line.
 */
import { parseCommandLine, USAGE, UsageError } from './cli';
import { streamLogger } from './log';
import { renderCommand } from './render-command';
import { startRun } from './run-command';

/** How long `run` may take to stop after SIGTERM before it exits regardless. */
const STOP_DEADLINE_MS = 900;

/** Runs one command line; resolves with the exit code. Messages go to the given streams. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    const invocation = parseCommandLine(argv);
    switch (invocation.command) {
      case 'help':
        out.write(`${USAGE}\n`);
        return 0;
      case 'render': {
        const outcome = await renderCommand(invocation.options, env);
        for (const warning of outcome.warnings) err.write(`keepalived-agent: warning: ${warning}\n`);
        for (const line of outcome.lines) out.write(`keepalived-agent: ${line}\n`);
        return 0;
      }
      case 'run': {
        const logger = streamLogger(out, err, env.KEEPALIVED_AGENT_DEBUG === '1');
        const agent = startRun(invocation.options, env, logger);
        // (never rejects: a metrics port that cannot be had is tried again while the agent runs on)
        await agent.ready;
        // Signal handlers alone do not keep Node running: this does, until SIGTERM.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            process.off('SIGTERM', onSignal);
            process.off('SIGINT', onSignal);
            logger.info(`${signal}: stopping`);
            setTimeout(resolve, STOP_DEADLINE_MS).unref();
            agent.stop().then(resolve, (e) => {
              logger.error(`stopping failed: ${(e as Error).message}`);
              resolve();
            });
          };
          process.on('SIGTERM', onSignal);
          process.on('SIGINT', onSignal);
        });
        clearInterval(keepAlive);
        logger.info('stopped');
        return 0;
      }
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

const command = process.argv[2];
main(process.argv.slice(2), process.env, process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
  // `run` may leave sockets and timers behind once stopped: do not wait for them.
  if (command === 'run') process.exit(code);
}, (e) => {
  process.stderr.write(`keepalived-agent: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
