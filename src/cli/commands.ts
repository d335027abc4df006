/**
 * The commands: validate, render and import. `runCli` takes the arguments and the outside world (files,
 * stdin, stdout, stderr) and returns the exit status, so tests run it in process and `main.ts` runs it
 * for real. Exit 0 ok, 1 invalid input, 2 usage, 74 output that cannot be written (and, from main.ts,
 * 141 for a closed output pipe).
 */
import * as fs from 'fs';
import * as path from 'path';
import { SidecarMode } from '../core';
import { FieldPath, formatPath } from './field-path';
import { HELP, OVERVIEW } from './help';
import { importProgram } from './import-program';
import { KeepalivedInstanceInput, readKeepalivedInstance } from './keepalived-instance';
import { manifestsYaml } from './manifest-yaml';
import { CliTarget, ModelIssue, modelInstances } from './model';
import { decodeInput, Diagnostic, displayName, InputFile, locate, MAX_DOCUMENTS, MAX_INPUT_BYTES, parseFile, YamlDocument } from './source';

/** What the CLI reads and writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  /** The file's text; throws (as fs does) when it cannot be read. */
  readonly readFile: (file: string) => string;
  /** The names of a directory's entries, or undefined when `file` is not a directory. */
  readonly listDirectory: (file: string) => string[] | undefined;
  readonly writeFile: (file: string, text: string) => void;
}

/** The real files, stdin and streams. */
export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    // At most one byte over the limit: parseFile says the input is too large.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > MAX_INPUT_BYTES) break;
    }
    return decodeInput(Buffer.concat(chunks).subarray(0, MAX_INPUT_BYTES + 1));
  },
  readFile: readBoundedInput,
  listDirectory: (file) => {
    if (!fs.statSync(file).isDirectory()) return undefined;
    // A directory's entries are its own files: a symbolic link (a pull request's, say) could name any
    // file of the machine, /proc/self/environ or a device; name such a file itself with -f.
    return fs.readdirSync(file, { withFileTypes: true }).map((entry) => {
      if (entry.isSymbolicLink() && /\.ya?ml$/.test(entry.name)) throw new Error(`${path.join(file, entry.name)} is a symbolic link; name the file it points to with -f`);
      return entry.name;
    });
  },
  writeFile: (file, text) => {
    makeDirectories(path.dirname(file));
    fs.writeFileSync(file, text);
  },
};

/**
 * `mkdir -p`, a level at a time. Node's own (`recursive: true`) never returns where a directory exists
 * but making one in it fails with ENOENT, as under /proc; here that error is thrown.
 */
function makeDirectories(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && fs.statSync(dir).isDirectory()) return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw e;
    makeDirectories(parent);
    fs.mkdirSync(dir);
  }
}

/**
 * A file's text, at most one byte over `MAX_INPUT_BYTES` (parseFile says it is too large): a regular
 * file only, never a device or a FIFO (which would never end, or never open).
 */
function readBoundedInput(file: string): string {
  if (!fs.statSync(file).isFile()) throw new Error('is not a regular file (a device, a FIFO or a socket)');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_INPUT_BYTES + 1);
    let size = 0;
    for (let n = 1; n > 0 && size < buffer.length; size += n) n = fs.readSync(fd, buffer, size, buffer.length - size, null);
    return decodeInput(buffer.subarray(0, size));
  } finally {
    fs.closeSync(fd);
  }
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** The output could not be written (sysexits' EX_IOERR). */
export const EXIT_IO_ERROR = 74;
/** The output's reader closed the pipe: what a shell reports for a command that SIGPIPE ended (128 + 13). */
export const EXIT_BROKEN_PIPE = 141;

class UsageError extends Error {}

/** The output could not be written for a reason other than the arguments (a full disk, an I/O error). */
class OutputError extends Error {}

const COMMANDS = ['validate', 'render', 'import'] as const;
type Command = typeof COMMANDS[number];

/** Options each command takes; values are strings, `-f` collects several. */
const STANDALONE_OPTIONS = ['--namespace', '--node-order', '--discovery', '--sidecar', '--keepalived-image', '--keepalived-version', '--agent-image', '--agent-in-image'];
const OPTIONS: Record<Command, string[]> = {
  validate: ['--filename', '--target', ...STANDALONE_OPTIONS],
  render: ['--filename', '--target', ...STANDALONE_OPTIONS, '--output-dir'],
  import: ['--filename', '--framework'],
};
/** Options without a value. */
const SWITCHES = ['--discovery', '--agent-in-image'];
const SHORT: Record<string, string> = { '-f': '--filename', '-o': '--output-dir', '--output': '--output-dir' };

interface ParsedArgs {
  readonly files: string[];
  readonly values: Map<string, string>;
  readonly help: boolean;
}

function parseArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const files: string[] = [];
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') { help = true; continue; }
    // --flag=value, and -f=value as kubectl (pflag) takes it.
    const eq = arg.startsWith('-') ? arg.indexOf('=') : -1;
    const flag = SHORT[eq > 0 ? arg.slice(0, eq) : arg] ?? (eq > 0 ? arg.slice(0, eq) : arg);
    if (!arg.startsWith('-') || arg === '-') {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}${command !== 'import' || files.length === 0 ? '; name input files with -f' : ''}`);
    }
    if (!OPTIONS[command].includes(flag)) throw new UsageError(`${command} has no option ${arg}`);
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (SWITCHES.includes(flag)) {
      if (inline !== undefined) throw new UsageError(`${flag} takes no value`);
      if (values.has(flag)) throw new UsageError(`${flag} is given twice`);
      values.set(flag, 'true');
      continue;
    }
    if (flag === '--filename') {
      const before = files.length;
      if (inline !== undefined) files.push(inline);
      else while (i + 1 < argv.length && (argv[i + 1] === '-' || !argv[i + 1].startsWith('-'))) files.push(argv[++i]);
      if (files.length === before) throw new UsageError(`${arg} needs at least one file (or - for stdin)`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('-'))) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag} is given twice`);
    values.set(flag, value);
  }
  return { files, values, help };
}

