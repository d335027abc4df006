/**
 * Synth cost: whole-process wall time and peak memory of a `cdk8s synth`-equivalent process built
 * with our library (compiled lib/), against a bare cdk8s app that emits the same objects as plain
 * ApiObjects from JSON precomputed by our library. Both run as fresh `node` processes with the same
 * preload (procs/rusage.js), alternately, in the same run.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { parseAllDocuments } from 'yaml';
import { fmt, fmtRatio, signedMs, Summary, summarize, verdict } from './stats';

export const SYNTH_GROUPS = [1, 10, 100, 255] as const;
export const SYNTH_TARGETS = ['deckhouse', 'standalone'] as const;
export const SYNTH_SHAPES = ['one', 'many'] as const;
/** Target: at 255 groups, our wall time at most this times the baseline's. */
export const SYNTH_TARGET_RATIO = 1.10;
/** Target: at 255 groups, our peak memory at most this times the baseline's. */
export const SYNTH_MEMORY_RATIO = 1.25;
/** Target: 255 single-address standalone clusters synthesize to at most this many bytes (the agent ships once). */
export const SYNTH_MAX_BYTES_255_CLUSTERS = 2 * 1024 * 1024;

type Target = (typeof SYNTH_TARGETS)[number];
type Shape = (typeof SYNTH_SHAPES)[number];

interface Sample {
  readonly wallMs: number;
  readonly maxRssMiB: number;
  readonly cpuMs: number;
  readonly marks: Record<string, number>;
}

export interface SynthCase {
  readonly target: Target;
  readonly shape: Shape;
  readonly groups: number;
  readonly objects: number;
  readonly outputBytes: number;
  readonly sameOutput: boolean;
  readonly ours: Sample[];
  readonly baseline: Sample[];
  /** The structural floor (baseline/synth-construct-floor.js), measured at 255 groups only. */
  readonly floor: Sample[];
  /** Ours and the baseline with the young generation's size fixed (FIXED_YOUNG_GENERATION), at 255 groups only. */
  readonly oursFixedYoung: Sample[];
  readonly baselineFixedYoung: Sample[];
}

export interface SynthResults {
  readonly runs: number;
  readonly cases: SynthCase[];
}

const BENCH = __dirname;
const NODE = process.execPath;

/**
 * V8 flags that fix the young generation at its largest size in Node 20 (16 MiB semi-spaces). By
 * default V8 grows it while a process runs, and when it grows depends on everything the process
 * allocated before: the comparison under these flags, for both processes, shows how much of a ratio
 * is that growth's timing rather than work.
 */
const FIXED_YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

