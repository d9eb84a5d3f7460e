/**
 * The history checker, on hand-built histories: three replicas whose clocks are made with the real
 * dvv.ts functions (clientWrite, update, sync), clients whose operations are recorded with the
 * real recorder, and faults planted on purpose (a store that drops a write, a coordinator that
 * ignores the client's context, a write applied twice). Each test says what a fault test relies
 * on: a clean run passes, and each anomaly is reported with the operations that show it.
 */
import { describe, expect, it } from 'vitest';
import { check, type CheckResult, type FinalState, formatViolations, type ViolationKind, type Wipe } from '../src/checker.ts';
import { clientWrite, type Dot, type DvvSet, emptyClock, join, latestDot, sync, update, values, type VersionVector } from '../src/dvv.ts';
import { formatEntry, type HistoryEntry, HistoryRecorder } from '../src/history.ts';

const NODES = ['n1', 'n2', 'n3'] as const;
const K = 'default/k';

/** The replica id a node mints dots under (one storage epoch per node in these tests). */
function rid(node: string): string {
  return `${node}@e0`;
}

type Outcome = 'ok' | 'unknown' | 'failed' | 'in-flight';

interface WriteSpec {
  readonly client?: string;
  readonly key?: string;
  /** The context the client sent. */
  readonly context?: VersionVector;
  /** The coordinator (default n1). */
  readonly at?: string;
  /** Nodes that end up storing the write (default all three). */
  readonly storedAt?: readonly string[];
  /** Nodes the ok result names (default `storedAt`). */
  readonly ackedBy?: readonly string[];
  readonly outcome?: Outcome;
  /** The context the coordinator used, when it is not the client's (a planted bug). */
  readonly appliedContext?: VersionVector;
}

interface Written {
  readonly id: number;
  /** What the put returned (the new clock's context). */
  readonly context: VersionVector;
  readonly dot: Dot;
}

/** Three replicas, a clock, a recorder: enough to write a history and its final state by hand. */
class Run {
  readonly history = new HistoryRecorder();
  readonly wipes: Wipe[] = [];
  private readonly stores = new Map<string, Map<string, DvvSet<string | null>>>(NODES.map((n) => [n, new Map()]));
  private nowMs = 0;

  tick(): number {
    return (this.nowMs += 10);
  }

  put(value: string, spec: WriteSpec = {}): Written {
    return this.write('put', value, spec);
  }

  del(spec: WriteSpec = {}): Written {
    return this.write('delete', undefined, spec);
  }

  /** A get through the given replicas, recorded with what they hold. */
  get(spec: { readonly client?: string; readonly key?: string; readonly from?: readonly string[] } = {}): number {
    const key = spec.key ?? K;
    const id = this.history.invoke({ client: spec.client ?? 'c0', kind: 'get', key, atMs: this.tick() });
    const merged = (spec.from ?? NODES).reduce((acc, n) => sync(acc, this.clock(n, key)), emptyClock<string | null>());
    const all = values(merged);
    const live = all.filter((v): v is string => v !== null);
    this.history.complete(id, { outcome: 'ok', atMs: this.tick(), result: { kind: 'get', values: live, isDeleted: all.length > 0 && live.length === 0, context: join(merged) } });
    return id;
  }

  /** Replication, read repair or handoff: `to` merges what `from` holds. */
  copy(from: string, to: string, key = K): void {
    this.stores.get(to)!.set(key, sync(this.clock(to, key), this.clock(from, key)));
  }

  /** A node restarted empty. */
  wipe(node: string, atMs = this.tick()): void {
    this.stores.get(node)!.clear();
    this.wipes.push({ node, atMs });
  }

  /** A store that loses a key (a planted bug). */
  drop(node: string, key = K): void {
    this.stores.get(node)!.delete(key);
  }

  /** A store that holds whatever it is told (a planted bug). */
  plant(node: string, clock: DvvSet<string | null>, key = K): void {
    this.stores.get(node)!.set(key, clock);
  }

  clock(node: string, key = K): DvvSet<string | null> {
    return this.stores.get(node)!.get(key) ?? emptyClock();
  }

  final(): FinalState {
    return Object.fromEntries([...this.stores].map(([node, keys]) => [node, Object.fromEntries(keys)]));
  }

  entry(id: number): HistoryEntry {
    return this.history.entries()[id]!;
  }

  check(): CheckResult {
    return check({ history: this.history.entries(), final: this.final(), wipes: this.wipes });
  }

  private write(kind: 'put' | 'delete', value: string | undefined, spec: WriteSpec): Written {
    const key = spec.key ?? K;
    const at = spec.at ?? 'n1';
    const storedAt = spec.storedAt ?? NODES;
    const id = this.history.invoke({
      client: spec.client ?? 'c0',
      kind,
      key,
      ...(value !== undefined ? { value } : {}),
      ...(spec.context !== undefined ? { context: spec.context } : {}),
      atMs: this.tick(),
    });
    const clock = update(clientWrite<string | null>(spec.appliedContext ?? spec.context ?? {}, value ?? null), this.clock(at, key), rid(at));
    const dot = latestDot(clock, rid(at))!;
    for (const node of storedAt) this.stores.get(node)!.set(key, sync(this.clock(node, key), clock));
    const atMs = this.tick();
    const outcome = spec.outcome ?? 'ok';
    if (outcome === 'ok') this.history.complete(id, { outcome, atMs, result: { kind, context: join(clock), dot, replicas: spec.ackedBy ?? storedAt } });
    else if (outcome === 'unknown') this.history.complete(id, { outcome, atMs, error: { code: 'QUORUM_NOT_MET', message: '1 of W=2 replicas acknowledged in time' } });
    else if (outcome === 'failed') this.history.complete(id, { outcome, atMs, error: { code: 'QUORUM_NOT_MET', message: 'only 1 of 3 replicas are reachable, W is 2', replicas: ['n1'] } });
    return { id, context: join(clock), dot };
  }
}

