/**
 * The human form of the results: one row per figure, its baseline beside it, and whether its goal
 * is met. The machine form (`--json`) carries the same figures without the goals.
 */
import { formatRate } from './compare.ts';
import type { BenchResult } from './types.ts';

export function isGoalMet(r: BenchResult): boolean | undefined {
  const goal = r.goal;
  if (goal === undefined || (goal.minRatio === undefined && goal.maxRatio === undefined)) return undefined;
  return (goal.minRatio === undefined || r.ratio >= goal.minRatio) && (goal.maxRatio === undefined || r.ratio <= goal.maxRatio);
}

/** `>= 0.7x`, `<= 1.3x`, or both. */
function formatGoal(goal: BenchResult['goal']): string {
  const parts: string[] = [];
  if (goal?.minRatio !== undefined) parts.push(`>= ${Number(goal.minRatio.toPrecision(3))}x`);
  if (goal?.maxRatio !== undefined) parts.push(`<= ${Number(goal.maxRatio.toPrecision(3))}x`);
  return parts.length === 0 ? '-' : parts.join(', ');
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
      formatGoal(r.goal),
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