function targetOf(values: Map<string, string>): CliTarget {
  const kind = values.get('--target') ?? 'deckhouse';
  if (kind !== 'deckhouse' && kind !== 'standalone') throw new UsageError(`--target ${kind} is not a target; valid: deckhouse or standalone`);
  if (kind === 'deckhouse') {
    for (const o of STANDALONE_OPTIONS) if (values.has(o)) throw new UsageError(`${o} applies to --target standalone only`);
    return { kind };
  }
  const order = values.get('--node-order')?.split(',').map((n) => n.trim()).filter((n) => n !== '');
  // (An empty value is a script's empty variable, not a wish for no order: that is leaving the option out.)
  if (order?.length === 0) throw new UsageError('--node-order needs node names, e.g. --node-order node-a,node-b');
  const images = {
    keepalived: values.get('--keepalived-image'),
    keepalivedVersion: values.get('--keepalived-version'),
    agent: values.get('--agent-image'),
    agentInImage: values.has('--agent-in-image') ? true : undefined,
  };
  const given = Object.fromEntries(Object.entries(images).filter(([, v]) => v !== undefined));
  const sidecar = values.get('--sidecar');
  if (sidecar !== undefined && !(Object.values(SidecarMode) as string[]).includes(sidecar)) {
    throw new UsageError(`--sidecar ${sidecar} is not a sidecar mode; valid: ${Object.values(SidecarMode).join(' or ')}`);
  }
  return {
    kind,
    namespace: values.get('--namespace'),
    nodeOrder: order,
    discovery: values.has('--discovery'),
    sidecar: sidecar as SidecarMode | undefined,
    images: Object.keys(given).length === 0 ? undefined : given,
  };
}

