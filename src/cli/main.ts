#!/usr/bin/env node
/**
 * The `keepalived-constructs` command (the package's bin). It runs on core alone: neither cdk8s nor
 * Pulumi need be installed.
 */
import { runCli } from './commands';

runCli(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
