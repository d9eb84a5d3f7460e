/**
 * An add-wins observed-remove set without tombstones: ORSWOT, as Riak DT's `riak_dt_orswot`
 * (Bieniusa, Zawirski, Preguiça, Shapiro, Baquero, Balegas, Duarte: "An Optimized Conflict-free
 * Replicated Set", 2012). Pure functions over plain data, so a set is stored in the key-value
 * store as it is (JSON or msgpack, no Map or Set).
 *
 * A set holds a version vector (`clock`: for each actor, how many of its adds this set has seen)
 * and, for each present item, the dots of the adds that put it there and that no remove has
 * observed. An add mints the dot `(actor, clock[actor] + 1)`; a remove drops the item's dots (the
 * adds it observed) and keeps the clock, which is what remembers the removal: no tombstones. A
 * merge keeps a dot present on both sides, or present on one side and not yet seen (not covered)
 * by the other side's clock; a dot one side lacks but whose clock covers was removed there.
 *
 * Hence add wins: a remove only cancels the adds it observed, so an add concurrent with it
 * survives the merge. The one rule an actor must keep (Riak's vnodes keep it by construction):
 * it mints each dot from a set that holds every dot it minted before, or the new dot's counter
 * would claim adds the set never saw, and a merge would drop them.
 */

/** One add: the actor that made it, and that actor's count of adds so far. */
export type Dot = readonly [actor: string, counter: number];

/** A present item and the dots of its unobserved adds (one per actor, sorted by actor). */
export type OrswotEntry = readonly [item: string, dots: readonly Dot[]];

/**
 * An ORSWOT of string items, in a canonical form: `clock` sorted by actor (counters >= 1),
 * `entries` sorted by item, each with a non-empty list of dots sorted by actor, each covered by
 * `clock`. Equal sets are deeply equal, whatever order merges ran in.
 */
export interface Orswot {
  readonly clock: readonly Dot[];
  readonly entries: readonly OrswotEntry[];
}

/** The empty set. */
export function emptyOrswot(): Orswot {
  return { clock: [], entries: [] };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How many adds of `actor` the clock has seen. */
export function counterOf(clock: readonly Dot[], actor: string): number {
  for (const [a, n] of clock) if (a === actor) return n;
  return 0;
}

function isCovered(clock: readonly Dot[], [actor, counter]: Dot): boolean {
  return counterOf(clock, actor) >= counter;
}

/** The items present, sorted. */
export function elements(set: Orswot): string[] {
  return set.entries.map(([item]) => item);
}

/** Whether `item` is present. */
export function has(set: Orswot, item: string): boolean {
  return set.entries.some(([i]) => i === item);
}

/**
 * Adds `item` on behalf of `actor`: a new dot replaces the item's dots (the new clock covers
 * them). Adding a present item is not a no-op: the new dot wins over removes concurrent with it.
 */
export function add(set: Orswot, actor: string, item: string): Orswot {
  const counter = counterOf(set.clock, actor) + 1;
  const dot: Dot = [actor, counter];
  const clock = set.clock.some(([a]) => a === actor) ? set.clock.map((d): Dot => (d[0] === actor ? dot : d)) : [...set.clock, dot].sort((x, y) => compare(x[0], y[0]));
  const entries = [...set.entries.filter(([i]) => i !== item), [item, [dot]] as OrswotEntry].sort((x, y) => compare(x[0], y[0]));
  return { clock, entries };
}

/** Removes `item`: the adds this set observed are cancelled; the clock remembers them. No-op if absent. */
export function remove(set: Orswot, item: string): Orswot {
  if (!has(set, item)) return set;
  return { clock: set.clock, entries: set.entries.filter(([i]) => i !== item) };
}

/** The least upper bound of two clocks. */
function mergeClocks(a: readonly Dot[], b: readonly Dot[]): Dot[] {
  const out = new Map<string, number>();
  for (const [actor, n] of [...a, ...b]) out.set(actor, Math.max(out.get(actor) ?? 0, n));
  return [...out].sort((x, y) => compare(x[0], y[0]));
}

/**
 * Joins two versions of a set (commutative, associative, idempotent). A dot survives when both
 * sides hold it, or one side holds it and the other has not seen it; an item survives with any
 * dot.
 */
export function merge(a: Orswot, b: Orswot): Orswot {
  const dotsA = new Map(a.entries);
  const dotsB = new Map(b.entries);
  const items = [...new Set([...dotsA.keys(), ...dotsB.keys()])].sort(compare);
  const entries: OrswotEntry[] = [];
  for (const item of items) {
    const da = dotsA.get(item) ?? [];
    const db = dotsB.get(item) ?? [];
    const holds = (dots: readonly Dot[], [actor, counter]: Dot) => dots.some(([x, n]) => x === actor && n === counter);
    const kept = [...da.filter((d) => holds(db, d) || !isCovered(b.clock, d)), ...db.filter((d) => !holds(da, d) && !isCovered(a.clock, d))].sort((x, y) => compare(x[0], y[0]));
    if (kept.length > 0) entries.push([item, kept]);
  }
  const merged = { clock: mergeClocks(a.clock, b.clock), entries };
  // Each side holds one dot per actor per item, covered by its own clock, so the side with the
  // older dot of an actor has it covered by the other's clock: one dot per actor survives.
  for (const [item, dots] of entries) {
    for (let i = 1; i < dots.length; i++) if (dots[i - 1]![0] === dots[i]![0]) throw new Error(`ORSWOT invariant broken: two dots of ${dots[i]![0]} for ${item}`);
  }
  return merged;
}

/** Joins any number of versions (the empty set for none). */
export function mergeAll(sets: readonly Orswot[]): Orswot {
  return sets.reduce(merge, emptyOrswot());
}

function isDot(x: unknown): x is Dot {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && x[0].length > 0 && Number.isSafeInteger(x[1]) && (x[1] as number) >= 1;
}

function isSortedStrictly(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compare(keys[i - 1]!, keys[i]!) >= 0) return false;
  return true;
}

/**
 * Checks a value read from outside (the store, another node) is an ORSWOT in canonical form,
 * with every item accepted by `isItem` and every dot covered by the clock.
 */
export function isOrswot(x: unknown, isItem: (item: string) => boolean = () => true): x is Orswot {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const { clock, entries } = x as Record<string, unknown>;
  if (!Array.isArray(clock) || !clock.every(isDot) || !isSortedStrictly(clock.map(([a]) => a))) return false;
  if (!Array.isArray(entries)) return false;
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !isItem(entry[0])) return false;
    const dots: unknown = entry[1];
    if (!Array.isArray(dots) || dots.length === 0 || !dots.every(isDot) || !isSortedStrictly(dots.map(([a]) => a))) return false;
    if (!dots.every((d) => isCovered(clock, d))) return false;
  }
  return isSortedStrictly((entries as OrswotEntry[]).map(([item]) => item));
}
