/**
 * Dotted version vector sets (Almeida, Baquero, Gonçalves, Preguiça, Fonte: "Scalable and Accurate
 * Causality Tracking for Eventually Consistent Stores", DAIS 2014), the structure Riak 2.0 keeps
 * per key (`dvvset.erl`). Pure functions over plain data, so a clock crosses threads and lands on
 * disk as it is.
 *
 * A clock holds, per replica id (a coordinator's (node, storage epoch)), a counter `n` and the
 * values that id wrote and nobody has overwritten, newest first: the value at position `j` has the
 * dot `(id, n - j)`. Values written without a dot (a client's new value before a coordinator mints
 * one) are anonymous. Concurrent writes are siblings; a write whose context saw a sibling replaces
 * it; one coordinator's interleaved writes never become false siblings, since each carries the
 * context it was based on (Riak 1.x's sibling explosion came from vector clocks that could not
 * say that).
 */

/** Who mints dots: a coordinator's node and storage epoch, `node@epoch` (principle 6). */
export type ReplicaId = string;

/** A causal context: for each replica id, how many of its events were seen. */
export type VersionVector = Readonly<Record<ReplicaId, number>>;

/** One event: the `counter`-th write coordinated by `id`. */
export interface Dot {
  readonly id: ReplicaId;
  readonly counter: number;
}

/** One replica id's part of a clock. */
export interface DvvEntry<V> {
  readonly id: ReplicaId;
  readonly counter: number;
  /** The values this id wrote that are still current, newest first: `values[j]` has dot `(id, counter - j)`. */
  readonly values: readonly V[];
}

/** A key's clock and values. Entries are sorted by id. */
export interface DvvSet<V> {
  readonly entries: readonly DvvEntry<V>[];
  readonly anonymous: readonly V[];
}

/** A value with the dot it was written under (none for an anonymous value). */
export interface Version<V> {
  readonly value: V;
  readonly dot?: Dot;
}

/** The clock of a key nobody wrote. */
export function emptyClock<V>(): DvvSet<V> {
  return { entries: [], anonymous: [] };
}

/** A client's write: `value`, based on what `context` saw (dvvset's `new(VV, [V])`). */
export function clientWrite<V>(context: VersionVector, value: V): DvvSet<V> {
  // A zero counter says nothing, but dvvset would keep it as an entry and order clocks by it.
  const ids = Object.keys(context)
    .filter((id) => context[id]! > 0)
    .sort();
  return { entries: ids.map((id) => ({ id, counter: context[id]!, values: [] })), anonymous: [value] };
}

/**
 * The coordinator's step (dvvset's `update(C, S, I)`): the client's write `client` (from
 * {@link clientWrite}) meets the coordinator's stored clock `stored`; the values the client's
 * context saw are dropped, the rest stay as siblings, and the new value gets the next dot of `id`.
 */
export function update<V>(client: DvvSet<V>, stored: DvvSet<V>, id: ReplicaId): DvvSet<V> {
  if (client.anonymous.length !== 1) throw new RangeError(`a client write carries one value, got ${client.anonymous.length}`);
  const merged = sync({ entries: client.entries, anonymous: [] }, stored);
  return { entries: event(merged.entries, id, client.anonymous[0]!), anonymous: merged.anonymous };
}

/** Merges two replicas' clocks of one key (dvvset's `sync`): commutative, associative, idempotent. */
export function sync<V>(a: DvvSet<V>, b: DvvSet<V>): DvvSet<V> {
  let anonymous: readonly V[];
  if (less(a, b)) anonymous = b.anonymous;
  else if (less(b, a)) anonymous = a.anonymous;
  else anonymous = unionAnonymous(a.anonymous, b.anonymous);
  return { entries: mergeEntries(a.entries, b.entries), anonymous };
}

/** The causal context of a clock: what a client that read it has seen (dvvset's `join`). */
export function join<V>(c: DvvSet<V>): VersionVector {
  // fromEntries defines own properties, so no id (even `__proto__`) is lost.
  return Object.fromEntries(c.entries.map((e) => [e.id, e.counter]));
}

/** The current values (siblings), anonymous first, then by id, newest first. */
export function values<V>(c: DvvSet<V>): V[] {
  const out: V[] = [...c.anonymous];
  for (const e of c.entries) out.push(...e.values);
  return out;
}

/** The current values with their dots. */
export function versions<V>(c: DvvSet<V>): Version<V>[] {
  const out: Version<V>[] = c.anonymous.map((value) => ({ value }));
  for (const e of c.entries) e.values.forEach((value, j) => out.push({ value, dot: { id: e.id, counter: e.counter - j } }));
  return out;
}

/** The dot `update` gave the value it added: the newest of `id`. */
export function latestDot<V>(c: DvvSet<V>, id: ReplicaId): Dot | undefined {
  const e = c.entries.find((x) => x.id === id);
  return e && e.values.length > 0 ? { id, counter: e.counter } : undefined;
}

/** Number of values held (siblings). */
export function size<V>(c: DvvSet<V>): number {
  return c.entries.reduce((n, e) => n + e.values.length, c.anonymous.length);
}

/** True when `a`'s causal history is strictly contained in `b`'s (dvvset's `less`). */
export function less<V>(a: DvvSet<V>, b: DvvSet<V>): boolean {
  return greater(b.entries, a.entries);
}

