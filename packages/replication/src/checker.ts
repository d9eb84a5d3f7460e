/**
 * The history checker every fault test is judged by (Jepsen's method): given what clients did
 * (a {@link HistoryEntry} per operation, with ok / failed / unknown outcomes) and what every replica
 * holds at the end, it finds the anomalies a Dynamo-style store must not show. Pure: no clock, no
 * I/O; the same input gives the same verdict.
 *
 * Per key, the replicas' clocks are merged with `sync` (what anti-entropy would converge to), and:
 *
 * - **durability** — an acknowledged put or delete is at the end, or was causally superseded: its
 *   dot is known to the merged clock, and either its value is there under that dot or some other
 *   write (ok or unknown) carried a context that saw it. Otherwise it is a `lost-write`, unless
 *   every replica that acknowledged it was restarted empty at or after the acknowledgement: then
 *   it is `excused`, the one legitimate loss (DESIGN.md, principle 8). Where tombstones are
 *   collected (`collectsTombstones`), a key no replica holds is a collected delete: its deletes,
 *   and the puts a delete saw, are not lost; a put no delete saw still is.
 * - **causality** — no visible value was seen by a write that is known at the end (or was
 *   acknowledged and not excused): a delete that saw it (`resurrected-delete`), a visible sibling's
 *   write that saw it (`false-sibling`), or a write that saw it and was itself overwritten
 *   (`resurrected-write`). Dotted version vectors make each of these impossible in a correct store.
 * - **provenance** — a visible value was written by a put of this key (`phantom-value`), not by
 *   a put that failed (`failed-op-visible`), and under one dot, the one its put was acknowledged
 *   with (`duplicate-write`: a write applied twice); no two acknowledged writes share a dot
 *   (`reused-dot`: a dot minted twice). Unknown writes may be there or not.
 * - **reads** — an ok get returns values put to that key, by puts that did not fail and were
 *   invoked before the get completed (`future-read`).
 * - **sessions** — a session client's ok get is at least as new as every ok operation of that
 *   client on the key invoked before it and completed by the time it began (`read-your-writes`,
 *   `monotonic-reads`).
 *
 * The dots and contexts are the store's own, so the checker relies on what DVVs promise: a dot is
 * minted once (principle 6), and a clock that knows a write's dot has seen that write's context.
 */
import { covers, descends, type Dot, type DvvSet, emptyClock, isDvvSet, join, mergeContexts, sync, type VersionVector, versions } from './dvv.ts';
import { type Completion, formatContext, formatDot, formatEntry, type HistoryEntry, type OpKind } from './history.ts';

/**
 * What each replica holds at the end: node → key → clock of stored values; a stored value is the
 * string a put wrote, or null for a tombstone. Keys are store keys (`bucket/key`), as in the history.
 */
export type FinalState = Readonly<Record<string, Readonly<Record<string, DvvSet<string | null>>>>>;

/** A node restarted empty (from the fault schedule): everything it stored before `atMs` is gone. */
export interface Wipe {
  readonly node: string;
  readonly atMs: number;
}

/** What the checker judges. */
export interface CheckInput {
  readonly history: readonly HistoryEntry[];
  readonly final: FinalState;
  /** Restarts-empty of the run: they excuse the loss of writes every acknowledging replica of which was wiped. */
  readonly wipes?: readonly Wipe[];
  /**
   * The store collects tombstones (anti-entropy with a grace period): a key no replica holds any
   * more may be a collected delete. Then an acknowledged delete of it is not lost, nor is a put
   * that a delete saw; a put no delete saw still is.
   */
  readonly collectsTombstones?: boolean;
  /**
   * How a stored value is spelled in the history, when the client recorded values that way
   * (`KvClientOptions.recordValue`, the same function): applied to every final value's text (a
   * string as it is, anything else as its JSON) before it is matched to a put. Default: the text.
   */
  readonly valueKey?: (value: string) => string;
}

/** The anomalies the checker knows, each described in this module's overview. */
export type ViolationKind =
  | 'lost-write'
  | 'resurrected-delete'
  | 'resurrected-write'
  | 'false-sibling'
  | 'duplicate-write'
  | 'phantom-value'
  | 'failed-op-visible'
  | 'future-read'
  /** Two acknowledged writes of a key with one dot: a coordinator minted a dot twice. */
  | 'reused-dot'
  /** A session's get older than one of its own earlier acknowledged writes of the key. */
  | 'read-your-writes'
  /** A session's get older than one of its own earlier reads of the key. */
  | 'monotonic-reads'
  /** A replica's clock fails {@link isDvvSet}, or holds an anonymous value (every stored value needs its coordinator's dot). */
  | 'malformed-clock';

