import { spawnSync } from 'child_process';

/** What an end-to-end suite lacks on this machine (root, or a command), or undefined. */
export function missingPrerequisite(commands: readonly (readonly string[])[] = [['ip', '-V'], ['keepalived', '--version']]): string | undefined {
  if (process.getuid?.() !== 0) return 'they need root (network namespaces, bridges, keepalived)';
  for (const [cmd, ...args] of commands) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `${cmd} is not installed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  return undefined;
}

/**
 * The suite's `test`, or `test.skip` when a prerequisite is missing: then it says so loudly, and under
 * CI=true a test that fails takes the suite's place, since CI must run it.
 */
export function endToEnd(suite: string, file: string, missing: string | undefined): typeof test {
  if (!missing) return test;
  if (process.env.CI === 'true') {
    test(`${suite} prerequisites`, () => {
      throw new Error(`The ${suite} cannot run: ${missing}. Under CI=true they must run.`);
    });
  } else {
    console.warn(`SKIPPING the ${suite} (${file}): ${missing}`);
  }
  return test.skip;
}
