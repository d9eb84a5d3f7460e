/**
 * The receiving side of a ring change's moves (transfer-receiver.ts), pure bookkeeping driven by
 * explicit times. What a receiving node relies on:
 * - at most `concurrency` pulls on their way, so moves do not starve clients;
 * - a merged batch is answered at once by the next pull of the same move, from its last key;
 *   the last batch finishes the move with its totals;
 * - a pull unanswered for `retryAfterMs` frees its slot, and its move waits, backing off
 *   (1, 2, 4, then 8 times retryAfterMs at most), while other moves use the slot;
 * - a late reply to a given-up pull is recognised as stale (`expects` is false);
 * - progress saved for a ring version resumes a restarted receiver of that version: finished
 *   moves stay finished, cursors go on from the last merged key; progress of another version is
 *   ignored.
 */
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { type Pull, Receiver, type ReceiverConfig, type ReceiverProgress, type Transfer } from '../src/index.ts';
import { prng } from './support/random.ts';

// ---- helpers ------------------------------------------------------------------------------------

function moves(...specs: [number, string][]): Transfer[] {
  return specs.map(([partition, from]) => ({ partition, from, to: 'me' }));
}

const config = (concurrency: number, retryAfterMs = 100): ReceiverConfig => ({ concurrency, retryAfterMs });

/** A batch reply: `keys` keys of 10 bytes each, the last one `lastKey`. */
const batch = (keys: number, lastKey: string | null, isLast: boolean): { keys: number; bytes: number; lastKey: string | null; isLast: boolean } => ({ keys, bytes: keys * 10, lastKey, isLast });

/**
 * A receiver and the newest pull it sent per partition, so a test can answer "the pull on its way
 * for partition p" as the sender would: by echoing its reqId and sender.
 */
class Driven {
  readonly latest = new Map<number, Pull>();
  constructor(readonly r: Receiver) {}

  due(nowMs: number): Pull[] {
    const pulls = this.r.due(nowMs);
    for (const p of pulls) this.latest.set(p.partition, p);
    return pulls;
  }

  /** Merges `b` as the reply to the newest pull of `partition`. */
  answer(partition: number, b: ReturnType<typeof batch>, nowMs: number): ReturnType<Receiver['merged']> {
    const p = this.latest.get(partition);
    if (p === undefined) throw new Error(`no pull was sent for partition ${partition}`);
    const result = this.r.merged(p.reqId, p.partition, p.from, b, nowMs);
    if ('next' in result) this.latest.set(partition, result.next);
    return result;
  }
}

/** The next pull a merged batch returned (it must not have finished the move). */
function nextOf(result: ReturnType<Receiver['merged']>): Pull {
  if (!('next' in result)) throw new Error(`expected a next pull, the move finished: ${JSON.stringify(result)}`);
  return result.next;
}

function finishedOf(result: ReturnType<Receiver['merged']>): Extract<ReturnType<Receiver['merged']>, { finished: unknown }>['finished'] {
  if (!('finished' in result)) throw new Error(`expected the move to finish, got a next pull: ${JSON.stringify(result)}`);
  return result.finished;
}

/** The earliest time in (from, to] at which `due` returns a pull, calling it at every ms (due has no effect while nothing is in flight). */
function firstDue(r: Receiver, from: number, to: number): { at: number; pulls: Pull[] } | undefined {
  for (let t = from + 1; t <= to; t++) {
    const pulls = r.due(t);
    if (pulls.length > 0) return { at: t, pulls };
  }
  return undefined;
}

// ---- nothing to receive ---------------------------------------------------------------------------

describe('a receiver with nothing to receive', () => {
  it('is done at once and sends nothing', () => {
    const r = new Receiver(2, [], config(2), 't');
    expect(r.isDone).toBe(true);
    expect(r.pending).toBe(0);
    expect(r.due(0)).toEqual([]);
    expect(r.progress()).toEqual({ version: 2, done: [], cursors: {} });
  });
});

// ---- concurrency and ack-clocking ------------------------------------------------------------------

