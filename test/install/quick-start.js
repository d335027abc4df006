// The README's quick start, as the newcomer install test runs it:
//   node quick-start.js README.md TARBALL DIR    writes DIR/quick-start.sh (the README's commands, with
//                                                the tarball for `keepalived-constructs` and no kubectl)
//                                                and DIR/main.ts (the README's first TypeScript example)
//   node quick-start.js --check DIST SEED...      what `cdk8s synth` wrote is the seed's objects
'use strict';
const fs = require('fs');
const path = require('path');

const fail = (m) => { console.error(`quick start: ${m}`); process.exit(1); };

if (process.argv[2] === '--check') {
  const YAML = require(require.resolve('yaml', { paths: [path.join(__dirname, '..', '..')] }));
  const [dist, ...seeds] = process.argv.slice(3);
  const docs = (file) => YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter((o) => o !== null);
  const written = fs.readdirSync(dist).sort().flatMap((f) => docs(path.join(dist, f)));
  const expected = seeds.flatMap(docs);
  if (JSON.stringify(written) !== JSON.stringify(expected)) fail(`${dist} is not the seed's objects:\n${JSON.stringify(written, undefined, 1).slice(0, 2000)}`);
  console.log(`quick start: cdk8s synth wrote the seed's ${expected.length} objects`);
  process.exit(0);
}

const [readmeFile, tarball, dir] = process.argv.slice(2);
const readme = fs.readFileSync(readmeFile, 'utf8');
const start = readme.indexOf('**Use the package**');
if (start < 0) fail('the README has no "Use the package" paragraph');
/** The first fenced block of `lang` after `from`. */
function block(lang, from) {
  const open = readme.indexOf(`\n\`\`\`${lang}\n`, from);
  if (open < 0) fail(`no \`\`\`${lang} block after the "Use the package" paragraph`);
  const body = open + lang.length + 5;
  return { text: readme.slice(body, readme.indexOf('\n```', body) + 1), end: body };
}
const commands = block('sh', start);
const program = block('ts', commands.end);
const lines = commands.text.split('\n');
const install = lines.findIndex((l) => /^npm install keepalived-constructs /.test(l));
if (install < 0) fail('the quick start installs no keepalived-constructs');
const script = lines
  .map((l, i) => (i === install ? l.replace('keepalived-constructs', JSON.stringify(tarball)) : l))
  // No cluster here: kubectl is the one command not run. `main.ts` is written before the synth.
  .filter((l) => !/^kubectl /.test(l))
  .map((l) => (/^npx cdk8s synth\b/.test(l) ? `cp ../main.ts . && ${l.replace(/\s+#.*$/, '')} --check-upgrade false` : l))
  .join('\n');
if (!/cp \.\.\/main\.ts/.test(script)) fail('the quick start runs no `npx cdk8s synth`');
fs.writeFileSync(path.join(dir, 'quick-start.sh'), `${script}\n`);
fs.writeFileSync(path.join(dir, 'main.ts'), program.text);
console.log(`quick start: ${lines.filter((l) => l.trim() && !l.startsWith('#')).length} commands and a main.ts of ${program.text.split('\n').length} lines from the README`);
