/**
 * Small argument readers for the experiment subcommands, on node's `util.parseArgs`: strict (an
 * unknown flag is an error), and every number checked, so a typo is a usage error, not a silent default.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage.ts';

export type FlagSpec = Record<string, { readonly type: 'string' | 'boolean' }>;

/** Parses `argv` against `flags`; throws {@link UsageError} with `usage` on anything else. */
export function readFlags(argv: readonly string[], flags: FlagSpec, usage: string): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv.filter((a) => a !== '--'), options: flags, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
}

/** A number flag within [min, max] (integers only when `isInteger`), or `fallback` when absent. */
export function numberFlag(values: Record<string, string | boolean | undefined>, name: string, fallback: number, usage: string, range: { min: number; max?: number; isInteger?: boolean }): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < range.min || n > max || (range.isInteger === true && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${range.isInteger ? 'an integer' : 'a number'} in [${range.min}, ${range.max ?? '∞'}], got ${JSON.stringify(raw)}`, usage);
  }
  return n;
}

/** A flag whose value is one of `choices`, or `fallback`. */
export function choiceFlag<T extends string>(values: Record<string, string | boolean | undefined>, name: string, choices: readonly T[], fallback: T, usage: string): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`, usage);
  return raw as T;
}

/** Formats a table of rows, first column left-aligned, the others right-aligned. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}
