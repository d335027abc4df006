/**
 * `npm run bench [-- [SECTION...] [--only synth|load|failover|health[,...]] [--runs N] [--no-build] [--out FILE]]`
 * (`npm run bench -- health` runs one section: positional names are the same as --only)
 *
 * Benchmarks, each a ratio to a baseline measured in the same run:
 *  1. synth cost (bench/synth.ts), 2. module load (bench/load.ts), 3. failover time (bench/failover.ts),
 *  4. service failure to failover with health checks (bench/health.ts).
 * A full run writes bench/RESULTS.md (and bench/results.json); a partial one (--only, --runs) writes
 * into bench/tmp/ unless --out says otherwise, so that quick iterations never replace the real results.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { runCleanup } from './cleanup';
import { configsMarkdown, failoverMarkdown, failoverTargets, FailoverResults, runFailover, STEADY_SECONDS } from './failover';
import { healthMarkdown, HealthResults, healthTargets, runHealth } from './health';
import { loadMarkdown, loadOverMs, LOAD_TARGET_MS, LoadResults, runLoad } from './load';
import { machineInfo } from './machine';
import { runSynth, synthMarkdown, synthTargets, SynthResults } from './synth';
import { verdict } from './stats';

const SECTIONS = ['synth', 'load', 'failover', 'health'] as const;
type Section = (typeof SECTIONS)[number];
const DEFAULT_RUNS: Record<Section, number> = { synth: 11, load: 15, failover: 10, health: 10 };

const ROOT = path.join(__dirname, '..');
const TMP = path.join(__dirname, 'tmp');

function log(s: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

function build(): void {
  log('build: npx projen compile && npm run bundle:agent');
  try {
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    if (!existsSync(path.join(ROOT, 'lib', 'index.js'))) throw e;
    log('build: compile reported errors; measuring the lib/ it left');
  }
  execFileSync('npm', ['run', '--silent', 'bundle:agent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      'steady-seconds': { type: 'string' },
      'no-build': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const named = [...(values.only?.split(',') ?? []), ...positionals].map((s) => s.trim()).filter((s) => s !== '');
  const only = (named.length > 0 ? named : [...SECTIONS]) as Section[];
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section ${JSON.stringify(s)} (one of ${SECTIONS.join(', ')})`);
  const runsOverride = values.runs === undefined ? undefined : Number(values.runs);
  if (runsOverride !== undefined && !(Number.isInteger(runsOverride) && runsOverride > 0)) throw new Error('--runs needs a positive integer');
  const runsOf = (s: Section) => runsOverride ?? DEFAULT_RUNS[s];
  const steadySeconds = values['steady-seconds'] === undefined ? STEADY_SECONDS : Number(values['steady-seconds']);
  const full = only.length === SECTIONS.length && runsOverride === undefined && steadySeconds === STEADY_SECONDS;
  const outFile = values.out ?? (full ? path.join(__dirname, 'RESULTS.md') : path.join(TMP, 'RESULTS.md'));
  mkdirSync(TMP, { recursive: true });

  const started = Date.now();
  const machine = machineInfo();
  if (!values['no-build']) build();

  let synth: SynthResults | undefined;
  let load: LoadResults | undefined;
  let failover: FailoverResults | undefined;
  if (only.includes('synth')) synth = runSynth(runsOf('synth'), TMP, log);
  if (only.includes('load')) load = runLoad(runsOf('load'), log);
  if (only.includes('failover')) failover = await runFailover(runsOf('failover'), steadySeconds, TMP, log);
  let health: HealthResults | undefined;
  if (only.includes('health')) health = await runHealth(runsOf('health'), log);
  const minutes = (Date.now() - started) / 60000;

  const md: string[] = [];
  md.push('# Benchmarks');
  md.push('');
  md.push(`Written by \`npm run bench\` (\`bench/run.ts\`)${full ? '' : `, a partial run: \`${process.argv.slice(2).join(' ')}\``}. Every figure is a ratio to a baseline measured in the same run, on this machine:`);
  md.push('');
  md.push(`| CPU | cores | memory | kernel | Node | keepalived | iproute2 | date | load average at start | bench took |`);
  md.push('|---|---:|---:|---|---|---|---|---|---|---:|');
  md.push(`| ${machine.cpuModel} | ${machine.cores} | ${machine.memoryGiB} GiB | ${machine.kernel} | ${machine.node} | ${machine.keepalived} | ${machine.iproute2} | ${machine.date} | ${machine.loadAverage} | ${minutes.toFixed(1)} min |`);
  md.push('');
  md.push('Other work may share the machine (a shared development VM); the interleaving of each measurement with its baseline keeps that from biasing the ratios, not from widening the ranges.');
  md.push('');
  md.push('## Summary of targets');
  md.push('');
  md.push('| target | verdict | measured |');
  md.push('|---|---|---|');
  if (synth) for (const t of synthTargets(synth)) md.push(`| ${t.label} | ${verdict(t.met)} | ${t.detail} |`);
  if (load) {
    const over = loadOverMs(load);
    md.push(`| module load <= ${LOAD_TARGET_MS} ms over cdk8s + constructs alone (median of ${load.runs}) | ${verdict(over.require <= LOAD_TARGET_MS && load.runs >= 10)} | +${over.require.toFixed(1)} ms in require, +${over.process.toFixed(1)} ms whole process |`);
  }
  if (failover) for (const t of failoverTargets(failover)) md.push(`| ${t.label} | ${verdict(t.met)} | ${t.detail} |`);
  if (health) for (const t of healthTargets(health)) md.push(`| ${t.label} | ${verdict(t.met)} | ${t.detail} |`);
  md.push('');
  if (synth) md.push(synthMarkdown(synth), '');
  if (load) md.push(loadMarkdown(load), '');
  if (failover) md.push(failoverMarkdown(failover), '');
  if (failover && !failover.skipped) md.push(configsMarkdown(failover), '');
  if (health) md.push(healthMarkdown(health, failover && !failover.skipped ? failover : undefined), '');
  writeFileSync(outFile, md.join('\n'));
  const json = full ? path.join(__dirname, 'results.json') : path.join(TMP, 'results.json');
  writeFileSync(json, JSON.stringify({ machine, synth, load, failover, health }, null, 1));
  log(`wrote ${path.relative(ROOT, outFile)} and ${path.relative(ROOT, json)} (${minutes.toFixed(1)} min)`);
}

main().then(() => runCleanup(), (e) => {
  runCleanup();
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
