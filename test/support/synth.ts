import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import { App, AppProps, Chart, Testing } from 'cdk8s';
import { expectValidAgainstSchemas } from './schemas';

const SCRATCH_PREFIX = 'kc-test-apps-';
let scratch: string | undefined;

/**
 * This test process's directory for apps' outdirs, removed when the process exits; one that a killed
 * process left behind is removed by the next (cdk8s's Testing.app() leaves a directory per app in /tmp).
 */
function scratchDir(): string {
  if (scratch) return scratch;
  for (const entry of fs.readdirSync(os.tmpdir())) {
    const pid = Number(entry.slice(SCRATCH_PREFIX.length));
    if (entry.startsWith(SCRATCH_PREFIX) && Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) {
      fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    }
  }
  const dir = path.join(os.tmpdir(), `${SCRATCH_PREFIX}${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  // Jest's `process` is a copy whose 'exit' never comes: the real one is the global of the context that runs Jest.
  (vm.runInThisContext('process') as NodeJS.Process).once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (scratch = dir);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An app as cdk8s's Testing.app() makes one, its outdir in this process's scratch directory. */
export function testApp(props: AppProps = {}): App {
  return new App({ outdir: fs.mkdtempSync(path.join(scratchDir(), 'app-')), ...props });
}

/**
 * Synthesizes a chart, and validates every object against its real schema before returning it.
 * Every test synthesizes through here, so no synthesized object escapes schema validation. (CRDs'
 * schemas are made strict: an unknown field is an error. Kubernetes' own kinds are checked with
 * kubernetes-models, whose compiled schemas let unknown fields through.)
 */
export function synth(chart: Chart): any[] {
  const objects = Testing.synth(chart);
  expectValidAgainstSchemas(objects);
  return objects;
}

/** A fresh app and chart, as tests use them. */
export function newChart(id = 'test'): { app: App; chart: Chart } {
  const app = testApp();
  return { app, chart: new Chart(app, id) };
}