function kinds(r: CheckResult): ViolationKind[] {
  return r.violations.map((v) => v.kind);
}

function opIds(ops: readonly HistoryEntry[]): number[] {
  return ops.map((e) => e.id);
}

/** The violation of that kind, asserting there is exactly one. */
function only(r: CheckResult, kind: ViolationKind): CheckResult['violations'][number] {
  const found = r.violations.filter((v) => v.kind === kind);
  expect(found, formatViolations(r)).toHaveLength(1);
  return found[0]!;
}

describe('the checker passes clean histories', () => {
  it('read-modify-write cycles, concurrent siblings and their resolution, a delete, gets: no violation', () => {
    const run = new Run();
    const a = run.put('a1', { client: 'A' });
    const b = run.put('b1', { client: 'B', at: 'n2' }); // concurrent with a1: a sibling
    run.get({ from: ['n1', 'n2'] });
    const seen = join(sync(run.clock('n1'), run.clock('n2')));
    const resolved = run.put('ab', { client: 'A', context: seen, at: 'n3' });
    const a2 = run.put('a2', { client: 'A', context: resolved.context, at: 'n3' });
    run.get();
    run.del({ client: 'B', context: a2.context, at: 'n2' });
    run.put('c1', { client: 'B', key: 'default/other', at: 'n3' });
    for (const from of NODES) for (const to of NODES) run.copy(from, to);
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.excused).toEqual([]);
    expect(r.stats).toEqual({
      ops: 8,
      byKind: { put: 5, get: 2, delete: 1 },
      byOutcome: { ok: 8, failed: 0, unknown: 0, inFlight: 0 },
      keys: 2,
      finalVersions: 2, // the tombstone of K, c1
      maxSiblings: 1,
      unknownPuts: { visible: 0, absent: 0 },
    });
    expect([a.dot, b.dot]).toEqual([
      { id: 'n1@e0', counter: 1 },
      { id: 'n2@e0', counter: 1 },
    ]);
    expect(formatViolations(r)).toMatch(/^0 violations, 0 excused; 8 ops \(ok 8, failed 0, unknown 0 of which 0 in flight\) on 2 keys$/);
  });

  it('siblings that are truly concurrent are not false siblings, and replicas may differ', () => {
    const run = new Run();
    const base = run.put('v0');
    run.put('x', { context: base.context, at: 'n1', storedAt: ['n1', 'n2'] });
    run.put('y', { context: base.context, at: 'n3', storedAt: ['n3', 'n2'] });
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.stats.maxSiblings).toBe(2);
  });

  it('an acknowledged write that a later write saw may be gone, even if that later write is unknown', () => {
    const run = new Run();
    const a1 = run.put('a1');
    run.put('a2', { context: a1.context, outcome: 'unknown' });
    expect(values(run.clock('n1'))).toEqual(['a2']);
    expect(run.check().violations).toEqual([]);
  });

  it('unknown puts may be there or not; in-flight ones too', () => {
    const run = new Run();
    run.put('maybe-there', { outcome: 'unknown', storedAt: ['n1'] });
    run.put('maybe-not', { outcome: 'unknown', at: 'n2', storedAt: [] });
    run.put('in-flight-there', { outcome: 'in-flight', at: 'n3', storedAt: ['n3'] });
    run.put('in-flight-not', { outcome: 'in-flight', at: 'n3', key: 'default/k2', storedAt: [] });
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.stats.byOutcome).toEqual({ ok: 0, failed: 0, unknown: 4, inFlight: 2 });
    expect(r.stats.unknownPuts).toEqual({ visible: 2, absent: 2 });
  });

  it('a failed put that is nowhere is fine', () => {
    const run = new Run();
    run.put('v1');
    run.put('never', { outcome: 'failed', storedAt: [], at: 'n2' });
    expect(run.check().violations).toEqual([]);
  });

  it('tombstones of acknowledged and of unknown deletes are accounted for', () => {
    const run = new Run();
    run.put('v1', { key: 'default/a' });
    run.del({ key: 'default/a', at: 'n2' }); // concurrent: a sibling tombstone
    run.del({ key: 'default/b', outcome: 'unknown' });
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.stats.finalVersions).toBe(3);
  });
});

