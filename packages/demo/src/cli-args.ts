/** What the command lines (`pnpm demo`, `pnpm verify`) share: flag parsing that names the problem. */

/** A bad flag or bad input file: the user's to fix, exit code 2. */
export class UsageError extends Error {}

/** An integer flag in [min, max], or undefined when absent. */
export function int(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${raw}`);
  return v;
}

/** Errors that are the user's to fix: bad flags (node's parseArgs), bad settings or schedules, a port taken. */
const USAGE_CODES: ReadonlySet<string> = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL', 'INVALID_CONFIG', 'INVALID_SCHEDULE', 'EADDRINUSE']);

export function isUsageError(err: unknown): err is Error {
  return err instanceof UsageError || (err instanceof Error && USAGE_CODES.has((err as { code?: string }).code ?? ''));
}
