#!/usr/bin/env bash
# Newcomer install test: `npm pack` the package, install the tarball and its peers from the registry into
# a fresh cdk8s TypeScript app, type-check and synthesize a program written against the public API only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/install"
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "build and pack"
cd "$root"
npx projen compile >/dev/null
npx projen post-compile >/dev/null
tarball="$work/$(npm pack --pack-destination "$work" --silent | tail -1)"
tar -tzf "$tarball" > "$work/contents.txt"
grep -q '^package/lib/agent/keepalived-agent.js$' "$work/contents.txt" || { echo "the tarball lacks the bundled agent"; exit 1; }
grep -q '^package/lib/pulumi/index.d.ts$' "$work/contents.txt" || { echo "the tarball lacks the pulumi entry point"; exit 1; }
if grep -Eq '^package/(src|test|examples|schemas|\.ci)/' "$work/contents.txt"; then echo "the tarball ships sources or tests:"; grep -E '^package/(src|test|examples|schemas|\.ci)/' "$work/contents.txt" | head; exit 1; fi
echo "$(wc -l < "$work/contents.txt") files in $(basename "$tarball")"

step "the README's quick start, verbatim: its commands and its main.ts (the tarball in place of the registry's package)"
quick="$work/quick-start"
mkdir -p "$quick"
node "$here/quick-start.js" "$root/README.md" "$tarball" "$quick"
(cd "$quick" && bash -euo pipefail quick-start.sh)
node "$here/quick-start.js" --check "$quick/my-vips/dist" "$root/test/fixtures/seed-front.yaml" "$root/test/fixtures/seed-mygateway.yaml"

step "a fresh cdk8s app, installed from the registry as a user would (no Pulumi)"
app="$work/app"
mkdir -p "$app"
cd "$app"
cat > package.json <<'JSON'
{ "name": "newcomer-app", "version": "1.0.0", "private": true }
JSON
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "commonjs", "moduleResolution": "node", "strict": true, "esModuleInterop": true, "skipLibCheck": false, "noEmit": true, "types": ["node"] }, "include": ["main.ts"] }
JSON
cat > cdk8s.yaml <<'YAML'
language: typescript
app: npx ts-node main.ts
output: dist
YAML
cp "$here/main.ts" "$here/check.js" .
# What a user's runtime install adds, measured before the tooling goes in.
npm install --no-audit --no-fund --loglevel=error "$tarball" 'cdk8s@^2.70' 'constructs@^10.3'
echo "cdk8s install: $(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l) packages, $(du -sm node_modules | cut -f1) MB in node_modules"
for dep in cdk8s-plus-27 @pulumi/pulumi @pulumi/kubernetes; do
  if [ -e "node_modules/$dep" ]; then echo "node_modules/$dep was installed with the package"; exit 1; fi
done
# The quick start's tooling, with the versions the README names.
npm install --no-audit --no-fund --loglevel=error 'cdk8s-cli@^2.200' 'typescript@~5.9' 'ts-node@^10' '@types/node@^22' 'yaml@^2'

step "no dev-only or optional Pulumi dependencies came along"
for dep in projen jest ts-jest kubernetes-models esbuild @pulumi/pulumi @pulumi/kubernetes; do
  if [ -e "node_modules/$dep" ]; then echo "node_modules/$dep was installed with the package"; exit 1; fi
done
node -e "require('keepalived-constructs'); console.log('require(keepalived-constructs) works without Pulumi')"

step "types: tsc --noEmit against the published declarations"
npx tsc --noEmit -p tsconfig.json

step "types: no deep import type-checks (moduleResolution node ignores exports; at run time it would fail)"
printf '%s\n' "import { VrrpDomain } from 'keepalived-constructs/lib/core';" 'console.log(VrrpDomain);' > deep.ts
if npx tsc --noEmit --strict --module commonjs --moduleResolution node --types node deep.ts > deep.log 2>&1; then echo "a deep import type-checked"; exit 1; fi
grep -q "TS2307: Cannot find module 'keepalived-constructs/lib/core'" deep.log || { cat deep.log; exit 1; }
rm deep.ts deep.log

step "cdk8s synth"
npx cdk8s synth --check-upgrade false >/dev/null
node check.js dist