describe('the checker finds lost writes', () => {
  it('an acknowledged put no replica has at the end is lost', () => {
    const run = new Run();
    run.put('v0');
    const lost = run.put('gone', { at: 'n2', storedAt: [], ackedBy: ['n2', 'n3'] });
    const v = only(run.check(), 'lost-write');
    expect(opIds(v.ops)).toEqual([lost.id]);
    expect(v.key).toBe(K);
    expect(v.message).toContain('no replica knows its dot n2@e0:1');
    expect(v.message).toContain('[n2, n3]');
  });

  it('an acknowledged put whose dot is known but whose value is gone, with no write that saw it, is lost', () => {
    const run = new Run();
    const w = run.put('v1', { storedAt: ['n1'] });
    // A store that kept the clock's knowledge but dropped the value.
    run.plant('n1', { entries: [{ id: rid('n1'), counter: 1, values: [] }], anonymous: [] });
    const v = only(run.check(), 'lost-write');
    expect(opIds(v.ops)).toEqual([w.id]);
    expect(v.message).toContain('known at the end but its version is gone');
  });

  it('a write that saw it only counts if it did not fail', () => {
    const run = new Run();
    const w = run.put('v1', { storedAt: ['n1'] });
    run.put('v2', { context: w.context, outcome: 'failed', storedAt: [] });
    run.plant('n1', { entries: [{ id: rid('n1'), counter: 1, values: [] }], anonymous: [] });
    expect(opIds(only(run.check(), 'lost-write').ops)).toEqual([w.id]);
  });

  it('an acknowledged delete whose tombstone is gone is lost', () => {
    const run = new Run();
    const d = run.del({ storedAt: [] });
    expect(opIds(only(run.check(), 'lost-write').ops)).toEqual([d.id]);
  });
});

describe('the wipe excuse (principle 8)', () => {
  function ackedThenDropped(run: Run): Written {
    run.put('other', { at: 'n3' });
    return run.put('w', { storedAt: ['n1', 'n2'] });
  }

  it('a write whose every acknowledging replica was restarted empty after the ack is excused, not a violation', () => {
    const run = new Run();
    const w = ackedThenDropped(run);
    run.wipe('n1');
    run.wipe('n2');
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.excused).toHaveLength(1);
    expect(opIds(r.excused[0]!.ops)).toEqual([w.id]);
    expect(r.excused[0]!.message).toContain('(n1, n2) was restarted empty');
    expect(formatViolations(r)).toContain(`excused on ${K}:`);
  });

  it('a wipe at the instant of the acknowledgement counts as after it', () => {
    const run = new Run();
    const w = ackedThenDropped(run);
    const ackAtMs = run.entry(w.id).completion!.atMs;
    run.wipe('n1', ackAtMs);
    run.wipe('n2', ackAtMs);
    expect(run.check().violations).toEqual([]);
  });

  it('one acknowledging replica wiped is not enough', () => {
    const run = new Run();
    const w = ackedThenDropped(run);
    run.wipe('n1');
    run.drop('n2'); // lost by a bug, not by a wipe
    const r = run.check();
    expect(opIds(only(r, 'lost-write').ops)).toEqual([w.id]);
    expect(r.excused).toEqual([]);
  });

  it('a wipe before the acknowledgement does not excuse the loss', () => {
    const run = new Run();
    const w = ackedThenDropped(run);
    const e = run.entry(w.id);
    run.wipe('n1');
    run.wipe('n2', e.invocation.atMs - 5); // before the put started
    expect(opIds(only(run.check(), 'lost-write').ops)).toEqual([w.id]);
    const run2 = new Run();
    const w2 = ackedThenDropped(run2);
    const e2 = run2.entry(w2.id);
    run2.wipe('n1');
    run2.wipe('n2', (e2.invocation.atMs + e2.completion!.atMs) / 2); // while it was in flight
    expect(opIds(only(run2.check(), 'lost-write').ops)).toEqual([w2.id]);
  });

  it('a wipe of a replica that did not acknowledge excuses nothing', () => {
    const run = new Run();
    const w = run.put('w', { storedAt: ['n1', 'n2'] });
    run.wipe('n1');
    run.wipe('n3');
    run.drop('n2');
    expect(opIds(only(run.check(), 'lost-write').ops)).toEqual([w.id]);
  });

  it('a delete lost with its wiped replicas lets what it deleted come back, excused', () => {
    const run = new Run();
    const v = run.put('v1');
    const d = run.del({ context: v.context, at: 'n2', storedAt: ['n2', 'n3'] });
    run.wipe('n2');
    run.wipe('n3');
    for (const to of NODES) run.copy('n1', to);
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.excused.map((x) => opIds(x.ops))).toEqual([[d.id], [v.id, d.id]]);
  });
});

describe('collected tombstones (collectsTombstones)', () => {
  it('a key no replica holds after a delete that saw its put: neither the put nor the delete is lost; without the flag both are', () => {
    const run = new Run();
    const put = run.put('a');
    run.del({ context: put.context });
    for (const node of NODES) run.drop(node); // every replica collected the tombstone
    expect(check({ history: run.history.entries(), final: run.final(), collectsTombstones: true }).violations).toEqual([]);
    expect(kinds(run.check())).toEqual(['lost-write', 'lost-write']);
  });

  it('a put no delete saw is still lost when its key is gone', () => {
    const run = new Run();
    const first = run.put('a');
    run.del({ context: first.context });
    run.put('b', { context: {} }); // concurrent with the delete: it would stay as a sibling
    for (const node of NODES) run.drop(node);
    const result = check({ history: run.history.entries(), final: run.final(), collectsTombstones: true });
    expect(kinds(result)).toEqual(['lost-write']);
    expect(formatViolations(result)).toContain('"b"');
  });

  it('a key still held somewhere is judged as before: a delete missing from it is lost', () => {
    const run = new Run();
    const put = run.put('a');
    run.del({ context: put.context, storedAt: ['n1'], ackedBy: ['n1', 'n2'] });
    run.drop('n1');
    expect(kinds(check({ history: run.history.entries(), final: run.final(), collectsTombstones: true }))).toContain('lost-write');
  });
});

