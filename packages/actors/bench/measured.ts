/** Looks up a contender's figure, failing loudly on a misspelt name rather than printing NaN. */
import type { Measured } from '../../../scripts/bench/types.ts';

export function measured(m: ReadonlyMap<string, Measured>, name: string): Measured {
  const found = m.get(name);
  if (found === undefined) throw new Error(`no measurement named ${JSON.stringify(name)}`);
  return found;
}
