/**
 * The published figures the simulator is checked against: Demers et al., "Epidemic algorithms for
 * replicated database maintenance" (PODC 1987; Xerox PARC CSL-89-1, 1989, pp. 10-11), rumor
 * mongering on 1000 sites, one update, means over their simulation runs.
 *
 * - Table 1: push, feedback, counter.
 * - Table 2: push, blind, coin.
 * - Table 3: pull, feedback, counter (the paper gives s in scientific notation).
 */
import type { EpidemicParams } from './epidemic-params.ts';

/** One row of a table: the parameter k and the four measures. */
export interface PaperRow {
  readonly k: number;
  readonly residue: number;
  readonly traffic: number;
  readonly tAve: number;
  readonly tLast: number;
}

/** A table of the paper, and the variation it measured. */
export interface PaperTable {
  readonly name: string;
  readonly mode: EpidemicParams['mode'];
  readonly removal: EpidemicParams['removal'];
  readonly stop: EpidemicParams['stop'];
  readonly nodes: number;
  readonly rows: readonly PaperRow[];
}

const row = (k: number, residue: number, traffic: number, tAve: number, tLast: number): PaperRow => ({ k, residue, traffic, tAve, tLast });

/** The paper's rumor-mongering tables. */
export const PAPER_TABLES: readonly PaperTable[] = [
  {
    name: 'Table 1 (push, feedback, counter)',
    mode: 'push',
    removal: 'feedback',
    stop: 'counter',
    nodes: 1000,
    rows: [row(1, 0.18, 1.7, 11.0, 16.8), row(2, 0.037, 3.3, 12.1, 16.9), row(3, 0.011, 4.5, 12.5, 17.4), row(4, 0.0036, 5.6, 12.7, 17.5), row(5, 0.0012, 6.7, 12.8, 17.7)],
  },
  {
    name: 'Table 2 (push, blind, coin)',
    mode: 'push',
    removal: 'blind',
    stop: 'coin',
    nodes: 1000,
    rows: [row(1, 0.96, 0.04, 19, 38), row(2, 0.2, 1.6, 17, 33), row(3, 0.06, 2.8, 15, 32), row(4, 0.021, 3.9, 14.1, 32), row(5, 0.008, 4.9, 13.8, 32)],
  },
  {
    name: 'Table 3 (pull, feedback, counter)',
    mode: 'pull',
    removal: 'feedback',
    stop: 'counter',
    nodes: 1000,
    rows: [row(1, 3.1e-2, 2.7, 9.97, 17.6), row(2, 5.8e-4, 4.5, 10.07, 15.4), row(3, 4.0e-6, 6.1, 10.08, 14.0)],
  },
];

/** The paper's row for these parameters, if it published one (rumor mongering on its 1000 sites). */
export function paperRowFor(params: EpidemicParams): { readonly table: PaperTable; readonly row: PaperRow } | undefined {
  if (params.protocol !== 'rumor') return undefined;
  for (const table of PAPER_TABLES) {
    if (table.mode !== params.mode || table.removal !== params.removal || table.stop !== params.stop || table.nodes !== params.nodes) continue;
    const found = table.rows.find((r) => r.k === params.k);
    if (found !== undefined) return { table, row: found };
  }
  return undefined;
}