describe('the checker finds causality anomalies', () => {
  it('a delete that saw a value, with its tombstone lost: resurrected-delete and lost-write, naming both', () => {
    const run = new Run();
    const v = run.put('v1');
    const d = run.del({ context: v.context, at: 'n2', storedAt: ['n2'], ackedBy: ['n2', 'n1'] });
    run.drop('n2');
    const r = run.check();
    expect(kinds(r).sort()).toEqual(['lost-write', 'resurrected-delete']);
    const res = only(r, 'resurrected-delete');
    expect(opIds(res.ops)).toEqual([v.id, d.id]);
    expect(res.message).toContain('"v1" (dot n1@e0:1) is visible, but a delete had seen it');
    expect(opIds(only(r, 'lost-write').ops)).toEqual([d.id]);
  });

  it('only writes the delete saw count: a write concurrent with the delete may stay', () => {
    const run = new Run();
    const v = run.put('v1');
    run.put('concurrent', { at: 'n3', storedAt: ['n3'] });
    run.del({ context: v.context, at: 'n2' });
    run.copy('n3', 'n1');
    const r = run.check();
    expect(r.violations, formatViolations(r)).toEqual([]);
    expect(r.stats.finalVersions).toBe(2); // the tombstone and 'concurrent'
  });

  it('a coordinator that ignored the context makes a false sibling, naming both writes', () => {
    const run = new Run();
    const a = run.put('a', { storedAt: ['n1'] });
    const b = run.put('b', { context: a.context, appliedContext: {}, at: 'n2', storedAt: ['n2'] });
    const v = only(run.check(), 'false-sibling');
    expect(opIds(v.ops)).toEqual([a.id, b.id]);
    expect(v.message).toContain(`#${b.id} (put, ctx {n1@e0:1})`);
  });

  it('an overwritten value back after its overwriter was itself overwritten is a resurrected write', () => {
    const run = new Run();
    const a = run.put('a', { storedAt: ['n1'] });
    const b = run.put('b', { context: a.context, appliedContext: {}, at: 'n2', storedAt: ['n2'] });
    run.put('c', { context: b.context, at: 'n2', storedAt: ['n2'] });
    const r = run.check();
    expect(kinds(r)).toEqual(['resurrected-write']);
    expect(opIds(r.violations[0]!.ops)).toEqual([a.id, b.id]);
  });

  it('an unknown write that shows up is judged like any other', () => {
    const run = new Run();
    const a = run.put('a', { storedAt: ['n1'] });
    const b = run.put('b', { context: a.context, appliedContext: {}, at: 'n2', storedAt: ['n2'], outcome: 'unknown' });
    expect(opIds(only(run.check(), 'false-sibling').ops)).toEqual([a.id, b.id]);
  });
});

describe('the checker finds values that should not be there', () => {
  it('a value no put wrote is a phantom', () => {
    const run = new Run();
    run.put('real');
    run.plant('n2', update(clientWrite<string | null>({}, 'ghost'), run.clock('n2'), rid('n2')));
    const v = only(run.check(), 'phantom-value');
    expect(v.message).toContain('"ghost" (dot n2@e0:1) is visible, but no put wrote it');
    expect(v.ops).toEqual([]);
  });

  it('a value put to another key is a phantom here', () => {
    const run = new Run();
    const elsewhere = run.put('mine', { key: 'default/other' });
    run.plant('n1', run.clock('n1', 'default/other'));
    const v = only(run.check(), 'phantom-value');
    expect(v.key).toBe(K);
    expect(opIds(v.ops)).toEqual([elsewhere.id]);
  });

  it('a tombstone where nothing was deleted is a phantom', () => {
    const run = new Run();
    run.plant('n1', update(clientWrite<string | null>({}, null), emptyClock(), rid('n1')));
    expect(kinds(run.check())).toEqual(['phantom-value']);
  });

  it('a failed put that is visible is flagged: failed means it certainly did not happen', () => {
    const run = new Run();
    run.put('v1');
    const f = run.put('failed-but-stored', { outcome: 'failed', at: 'n2', storedAt: ['n2'] });
    const v = only(run.check(), 'failed-op-visible');
    expect(opIds(v.ops)).toEqual([f.id]);
    expect(v.message).toContain('its put failed');
  });

  it('a tombstone of a delete that failed is flagged', () => {
    const run = new Run();
    const f = run.del({ outcome: 'failed', storedAt: ['n1'] });
    expect(opIds(only(run.check(), 'failed-op-visible').ops)).toEqual([f.id]);
  });

  it('one put stored under two dots is a duplicate write', () => {
    const run = new Run();
    const w = run.put('twice', { storedAt: ['n1', 'n2'] });
    // The same request coordinated again elsewhere (a duplicated message).
    run.plant('n3', update(clientWrite<string | null>({}, 'twice'), emptyClock(), rid('n3')));
    const v = only(run.check(), 'duplicate-write');
    expect(opIds(v.ops)).toEqual([w.id]);
    expect(v.message).toContain('dot n1@e0:1, n3@e0:1 (its put was acknowledged with dot n1@e0:1)');
  });

  it('a clock that is not a DVV set, or holds a value without a dot, is malformed', () => {
    const run = new Run();
    run.put('v1');
    run.plant('n2', { entries: [{ id: 'b', counter: 1, values: [] }, { id: 'a', counter: 1, values: [] }], anonymous: [] });
    run.plant('n3', { entries: [], anonymous: ['v1'] });
    const r = run.check();
    expect(kinds(r)).toEqual(['malformed-clock', 'malformed-clock']);
    expect(r.violations[0]!.message).toMatch(/^n2 holds a clock that is not/);
    expect(r.violations[1]!.message).toMatch(/^n3 holds values without a dot/);
  });
});

