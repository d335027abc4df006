import { execFileSync } from 'child_process';
import { mkdirSync, renameSync } from 'fs';
import { join } from 'path';

export const ROOT = join(__dirname, '..', '..');
/** The bundled node agent, as `npm run bundle:agent` writes it and the standalone ConfigMap carries it. */
export const AGENT = join(ROOT, 'lib/agent/keepalived-agent.js');

/**
 * Bundles src/agent into lib/agent/keepalived-agent.js from the current source, so that a test file run
 * on its own tests what it sees. Through a temporary name and a rename: a concurrent reader never
 * sees half a bundle.
 */
export function buildAgent(): void {
  mkdirSync(join(ROOT, 'lib/agent'), { recursive: true });
  const partial = join(ROOT, `lib/agent/.keepalived-agent.${process.pid}.js`);
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), ['src/agent/main.ts', '--bundle', '--platform=node', '--target=node20',
    '--format=cjs', '--legal-comments=none', `--outfile=${partial}`, '--log-level=warning'], { cwd: ROOT });
  renameSync(partial, AGENT);
}