describe('pulls', () => {
  it('has at most `concurrency` pulls on their way, first pulls from the start, in partition order', () => {
    const r = new Receiver(2, moves([4, 'a'], [1, 'b'], [3, 'a'], [0, 'c'], [2, 'b']), config(2), 't');
    const first = r.due(0);
    expect(first.map((p) => [p.partition, p.from, p.after])).toEqual([
      [0, 'c', null],
      [1, 'b', null],
    ]);
    expect(r.active).toBe(2);
    expect(r.pending).toBe(5);
    expect(r.due(10)).toEqual([]);
    expect(r.due(99)).toEqual([]);
    expect(r.active).toBe(2);
    expect(new Set(first.map((p) => p.reqId)).size).toBe(2);
  });

  it('answers a merged batch that is not the last with the next pull of the same move, from its last key', () => {
    const d = new Driven(new Receiver(2, moves([0, 'a'], [1, 'b'], [2, 'c']), config(2), 't'));
    const [p0] = d.due(0);
    const next = nextOf(d.answer(0, batch(3, 'b/k3', false), 5));
    expect(next).toMatchObject({ partition: 0, from: 'a', after: 'b/k3' });
    expect(next.reqId).not.toBe(p0!.reqId);
    // The slot passes from one pull to the next: no third move starts.
    expect(d.r.active).toBe(2);
    expect(d.r.due(5)).toEqual([]);
    // Only the newest pull of the move is expected; the one just answered is not, twice.
    expect(d.r.expects(next.reqId, 0, 'a')).toBe(true);
    expect(d.r.expects(p0!.reqId, 0, 'a')).toBe(false);
    expect(() => d.r.merged(p0!.reqId, 0, 'a', batch(3, 'b/k3', false), 6)).toThrow(/no pull/);
  });

  it('finishes a move on its last batch with the keys and bytes of all its batches and the time since its first pull, freeing the slot', () => {
    const d = new Driven(new Receiver(2, moves([0, 'a'], [1, 'b'], [2, 'c']), config(2), 't'));
    d.due(1_000);
    nextOf(d.answer(0, batch(3, 'b/k3', false), 1_010));
    nextOf(d.answer(0, batch(2, 'b/k5', false), 1_020));
    const done = finishedOf(d.answer(0, batch(1, 'b/k6', true), 1_050));
    expect(done).toEqual({ partition: 0, from: 'a', keys: 6, bytes: 60, durationMs: 50 });
    expect(d.r.pending).toBe(2);
    expect(d.r.active).toBe(1);
    expect(d.r.isDone).toBe(false);
    expect(d.due(1_050).map((p) => p.partition)).toEqual([2]);
    // An empty last batch (nothing left after the cursor) finishes too.
    expect(finishedOf(d.answer(1, batch(0, null, true), 1_060))).toMatchObject({ partition: 1, from: 'b', keys: 0, bytes: 0, durationMs: 60 });
    expect(finishedOf(d.answer(2, batch(4, 'b/z', true), 1_070))).toMatchObject({ partition: 2, keys: 4, durationMs: 20 });
    expect(d.r.isDone).toBe(true);
    expect(d.r.pending).toBe(0);
    expect(d.r.due(2_000)).toEqual([]);
  });

  it('never pulls a finished move again', () => {
    const d = new Driven(new Receiver(2, moves([0, 'a']), config(1), 't'));
    d.due(0);
    finishedOf(d.answer(0, batch(1, 'b/k', true), 1));
    for (const t of [1, 100, 1_000, 10_000]) expect(d.r.due(t)).toEqual([]);
  });
});

// ---- retries ----------------------------------------------------------------------------------------