/** One anomaly, with the operations that show it (the write at fault first, where there is one). */
export interface Violation {
  readonly kind: ViolationKind;
  readonly key: string;
  readonly message: string;
  readonly ops: readonly HistoryEntry[];
}

/** A loss the durability model allows (principle 8), reported so a run shows what it forgave. */
export interface Excuse {
  readonly key: string;
  readonly message: string;
  readonly ops: readonly HistoryEntry[];
}

/** Counts that show what a run exercised. */
export interface CheckStats {
  readonly ops: number;
  readonly byKind: Readonly<Record<OpKind, number>>;
  /** `unknown` includes the operations still in flight at the end, also counted in `inFlight`. */
  readonly byOutcome: { readonly ok: number; readonly failed: number; readonly unknown: number; readonly inFlight: number };
  /** Keys in the history or at some replica. */
  readonly keys: number;
  /** Versions (values and tombstones) of the merged final clocks, over all keys. */
  readonly finalVersions: number;
  /** Most versions of one key at the end. */
  readonly maxSiblings: number;
  /** Puts that ended unknown (or in flight) whose value is, or is not, visible at the end. */
  readonly unknownPuts: { readonly visible: number; readonly absent: number };
}

/** The verdict: no violations means the run is clean. */
export interface CheckResult {
  readonly violations: readonly Violation[];
  readonly excused: readonly Excuse[];
  readonly stats: CheckStats;
}

/**
 * Judges a history against the replicas' final state.
 *
 * ```ts
 * const result = check({ history: recorder.entries(), final, wipes });
 * if (result.violations.length > 0) throw new Error(formatViolations(result));
 * ```
 *
 * Throws a RangeError when two puts wrote the same value: values must be unique per put, or a
 * value found at the end could not name its write.
 */
export function check(input: CheckInput): CheckResult {
  const putsByValue = new Map<string, HistoryEntry>();
  const opsByKey = new Map<string, HistoryEntry[]>();
  for (const e of input.history) {
    const value = e.invocation.value;
    if (e.invocation.kind === 'put' && value !== undefined) {
      const other = putsByValue.get(value);
      if (other) throw new RangeError(`two puts wrote ${JSON.stringify(value)}; the checker needs a unique value per put:\n  ${formatEntry(other)}\n  ${formatEntry(e)}`);
      putsByValue.set(value, e);
    }
    let ops = opsByKey.get(e.invocation.key);
    if (!ops) opsByKey.set(e.invocation.key, (ops = []));
    ops.push(e);
  }
  const keys = new Set(opsByKey.keys());
  for (const held of Object.values(input.final)) for (const key of Object.keys(held)) keys.add(key);

  const out: Findings = { violations: [], excused: [], finalVersions: 0, maxSiblings: 0, visibleValues: new Set() };
  for (const key of [...keys].sort()) checkKey(key, opsByKey.get(key) ?? [], putsByValue, input, out);
  return { violations: out.violations, excused: out.excused, stats: statsOf(input.history, keys.size, out) };
}

/**
 * The verdict for people: a summary line, then each violation and each excuse with the
 * operations it names, one per line.
 */
export function formatViolations(r: CheckResult): string {
  const s = r.stats;
  const lines = [
    `${r.violations.length} violation${r.violations.length === 1 ? '' : 's'}, ${r.excused.length} excused; ` +
      `${s.ops} ops (ok ${s.byOutcome.ok}, failed ${s.byOutcome.failed}, unknown ${s.byOutcome.unknown} of which ${s.byOutcome.inFlight} in flight) on ${s.keys} keys`,
  ];
  for (const v of r.violations) {
    lines.push(`${v.kind} on ${v.key}: ${v.message}`);
    for (const op of v.ops) lines.push(`    ${formatEntry(op)}`);
  }
  for (const x of r.excused) {
    lines.push(`excused on ${x.key}: ${x.message}`);
    for (const op of x.ops) lines.push(`    ${formatEntry(op)}`);
  }
  return lines.join('\n');
}