/** True when context `a` has seen everything `b` has (a ≥ b, pointwise). */
export function descends(a: VersionVector, b: VersionVector): boolean {
  for (const [id, n] of Object.entries(b)) if (counterOf(a, id) < n) return false;
  return true;
}

/**
 * True when clock `a` has seen every event clock `b` has (`descends(join(a), join(b))`, without
 * building either context: entries are sorted by id, so one merge walk does).
 */
export function clockDescends<V>(a: DvvSet<V>, b: DvvSet<V>): boolean {
  let i = 0;
  for (const e of b.entries) {
    while (i < a.entries.length && a.entries[i]!.id < e.id) i++;
    const mine = i < a.entries.length && a.entries[i]!.id === e.id ? a.entries[i]!.counter : 0;
    if (mine < e.counter) return false;
  }
  return true;
}

/** True when `context` has seen the event `dot`. */
export function covers(context: VersionVector, dot: Dot): boolean {
  return counterOf(context, dot.id) >= dot.counter;
}

/** The pointwise maximum of two contexts. */
export function mergeContexts(a: VersionVector, b: VersionVector): VersionVector {
  const out = new Map<ReplicaId, number>(Object.entries(a));
  for (const [id, n] of Object.entries(b)) if ((out.get(id) ?? 0) < n) out.set(id, n);
  return Object.fromEntries(out);
}

/** A context's counter for `id`: own properties only (an id such as `constructor` is data, not a method). */
function counterOf(context: VersionVector, id: ReplicaId): number {
  return Object.hasOwn(context, id) ? context[id]! : 0;
}

/** Checks the shape and invariants of a clock from outside (another node, the disk). */
export function isDvvSet(x: unknown): x is DvvSet<unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as DvvSet<unknown>;
  if (!Array.isArray(c.entries) || !Array.isArray(c.anonymous)) return false;
  let previous: string | undefined;
  for (const e of c.entries as unknown[]) {
    const entry = e as DvvEntry<unknown>;
    if (typeof e !== 'object' || e === null || typeof entry.id !== 'string' || !Number.isSafeInteger(entry.counter) || !Array.isArray(entry.values)) return false;
    // Sorted, distinct ids; no more values than events.
    if ((previous !== undefined && entry.id <= previous) || entry.counter < entry.values.length || entry.counter < 0) return false;
    previous = entry.id;
  }
  return true;
}

// -------------------------------------------------------------------------------------------------

/** Adds the next event of `id` with `value` (dvvset's `event`). */
function event<V>(entries: readonly DvvEntry<V>[], id: ReplicaId, value: V): DvvEntry<V>[] {
  const out: DvvEntry<V>[] = [];
  let isDone = false;
  for (const e of entries) {
    if (!isDone && e.id === id) {
      out.push({ id, counter: e.counter + 1, values: [value, ...e.values] });
      isDone = true;
    } else if (!isDone && e.id > id) {
      out.push({ id, counter: 1, values: [value] }, e);
      isDone = true;
    } else out.push(e);
  }
  if (!isDone) out.push({ id, counter: 1, values: [value] });
  return out;
}

function mergeEntries<V>(a: readonly DvvEntry<V>[], b: readonly DvvEntry<V>[]): DvvEntry<V>[] {
  const out: DvvEntry<V>[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.id < y.id)) {
      out.push(x!);
      i++;
    } else if (x === undefined || y.id < x.id) {
      out.push(y);
      j++;
    } else {
      out.push(mergeEntry(x, y));
      i++;
      j++;
    }
  }
  return out;
}

/**
 * One id on both sides: the larger counter wins, and keeps those of its values the other side has
 * not already seen replaced (a value at counter c survives if the other side either holds it or
 * has not seen c).
 */
function mergeEntry<V>(x: DvvEntry<V>, y: DvvEntry<V>): DvvEntry<V> {
  const [hi, lo] = x.counter >= y.counter ? [x, y] : [y, x];
  // Oldest counter whose value `hi` still holds, and the same for `lo`.
  if (hi.counter - hi.values.length >= lo.counter - lo.values.length) return hi;
  return { id: hi.id, counter: hi.counter, values: hi.values.slice(0, hi.counter - lo.counter + lo.values.length) };
}

/** True when entries `a` strictly dominate entries `b` (dvvset's `greater`). */
function greater<V>(a: readonly DvvEntry<V>[], b: readonly DvvEntry<V>[]): boolean {
  let isStrict = false;
  let i = 0;
  let j = 0;
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) return isStrict;
    if (y === undefined) return true;
    if (x === undefined) return false;
    if (x.id === y.id) {
      if (x.counter < y.counter) return false;
      if (x.counter > y.counter) isStrict = true;
      i++;
      j++;
    } else if (x.id < y.id) {
      isStrict = true;
      i++;
    } else return false;
  }
}

/** dvvset keeps the set union of concurrent anonymous values; values are plain data, so equal means equal encodings. */
function unionAnonymous<V>(a: readonly V[], b: readonly V[]): V[] {
  const seen = new Set(a.map((v) => JSON.stringify(v)));
  return [...a, ...b.filter((v) => !seen.has(JSON.stringify(v)))];
}
