/**
 * The human form of the results: one row per figure, its baseline beside it, and whether its goal
 * is met. The machine form (`--json`) carries the same figures without the goals.
 */
import { formatRate } from './compare.ts';
import type { BenchResult } from './types.ts';

export function isGoalMet(r: BenchResult): boolean | undefined {
  return r.goal === undefined ? undefined : r.ratio >= r.goal.minRatio;
}

function formatRatio(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

export function formatTable(results: readonly BenchResult[]): string {
  const header = ['id', 'value', 'unit', 'vs', 'vs value', 'ratio', 'goal', 'met?'];
  const rows = results.map((r) => {
    const met = isGoalMet(r);
    return [
      r.id,
      formatRate(r.value),
      r.unit,
      r.vs.name,
      formatRate(r.vs.value),
      formatRatio(r.ratio),
      r.goal ? `>= ${r.goal.minRatio}x` : '-',
      met === undefined ? '-' : met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  // Numbers read best right-aligned; names and units left-aligned.
  const numeric = new Set([1, 4, 5]);
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The `--json` form: exactly the documented fields, in a stable order. */
export function toJson(results: readonly BenchResult[]): string {
  return JSON.stringify(
    results.map((r) => ({
      id: r.id,
      value: round(r.value),
      unit: r.unit,
      vs: { name: r.vs.name, value: round(r.vs.value) },
      ratio: Number(r.ratio.toFixed(4)),
    })),
    null,
    2,
  );
}

/** Rates carry far less precision than a double prints; keep four significant digits. */
function round(value: number): number {
  return Number(value.toPrecision(4));
}
