/** Summary statistics and formatting shared by the benchmark sections. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return { n: xs.length, median, min: xs[0], max: xs[xs.length - 1] };
}

/** `median (min–max)` with the given number of decimals. */
export function fmt(s: Summary, decimals = 0, unit = ''): string {
  if (s.n === 0) return 'n/a';
  const f = (v: number) => v.toFixed(decimals);
  return `${f(s.median)}${unit} (${f(s.min)}–${f(s.max)})`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a';
}

let anchor = performance.timeOrigin;

/**
 * Re-anchors `nowMs` on the system clock at a millisecond edge, so that it stays comparable with
 * timestamps other processes (`ip -ts monitor`) take from the same clock, however long the run.
 */
export function reanchorClock(): void {
  const start = Date.now();
  let d = start;
  while (d === start) d = Date.now();
  anchor = d - performance.now();
}

/** Wall-clock time in milliseconds since the epoch, with sub-millisecond resolution. */
export function nowMs(): number {
  return anchor + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Sleeps until the wall-clock time `at` (ms since the epoch), spinning for the last 2 ms. */
export async function sleepUntil(at: number): Promise<void> {
  const ahead = at - nowMs() - 2;
  if (ahead > 0) await sleep(ahead);
  while (nowMs() < at) { /* spin */ }
}

/** A verdict line: met / missed. */
export function verdict(met: boolean): string {
  return met ? '**met**' : '**missed**';
}

/** A difference in ms with its sign: `+12 ms`, `-3 ms`. */
export function signedMs(ms: number, decimals = 0): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(decimals)} ms`;
}