/** Reads the files named (directories: their YAML files, sorted). Unreadable names are usage errors. */
async function readInputs(names: readonly string[], io: CliIo): Promise<InputFile[]> {
  if (names.length === 0) throw new UsageError('no input: name KeepalivedInstance YAML files with -f FILE... (- for stdin)');
  const inputs: InputFile[] = [];
  const seen = new Set<string>();
  const read = new Map<string, string>();
  for (const name of names) {
    if (seen.has(name)) throw new UsageError(`${displayName(name)} is named twice`);
    seen.add(name);
    if (name === '-') {
      try {
        inputs.push({ name, text: await io.readStdin() });
      } catch (e) {
        throw new UsageError(`cannot read ${displayName(name)}: ${(e as Error).message}`);
      }
      continue;
    }
    let entries: string[] | undefined;
    try {
      entries = io.listDirectory(name);
    } catch (e) {
      throw new UsageError(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    const files = entries === undefined ? [name] : entries.filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(name, f));
    if (entries !== undefined && files.length === 0) throw new UsageError(`the directory ${name} has no *.yaml or *.yml file`);
    for (const file of files) {
      // One file named twice over (`-f dir dir/a.yaml`, `-f ./a.yaml a.yaml`) would clash with itself.
      const first = read.get(path.resolve(file));
      if (first !== undefined) throw new UsageError(`${file} is named twice${first === file ? '' : ` (also as ${first})`}`);
      read.set(path.resolve(file), file);
      try {
        inputs.push({ name: file, text: io.readFile(file) });
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
      }
    }
  }
  return inputs;
}

/** A document's objects: the document, or the items of a `v1` List (as `kubectl get -o yaml` prints several). */
function itemsOf(value: unknown): Array<{ value: unknown; prefix: FieldPath }> {
  const v = value as { apiVersion?: unknown; kind?: unknown; items?: unknown };
  if (v !== null && typeof v === 'object' && v.apiVersion === 'v1' && v.kind === 'List' && Array.isArray(v.items)) {
    return v.items.map((item, i) => ({ value: item, prefix: ['items', i] }));
  }
  return [{ value, prefix: [] }];
}

/** The instances of all the files, checked as one app; diagnostics in file and line order. */
interface Checked {
  readonly documents: YamlDocument[];
  readonly instances: KeepalivedInstanceInput[];
  readonly diagnostics: Diagnostic[];
  /** What is valid but probably not what was meant, in the same order. */
  readonly warnings: Diagnostic[];
  readonly manifests: ReturnType<typeof modelInstances>['manifests'];
  readonly shared: ReturnType<typeof modelInstances>['shared'];
}

function check(inputs: readonly InputFile[], target: CliTarget, build: boolean): Checked {
  const diagnostics: Diagnostic[] = [];
  const usable: Array<{ document: YamlDocument; instance: KeepalivedInstanceInput; label: string; prefix: FieldPath }> = [];
  const documents: YamlDocument[] = [];
  for (const input of inputs) {
    const parsed = parseFile(input, MAX_DOCUMENTS - documents.length);
    diagnostics.push(...parsed.diagnostics);
    for (const document of parsed.documents) documents.push(document);
    for (const document of parsed.documents) {
      const items = itemsOf(document.value);
      if (items.length === 0) {
        // What `kubectl get -o yaml` prints when there is nothing to get (or the context is another cluster).
        diagnostics.push({ where: document.file, position: locate(document, ['items']), message: 'items is empty: the List holds no KeepalivedInstance. Valid: at least one KeepalivedInstance' });
      }
      for (const { value, prefix } of items) {
        const { instance, issues } = readKeepalivedInstance(value);
        for (const issue of issues) {
          const at = [...prefix, ...issue.path];
          diagnostics.push({ where: document.file, position: locate(document, at, issue.at), message: `${formatPath(at)} ${issue.message}` });
        }
        const label = `${parsed.documents.length > 1 ? `${document.file}#${document.number}` : document.file}${prefix.length > 0 ? ` ${formatPath(prefix)}` : ''}`;
        if (instance) usable.push({ document, instance, label, prefix });
      }
    }
  }
  const model = modelInstances(usable.map((u) => ({ label: u.label, instance: u.instance })), target, build);
  const located = (issue: ModelIssue): Diagnostic => {
    if (issue.input === undefined) return { where: issue.option!, message: issue.message };
    const { document, prefix } = usable[issue.input];
    const at = [...prefix, ...issue.path!];
    return { where: document.file, position: locate(document, at, issue.at), message: prefix.length > 0 ? `${formatPath(prefix)}.${issue.message}` : issue.message };
  };
  diagnostics.push(...model.issues.map(located));
  // Options first, then by file (in the order given) and position.
  const fileOrder = new Map(inputs.map((f, i) => [displayName(f.name), i]));
  const key = (d: Diagnostic) => [fileOrder.get(d.where) ?? -1, d.position?.line ?? 0, d.position?.col ?? 0];
  const sorted = (list: readonly Diagnostic[]) => list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const ka = key(a.d);
      const kb = key(b.d);
      for (let k = 0; k < 3; k++) if (ka[k] !== kb[k]) return ka[k] - kb[k];
      return a.i - b.i;
    })
    .map((x) => x.d);
  return {
    documents, instances: usable.map((u) => u.instance), diagnostics: sorted(diagnostics), warnings: sorted(model.warnings.map(located)),
    manifests: model.manifests, shared: model.shared,
  };
}

/** Prints diagnostics on stderr, each after where it is (`file:line:col: `), and `kind` (`warning: `) if given. */
function printEach(diagnostics: readonly Diagnostic[], io: CliIo, kind = ''): void {
  for (const d of diagnostics) {
    // An option's message starts with the option itself.
    const at = d.position ? `${d.where}:${d.position.line}:${d.position.col}: ` : d.where.startsWith('--') ? '' : `${d.where}: `;
    io.stderr(`${at}${kind}${d.message}\n`);
    if (d.excerpt) io.stderr(`${d.excerpt.split('\n').map((l) => `    ${l}`).join('\n')}\n`);
  }
}

function printDiagnostics(diagnostics: readonly Diagnostic[], io: CliIo): void {
  printEach(diagnostics, io);
  const files = new Set(diagnostics.filter((d) => !d.where.startsWith('--')).map((d) => d.where)).size;
  const options = diagnostics.some((d) => d.where.startsWith('--'));
  const places = [files > 0 ? `${files} file${files === 1 ? '' : 's'}` : '', options ? 'the command line' : ''].filter((p) => p !== '').join(' and ');
  io.stderr(`${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'} in ${places}\n`);
}