function measure(script: string, args: string[], workDir: string, nodeFlags: readonly string[] = []): Sample {
  const rusageFile = path.join(workDir, 'rusage.json');
  rmSync(rusageFile, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(NODE, [...nodeFlags, '-r', path.join(BENCH, 'procs', 'rusage.js'), script, ...args], {
    env: { ...process.env, BENCH_RUSAGE_FILE: rusageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(script)} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  const u = JSON.parse(readFileSync(rusageFile, 'utf8'));
  return { wallMs, maxRssMiB: u.maxRssKiB / 1024, cpuMs: u.userMs + u.systemMs, marks: u.marks };
}

/** Every document of every `<chart>.k8s.yaml` in a synth outdir, by chart id. */
function readOutput(outdir: string): { charts: { id: string; objects: unknown[] }[]; bytes: number } {
  let bytes = 0;
  const charts = readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml')).sort().map((f) => {
    const text = readFileSync(path.join(outdir, f), 'utf8');
    bytes += Buffer.byteLength(text);
    return { id: f.replace(/\.k8s\.yaml$/, ''), objects: parseAllDocuments(text).map((d) => d.toJSON()).filter((o) => o !== null) };
  });
  return { charts, bytes };
}

export function runSynth(runs: number, tmp: string, log: (s: string) => void): SynthResults {
  const ours = path.join(BENCH, 'procs', 'synth-library.js');
  const plain = path.join(BENCH, 'baseline', 'synth-plain.js');
  const floor = path.join(BENCH, 'baseline', 'synth-construct-floor.js');
  const work = path.join(tmp, 'synth');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const cases: SynthCase[] = [];
  const inputs = new Map<SynthCase, string>();
  for (const target of SYNTH_TARGETS) {
    for (const shape of SYNTH_SHAPES) {
      for (const groups of SYNTH_GROUPS) {
        const name = `${target}-${shape}-${groups}`;
        const argsOf = (outdir: string) => ['--target', target, '--shape', shape, '--groups', String(groups), '--outdir', outdir];
        // Precompute the baseline's input once, with our library; it also warms the file cache.
        const pre = path.join(work, `${name}-pre`);
        measure(ours, argsOf(pre), work);
        const output = readOutput(pre);
        const input = path.join(work, `${name}.json`);
        writeFileSync(input, JSON.stringify({ charts: output.charts }));
        // The baseline (and at 255 groups the floor) must emit the same objects.
        const emitsTheSame = (script: string) => {
          const check = path.join(work, `${name}-check`);
          measure(script, ['--input', input, '--outdir', check], work);
          const same = isDeepStrictEqual(readOutput(check).charts, output.charts);
          rmSync(check, { recursive: true, force: true });
          return same;
        };
        const sameOutput = emitsTheSame(plain) && (groups !== 255 || emitsTheSame(floor));
        rmSync(pre, { recursive: true, force: true });
        const c: SynthCase = {
          target, shape, groups, sameOutput,
          objects: output.charts.reduce((s, ch) => s + ch.objects.length, 0),
          outputBytes: output.bytes,
          ours: [], baseline: [], floor: [], oursFixedYoung: [], baselineFixedYoung: [],
        };
        cases.push(c);
        inputs.set(c, input);
      }
    }
  }

  for (let run = 0; run < runs; run++) {
    log(`synth: run ${run + 1}/${runs}`);
    for (const c of cases) {
      const outdir = path.join(work, 'out');
      const doOurs = (into: Sample[], nodeFlags: readonly string[] = []) => {
        into.push(measure(ours, ['--target', c.target, '--shape', c.shape, '--groups', String(c.groups), '--outdir', outdir], work, nodeFlags));
        rmSync(outdir, { recursive: true, force: true });
      };
      const doBase = (into: Sample[], nodeFlags: readonly string[] = []) => {
        into.push(measure(plain, ['--input', inputs.get(c)!, '--outdir', outdir], work, nodeFlags));
        rmSync(outdir, { recursive: true, force: true });
      };
      // Alternate which goes first, so that neither always runs on a warmer machine.
      const pair = (oursInto: Sample[], baseInto: Sample[], nodeFlags: readonly string[] = []) => {
        if ((run + c.groups) % 2 === 0) { doOurs(oursInto, nodeFlags); doBase(baseInto, nodeFlags); } else { doBase(baseInto, nodeFlags); doOurs(oursInto, nodeFlags); }
      };
      pair(c.ours, c.baseline);
      if (c.groups === 255) {
        c.floor.push(measure(floor, ['--input', inputs.get(c)!, '--outdir', outdir], work));
        rmSync(outdir, { recursive: true, force: true });
        pair(c.oursFixedYoung, c.baselineFixedYoung, FIXED_YOUNG_GENERATION);
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
  return { runs, cases };
}

function wall(samples: Sample[]): Summary {
  return summarize(samples.map((s) => s.wallMs));
}
function rss(samples: Sample[]): Summary {
  return summarize(samples.map((s) => s.maxRssMiB));
}
/** The median of the runs' own ratios: each of ours against the baseline run next to it (the runs alternate). */
function pairedWallRatio(ours: Sample[], baseline: Sample[]): number {
  return summarize(ours.map((s, i) => s.wallMs / baseline[i].wallMs)).median;
}
function cpu(samples: Sample[]): Summary {
  return summarize(samples.map((s) => s.cpuMs));
}
function mark(samples: Sample[], key: string): Summary {
  return summarize(samples.map((s) => s.marks[key]));
}

const SHAPE_TEXT: Record<Shape, string> = {
  one: 'one `FrontendVips` with N addresses (N groups in one cluster)',
  many: 'N `FrontendVips` of one address each (N clusters)',
};

export interface TargetCheck {
  readonly label: string;
  readonly met: boolean;
  readonly detail: string;
}

export function synthTargets(r: SynthResults): TargetCheck[] {
  const size = r.cases.filter((c) => c.groups === 255 && c.target === 'standalone' && c.shape === 'many').map((c) => ({
    label: `255 single-address standalone clusters: output <= ${SYNTH_MAX_BYTES_255_CLUSTERS / 1024 / 1024} MiB`,
    met: c.outputBytes <= SYNTH_MAX_BYTES_255_CLUSTERS,
    detail: `${(c.outputBytes / 1024 / 1024).toFixed(2)} MiB in ${c.objects} objects`,
  }));
  return [...size, ...r.cases.filter((c) => c.groups === 255).map((c) => {
    const w = wall(c.ours).median / wall(c.baseline).median;
    const m = rss(c.ours).median / rss(c.baseline).median;
    const met = w <= SYNTH_TARGET_RATIO && m <= SYNTH_MEMORY_RATIO;
    const d = (k: string) => mark(c.ours, k).median - mark(c.baseline, k).median;
    const inProcess = d('requireMs') + d('constructMs') + d('synthMs');
    const why = met ? '' : `; why: ours − baseline = ${(wall(c.ours).median - wall(c.baseline).median).toFixed(0)} ms wall at the median, of which the process itself accounts for ${inProcess.toFixed(0)} ms (require ${signedMs(d('requireMs'))}, construct ${signedMs(d('constructMs'))}, synth ${signedMs(d('synthMs'))}); CPU time ratio ${fmtRatio(cpu(c.ours).median / cpu(c.baseline).median)}, min/min wall ratio ${fmtRatio(wall(c.ours).min / wall(c.baseline).min)}`;
    return {
      label: `synth at 255 groups, ${c.target}, shape ${c.shape}: wall <= ${SYNTH_TARGET_RATIO}x and peak memory <= ${SYNTH_MEMORY_RATIO}x baseline`,
      met,
      detail: `wall ${fmtRatio(w)} (median of the paired runs' ratios ${fmtRatio(pairedWallRatio(c.ours, c.baseline))}), peak memory ${fmtRatio(m)}${why}; the structural floor (require, a construct per cluster, content at synth) alone: wall ${fmtRatio(wall(c.floor).median / wall(c.baseline).median)}; both with the young generation's size fixed: wall ${fmtRatio(wall(c.oursFixedYoung).median / wall(c.baselineFixedYoung).median)} (paired ${fmtRatio(pairedWallRatio(c.oursFixedYoung, c.baselineFixedYoung))})`,
    };
  })];
}

export function synthMarkdown(r: SynthResults): string {
  const out: string[] = [];
  out.push('## 1. Synth cost');
  out.push('');
  out.push(`Whole-process wall time (spawn to exit, as the parent sees it) and peak RSS (\`getrusage\` maxRSS, written at exit by a preload both processes share) of a fresh \`node\` process that builds an \`App\` and calls \`app.synth()\` into a temp outdir, run against the compiled \`lib/\`. Median (min–max) over ${r.runs} runs, ours and the baseline alternately. **Baseline**: a bare cdk8s app (\`bench/baseline/synth-plain.js\`) that loads the same objects as JSON precomputed once by our library and creates them as plain \`ApiObject\`s; its output (and the floor's) was checked to be deep-equal to ours in every case (column "same"). The ratio is the library's own overhead. "CPU ratio": user + system CPU time of the process, ours over the baseline's (medians); it is far less sensitive than wall time to other work on the machine. Standalone clusters use \`nodeOrder\` of 3 nodes, each its own metrics port (they share the nodes); VRIDs are allocated automatically (all 255 at N = 255). Shapes: **one** = ${SHAPE_TEXT.one}; **many** = ${SHAPE_TEXT.many}.`);
  out.push('');
  out.push('| target | shape | groups | objects | output | same | wall ours ms | wall baseline ms | wall ratio | peak RSS ours MiB | peak RSS baseline MiB | RSS ratio | CPU ratio |');
  out.push('|---|---|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of r.cases) {
    const wo = wall(c.ours); const wb = wall(c.baseline);
    const mo = rss(c.ours); const mb = rss(c.baseline);
    out.push(`| ${c.target} | ${c.shape} | ${c.groups} | ${c.objects} | ${(c.outputBytes / 1024).toFixed(0)} KiB | ${c.sameOutput ? 'yes' : '**no**'} | ${fmt(wo)} | ${fmt(wb)} | ${fmtRatio(wo.median / wb.median)} | ${fmt(mo, 1)} | ${fmt(mb, 1)} | ${fmtRatio(mo.median / mb.median)} | ${fmtRatio(cpu(c.ours).median / cpu(c.baseline).median)} |`);
  }
  out.push('');
  out.push(`**The structural floor** at 255 groups: \`bench/baseline/synth-construct-floor.js\` creates the baseline's objects as a construct library must, whatever its logic: it requires our library, puts each cluster's objects under a construct of their own (grouped by their \`app.kubernetes.io/instance\` label; a namespace's shared objects together), and produces each object's content at synth time (a \`Lazy\` per top-level field). What ours costs above the floor is its own work: validation, VRID allocation, building the objects. Median (min–max), ${r.runs} runs, interleaved with the others.`);
  out.push('');
  out.push('| target | shape | wall floor ms | floor / baseline | ours / floor |');
  out.push('|---|---|---:|---:|---:|');
  for (const c of r.cases.filter((x) => x.groups === 255)) {
    out.push(`| ${c.target} | ${c.shape} | ${fmt(wall(c.floor))} | ${fmtRatio(wall(c.floor).median / wall(c.baseline).median)} | ${fmtRatio(wall(c.ours).median / wall(c.floor).median)} |`);
  }
  out.push('');
  out.push(`**With the young generation's size fixed** at 255 groups: ours and the baseline again, both run with \`node ${FIXED_YOUNG_GENERATION.join(' ')}\` (V8's largest young generation in Node 20, from the start). By default V8 grows the young generation while a process runs, at a point that depends on everything the process allocated before (loading a library moves it), and a synth runs slower once it has grown; this comparison takes that timing out, to show how much of the default ratio is the library's work. It is not the target's measure (users run \`node\` with its defaults). Median (min–max), ${r.runs} runs, alternating, interleaved with the others.`);
  out.push('');
  out.push('| target | shape | wall ours ms | wall baseline ms | wall ratio | median of the paired ratios | default: wall ratio |');
  out.push('|---|---|---:|---:|---:|---:|---:|');
  for (const c of r.cases.filter((x) => x.groups === 255)) {
    const wo = wall(c.oursFixedYoung); const wb = wall(c.baselineFixedYoung);
    out.push(`| ${c.target} | ${c.shape} | ${fmt(wo)} | ${fmt(wb)} | ${fmtRatio(wo.median / wb.median)} | ${fmtRatio(pairedWallRatio(c.oursFixedYoung, c.baselineFixedYoung))} | ${fmtRatio(wall(c.ours).median / wall(c.baseline).median)} |`);
  }
  out.push('');
  out.push('**Where the time goes** (medians, ms, measured inside the process): `require` of cdk8s (+ our lib), building the construct tree, and `app.synth()`.');
  out.push('');
  out.push('| target | shape | groups | require ours / baseline | construct ours / baseline | synth ours / baseline |');
  out.push('|---|---|---:|---:|---:|---:|');
  for (const c of r.cases) {
    const p = (k: string) => `${mark(c.ours, k).median.toFixed(0)} / ${mark(c.baseline, k).median.toFixed(0)}`;
    out.push(`| ${c.target} | ${c.shape} | ${c.groups} | ${p('requireMs')} | ${p('constructMs')} | ${p('synthMs')} |`);
  }
  out.push('');
  out.push('**Growth with the number of groups**: the marginal cost per group, (median at 255 − median at 1) / 254, and the growth factor from 1 to 255 groups.');
  out.push('');
  out.push('| target | shape | wall per group ours / baseline (ms) | RSS per group ours / baseline (KiB) | wall 1→255 ours / baseline |');
  out.push('|---|---|---:|---:|---:|');
  for (const target of SYNTH_TARGETS) {
    for (const shape of SYNTH_SHAPES) {
      const at = (g: number) => r.cases.find((c) => c.target === target && c.shape === shape && c.groups === g)!;
      const lo = at(1); const hi = at(255);
      const per = (f: (s: Sample[]) => Summary, which: 'ours' | 'baseline', scale: number) => ((f(hi[which]).median - f(lo[which]).median) / 254) * scale;
      out.push(`| ${target} | ${shape} | ${per(wall, 'ours', 1).toFixed(2)} / ${per(wall, 'baseline', 1).toFixed(2)} | ${per(rss, 'ours', 1024).toFixed(0)} / ${per(rss, 'baseline', 1024).toFixed(0)} | ${fmtRatio(wall(hi.ours).median / wall(lo.ours).median)} / ${fmtRatio(wall(hi.baseline).median / wall(lo.baseline).median)} |`);
    }
  }
  out.push('');
  out.push(`**Targets** (at 255 groups: wall time <= ${SYNTH_TARGET_RATIO}x and peak memory <= ${SYNTH_MEMORY_RATIO}x the baseline; 255 standalone clusters <= 2 MiB of YAML):`);
  out.push('');
  for (const t of synthTargets(r)) out.push(`- ${t.label}: ${verdict(t.met)} (${t.detail})`);
  return out.join('\n');
}
