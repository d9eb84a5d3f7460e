/**
 * Small text charts for the simulator's terminal output. Pure: data in, lines out.
 */
import type { CurvePoint } from '../epidemic-metrics.ts';

/** How {@link renderCurve} draws. */
export interface CurveChartOptions {
  /** Number of sites: a full bar. */
  readonly sites: number;
  /** Characters of a full bar. Default 50. */
  readonly width?: number;
  /** Whether `infective` means anything (rumor mongering) or equals `reached` (anti-entropy). Default true. */
  readonly hasRemoval?: boolean;
}

const SOLID = '█';
const LIGHT = '░';

/** A count as the table shows it: integers as such, means with one decimal. */
function formatCount(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/**
 * The epidemic curve as a table with a bar per cycle: the bar's length is the sites reached, its
 * light part the sites still infective (spreading) and its solid part those removed.
 *
 * ```
 * cycle  new  reached  infective
 *     0    1        1          1  ░
 *     1    1        2          2  ░
 *     ...
 * ```
 */
export function renderCurve(points: readonly CurvePoint[], options: CurveChartOptions): string {
  const width = options.width ?? 50;
  const hasRemoval = options.hasRemoval ?? true;
  const header = hasRemoval ? ['cycle', 'new', 'reached', 'infective'] : ['cycle', 'new', 'reached'];
  const rows = points.map((p) => {
    const cells = [String(p.cycle), formatCount(p.newlyReached), formatCount(p.reached)];
    return hasRemoval ? [...cells, formatCount(p.infective)] : cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const pad = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const lines = [pad(header).trimEnd()];
  points.forEach((p, i) => {
    const reachedChars = Math.round((p.reached / options.sites) * width);
    // A bar never hides a non-zero count entirely: at least one character once anything is there.
    const total = p.reached > 0 ? Math.max(1, reachedChars) : 0;
    const light = hasRemoval ? Math.min(total, p.infective > 0 ? Math.max(1, Math.round((p.infective / options.sites) * width)) : 0) : total;
    lines.push(`${pad(rows[i]!)}  ${SOLID.repeat(total - light)}${LIGHT.repeat(light)}`.trimEnd());
  });
  const scale = `${width} characters = ${options.sites} sites`;
  lines.push(hasRemoval ? `${SOLID} removed (knows, stopped spreading)  ${LIGHT} infective (spreading)  ${scale}` : `${LIGHT} has the update  ${scale}`);
  return lines.join('\n');
}