describe('an unanswered pull', () => {
  it('frees its slot after retryAfterMs: another move proceeds while this one waits', () => {
    const d = new Driven(new Receiver(2, moves([0, 'dead'], [1, 'b']), config(1, 100), 't'));
    const [stuck] = d.due(0);
    expect(stuck!.partition).toBe(0);
    expect(d.due(99)).toEqual([]);
    // At 100 the pull to `dead` is given up, and the slot goes to partition 1.
    const [other] = d.due(100);
    expect(other).toMatchObject({ partition: 1, from: 'b' });
    expect(d.r.active).toBe(1);
    // The late reply to the given-up pull answers nothing.
    expect(d.r.expects(stuck!.reqId, 0, 'dead')).toBe(false);
    expect(() => d.r.merged(stuck!.reqId, 0, 'dead', batch(1, 'b/k', false), 101)).toThrow(/no pull/);
    finishedOf(d.answer(1, batch(2, 'b/k2', true), 150));
    // The move to `dead` waits retryAfterMs after it was given up, then is asked again from the same cursor.
    expect(firstDue(d.r, 150, 1_000)).toMatchObject({ at: 200, pulls: [{ partition: 0, from: 'dead', after: null }] });
  });

  it('backs off 1, 2, 4, 8, 8 times retryAfterMs as misses accumulate, and starts over after an answer', () => {
    const retry = 100;
    const d = new Driven(new Receiver(2, moves([0, 'a']), config(1, retry), 't'));
    d.due(0);
    let sent = 0;
    const waits: number[] = [];
    for (let miss = 1; miss <= 5; miss++) {
      // Given up exactly at sent + retry; asked again after the backoff.
      expect(d.due(sent + retry)).toEqual([]);
      const again = firstDue(d.r, sent + retry, sent + retry + 20 * retry);
      expect(again, `miss ${miss}`).toBeDefined();
      d.latest.set(0, again!.pulls[0]!);
      waits.push(again!.at - (sent + retry));
      sent = again!.at;
    }
    expect(waits).toEqual([100, 200, 400, 800, 800]);
    // An answer resets the count: the next miss waits retryAfterMs again.
    nextOf(d.answer(0, batch(1, 'b/k1', false), sent + 1));
    sent += 1;
    expect(d.due(sent + retry)).toEqual([]);
    expect(firstDue(d.r, sent + retry, sent + retry + 20 * retry)).toMatchObject({ at: sent + 2 * retry, pulls: [{ after: 'b/k1' }] });
  });

  it('lets the move that answers keep the slot, batch after batch, while the dead one waits; then the dead one is asked again', () => {
    const d = new Driven(new Receiver(2, moves([0, 'dead'], [1, 'live']), config(1, 100), 't'));
    expect(d.due(0).map((p) => p.from)).toEqual(['dead']);
    expect(d.due(100).map((p) => p.from)).toEqual(['live']);
    // `live` answers every 50 ms; each answer is followed at once by its next pull, so the one
    // slot stays with it and `dead`, though its backoff is long over, is not asked meanwhile.
    let t = 100;
    for (let i = 1; i <= 20; i++) {
      t += 50;
      expect(d.due(t)).toEqual([]);
      const key = `b/k${String(i).padStart(3, '0')}`;
      expect(nextOf(d.answer(1, batch(1, key, false), t)).after).toBe(key);
    }
    finishedOf(d.answer(1, batch(1, 'b/k999', true), t + 1));
    expect(d.due(t + 1)).toMatchObject([{ partition: 0, from: 'dead', after: null }]);
  });

  it('gives a retried pull a new reqId, so only its reply is expected', () => {
    const r = new Receiver(2, moves([0, 'a']), config(1, 100), 't');
    const [first] = r.due(0);
    r.due(100);
    const [second] = r.due(200);
    expect(second!.reqId).not.toBe(first!.reqId);
    expect(r.expects(first!.reqId, 0, 'a')).toBe(false);
    expect(r.expects(second!.reqId, 0, 'a')).toBe(true);
    // A reqId is for one move and one sender: the same id for another partition or sender is not expected.
    expect(r.expects(second!.reqId, 1, 'a')).toBe(false);
    expect(r.expects(second!.reqId, 0, 'b')).toBe(false);
  });
});

// ---- other holders stand in ---------------------------------------------------------------------------