async function run(command: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseArgs(command, argv);
  if (args.help) {
    io.stdout(HELP[command]);
    return EXIT_OK;
  }
  const target = command === 'import' ? { kind: 'deckhouse' as const, program: true } : targetOf(args.values);
  const framework = args.values.get('--framework') ?? 'cdk8s';
  if (framework !== 'cdk8s' && framework !== 'pulumi') throw new UsageError(`--framework ${framework} is not supported; valid: cdk8s or pulumi`);
  const inputs = await readInputs(args.files, io);
  const checked = check(inputs, target, command === 'render');
  if (checked.diagnostics.some((d) => d.where.startsWith('--'))) {
    printDiagnostics(checked.diagnostics, io);
    return EXIT_USAGE;
  }
  if (checked.diagnostics.length > 0) {
    printDiagnostics(checked.diagnostics, io);
    return EXIT_INVALID;
  }
  // Valid input that probably does not do what was meant: said, without failing (as at synth).
  printEach(checked.warnings, io, 'warning: ');
  const sources = inputs.map((f) => displayName(f.name));
  if (command === 'validate') {
    const n = checked.instances.length;
    const vrids = checked.instances.flatMap((i) => i.vrrpInstances.map((g) => g.id as number)).sort((a, b) => a - b);
    io.stdout(`valid: ${n} KeepalivedInstance document${n === 1 ? '' : 's'} in ${sources.length} file${sources.length === 1 ? '' : 's'}, VRIDs ${vrids.join(', ')}\n`);
    return EXIT_OK;
  }
  if (command === 'import') {
    io.stdout(importProgram(checked.instances, framework, sources.map((s) => path.basename(s))));
    return EXIT_OK;
  }
  const outDir = args.values.get('--output-dir');
  if (outDir === undefined) {
    io.stdout(manifestsYaml([...checked.shared, ...checked.manifests.flat()]));
    return EXIT_OK;
  }
  const write = (name: string, objects: Checked['shared']) => {
    const file = path.join(outDir, name);
    try {
      io.writeFile(file, manifestsYaml(objects));
    } catch (e) {
      // mkdir says EEXIST (or ENOTDIR further down) where a file stands in the way of the directory.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new UsageError(`--output-dir ${outDir}: cannot write ${file}: a file stands where the directory would be`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') throw new UsageError(`--output-dir ${outDir}: cannot write ${file}: ${(e as Error).message}`);
      throw new OutputError(`cannot write ${file}: ${(e as Error).message}`);
    }
    io.stdout(`${file}: ${objects.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}\n`);
  };
  // The namespace's shared objects belong to no one instance: a file of their own, to apply first.
  // Its name has more dots than an instance's file (instance names have none), so no instance's file
  // can take its place.
  if (checked.shared.length > 0) write(namespaceFileName(checked.shared[0].metadata.name), checked.shared);
  checked.instances.forEach((instance, i) => write(`${instance.name}.k8s.yaml`, checked.manifests[i]));
  return EXIT_OK;
}

/**
 * The file, under --output-dir, of a namespace's shared objects (the Namespace, the agent ConfigMap).
 * `00-` sorts it before the instances' files (DNS labels) but those whose names begin with `0`, so
 * that `kubectl apply -f DIR`, which applies a directory's files in the order of their names, creates
 * the Namespace first.
 */
export const namespaceFileName = (namespace: string) => `00-namespace.${namespace}.k8s.yaml`;

/** Runs the CLI on its arguments (without `node` and the script) and returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.stderr(OVERVIEW);
      return EXIT_USAGE;
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      const topic = rest[0];
      if (topic !== undefined && !(COMMANDS as readonly string[]).includes(topic)) throw new UsageError(`no command ${topic}`);
      io.stdout(topic === undefined ? OVERVIEW : HELP[topic]);
      return EXIT_OK;
    }
    if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`no command ${JSON.stringify(command)}; valid: ${COMMANDS.join(', ')}`);
    return await run(command as Command, rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      const help = (COMMANDS as readonly string[]).includes(command) ? `keepalived-constructs ${command} --help` : 'keepalived-constructs --help';
      io.stderr(`error: ${e.message}\nRun '${help}' for usage.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof OutputError) {
      io.stderr(`keepalived-constructs: ${e.message}\n`);
      return EXIT_IO_ERROR;
    }
    // A bug of ours, not of the input: say so in one line, without a stack trace unless asked.
    io.stderr(`keepalived-constructs: internal error: ${(e as Error)?.message ?? e}\n`
      + 'Please report it with the input that caused it. Set KEEPALIVED_CONSTRUCTS_DEBUG=1 for the stack trace.\n');
    if (process.env.KEEPALIVED_CONSTRUCTS_DEBUG) io.stderr(`${(e as Error)?.stack}\n`);
    return 70;
  }
}
