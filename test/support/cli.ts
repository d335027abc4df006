/**
 * Running the `keepalived-constructs` CLI in process (files and stdin in memory), and running the
 * programs its `import` prints: many in one process, with the package name mapped to src/.
 */
import * as path from 'path';
import * as cdk8s from 'cdk8s';
import * as ts from 'typescript';
import * as src from '../../src';
import { runCli } from '../../src/cli/commands';
import * as kp from '../../src/pulumi';

const ROOT = path.join(__dirname, '..', '..');

/** What one run of the CLI did. */
export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Files it wrote (-o), by path. */
  readonly written: Map<string, string>;
}

/** Runs the CLI with `files` as the only files there are, and `stdin` as stdin. */
export async function cli(argv: string[], files: Record<string, string> = {}, stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const written = new Map<string, string>();
  const status = await runCli(argv, {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    readStdin: async () => stdin,
    readFile: (f) => {
      if (!(f in files)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${f}'`), { code: 'ENOENT' });
      return files[f];
    },
    listDirectory: (f) => {
      if (f in files) return undefined;
      const entries = Object.keys(files).filter((k) => k.startsWith(`${f}/`)).map((k) => k.slice(f.length + 1));
      if (entries.length === 0) throw Object.assign(new Error(`ENOENT: no such file or directory, stat '${f}'`), { code: 'ENOENT' });
      return entries;
    },
    writeFile: (f, t) => { written.set(f, t); },
  });
  return { status, stdout, stderr, written };
}

/** A TypeScript program as CommonJS JavaScript (no type check: see `typeCheckPrograms`). */
function transpile(code: string): string {
  return ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
}

function evaluate(code: string, modules: Record<string, unknown>): void {
  const js = transpile(code);
  const require = (name: string) => {
    if (!(name in modules)) throw new Error(`the generated program imports ${name}, which it should not`);
    return modules[name];
  };
  const module = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  new Function('require', 'exports', 'module', js)(require, module.exports, module);
}

/**
 * Runs a generated cdk8s program (which imports only `cdk8s` and `keepalived-constructs`) and returns
 * what its `app.synth()` would have written: the app's YAML, as `App.synthYaml()` gives it.
 * `constructs` stands for the package (by default, src/).
 */
export function runCdk8sProgram(code: string, constructs: unknown = src): string {
  const outputs: string[] = [];
  class App extends cdk8s.App {
    public override synth(): void {
      outputs.push(this.synthYaml());
    }
  }
  evaluate(code, { 'cdk8s': { ...cdk8s, App }, 'keepalived-constructs': constructs });
  if (outputs.length !== 1) throw new Error(`the program called app.synth() ${outputs.length} times`);
  return outputs[0];
}

/**
 * Runs a generated Pulumi program (which imports only `keepalived-constructs/pulumi`) and returns the
 * components it declared. Call it inside a fresh `newProgram()`.
 */
export function runPulumiProgram(code: string): kp.KeepalivedCluster[] {
  const created: kp.KeepalivedCluster[] = [];
  const record = <T extends new (...args: any[]) => kp.KeepalivedCluster>(base: T) => class extends base {
    constructor(...args: any[]) {
      super(...args);
      created.push(this);
    }
  };
  evaluate(code, {
    'keepalived-constructs/pulumi': {
      ...kp,
      KeepalivedCluster: record(kp.KeepalivedCluster),
      FrontendVips: record(kp.FrontendVips),
      GatewayPair: record(kp.GatewayPair),
    },
  });
  return created;
}

/**
 * Type-checks programs against the public API (the package name mapped to src/, as its `exports`
 * map it to lib/), all in one compilation. Returns the diagnostics as text, empty when they compile.
 */
export function typeCheckPrograms(programs: Record<string, string>): string[] {
  const files = new Map(Object.entries(programs).map(([name, code]) => [path.join(ROOT, 'test', '.cli-programs', name), code]));
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    baseUrl: ROOT,
    paths: {
      'keepalived-constructs': ['src/index.ts'],
      'keepalived-constructs/pulumi': ['src/pulumi/index.ts'],
    },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v, onError, create) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, v) : getSourceFile(f, v, onError, create));
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
