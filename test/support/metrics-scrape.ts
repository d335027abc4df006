/**
 * Reading the agent's Prometheus exposition in tests: a scrape, its samples, and the metric names a
 * PromQL expression uses.
 */
import { createServer } from 'net';

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A parsed scrape: the samples, and the names declared by `# TYPE` lines. */
export interface Scrape {
  readonly text: string;
  readonly samples: readonly Sample[];
  readonly declared: ReadonlySet<string>;
}

/** Parses the text exposition format (what prom-client writes: no timestamps, no escapes but \", \\ and \n). */
export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      declared.add(type[1]);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return { text, samples, declared };
}

/** GET /metrics. */
export async function scrape(port: number, host = '127.0.0.1'): Promise<Scrape> {
  const res = await fetch(`http://${host}:${port}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return parseExposition(await res.text());
}

/** The samples of one metric whose labels include `match`. */
export function samplesOf(s: Scrape, name: string, match: Record<string, string> = {}): Sample[] {
  return s.samples.filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v));
}

/** The value of the one sample of a metric matching `match`; undefined when there is none; throws when several. */
export function valueOf(s: Scrape, name: string, match: Record<string, string> = {}): number | undefined {
  const found = samplesOf(s, name, match);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match)}`);
  return found[0]?.value;
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

const PROMQL_FUNCTIONS_AND_KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan',
]);

/**
 * The metric names in a PromQL expression: identifiers that are neither functions or aggregations
 * (followed by `(`), keywords, label names (inside `{...}` or in `by (...)`-like lists), nor Grafana
 * variables (`$__rate_interval`), nor durations.
 */
export function metricNamesIn(expr: string): string[] {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  e = e.replace(/\{[^}]*\}/g, ' ');
  e = e.replace(/\[[^\]]*\]/g, ' ');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  e = e.replace(/\$[a-zA-Z_][a-zA-Z0-9_]*/g, ' ');
  const names = new Set<string>();
  for (const m of e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined) continue; // a function or aggregation
    if (PROMQL_FUNCTIONS_AND_KEYWORDS.has(m[1].toLowerCase())) continue;
    const before = e.slice(0, m.index);
    if (/[0-9.]$/.test(before)) continue; // part of a number (1e3) or a duration
    names.add(m[1]);
  }
  return [...names].sort();
}