describe('the checker judges reads', () => {
  function getReturning(run: Run, values: readonly string[], key = K): number {
    const id = run.history.invoke({ client: 'r', kind: 'get', key, atMs: run.tick() });
    run.history.complete(id, { outcome: 'ok', atMs: run.tick(), result: { kind: 'get', values, isDeleted: false, context: {} } });
    return id;
  }

  it('gets that read what was written pass', () => {
    const run = new Run();
    run.put('v1');
    run.put('maybe', { outcome: 'unknown', at: 'n2', storedAt: ['n2'] });
    run.get({ from: ['n1', 'n2'] });
    expect(run.check().violations).toEqual([]);
  });

  it('a get that returns a value put only after it completed read from the future', () => {
    const run = new Run();
    const g = getReturning(run, ['late']);
    const p = run.put('late');
    const v = only(run.check(), 'future-read');
    expect(opIds(v.ops)).toEqual([g, p.id]);
  });

  it('a get may return a value whose put was invoked before the get completed, even if it completed after', () => {
    const run = new Run();
    const p = run.history.invoke({ client: 'w', kind: 'put', key: K, value: 'racing', atMs: run.tick() });
    const g = getReturning(run, ['racing']);
    run.history.complete(p, { outcome: 'unknown', atMs: run.tick(), error: { code: 'NO_REPLY', message: 'timed out' } });
    expect(g).toBe(1);
    expect(run.check().violations).toEqual([]);
  });

  it('a get that returns the value of a failed put, a value nobody wrote, or a value of another key is flagged', () => {
    const run = new Run();
    const f = run.put('failed', { outcome: 'failed', storedAt: [] });
    const other = run.put('other-key', { key: 'default/other' });
    const g = getReturning(run, ['failed', 'nobody', 'other-key']);
    const r = run.check();
    expect(kinds(r)).toEqual(['failed-op-visible', 'phantom-value', 'phantom-value']);
    expect(r.violations.map((v) => opIds(v.ops))).toEqual([[f.id, g], [g], [g, other.id]]);
  });
});

describe('the checker reports', () => {
  it('formatViolations names each violation and prints the operations involved', () => {
    const run = new Run();
    run.put('gone', { storedAt: [], ackedBy: ['n1', 'n2'] });
    const text = formatViolations(run.check());
    expect(text.split('\n')).toEqual([
      '1 violation, 0 excused; 1 ops (ok 1, failed 0, unknown 0 of which 0 in flight) on 1 keys',
      `lost-write on ${K}: the put of "gone" acknowledged by [n1, n2] is lost: no replica knows its dot n1@e0:1 at the end`,
      `    #0 c0 put ${K} "gone" @10ms -> ok @20ms dot n1@e0:1 acked by [n1, n2] ctx {n1@e0:1}`,
    ]);
  });

  it('refuses a history in which two puts wrote the same value', () => {
    const run = new Run();
    run.put('same');
    run.put('same', { at: 'n2' });
    expect(() => run.check()).toThrow(/two puts wrote "same"/);
  });

  it('is pure: the same input gives the same verdict', () => {
    const run = new Run();
    const a = run.put('a', { storedAt: ['n1'] });
    run.put('b', { context: a.context, appliedContext: {}, at: 'n2', storedAt: ['n2'] });
    run.put('gone', { at: 'n3', storedAt: [] });
    expect(run.check()).toEqual(run.check());
  });
});