// -------------------------------------------------------------------------------------------------

interface Findings {
  readonly violations: Violation[];
  readonly excused: Excuse[];
  finalVersions: number;
  maxSiblings: number;
  /** Values visible at the end, over all keys. */
  readonly visibleValues: Set<string>;
}

/** A version of the merged final clock: its value as the history spells it (null: a tombstone). */
interface FinalVersion {
  readonly value: string | null;
  readonly dot: Dot;
}

type Outcome = Completion['outcome'];

function checkKey(key: string, ops: readonly HistoryEntry[], putsByValue: ReadonlyMap<string, HistoryEntry>, input: CheckInput, out: Findings): void {
  const violate = (kind: ViolationKind, message: string, involved: readonly (HistoryEntry | undefined)[] = []): void => {
    out.violations.push({ kind, key, message, ops: distinct(involved) });
  };
  const excuse = (message: string, involved: readonly (HistoryEntry | undefined)[]): void => {
    out.excused.push({ key, message, ops: distinct(involved) });
  };

  // What anti-entropy would converge to: every replica's clock of the key, merged.
  let merged = emptyClock<string | null>();
  for (const node of Object.keys(input.final).sort()) {
    const clock = input.final[node]?.[key];
    if (clock === undefined) continue;
    if (!isDvvSet(clock)) {
      violate('malformed-clock', `${node} holds a clock that is not a dotted version vector set: ${preview(clock)}`);
      continue;
    }
    if (clock.anonymous.length > 0) {
      violate('malformed-clock', `${node} holds values without a dot (${clock.anonymous.map((v) => JSON.stringify(v)).join(', ')}): a coordinator mints a dot for every stored value`);
    }
    merged = sync(merged, clock);
  }
  const known = join(merged);
  const finals: FinalVersion[] = [];
  const spell = (v: string | null): string | null => {
    const text = asText(v);
    return text === null || input.valueKey === undefined ? text : input.valueKey(text);
  };
  for (const v of versions(merged)) if (v.dot !== undefined) finals.push({ value: spell(v.value), dot: v.dot });
  out.finalVersions += finals.length;
  out.maxSiblings = Math.max(out.maxSiblings, finals.length);
  for (const f of finals) if (f.value !== null) out.visibleValues.add(f.value);

  const writes = ops.filter((e) => e.invocation.kind !== 'get');
  const okWriteByDot = new Map<string, HistoryEntry>();
  for (const w of writes) {
    const dot = okDot(w);
    if (!dot) continue;
    const other = okWriteByDot.get(dotKey(dot));
    // One dot is one event (principle 6): two acknowledged writes under it means one was minted twice.
    if (other) violate('reused-dot', `writes #${other.id} and #${w.id} were both acknowledged with dot ${formatDot(dot)}`, [other, w]);
    else okWriteByDot.set(dotKey(dot), w);
  }
  const wipedAfterAck = (w: HistoryEntry): boolean => isWipedAfterAck(w, input.wipes ?? []);

  // Provenance: name the write of every final version, or say why none can be named.
  const writerOf = new Map<string, HistoryEntry>();
  const finalsByValue = new Map<string, Dot[]>();
  for (const f of finals) {
    if (f.value === null) {
      const tombstoneWriter = attributeTombstone(f, writes, okWriteByDot, violate);
      if (tombstoneWriter) writerOf.set(dotKey(f.dot), tombstoneWriter);
      continue;
    }
    const dots = finalsByValue.get(f.value);
    if (dots) dots.push(f.dot);
    else finalsByValue.set(f.value, [f.dot]);
  }
  for (const [value, dots] of finalsByValue) {
    const put = putsByValue.get(value);
    const where = dots.map(formatDot).join(', ');
    if (!put) {
      violate('phantom-value', `${JSON.stringify(value)} (dot ${where}) is visible, but no put wrote it`);
      continue;
    }
    if (put.invocation.key !== key) {
      violate('phantom-value', `${JSON.stringify(value)} (dot ${where}) is visible here, but was put to ${put.invocation.key}`, [put]);
      continue;
    }
    if (outcomeOf(put) === 'failed') {
      violate('failed-op-visible', `${JSON.stringify(value)} (dot ${where}) is visible, but its put failed (it certainly did not happen)`, [put]);
      continue;
    }
    for (const dot of dots) writerOf.set(dotKey(dot), put);
    const acked = okDot(put);
    if (dots.length > 1 || (acked && !sameDot(acked, dots[0]!))) {
      const others = dots.map((d) => okWriteByDot.get(dotKey(d))).filter((w) => w !== undefined && w !== put);
      const ack = acked ? ` (its put was acknowledged with dot ${formatDot(acked)})` : '';
      violate('duplicate-write', `${JSON.stringify(value)} is visible under dot ${where}${ack}: one put, stored as more than one write`, [put, ...others]);
    }
  }

  // Durability: every acknowledged write is at the end, or a write that saw it replaced it.
  // Everything the writes that may have happened had seen, so a long history is not quadratic.
  const seenByWrites = writes.reduce<VersionVector>((acc, o) => (outcomeOf(o) === 'failed' ? acc : mergeContexts(acc, o.invocation.context ?? {})), {});
  const writesThatSaw = (w: HistoryEntry, dot: Dot): HistoryEntry[] =>
    covers(seenByWrites, dot) ? writes.filter((o) => o !== w && outcomeOf(o) !== 'failed' && covers(o.invocation.context ?? {}, dot)) : [];
  // A key gone from every replica, where tombstones are collected: what deletes covered went with them.
  const isCollected = input.collectsTombstones === true && merged.entries.length === 0;
  const deleteSaw = (dot: Dot): boolean => writes.some((o) => o.invocation.kind === 'delete' && outcomeOf(o) !== 'failed' && covers(o.invocation.context ?? {}, dot));
  for (const w of writes) {
    const dot = okDot(w);
    if (!dot) continue;
    if (isCollected && (w.invocation.kind === 'delete' || deleteSaw(dot))) continue;
    const expected = w.invocation.kind === 'put' ? (w.invocation.value ?? null) : null;
    const isKnown = covers(known, dot);
    if (isKnown && finals.some((f) => sameDot(f.dot, dot) && f.value === expected)) continue;
    // A write's own context never covers its dot (it was minted after), so the fast test suffices
    // unless that went wrong too; then the list decides.
    if (isKnown && covers(seenByWrites, dot) && !covers(w.invocation.context ?? {}, dot)) continue;
    const sawIt = writesThatSaw(w, dot);
    if (isKnown && sawIt.length > 0) continue;
    const what = w.invocation.kind === 'put' ? `put of ${JSON.stringify(expected)}` : 'delete';
    const why = isKnown ? `its dot ${formatDot(dot)} is known at the end but its version is gone, and no write saw it` : `no replica knows its dot ${formatDot(dot)} at the end`;
    const seen = sawIt.length > 0 ? `; writes that saw it: ${sawIt.map((o) => `#${o.id}`).join(', ')}` : '';
    if (wipedAfterAck(w)) {
      excuse(`the acknowledged ${what} is gone (${why}); every replica that acknowledged it (${ackedBy(w).join(', ')}) was restarted empty after the acknowledgement`, [w]);
    } else {
      violate('lost-write', `the ${what} acknowledged by [${ackedBy(w).join(', ')}] is lost: ${why}${seen}`, [w, ...sawIt]);
    }
  }

  // Causality: no visible version was seen by a write that took effect.
  const liveWrites: { readonly write: HistoryEntry; readonly dots: readonly Dot[] }[] = [];
  const forgivenWrites: HistoryEntry[] = [];
  for (const w of writes) {
    const outcome = outcomeOf(w);
    if (outcome === 'failed' || w.invocation.context === undefined) continue;
    const acked = okDot(w);
    if (acked) {
      // An acknowledged write takes effect, unless it is gone with the replicas that acknowledged it.
      if (covers(known, acked) || !wipedAfterAck(w)) liveWrites.push({ write: w, dots: [acked] });
      else forgivenWrites.push(w);
    } else if (w.invocation.value !== undefined) {
      // An unknown put took effect if its value is visible: then its dot is known.
      const dots = finalsByValue.get(w.invocation.value) ?? [];
      if (dots.length > 0) liveWrites.push({ write: w, dots });
    }
  }
  const visibleWrites = new Set(writerOf.values());
  for (const f of finals) {
    const writer = writerOf.get(dotKey(f.dot));
    const isOwn = (x: { readonly write: HistoryEntry; readonly dots: readonly Dot[] }): boolean => x.write === writer || x.dots.some((d) => sameDot(d, f.dot));
    const sawIt = liveWrites.filter((x) => !isOwn(x) && covers(x.write.invocation.context ?? {}, f.dot)).map((x) => x.write);
    const shown = `${f.value === null ? 'the tombstone' : JSON.stringify(f.value)} (dot ${formatDot(f.dot)})`;
    if (sawIt.length === 0) {
      const forgiven = forgivenWrites.filter((w) => w !== writer && covers(w.invocation.context ?? {}, f.dot));
      if (forgiven.length > 0) excuse(`${shown} is visible again: the writes that replaced it (${forgiven.map((w) => `#${w.id}`).join(', ')}) were lost with their wiped replicas`, [writer, ...forgiven]);
      continue;
    }
    const seenBy = sawIt.map((w) => `#${w.id} (${w.invocation.kind}, ctx ${formatContext(w.invocation.context ?? {})})`).join(', ');
    if (f.value !== null && sawIt.some((w) => w.invocation.kind === 'delete')) {
      violate('resurrected-delete', `${shown} is visible, but a delete had seen it: ${seenBy}`, [writer, ...sawIt]);
    } else if (sawIt.some((w) => visibleWrites.has(w))) {
      violate('false-sibling', `${shown} is a sibling of a version whose write had seen it: ${seenBy}`, [writer, ...sawIt]);
    } else {
      violate('resurrected-write', `${shown} is visible, but a write that took effect had seen it: ${seenBy}`, [writer, ...sawIt]);
    }
  }

  // Reads: a get returns values put to this key, by puts that did not fail and had started.
  for (const g of ops) {
    const c = g.completion;
    if (c?.outcome !== 'ok' || c.result.kind !== 'get') continue;
    for (const value of c.result.values) {
      const put = putsByValue.get(value);
      if (!put) violate('phantom-value', `get #${g.id} read ${JSON.stringify(value)}, which no put wrote`, [g]);
      else if (put.invocation.key !== key) violate('phantom-value', `get #${g.id} read ${JSON.stringify(value)}, which was put to ${put.invocation.key}`, [g, put]);
      else if (outcomeOf(put) === 'failed') violate('failed-op-visible', `get #${g.id} read ${JSON.stringify(value)}, whose put failed`, [put, g]);
      else if (put.invocation.atMs > c.atMs) violate('future-read', `get #${g.id} completed at ${c.atMs} ms with ${JSON.stringify(value)}, put only from ${put.invocation.atMs} ms`, [g, put]);
    }
  }

  checkSessions(ops, violate);
}

/**
 * Session guarantees (Terry et al. 1994), for the operations of session clients: an ok get's
 * context descends the context of every ok operation of the same client on the key that completed
 * before the get was invoked: its writes (`read-your-writes`) and its reads (`monotonic-reads`).
 */
function checkSessions(ops: readonly HistoryEntry[], violate: (kind: ViolationKind, message: string, involved: readonly (HistoryEntry | undefined)[]) => void): void {
  const byClient = new Map<string, HistoryEntry[]>();
  for (const e of ops) {
    if (e.invocation.session !== true || e.completion?.outcome !== 'ok') continue;
    let mine = byClient.get(e.invocation.client);
    if (!mine) byClient.set(e.invocation.client, (mine = []));
    mine.push(e);
  }
  for (const mine of byClient.values()) {
    for (const g of mine) {
      const c = g.completion!;
      if (c.outcome !== 'ok' || c.result.kind !== 'get') continue;
      const read = c.result.context;
      for (const before of mine) {
        const b = before.completion!;
        // Earlier means completed by the time the get began; an operation invoked after the get
        // (a higher id) is never earlier, even when a zero-latency run gives both one timestamp.
        if (before.id >= g.id || b.atMs > g.invocation.atMs || b.outcome !== 'ok' || descends(read, b.result.context)) continue;
        const isWrite = b.result.kind !== 'get';
        violate(
          isWrite ? 'read-your-writes' : 'monotonic-reads',
          `session ${g.invocation.client}: get #${g.id} returned ctx ${formatContext(read)}, older than its earlier ${isWrite ? 'write' : 'read'} #${before.id} (ctx ${formatContext(b.result.context)})`,
          [g, before],
        );
        break;
      }
    }
  }
}

/**
 * The delete that wrote a tombstone: the one acknowledged with its dot, else possibly an unknown
 * one (unnamed). Tombstones carry no value, so only the dot can tell.
 */
function attributeTombstone(
  f: FinalVersion,
  writes: readonly HistoryEntry[],
  okWriteByDot: ReadonlyMap<string, HistoryEntry>,
  violate: (kind: ViolationKind, message: string, involved?: readonly (HistoryEntry | undefined)[]) => void,
): HistoryEntry | undefined {
  const acked = okWriteByDot.get(dotKey(f.dot));
  if (acked?.invocation.kind === 'delete') return acked;
  const where = `a tombstone (dot ${formatDot(f.dot)})`;
  if (acked) {
    violate('phantom-value', `${where} is visible where put #${acked.id} was acknowledged with that dot`, [acked]);
    return undefined;
  }
  const deletes = writes.filter((w) => w.invocation.kind === 'delete');
  if (deletes.some((w) => outcomeOf(w) === 'unknown')) return undefined; // one of those may have written it
  const okDeletes = deletes.filter((w) => outcomeOf(w) === 'ok');
  if (okDeletes.length > 0) violate('duplicate-write', `${where} is visible, but every delete of the key that may have happened was acknowledged with another dot`, okDeletes);
  else if (deletes.length > 0) violate('failed-op-visible', `${where} is visible, but every delete of the key failed`, deletes);
  else violate('phantom-value', `${where} is visible, but the key was never deleted`);
  return undefined;
}

/** Every replica that acknowledged `w` was restarted empty at or after the acknowledgement (principle 8). */
function isWipedAfterAck(w: HistoryEntry, wipes: readonly Wipe[]): boolean {
  const c = w.completion;
  if (c?.outcome !== 'ok' || c.result.kind === 'get' || c.result.replicas.length === 0) return false;
  // The replicas stored the write before the client heard of it, so a wipe at the completion's
  // instant or later is after their copy. A wipe between invocation and completion may have come
  // before a replica stored it (then a loss is a bug): it does not excuse.
  return c.result.replicas.every((node) => wipes.some((x) => x.node === node && x.atMs >= c.atMs));
}

function ackedBy(w: HistoryEntry): readonly string[] {
  const c = w.completion;
  return c?.outcome === 'ok' && c.result.kind !== 'get' ? c.result.replicas : [];
}

/** The dot an acknowledged put or delete was given. */
function okDot(w: HistoryEntry): Dot | undefined {
  const c = w.completion;
  return c?.outcome === 'ok' && c.result.kind !== 'get' ? c.result.dot : undefined;
}

/** In flight at the end counts as unknown: it may or may not have happened. */
function outcomeOf(e: HistoryEntry): Outcome {
  return e.completion?.outcome ?? 'unknown';
}

function statsOf(history: readonly HistoryEntry[], keys: number, out: Findings): CheckStats {
  const byKind = { put: 0, get: 0, delete: 0 };
  const byOutcome = { ok: 0, failed: 0, unknown: 0, inFlight: 0 };
  const unknownPuts = { visible: 0, absent: 0 };
  for (const e of history) {
    byKind[e.invocation.kind]++;
    byOutcome[outcomeOf(e)]++;
    if (e.completion === undefined) byOutcome.inFlight++;
    if (e.invocation.kind === 'put' && outcomeOf(e) === 'unknown' && e.invocation.value !== undefined) {
      if (out.visibleValues.has(e.invocation.value)) unknownPuts.visible++;
      else unknownPuts.absent++;
    }
  }
  return { ops: history.length, byKind, byOutcome, keys, finalVersions: out.finalVersions, maxSiblings: out.maxSiblings, unknownPuts };
}

/** A stored value as the history spells it: the client records non-string values as JSON. */
function asText(v: string | null): string | null {
  if (v === null || typeof v === 'string') return v;
  // Only reachable when a replica stored something other than the declared strings.
  return String(JSON.stringify(v));
}

function dotKey(d: Dot): string {
  return `${d.id}\u0000${d.counter}`;
}

function sameDot(a: Dot, b: Dot): boolean {
  return a.id === b.id && a.counter === b.counter;
}

function distinct(ops: readonly (HistoryEntry | undefined)[]): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const op of ops) if (op !== undefined && !out.includes(op)) out.push(op);
  return out;
}

function preview(x: unknown): string {
  const text = JSON.stringify(x) ?? String(x);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