describe('a sender that misses twice in a row', () => {
  it('is replaced by the other holders in turn, from the same cursor, the move keeping its planned name', () => {
    // `dead` appears among the alternatives too: it is asked once per round, not twice.
    const holders = (t: Transfer): string[] => (t.partition === 0 ? ['alt1', 'dead', 'alt2'] : []);
    const d = new Driven(new Receiver(3, moves([0, 'dead']), config(1, 100), 't', undefined, holders));
    expect(d.due(0)).toMatchObject([{ from: 'dead', after: null }]);
    nextOf(d.answer(0, batch(2, 'b/k2', false), 10)); // dead answered once, then fell silent
    const froms: string[] = [];
    let t = 10;
    for (let i = 0; i < 7; i++) {
      const again = firstDue(d.r, t, t + 10_000)!;
      froms.push(again.pulls[0]!.from);
      expect(again.pulls[0]!.after).toBe('b/k2');
      d.latest.set(0, again.pulls[0]!);
      t = again.at;
    }
    // The pull after the k-th miss in a row goes to source floor(k / 2): the planned sender gets
    // one retry, then each holder two tries in turn, round and round.
    expect(froms).toEqual(['dead', 'alt1', 'alt1', 'alt2', 'alt2', 'dead', 'dead']);
  });

  it('expects the reply of the node it asked, not of the planned sender, and finishes under the planned name', () => {
    const d = new Driven(new Receiver(3, moves([0, 'dead']), config(1, 100), 't', undefined, () => ['alt']));
    d.due(0);
    // Given up at 100, asked again at 200; given up at 300, then asked of `alt` at 500.
    expect(firstDue(d.r, 0, 10_000)).toMatchObject({ at: 200, pulls: [{ from: 'dead' }] });
    const third = firstDue(d.r, 200, 10_000)!;
    expect(third).toMatchObject({ at: 500, pulls: [{ from: 'alt', after: null }] });
    const toAlt = third.pulls[0]!;
    d.latest.set(0, toAlt);
    expect(d.r.expects(toAlt.reqId, 0, 'alt')).toBe(true);
    // A reply claiming to be from the planned sender does not answer the pull sent to `alt`.
    expect(d.r.expects(toAlt.reqId, 0, 'dead')).toBe(false);
    expect(() => d.r.merged(toAlt.reqId, 0, 'dead', batch(1, 'b/k', true), 1_000)).toThrow(/no pull/);
    const done = finishedOf(d.answer(0, batch(3, 'b/k3', true), 1_000));
    expect(done).toMatchObject({ partition: 0, from: 'dead', keys: 3 });
    expect(d.r.progress()).toEqual({ version: 3, done: ['0:dead'], cursors: {} });
  });
});

// ---- progress and resume ----------------------------------------------------------------------------

describe('progress', () => {
  const transfers = moves([0, 'a'], [1, 'b'], [2, 'a'], [3, 'c']);

  /**
   * A receiver of version 7: partition 0 finished, 1 at cursor b/k5 and 2 at b/k9 with their next
   * pulls given up at 130, and 3 just asked (nothing merged yet).
   */
  function midway(): Driven {
    const d = new Driven(new Receiver(7, transfers, config(3, 100), 'first'));
    d.due(0);
    finishedOf(d.answer(0, batch(2, 'b/k2', true), 10));
    nextOf(d.answer(1, batch(5, 'b/k5', false), 20));
    nextOf(d.answer(2, batch(9, 'b/k9', false), 30));
    expect(d.due(130).map((p) => p.partition)).toEqual([3]);
    return d;
  }

  it('keeps finished moves and the last merged key of each unfinished one', () => {
    const p = midway().r.progress();
    expect(p.version).toBe(7);
    expect([...p.done].sort()).toEqual(['0:a']);
    expect(p.cursors).toEqual({ '1:b': 'b/k5', '2:a': 'b/k9' });
  });

  it('resumes a restarted receiver of the same version: finished stays finished, cursors go on', () => {
    const first = midway();
    // Through JSON, as it would be kept on disk.
    const saved = JSON.parse(JSON.stringify(first.r.progress())) as ReceiverProgress;
    const r = new Receiver(7, transfers, config(3, 100), 'second', saved);
    expect(r.pending).toBe(3);
    expect(r.isDone).toBe(false);
    const pulls = r.due(0);
    expect(pulls.map((p) => [p.partition, p.from, p.after])).toEqual([
      [1, 'b', 'b/k5'],
      [2, 'a', 'b/k9'],
      [3, 'c', null],
    ]);
    // The restarted receiver's reqIds are its own: a reply to the first start's pull is stale.
    const oldPull = first.latest.get(3)!;
    expect(r.expects(oldPull.reqId, 3, 'c')).toBe(false);
    expect(pulls.map((p) => p.reqId)).not.toContain(oldPull.reqId);
    // And it saves the progress it resumed from until something new is merged.
    expect(r.progress()).toEqual(saved);
  });

  it('a receiver resumed with every move done is done', () => {
    const saved: ReceiverProgress = { version: 7, done: ['0:a', '1:b', '2:a', '3:c'], cursors: {} };
    const r = new Receiver(7, transfers, config(3), 't', saved);
    expect(r.isDone).toBe(true);
    expect(r.due(0)).toEqual([]);
  });

  it('ignores progress saved for another ring version: every move starts over', () => {
    const saved = midway().r.progress();
    for (const version of [6, 8]) {
      const r = new Receiver(version, transfers, config(4), 't', saved);
      expect(r.pending).toBe(4);
      expect(r.due(0).map((p) => [p.partition, p.after])).toEqual([
        [0, null],
        [1, null],
        [2, null],
        [3, null],
      ]);
      expect(r.progress()).toEqual({ version, done: [], cursors: {} });
    }
  });
});

