#!/usr/bin/env node
/**
 * The `keepalived-constructs` command (the package's bin). It runs on core alone: neither cdk8s nor
 * Pulumi need be installed.
 */
import { EXIT_BROKEN_PIPE, EXIT_IO_ERROR, runCli } from './commands';

// The output's reader went away (`render | head`): stop quietly, as SIGPIPE stops other commands.
// Any other failure to write (a full disk) is said in one line, not as an unhandled stream error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`keepalived-constructs: cannot write the output: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? EXIT_BROKEN_PIPE : EXIT_IO_ERROR);
});
process.stderr.on('error', () => process.exit(EXIT_IO_ERROR));

runCli(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
