// The CLI as a real process: exit statuses, stdin, files and help. It runs from the package's own
// bundles (projenrc/bundle.js, what `npm pack` ships: lib/cli/main.js on lib/core/index.js), with cdk8s,
// constructs and Pulumi unloadable, so a test fails if the CLI needs any of them: a user of the CLI may
// have none installed.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../src/cli/commands';
import { bundle, ROOT } from './support/agent-bundle';

const SEED_FRONT = path.join(__dirname, 'fixtures', 'seed-front.yaml');
const SEED_GATEWAY = path.join(__dirname, 'fixtures', 'seed-mygateway.yaml');

let dir: string;
let entry: string;

beforeAll(() => {
  // <dir>/cli/main.js, <dir>/core/index.js and the node agent at <dir>/agent/: lib/'s layout.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-bin-'));
  entry = path.join(dir, 'cli', 'main.js');
  bundle(['lib', 'agent'], dir);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Runs the entry with every module that the CLI must not need made unloadable.
const GUARD = `
const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^(cdk8s|cdk8s-plus-\\d+|constructs|@pulumi\\/.*)$/.test(request)) throw new Error('the CLI loaded ' + request);
  return resolve.call(this, request, ...rest);
};
const entry = process.argv[1];
process.argv.splice(1, 1, entry);
require(entry);
`;

function run(args: string[], input?: string | Buffer, cwd = ROOT) {
  // The packages the bundles leave out (yaml) resolve from the project's node_modules, as from a user's.
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
  const r = spawnSync(process.execPath, ['-e', GUARD, '--', entry, ...args], { cwd, input, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+[(:]\d+/m);

test('a reader that closes the pipe early (render | head) ends the command quietly with 141, as SIGPIPE does', async () => {
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
  const child = spawn(process.execPath, ['-e', GUARD, '--', entry, 'render', '-f', SEED_FRONT, '--target', 'standalone'], { cwd: ROOT, env });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // The reader is gone before the command writes anything.
  child.stdout.destroy();
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  expect(stderr).toBe('');
  expect(status).toBe(141);
});

test('output that cannot be written (a full disk) is one line and exit 74, not a stream error', () => {
  const full = fs.openSync('/dev/full', 'w');
  try {
    const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
    const r = spawnSync(process.execPath, ['-e', GUARD, '--', entry, 'render', '-f', SEED_FRONT], { cwd: ROOT, env, encoding: 'utf8', stdio: ['pipe', full, 'pipe'], timeout: 60_000 });
    expect(r.stderr).toBe('keepalived-constructs: cannot write the output: ENOSPC: no space left on device, write\n');
    expect(r.status).toBe(74);
  } finally {
    fs.closeSync(full);
  }
});

test('a VRID used twice in one instance on the standalone target is that error alone (not also a name no YAML field holds)', () => {
  const text = fs.readFileSync(SEED_FRONT, 'utf8').replace('- id: 2', '- id: 1');
  const r = run(['validate', '-f', '-', '--target', 'standalone'], text);
  expect(r.status).toBe(1);
  expect(r.stderr.split('\n').filter((l) => /^<stdin>:/.test(l))).toEqual([
    expect.stringMatching(/^<stdin>:21:9: spec\.vrrpInstances\[1\]\.id = 1: VRID 1 is already used by <stdin> \(spec\.vrrpInstances\[0\]\.id\)/),
  ]);
});

test('import, which has no --target, says where the target changes: in the imported program', () => {
  const text = fs.readFileSync(SEED_FRONT, 'utf8').replace('42.43.44.101/32', '2001:db8::1/128');
  const r = run(['import', '-f', '-'], text);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('target: Target.standalone() in the imported program');
  expect(r.stderr).not.toContain('--target');
  const validate = run(['validate', '-f', '-'], text);
  expect(validate.stderr).toContain('--target standalone');
});

test('a key that is a list or a map: an error at the key, and no warning of the YAML library\'s on stderr', () => {
  const r = run(['validate', '-f', '-'], 'apiVersion: deckhouse.io/v1alpha1\nkind: KeepalivedInstance\nmetadata:\n  name: x\n  ? [a, b]\n  : z\nspec: {}\n');
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('<stdin>:5:5: a key that is a list or a map (`? [a, b] : c`). Valid: a string key, as every Kubernetes object has\n1 error in 1 file\n');
  // ... an alias of one too
  const alias = run(['validate', '-f', '-'], 'apiVersion: deckhouse.io/v1alpha1\nkind: KeepalivedInstance\nmetadata:\n  labels: &x [a]\n  name: x\n  ? *x\n  : z\nspec: {}\n');
  expect(alias.stderr).toMatch(/^<stdin>:6:5: a key that is a list or a map/);
});

test('an empty --node-order (a script\'s empty variable) is a usage error, not "no order"', () => {
  const empty = run(['render', '-f', SEED_FRONT, '--target', 'standalone', '--node-order', ' , ']);
  expect(empty.status).toBe(2);
  expect(empty.stderr).toMatch(/^error: --node-order needs node names, e\.g\. --node-order node-a,node-b$/m);
});

test('-o DIR on a full disk: one line and exit 74 (not a usage error)', async () => {
  let stderr = '';
  const status = await runCli(['render', '-f', SEED_FRONT, '-o', 'out'], {
    stdout: () => undefined,
    stderr: (t) => { stderr += t; },
    readStdin: async () => '',
    readFile: (f) => fs.readFileSync(f, 'utf8'),
    listDirectory: () => undefined,
    writeFile: () => { throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); },
  });
  expect(stderr).toBe('keepalived-constructs: cannot write out/front.k8s.yaml: ENOSPC: no space left on device, write\n');
  expect(status).toBe(74);
});

test('valid input that the target would not honour: a warning on stderr, and the exit status of valid input', () => {
  const text = fs.readFileSync(SEED_FRONT, 'utf8').replace(/^(\s*)- id: 2$/m, '$1- id: 2\n$1  preempt: false');
  const r = run(['validate', '-f', '-'], text);
  expect(r.stderr).toBe('<stdin>:22:14: warning: spec.vrrpInstances[1].preempt = false: the Deckhouse module ignores preempt: false (its renderer never honours it), so a returning node takes the address back. Valid: --target standalone, which renders nopreempt, or accept preemption.\n');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^valid: 1 KeepalivedInstance document/);
});

test('validate reads stdin (-) and files: exit 0 for the seed, without cdk8s or Pulumi loaded', () => {
  const r = run(['validate', '-f', '-', SEED_GATEWAY], fs.readFileSync(SEED_FRONT, 'utf8'));
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('valid: 2 KeepalivedInstance documents in 2 files, VRIDs 1, 2, 3, 4\n');
  expect(r.status).toBe(0);
});

test('invalid input on stdin: exit 1, each error at <stdin>:line:column with the field, no stack trace', () => {
  const text = fs.readFileSync(SEED_FRONT, 'utf8').replace('- id: 2', '- id: 256');
  const r = run(['validate', '-f', '-'], text);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^<stdin>:21:9: spec\.vrrpInstances\[1\]\.id = 256: is not a VRRP router id\. Valid: an integer from 1 to 255\.$/m);
  noStack(r.stderr);
});

test('YAML syntax errors and empty files: exit 1 with a clear message', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-'));
  try {
    fs.writeFileSync(path.join(work, 'broken.yaml'), 'apiVersion: deckhouse.io/v1alpha1\nkind: [KeepalivedInstance\n');
    fs.writeFileSync(path.join(work, 'empty.yaml'), '');
    const r = run(['validate', '-f', 'broken.yaml', 'empty.yaml'], undefined, work);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^broken\.yaml:\d+:\d+: YAML syntax error: /m);
    expect(r.stderr).toMatch(/^empty\.yaml: has no YAML document \(the file is empty\)/m);
    noStack(r.stderr);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('render -o DIR writes a file per document; render to stdout is the same YAML', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-'));
  try {
    const r = run(['render', '-f', SEED_FRONT, SEED_GATEWAY, '-o', out]);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['front.k8s.yaml', 'mygateway.k8s.yaml']);
    const printed = run(['render', '-f', SEED_FRONT, SEED_GATEWAY]);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(`${fs.readFileSync(path.join(out, 'front.k8s.yaml'), 'utf8')}---\n${fs.readFileSync(path.join(out, 'mygateway.k8s.yaml'), 'utf8')}`);
    // ... and the standalone target renders too (it needs the node agent, found next to the CLI)
    const standalone = run(['render', '-f', SEED_FRONT, '--target', 'standalone', '--node-order', 'a,b,c']);
    expect(standalone.stderr).toBe('');
    expect(standalone.status).toBe(0);
    expect(standalone.stdout).toMatch(/^kind: DaemonSet$/m);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('render --target standalone -o DIR: the namespace\'s shared objects in a file of their own, which no instance can take', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-'));
  try {
    // GIVEN an instance named like the namespace's file
    fs.writeFileSync(path.join(work, 'odd.yaml'), fs.readFileSync(SEED_FRONT, 'utf8').replace(/^  name: front$/m, '  name: namespace'));
    const r = run(['render', '-f', 'odd.yaml', '--target', 'standalone', '--node-order', 'a,b', '-o', 'out'], undefined, work);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // ... and sorted first, so that `kubectl apply -f out/` creates the Namespace first
    expect(fs.readdirSync(path.join(work, 'out')).sort()).toEqual(['00-namespace.keepalived.k8s.yaml', 'namespace.k8s.yaml']);
    const shared = fs.readFileSync(path.join(work, 'out', '00-namespace.keepalived.k8s.yaml'), 'utf8');
    expect(shared).toMatch(/^kind: Namespace$/m);
    expect(shared).toMatch(/^  name: keepalived-agent-[0-9a-f]+$/m);
    // ... and an output directory that is a file: a usage error that says so, not an internal one
    const blocked = run(['render', '-f', 'odd.yaml', '-o', 'odd.yaml'], undefined, work);
    expect(blocked.status).toBe(2);
    expect(blocked.stderr).toMatch(/^error: --output-dir odd\.yaml: cannot write odd\.yaml\/namespace\.k8s\.yaml: a file stands where the directory would be$/m);
    noStack(blocked.stderr);
    // ... and one where no directory can be made (under /proc, where Node's recursive mkdir never
    // returns): a usage error, not a hang
    const nowhere = run(['render', '-f', 'odd.yaml', '-o', '/proc/keepalived-constructs-test/out'], undefined, work);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toMatch(/^error: --output-dir \/proc\/keepalived-constructs-test\/out: cannot write .*ENOENT/m);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('hostile input is bounded: a symbolic link in a directory, a device, many documents, a file name that would end the import\'s comment', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-'));
  try {
    // GIVEN a directory (a pull request's, say) with a symbolic link to the process's environment
    fs.mkdirSync(path.join(work, 'pr'));
    fs.symlinkSync('/proc/self/environ', path.join(work, 'pr', 'e.yaml'));
    const linked = run(['validate', '-f', 'pr'], undefined, work);
    // THEN a usage error that names the link, and nothing of its target
    expect(linked.status).toBe(2);
    expect(linked.stderr).toMatch(/pr\/e\.yaml is a symbolic link; name the file it points to with -f/);
    expect(linked.stderr).not.toMatch(/PATH=/);
    // ... a device is refused before it is read (/dev/zero never ends)
    const device = run(['validate', '-f', '/dev/zero'], undefined, work);
    expect(device.status).toBe(2);
    expect(device.stderr).toMatch(/cannot read \/dev\/zero: is not a regular file/);
    // ... more documents than any app has: read up to the bound, then one error
    fs.writeFileSync(path.join(work, 'many.yaml'), '---\na: 1\n'.repeat(3000));
    const many = run(['validate', '-f', 'many.yaml'], undefined, work);
    expect(many.status).toBe(1);
    expect(many.stderr).toMatch(/many\.yaml:\d+:\d+: has more documents than the 1024 read in all/);
    expect(many.stderr).not.toMatch(/internal error|Maximum call stack/);
    // ... and a file name with a line break stays inside the imported program's header comment
    fs.mkdirSync(path.join(work, 'inj'));
    fs.copyFileSync(SEED_FRONT, path.join(work, 'inj', 'x\nrequire("child_process").execSync("touch PWNED");q=0.yaml'));
    const program = run(['import', '-f', 'inj'], undefined, work);
    expect(program.status).toBe(0);
    expect(program.stdout.split('\n').filter((l) => l.includes('execSync'))).toEqual([expect.stringMatching(/^\/\/ Generated by/)]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('input encodings: UTF-16 with a byte-order mark is read as kubectl reads it; bytes that are no UTF-8 are an error that says where', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-cli-'));
  try {
    const seed = fs.readFileSync(SEED_FRONT, 'utf8');
    const utf8 = run(['render', '-f', SEED_FRONT], undefined, work);
    expect(utf8.status).toBe(0);
    // GIVEN the seed as Windows PowerShell 5 writes it (UTF-16 LE with a byte-order mark), and big-endian
    fs.writeFileSync(path.join(work, 'le.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(seed, 'utf16le')]));
    fs.writeFileSync(path.join(work, 'be.yaml'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(seed, 'utf16le').swap16()]));
    // THEN the same manifests as from UTF-8
    for (const file of ['le.yaml', 'be.yaml']) {
      const r = run(['render', '-f', file], undefined, work);
      expect({ file, status: r.status, stdout: r.stdout }).toEqual({ file, status: 0, stdout: utf8.stdout });
    }
    // GIVEN UTF-16 with a lone surrogate: an error, not U+FFFD in the text
    fs.writeFileSync(path.join(work, 'lone.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a: b', 'utf16le'), Buffer.from([0x00, 0xd8])]));
    const lone = run(['validate', '-f', 'lone.yaml'], undefined, work);
    expect({ status: lone.status, stderr: lone.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/^error: cannot read lone\.yaml: is not UTF-16LE text \(a lone surrogate/) });
    // GIVEN a Latin-1 é in a name (in a file, and on stdin)
    fs.writeFileSync(path.join(work, 'latin1.yaml'), Buffer.from(seed.replace('name: front', 'name: fr\u00e9nt'), 'latin1'));
    const file = run(['validate', '-f', 'latin1.yaml'], undefined, work);
    const stdin = run(['validate', '-f', '-'], Buffer.from('a: \u00e9\n', 'latin1'), work);
    // THEN a usage error with its line and column, not a name with a replacement character in it
    expect(file.status).toBe(2);
    expect(file.stderr).toMatch(/^error: cannot read latin1\.yaml: is not UTF-8 text: line 6, column 11 has the byte 0xe9\. Valid: YAML in UTF-8/);
    expect(stdin.stderr).toMatch(/^error: cannot read <stdin>: is not UTF-8 text: line 1, column 4 has the byte 0xe9/);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test.each(['validate', 'render', 'import'])('%s --help: exit 0 and the usage of the command', (command) => {
  const r = run([command, '--help']);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^Usage: keepalived-constructs ${command} -f FILE\\.\\.\\.`));
});

test.each([
  [[], /^keepalived-constructs: check, render and import/],
  [['deploy'], /^error: no command "deploy"; valid: validate, render, import/],
  [['validate'], /^error: no input: name KeepalivedInstance YAML files with -f/],
  [['validate', '-f', 'no-such-file.yaml'], /^error: cannot read no-such-file\.yaml: no such file or directory/],
  [['render', '-f', SEED_FRONT, '--target', 'openshift'], /^error: --target openshift is not a target; valid: deckhouse or standalone/],
  [['import', '-f', SEED_FRONT, '--framework', 'terraform'], /^error: --framework terraform is not supported; valid: cdk8s or pulumi/],
  [['validate', '-f', SEED_FRONT, '--colour'], /^error: validate has no option --colour/],
])('usage errors exit 2: %j', (args, message) => {
  const r = run(args as string[]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
});