describe('the history recorder', () => {
  it('numbers operations in invocation order and records how each ended', () => {
    const h = new HistoryRecorder();
    const p = h.invoke({ client: 'c0', kind: 'put', key: K, value: 'v', context: { 'n2@x': 1, 'n1@x': 2 }, atMs: 5 });
    const g = h.invoke({ client: 'c1', kind: 'get', key: K, atMs: 6 });
    const d = h.invoke({ client: 'c1', kind: 'delete', key: K, atMs: 7 });
    h.complete(g, { outcome: 'ok', atMs: 9, result: { kind: 'get', values: ['a', 'b'], isDeleted: false, context: { 'n1@x': 2 } } });
    h.complete(p, { outcome: 'unknown', atMs: 12, error: { code: 'NO_REPLY', message: 'no answer' } });
    expect([p, g, d]).toEqual([0, 1, 2]);
    expect(h.size).toBe(3);
    const [ep, eg, ed] = h.entries();
    expect(formatEntry(ep!)).toBe(`#0 c0 put ${K} "v" ctx {n1@x:2, n2@x:1} @5ms -> unknown @12ms NO_REPLY: no answer`);
    expect(formatEntry(eg!)).toBe(`#1 c1 get ${K} @6ms -> ok @9ms ["a", "b"] ctx {n1@x:2}`);
    expect(formatEntry(ed!)).toBe(`#2 c1 delete ${K} @7ms -> in flight at the end (unknown)`);
    expect(h.format().split('\n')).toHaveLength(3);
    expect(`${h}`).toBe(h.format());
  });

  it('prints failures with the replicas that answered, and deletes as read', () => {
    const h = new HistoryRecorder();
    const d = h.invoke({ client: 'c0', kind: 'delete', key: K, atMs: 1 });
    h.complete(d, { outcome: 'failed', atMs: 2, error: { code: 'QUORUM_NOT_MET', message: 'only 1 of 3 replicas are reachable, W is 2', replicas: ['n1'] } });
    const g = h.invoke({ client: 'c0', kind: 'get', key: K, atMs: 3 });
    h.complete(g, { outcome: 'ok', atMs: 4, result: { kind: 'get', values: [], isDeleted: true, context: { a: 1 } } });
    expect(h.format()).toBe(
      `#0 c0 delete ${K} @1ms -> failed @2ms QUORUM_NOT_MET: only 1 of 3 replicas are reachable, W is 2 (replicas [n1])\n` + `#1 c0 get ${K} @3ms -> ok @4ms deleted [] ctx {a:1}`,
    );
  });

  it('snapshots do not change when operations complete later', () => {
    const h = new HistoryRecorder();
    const id = h.invoke({ client: 'c0', kind: 'get', key: K, atMs: 1 });
    const before = h.entries();
    h.complete(id, { outcome: 'failed', atMs: 2, error: { code: 'QUORUM_NOT_MET', message: 'x' } });
    expect(before[0]!.completion).toBeUndefined();
    expect(h.entries()[0]!.completion?.outcome).toBe('failed');
  });

  it('refuses completions that cannot be: unknown id, twice, before the invocation, of another kind; and puts without a value', () => {
    const h = new HistoryRecorder();
    const id = h.invoke({ client: 'c0', kind: 'put', key: K, value: 'v', atMs: 10 });
    const unknown = { outcome: 'unknown', atMs: 20, error: { code: 'NO_REPLY', message: 'x' } } as const;
    expect(() => h.complete(7, unknown)).toThrow(RangeError);
    expect(() => h.complete(id, { ...unknown, atMs: 9 })).toThrow(/before its invocation/);
    expect(() => h.complete(id, { outcome: 'ok', atMs: 20, result: { kind: 'get', values: [], isDeleted: false, context: {} } })).toThrow(/is a put/);
    h.complete(id, unknown);
    expect(() => h.complete(id, unknown)).toThrow(/already completed/);
    expect(() => h.invoke({ client: 'c0', kind: 'put', key: K, atMs: 1 })).toThrow(/needs its value/);
  });
});

