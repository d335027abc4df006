import { execFileSync } from 'child_process';
import { mkdirSync, renameSync, rmSync } from 'fs';
import { join } from 'path';

export const ROOT = join(__dirname, '..', '..');
/** The bundled node agent, as `npm run bundle:agent` writes it and the standalone ConfigMap carries it. */
export const AGENT = join(ROOT, 'lib/agent/keepalived-agent.js');

/** Runs the build's bundler (projenrc/bundle.js) for `what` (`lib`, `agent`) into `outdir`. */
export function bundle(what: string[], outdir: string, env: NodeJS.ProcessEnv = process.env, cwd = ROOT): void {
  execFileSync(process.execPath, [join(ROOT, 'projenrc/bundle.js'), ...what, '--outdir', outdir], { cwd, env });
}

/**
 * Bundles src/agent into lib/agent/keepalived-agent.js from the current source, as the build does, so
 * that a test file run on its own tests what it sees. Through a temporary directory and a rename: a
 * concurrent reader never sees half a bundle.
 */
export function buildAgent(): void {
  mkdirSync(join(ROOT, 'lib/agent'), { recursive: true });
  const partial = join(ROOT, `lib/.agent-${process.pid}`);
  bundle(['agent'], partial);
  renameSync(join(partial, 'agent', 'keepalived-agent.js'), AGENT);
  rmSync(partial, { recursive: true, force: true });
}
