/**
 * `npm run bench [-- [SECTION...] [--only synth|load|failover|health[,...]] [--runs N] [--no-build] [--out FILE]]`
 * (`npm run bench -- health` runs one section: positional names are the same as --only)
 * `npm run bench -- --only intervals [--intervals 1,0.5,...] [--conditions idle,busy,...] [--steady-seconds S] [--runs N] [--lock FILE]`
 *
 * Benchmarks, each a ratio to a baseline measured in the same run:
 *  1. synth cost (bench/synth.ts), 2. module load (bench/load.ts), 3. failover time (bench/failover.ts),
 *  4. service failure to failover with health checks (bench/health.ts).
 * A full run writes bench/RESULTS.md (and bench/results.json); a partial one (--only, --runs) writes
 * into bench/tmp/ unless --out says otherwise, so that quick iterations never replace the real results.
 *
 * 5. The advert-interval study (bench/intervals.ts, about 110 minutes) runs only when asked for, alone
 * (`--only intervals`, or `intervals` as the one positional name).
 * Run with every interval and condition and the default durations, it replaces its own section of
 * bench/RESULTS.md (between the `intervals` markers) and writes bench/intervals.json; otherwise it
 * writes bench/tmp/RESULTS-intervals.md. Other runs that write RESULTS.md keep that section (and what
 * follows it) at the end.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { runCleanup } from './cleanup';
import { configsMarkdown, failoverMarkdown, failoverTargets, FailoverResults, runFailover, STEADY_SECONDS } from './failover';
import { healthMarkdown, HealthResults, healthTargets, runHealth } from './health';
import { loadMarkdown, loadOverMs, LOAD_TARGET_MS, LoadResults, runLoad } from './load';
import { machineInfo } from './machine';
import { Condition, CONDITIONS, INTERVAL_RUNS, INTERVAL_STEADY_SECONDS, INTERVALS, intervalsMarkdown, runIntervals } from './intervals';
import { runSynth, synthMarkdown, synthTargets, SynthResults } from './synth';
import { signedMs, verdict } from './stats';

const SECTIONS = ['synth', 'load', 'failover', 'health'] as const;
type Section = (typeof SECTIONS)[number];
const DEFAULT_RUNS: Record<Section, number> = { synth: 11, load: 15, failover: 10, health: 10 };

const ROOT = path.join(__dirname, '..');
const TMP = path.join(__dirname, 'tmp');

function log(s: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

function build(): void {
  log('build: npx projen compile && npx projen post-compile (the bundles of lib/ and the agent)');
  try {
    execFileSync('npx', ['projen', 'compile'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    log('build: the type check reported errors; measuring the bundles all the same');
  }
  execFileSync('npx', ['projen', 'post-compile'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
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
      intervals: { type: 'string' },
      conditions: { type: 'string' },
      lock: { type: 'string' },
    },
  });
  const named = [...(values.only?.split(',') ?? []), ...positionals].map((s) => s.trim()).filter((s) => s !== '');
  if (named.length === 1 && named[0] === 'intervals') {
    await intervalsMain(values);
    return;
  }
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
  md.push(`Written by \`npm run bench\` (\`bench/run.ts\`)${full ? '' : `, a partial run: \`${process.argv.slice(2).join(' ')}\``}. Sections 1 and 2 compare with a baseline measured in the same run; sections 3 and 4 measure real keepalived in network namespaces against keepalived's own timers and the Deckhouse module's form. On this machine:`);
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
    md.push(`| module load <= ${LOAD_TARGET_MS} ms over cdk8s + constructs alone (median of ${load.runs}) | ${verdict(over.require <= LOAD_TARGET_MS && load.runs >= 10)} | ${signedMs(over.require, 1)} in require, ${signedMs(over.process, 1)} whole process |`);
  }
  if (failover) for (const t of failoverTargets(failover)) md.push(`| ${t.label} | ${verdict(t.met)} | ${t.detail} |`);
  if (health) for (const t of healthTargets(health)) md.push(`| ${t.label} | ${verdict(t.met)} | ${t.detail} |`);
  md.push('');
  if (synth) md.push(synthMarkdown(synth), '');
  if (load) md.push(loadMarkdown(load), '');
  if (failover) md.push(failoverMarkdown(failover), '');
  if (failover && !failover.skipped) md.push(configsMarkdown(failover), '');
  if (health) md.push(healthMarkdown(health, failover && !failover.skipped ? failover : undefined), '');
  // The advert-interval study (section 5) runs on its own: a full run keeps its section and the
  // hand-written reading after it, which stay last in RESULTS.md.
  const kept = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  const studied = kept.indexOf(INTERVALS_BEGIN);
  writeFileSync(outFile, studied >= 0 ? `${md.join('\n').trimEnd()}\n\n${kept.slice(studied)}` : md.join('\n'));
  const json = full ? path.join(__dirname, 'results.json') : path.join(TMP, 'results.json');
  writeFileSync(json, JSON.stringify({ machine, synth, load, failover, health }, null, 1));
  log(`wrote ${path.relative(ROOT, outFile)} and ${path.relative(ROOT, json)} (${minutes.toFixed(1)} min)`);
}

const INTERVALS_BEGIN = '<!-- intervals:begin (bench/intervals.ts writes this section) -->';
const INTERVALS_END = '<!-- intervals:end -->';

async function intervalsMain(values: { intervals?: string; conditions?: string; 'steady-seconds'?: string; runs?: string; lock?: string; 'no-build'?: boolean; out?: string }): Promise<void> {
  const intervals = values.intervals?.split(',').map(Number) ?? [...INTERVALS];
  for (const i of intervals) if (!(i >= 0.01 && i <= 40.95)) throw new Error(`--intervals: ${i} is not a VRRPv3 advert interval (0.01..40.95 s)`);
  const conditions = (values.conditions?.split(',').map((c) => c.trim()) ?? [...CONDITIONS]) as Condition[];
  for (const c of conditions) if (!CONDITIONS.includes(c)) throw new Error(`--conditions: unknown condition ${JSON.stringify(c)} (one of ${CONDITIONS.join(', ')})`);
  const seconds = values['steady-seconds'] === undefined ? INTERVAL_STEADY_SECONDS : Number(values['steady-seconds']);
  const runs = values.runs === undefined ? INTERVAL_RUNS : Number(values.runs);
  if (!(seconds > 0) || !(Number.isInteger(runs) && runs > 0)) throw new Error('--steady-seconds and --runs need positive numbers');
  const full = values.intervals === undefined && values.conditions === undefined && seconds === INTERVAL_STEADY_SECONDS && runs === INTERVAL_RUNS;
  mkdirSync(TMP, { recursive: true });
  const started = Date.now();
  const machine = machineInfo();
  if (!values['no-build']) build();
  const r = await runIntervals({ intervals, conditions, seconds, runs, lock: values.lock, tmp: TMP, log });
  const minutes = (Date.now() - started) / 60000;
  const section = [
    INTERVALS_BEGIN,
    intervalsMarkdown(r),
    '',
    `Measured on ${machine.cpuModel}, ${machine.cores} cores, ${machine.keepalived}, ${machine.kernel}, from ${machine.date} (load average at start ${machine.loadAverage}); the study took ${minutes.toFixed(1)} min${full ? '' : ` (a partial run: \`${process.argv.slice(2).join(' ')}\`)`}.`,
    INTERVALS_END,
  ].join('\n');
  const json = full ? path.join(__dirname, 'intervals.json') : path.join(TMP, 'intervals.json');
  writeFileSync(json, JSON.stringify({ machine, intervals: r }, null, 1));
  if (full && values.out === undefined) {
    const file = path.join(__dirname, 'RESULTS.md');
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const b = old.indexOf(INTERVALS_BEGIN);
    const e = old.indexOf(INTERVALS_END);
    const next = b >= 0 && e > b ? `${old.slice(0, b)}${section}${old.slice(e + INTERVALS_END.length)}` : `${old.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    log(`wrote the intervals section of ${path.relative(ROOT, file)} and ${path.relative(ROOT, json)} (${minutes.toFixed(1)} min)`);
  } else {
    const file = values.out ?? path.join(TMP, 'RESULTS-intervals.md');
    writeFileSync(file, `${section}\n`);
    log(`wrote ${path.relative(ROOT, file)} and ${path.relative(ROOT, json)} (${minutes.toFixed(1)} min)`);
  }
}

main().then(() => runCleanup(), (e) => {
  runCleanup();
  process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
