// Named imports: a namespace import of a Node module makes the bundle copy all its exports at load.
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

/** Where the build puts the bundled node agent, relative to this file in `lib/core` or `src/core`. */
const CANDIDATES = [
  join(__dirname, '..', 'agent', 'keepalived-agent.js'),
  join(__dirname, '..', '..', 'lib', 'agent', 'keepalived-agent.js'),
];

let cached: string | undefined;

/** The bundled node agent's source, which the standalone ConfigMap carries as `keepalived-agent.js`. */
export function agentBundleSource(): string {
  if (cached !== undefined) return cached;
  const file = CANDIDATES.find((f) => existsSync(f));
  if (!file) {
    throw new Error(`The bundled node agent is missing (looked in ${CANDIDATES.join(', ')}). Run \`npm run bundle:agent\` (part of the build).`);
  }
  cached = readFileSync(file, 'utf8');
  return cached;
}
