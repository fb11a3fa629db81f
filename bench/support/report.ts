import type { Stats } from './measure.js';

function fixed(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A GitHub-flavoured markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** `value` over `baseline`, as "1.50x" (50 % more time per operation). */
export function ratio(value: number, baseline: number): string {
  return `${fixed(value / baseline, 2)}x`;
}

/**
 * The statistics of compared variants, each with its ratios to `baseline`: of the mean latency
 * (the inverse of the throughput ratio) and of the median latency (less sensitive to other
 * processes on the machine).
 */
export function statsTable(stats: readonly Stats[], baseline: Stats): string {
  // The CPU column only where it was measured (Schedule.cpu), with its own ratio.
  const cpu = baseline.cpuUs !== undefined;
  const rows = stats.map((s) => [
    s.name,
    fixed(s.opsPerSec, 0),
    fixed(s.meanUs, 1),
    fixed(s.p50Us, 1),
    fixed(s.p99Us, 1),
    s === baseline ? 'baseline' : ratio(s.meanUs, baseline.meanUs),
    s === baseline ? 'baseline' : ratio(s.p50Us, baseline.p50Us),
    ...(cpu ? [fixed(s.cpuUs ?? NaN, 0), s === baseline ? 'baseline' : ratio(s.cpuUs ?? NaN, baseline.cpuUs!)] : []),
  ]);
  const header = ['operation', 'ops/s', 'mean µs', 'p50 µs', 'p99 µs', 'mean ratio', 'p50 ratio'];
  return markdownTable(cpu ? [...header, 'CPU µs/op', 'CPU ratio'] : header, rows);
}

/** Prints a titled section of the report. */
export function printSection(title: string, body: string): void {
  console.log(`\n### ${title}\n\n${body}`);
}

/** Throughputs, each with its ratio of time per operation to `baseline` (the inverse of the throughput ratio). */
export function throughputTable(rows: readonly { name: string; ops: number; opsPerSec: number }[], baseline: { opsPerSec: number }): string {
  return markdownTable(
    ['operation', 'ops', 'ops/s', 'time ratio'],
    rows.map((r) => [r.name, fixed(r.ops, 0), fixed(r.opsPerSec, 0), r === baseline ? 'baseline' : ratio(baseline.opsPerSec, r.opsPerSec)]),
  );
}