describe('the checker judges sessions (read-your-writes, monotonic reads)', () => {
  // One coordinator's three writes of K in a row: w1, then w2 over w1, then w3 over w2.
  const X = rid('n1');
  const w1 = update(clientWrite<string | null>({}, 'v1'), emptyClock(), X);
  const w2 = update(clientWrite<string | null>(join(w1), 'v2'), w1, X);
  const w3 = update(clientWrite<string | null>(join(w2), null), w2, X);
  /** Every replica holds `clock` for K at the end, so only the session check can speak. */
  const holding = (clock: DvvSet<string | null>): FinalState => Object.fromEntries(NODES.map((n) => [n, { [K]: clock }]));

  interface Op {
    readonly client: string;
    readonly session?: boolean;
    /** Invoked and completed at these ms. */
    readonly at: readonly [number, number];
    readonly outcome?: 'ok' | 'failed' | 'unknown' | 'in-flight';
    readonly key?: string;
  }

  /** Entries built by hand, numbered in the order they are made (which each test keeps in invocation order). */
  function sessionHistory() {
    const entries: HistoryEntry[] = [];
    const ended = (op: Op, ok: NonNullable<HistoryEntry['completion']>): HistoryEntry['completion'] => {
      const outcome = op.outcome ?? 'ok';
      if (outcome === 'in-flight') return undefined;
      if (outcome === 'ok') return ok;
      return { outcome, atMs: op.at[1], error: { code: 'QUORUM_NOT_MET', message: 'planted' } };
    };
    const add = (invocation: HistoryEntry['invocation'], completion: HistoryEntry['completion']): HistoryEntry => {
      const e: HistoryEntry = completion === undefined ? { id: entries.length, invocation } : { id: entries.length, invocation, completion };
      entries.push(e);
      return e;
    };
    const base = (op: Op) => ({ client: op.client, key: op.key ?? K, atMs: op.at[0], ...(op.session !== undefined ? { session: op.session } : {}) });
    return {
      entries,
      /** A put or delete that made `clock` (the newest dot of `by` is the write's own), based on `seen`. */
      write(op: Op, clock: DvvSet<string | null>, seen: DvvSet<string | null>, by = X): HistoryEntry {
        const value = clock.entries.find((e) => e.id === by)!.values[0]!;
        const kind = value === null ? 'delete' : 'put';
        const result = { kind, context: join(clock), dot: latestDot(clock, by)!, replicas: [...NODES] } as const;
        return add({ ...base(op), kind, ...(value !== null ? { value } : {}), context: join(seen) }, ended(op, { outcome: 'ok', atMs: op.at[1], result }));
      },
      /** A get that returned what `clock` holds. */
      read(op: Op, clock: DvvSet<string | null>): HistoryEntry {
        const all = values(clock);
        const live = all.filter((v): v is string => v !== null);
        const result = { kind: 'get', values: live, isDeleted: all.length > 0 && live.length === 0, context: join(clock) } as const;
        return add({ ...base(op), kind: 'get' }, ended(op, { outcome: 'ok', atMs: op.at[1], result }));
      },
    };
  }

  function sessionKinds(r: CheckResult): ViolationKind[] {
    return kinds(r).filter((k) => k === 'read-your-writes' || k === 'monotonic-reads');
  }

  it("a session get older than the session's own earlier acknowledged put is a read-your-writes violation, naming the get and the put", () => {
    const h = sessionHistory();
    const put = h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    const get = h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(kinds(r), formatViolations(r)).toEqual(['read-your-writes']);
    const v = r.violations[0]!;
    expect(v.key).toBe(K);
    expect(opIds(v.ops)).toEqual([get.id, put.id]);
    expect(v.message).toContain('session s');
    expect(v.message).toContain(`#${get.id}`);
    expect(v.message).toContain(`#${put.id}`);
  });

  it('a session get that shows an older version of the key than its own later put is a read-your-writes violation too', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    const put2 = h.write({ client: 's', session: true, at: [30, 40] }, w2, w1);
    const get = h.read({ client: 's', session: true, at: [50, 60] }, w1);
    const r = check({ history: h.entries, final: holding(w2) });
    expect(kinds(r), formatViolations(r)).toEqual(['read-your-writes']);
    expect(opIds(r.violations[0]!.ops)).toEqual([get.id, put2.id]);
  });

  it("a session's acknowledged delete counts as its write", () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    h.write({ client: 's', session: true, at: [21, 22] }, w2, w1);
    const del = h.write({ client: 's', session: true, at: [30, 40] }, w3, w2);
    expect(del.invocation.kind).toBe('delete');
    const get = h.read({ client: 's', session: true, at: [50, 60] }, w2);
    const r = check({ history: h.entries, final: holding(w3) });
    expect(kinds(r), formatViolations(r)).toEqual(['read-your-writes']);
    expect(opIds(r.violations[0]!.ops)).toEqual([get.id, del.id]);
  });

  it("a session get older than the session's own earlier get is a monotonic-reads violation, naming both gets", () => {
    const h = sessionHistory();
    h.write({ client: 'w', at: [0, 5] }, w1, emptyClock());
    h.write({ client: 'w', at: [6, 8] }, w2, w1);
    const first = h.read({ client: 's', session: true, at: [10, 20] }, w2);
    const second = h.read({ client: 's', session: true, at: [30, 40] }, w1);
    const r = check({ history: h.entries, final: holding(w2) });
    expect(kinds(r), formatViolations(r)).toEqual(['monotonic-reads']);
    expect(opIds(r.violations[0]!.ops)).toEqual([second.id, first.id]);
    expect(r.violations[0]!.message).toContain('session s');
  });

  it('session gets that see their own writes and never go back pass, siblings and newer versions included', () => {
    const h = sessionHistory();
    const other = update(clientWrite<string | null>({}, 'o1'), emptyClock(), rid('n2')); // concurrent with w1
    h.write({ client: 'o', at: [1, 2] }, other, emptyClock(), rid('n2'));
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40] }, w1);
    h.read({ client: 's', session: true, at: [50, 60] }, sync(w1, other)); // newer: adds a sibling
    h.write({ client: 'w', at: [55, 58] }, w2, w1);
    h.read({ client: 's', session: true, at: [70, 80] }, sync(w2, other));
    const r = check({ history: h.entries, final: holding(sync(w2, other)) });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it('a put invoked after a session get is never earlier than it, even with one timestamp for both (a zero-latency run)', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 30] }, w1);
    h.write({ client: 's', session: true, at: [30, 30] }, w2, w1); // invoked after the get, done at its start time
    const r = check({ history: h.entries, final: holding(w2) });
    expect(sessionKinds(r), formatViolations(r)).toEqual([]);
  });

  it('clients without sessions are not judged: the same stale reads pass', () => {
    const h = sessionHistory();
    h.write({ client: 'c', at: [10, 20] }, w1, emptyClock());
    h.write({ client: 'c', at: [21, 22] }, w2, w1);
    h.read({ client: 'c', at: [30, 40] }, w2);
    h.read({ client: 'c', at: [50, 60] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w2) });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it('only session operations count: a session get after a non-session put, or a non-session get after a session put, passes', () => {
    const h = sessionHistory();
    h.write({ client: 'c', session: false, at: [10, 20] }, w1, emptyClock());
    h.read({ client: 'c', session: true, at: [30, 40] }, emptyClock());
    h.write({ client: 'd', session: true, at: [50, 60] }, w2, w1);
    h.read({ client: 'd', at: [70, 80] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w2) });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it("another session's writes and reads do not bind this session", () => {
    const h = sessionHistory();
    h.write({ client: 'a', session: true, at: [10, 20] }, w1, emptyClock());
    h.read({ client: 'a', session: true, at: [21, 22] }, w1);
    h.read({ client: 'b', session: true, at: [30, 40] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it("a session's operations on another key do not bind its reads of this key", () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20], key: 'default/other' }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const final: FinalState = Object.fromEntries(NODES.map((n) => [n, { 'default/other': w1 }]));
    const r = check({ history: h.entries, final });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it('a put or get still running when the get was invoked does not bind it (concurrent, not earlier)', () => {
    const h = sessionHistory();
    // The put completes at 35, after the get was invoked at 30 (a pipelining session).
    h.write({ client: 's', session: true, at: [10, 35] }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(r.violations, formatViolations(r)).toEqual([]);
    // A get that completed after the next get began.
    const g = sessionHistory();
    g.write({ client: 'w', at: [0, 5] }, w1, emptyClock());
    g.read({ client: 's', session: true, at: [50, 70] }, w1);
    g.read({ client: 's', session: true, at: [60, 80] }, emptyClock());
    const r2 = check({ history: g.entries, final: holding(w1) });
    expect(r2.violations, formatViolations(r2)).toEqual([]);
  });

  it('an operation acknowledged in the very millisecond the get is invoked counts as earlier (the session asks after the answer)', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 30] }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(sessionKinds(r), formatViolations(r)).toEqual(['read-your-writes']);
  });

  it('failed, unknown and in-flight writes, and failed gets, bind nothing', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20], outcome: 'failed' }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r1 = check({ history: h.entries, final: {} });
    expect(r1.violations, formatViolations(r1)).toEqual([]);

    const u = sessionHistory();
    u.write({ client: 's', session: true, at: [10, 20], outcome: 'unknown' }, w1, emptyClock());
    u.write({ client: 's', session: true, at: [21, 25], outcome: 'in-flight' }, w2, w1);
    u.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r2 = check({ history: u.entries, final: holding(w2) });
    expect(sessionKinds(r2), formatViolations(r2)).toEqual([]);

    const g = sessionHistory();
    g.write({ client: 'w', at: [0, 5] }, w1, emptyClock());
    g.read({ client: 's', session: true, at: [10, 20], outcome: 'failed' }, w1);
    g.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const r3 = check({ history: g.entries, final: holding(w1) });
    expect(r3.violations, formatViolations(r3)).toEqual([]);
  });

  it('a failed session get is not judged, however old it would have been', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    h.read({ client: 's', session: true, at: [30, 40], outcome: 'failed' }, emptyClock());
    h.read({ client: 's', session: true, at: [50, 60], outcome: 'unknown' }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(r.violations, formatViolations(r)).toEqual([]);
  });

  it('each stale session get is reported, and a violation does not hide the next one', () => {
    const h = sessionHistory();
    h.write({ client: 's', session: true, at: [10, 20] }, w1, emptyClock());
    const g1 = h.read({ client: 's', session: true, at: [30, 40] }, emptyClock());
    const g2 = h.read({ client: 's', session: true, at: [50, 60] }, emptyClock());
    const r = check({ history: h.entries, final: holding(w1) });
    expect(kinds(r), formatViolations(r)).toEqual(['read-your-writes', 'read-your-writes']);
    expect(r.violations.map((v) => v.ops[0]!.id)).toEqual([g1.id, g2.id]);
  });
});