// ---- a seeded simulation ----------------------------------------------------------------------------------

describe('under random replies, losses and late answers', () => {
  simIt('never more than `concurrency` pulls on their way, every pull from the last merged key, every move finished exactly once', 8101, (seed) => {
    for (let run = 0; run < 200; run++) {
      const random = prng(seed * 1_000 + run);
      const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
      const senders = ['a', 'b', 'c'];
      const specs = new Map<string, [number, string]>();
      for (let i = int(0, 12); i > 0; i--) {
        const spec: [number, string] = [int(0, 20), senders[int(0, 2)]!];
        specs.set(`${spec[0]}:${spec[1]}`, spec);
      }
      const c = int(1, 4);
      const retry = int(20, 200);
      const r = new Receiver(3, moves(...specs.values()), config(c, retry), `r${run}`);
      // The model: per move, its cursor, batches merged, first pull time, and whether it finished.
      const model = new Map([...specs.keys()].map((k) => [k, { after: null as string | null, keys: 0, batches: 0, firstAt: undefined as number | undefined, finished: 0, latest: undefined as string | undefined }]));
      let outstanding: Pull[] = [];
      const reqIds = new Set<string>();
      const sent = (p: Pull, now: number): void => {
        const m = model.get(`${p.partition}:${p.from}`)!;
        expect(m.finished, `run ${run}: pull of a finished move`).toBe(0);
        expect(p.after, `run ${run}: pull from the last merged key`).toBe(m.after);
        expect(reqIds.has(p.reqId), `run ${run}: reqId reused`).toBe(false);
        reqIds.add(p.reqId);
        m.firstAt ??= now;
        m.latest = p.reqId;
        outstanding.push(p);
      };
      let now = 0;
      let steps = 0;
      while (!r.isDone) {
        expect(++steps, `run ${run}: not done after 10 000 steps`).toBeLessThan(10_000);
        now += int(0, retry);
        for (const p of r.due(now)) sent(p, now);
        expect(r.active).toBeLessThanOrEqual(c);
        // Answer some outstanding pulls now (possibly late), keep some for later, lose a few.
        const keep: Pull[] = [];
        for (let i = outstanding.length - 1; i > 0; i--) {
          const j = int(0, i);
          [outstanding[i], outstanding[j]] = [outstanding[j]!, outstanding[i]!];
        }
        for (const p of outstanding) {
          const roll = random();
          if (roll < 0.1) continue; // lost
          if (roll < 0.4) {
            keep.push(p);
            continue;
          }
          const m = model.get(`${p.partition}:${p.from}`)!;
          const isExpected = r.expects(p.reqId, p.partition, p.from);
          // Only the newest pull of an unfinished move can be expected.
          if (isExpected) expect(p.reqId).toBe(m.latest);
          if (!isExpected) continue;
          const keys = int(0, 4);
          const isLast = random() < 0.3;
          const lastKey = keys === 0 ? null : `b/${String(m.keys + keys).padStart(5, '0')}`;
          const result = r.merged(p.reqId, p.partition, p.from, batch(keys, lastKey, isLast), now);
          m.keys += keys;
          m.batches++;
          if (lastKey !== null) m.after = lastKey;
          if ('finished' in result) {
            expect(isLast).toBe(true);
            m.finished++;
            expect(result.finished).toEqual({ partition: p.partition, from: p.from, keys: m.keys, bytes: m.keys * 10, durationMs: now - m.firstAt! });
          } else {
            expect(isLast).toBe(false);
            sent(result.next, now);
          }
          expect(r.active).toBeLessThanOrEqual(c);
        }
        outstanding = keep;
        expect(r.pending).toBe([...model.values()].filter((m) => m.finished === 0).length);
      }
      for (const [k, m] of model) expect(m.finished, `run ${run}: ${k} finished once`).toBe(1);
      expect(r.progress().done.length).toBe(specs.size);
    }
  });
});