step "the CLI from the tarball: npx keepalived-constructs validate / render -f on the seed's YAML"
cp "$root/test/fixtures/seed-front.yaml" "$root/test/fixtures/seed-mygateway.yaml" .
npx keepalived-constructs validate -f seed-front.yaml seed-mygateway.yaml
npx keepalived-constructs render -f seed-front.yaml seed-mygateway.yaml > rendered.yaml
# The seed's objects, and byte for byte what `cdk8s synth` wrote for the same constructs in main.ts.
node -e '
  const fs = require("fs"); const YAML = require("yaml");
  const fail = (m) => { console.error("cli check: " + m); process.exit(1); };
  const rendered = fs.readFileSync("rendered.yaml", "utf8");
  const seeds = ["seed-front.yaml", "seed-mygateway.yaml"].map((f) => YAML.parse(fs.readFileSync(f, "utf8")));
  if (JSON.stringify(YAML.parseAllDocuments(rendered).map((d) => d.toJSON())) !== JSON.stringify(seeds)) fail("render does not reproduce the seed");
  const synthesized = fs.readFileSync("dist/keepalived.k8s.yaml", "utf8").split(/^---\n/m).slice(0, 2).join("---\n");
  if (rendered !== synthesized) fail("render differs from cdk8s synth of the same constructs");
  console.log("cli check: render reproduces the seed, byte for byte as cdk8s synth");'
npx keepalived-constructs render -f seed-front.yaml --target standalone --node-order a,b,c | grep -q '^kind: DaemonSet$'
set +e
sed 's/- id: 2/- id: 256/' seed-front.yaml | npx keepalived-constructs validate -f - 2> invalid.txt
status=$?
set -e
[ "$status" = 1 ] || { echo "validate of an invalid VRID exited $status, not 1"; exit 1; }
grep -q '^<stdin>:21:9: spec.vrrpInstances\[1\].id = 256' invalid.txt || { echo "unexpected error output:"; cat invalid.txt; exit 1; }

step "the CLI alone: the tarball without its peers (no cdk8s, no Pulumi) still renders"
cli="$work/cli-only"
mkdir -p "$cli"
cd "$cli"
echo '{ "name": "cli-only", "version": "1.0.0", "private": true }' > package.json
npm install --no-audit --no-fund --loglevel=error --legacy-peer-deps "$tarball"
for dep in cdk8s constructs @pulumi/pulumi; do
  if [ -e "node_modules/$dep" ]; then echo "node_modules/$dep came with the CLI"; exit 1; fi
done
npx keepalived-constructs render -f "$app/seed-front.yaml" "$app/seed-mygateway.yaml" | cmp - "$app/rendered.yaml"
echo "the CLI renders the same bytes with neither cdk8s nor Pulumi installed"
cd "$app"

step "Pulumi: install the optional peers and run a program under mocks"
npm install --no-audit --no-fund --loglevel=error '@pulumi/pulumi@3.248.0' '@pulumi/kubernetes@^4.18'
cp "$here/pulumi-program.ts" .
npx ts-node --compiler-options '{"module":"commonjs","strict":true,"esModuleInterop":true,"moduleResolution":"node"}' pulumi-program.ts

step "a Pulumi-only program: no cdk8s package comes along"
papp="$work/pulumi-app"
mkdir -p "$papp"
cd "$papp"
echo '{ "name": "newcomer-pulumi", "version": "1.0.0", "private": true }' > package.json
npm install --no-audit --no-fund --loglevel=error "$tarball" '@pulumi/pulumi@3.248.0' '@pulumi/kubernetes@^4.18'
echo "Pulumi install: $(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l) packages, $(du -sm node_modules | cut -f1) MB in node_modules"
for dep in cdk8s constructs cdk8s-plus-27; do
  if [ -e "node_modules/$dep" ]; then echo "node_modules/$dep was installed for a Pulumi-only program"; exit 1; fi
done
node -e "const k = require('keepalived-constructs/pulumi'); if (typeof k.FrontendVips !== 'function') process.exit(1); console.log('require(keepalived-constructs/pulumi) works without cdk8s')"

printf '\nnewcomer install test: 1 passed, 0 failed\n'
