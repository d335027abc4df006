/**
 * Module load: the time to `require('keepalived-constructs')` (lib/index.js) in a fresh process, against
 * requiring cdk8s and constructs alone. Each variant runs as its own fresh `node` process, interleaved.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { fmt, Summary, summarize, verdict } from './stats';

/** Target: our require at most this many ms over cdk8s + constructs alone (medians). */
export const LOAD_TARGET_MS = 50;

const VARIANTS = [
  { key: 'empty', label: '`node` with nothing required', modules: [] as string[] },
  { key: 'cdk8s', label: "`require('cdk8s'); require('constructs')` (baseline)", modules: ['cdk8s', 'constructs'] },
  { key: 'ours', label: "`require('keepalived-constructs')` (lib/index.js; loads cdk8s and constructs itself)", modules: ['keepalived-constructs'] },
] as const;

type Key = (typeof VARIANTS)[number]['key'];

export interface LoadResults {
  readonly runs: number;
  readonly requireMs: Record<Key, number[]>;
  readonly processMs: Record<Key, number[]>;
}

export function runLoad(runs: number, log: (s: string) => void): LoadResults {
  const script = path.join(__dirname, 'procs', 'require-time.js');
  const requireMs = { empty: [], cdk8s: [], ours: [] } as Record<Key, number[]>;
  const processMs = { empty: [], cdk8s: [], ours: [] } as Record<Key, number[]>;
  const once = (v: (typeof VARIANTS)[number]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [script, ...v.modules], { encoding: 'utf8', cwd: path.join(__dirname, '..') });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`require-time ${v.modules.join(' ')} failed:\n${r.stderr}`);
    return { wall, requireMs: JSON.parse(r.stdout).requireMs as number };
  };
  for (const v of VARIANTS) once(v); // warm the file cache
  for (let run = 0; run < runs; run++) {
    // Rotate the order so that no variant always runs first.
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(run + k) % VARIANTS.length];
      const r = once(v);
      requireMs[v.key].push(r.requireMs);
      processMs[v.key].push(r.wall);
    }
  }
  log(`load: ${runs} runs of each variant done`);
  return { runs, requireMs, processMs };
}

export function loadOverMs(r: LoadResults): { require: number; process: number } {
  return {
    require: summarize(r.requireMs.ours).median - summarize(r.requireMs.cdk8s).median,
    process: summarize(r.processMs.ours).median - summarize(r.processMs.cdk8s).median,
  };
}

export function loadMarkdown(r: LoadResults): string {
  const out: string[] = [];
  out.push('## 2. Module load');
  out.push('');
  out.push(`Each variant is a fresh \`node\` process (\`bench/procs/require-time.js\`), ${r.runs} runs each, interleaved; "require" is measured inside the process around the \`require\` calls, "process" is spawn to exit as the parent sees it. Median (min–max), ms.`);
  out.push('');
  out.push('| variant | require ms | process ms |');
  out.push('|---|---:|---:|');
  for (const v of VARIANTS) {
    out.push(`| ${v.label} | ${fmt(summarize(r.requireMs[v.key]), 1)} | ${fmt(summarize(r.processMs[v.key]), 1)} |`);
  }
  const over = loadOverMs(r);
  const s = (k: Key): Summary => summarize(r.requireMs[k]);
  out.push('');
  out.push(`Ours over cdk8s + constructs alone: **${over.require.toFixed(1)} ms** in \`require\` (ratio ${(s('ours').median / s('cdk8s').median).toFixed(2)}x), ${over.process.toFixed(1)} ms in whole-process time.`);
  out.push('');
  out.push(`**Target** (<= ${LOAD_TARGET_MS} ms over cdk8s alone, median of >= 10 runs): ${verdict(over.require <= LOAD_TARGET_MS && r.runs >= 10)}${r.runs < 10 ? ` (only ${r.runs} runs: not a valid measurement)` : ''}.`);
  return out.join('\n');
}