describe('the checker finds dots minted twice', () => {
  it('two acknowledged writes of a key under one dot are a reused dot, naming both writes', () => {
    const run = new Run();
    // n1 coordinates a write as a fallback and hands it over to n2 ...
    const first = run.put('v2', { storedAt: ['n1', 'n2'] });
    // ... forgets the key with its hint, and counts from 1 again for the next write (kv679).
    run.drop('n1');
    const second = run.put('v3', { storedAt: ['n1', 'n3'] });
    expect(second.dot).toEqual(first.dot);
    const r = run.check();
    const v = only(r, 'reused-dot');
    expect(v.key).toBe(K);
    expect(opIds(v.ops)).toEqual([first.id, second.id]);
    expect(v.message).toBe(`writes #${first.id} and #${second.id} were both acknowledged with dot n1@e0:1`);
    expect(formatViolations(r)).toContain('reused-dot on');
  });

  it('the same dot for an acknowledged write and a failed or unknown one is not a reused dot; two dots of one replica are not either', () => {
    const run = new Run();
    const a = run.put('a', { storedAt: ['n1'] });
    run.drop('n1');
    run.put('b', { storedAt: [], outcome: 'unknown' });
    run.put('c', { storedAt: [], outcome: 'failed' });
    const d = run.put('d', { at: 'n2', storedAt: ['n2'] });
    const e = run.put('e', { at: 'n2', context: d.context, storedAt: ['n2'] });
    expect(e.dot).toEqual({ id: 'n2@e0', counter: 2 });
    expect(a.dot).toEqual({ id: 'n1@e0', counter: 1 });
    expect(kinds(run.check())).not.toContain('reused-dot');
  });
});
