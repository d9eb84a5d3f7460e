/**
 * The network model on its own, without a runtime: each message's fate is a pure function of
 * (seed, link, per-link sequence number, rules), and the delivery contract of principle 5 holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bridge,
  type Decision,
  halves,
  InvalidArgumentError,
  type LatencyDistribution,
  majoritiesRing,
  NetworkModel,
  type NetworkRules,
} from '@starling/actors';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/** Sends `count` messages on one link, the i-th at `at(i)`, and returns their decisions. */
function sendMany(model: NetworkModel, from: string, to: string, count: number, at: (i: number) => number = () => 0, bytes = 10): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < count; i++) out.push(model.decide(from, to, at(i), bytes));
  return out;
}

const delivered = (ds: readonly Decision[]): number[][] => ds.flatMap((d) => (d.kind === 'deliver' ? [[...d.atMs]] : []));
const dropRate = (ds: readonly Decision[]): number => ds.filter((d) => d.kind === 'drop').length / ds.length;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).code;
  }
  return undefined;
}

/** Whom each node reaches (itself included) under the model's current rules. */
function reachSets(model: NetworkModel, nodes: readonly string[]): Map<string, string[]> {
  return new Map(nodes.map((a) => [a, nodes.filter((b) => model.cutNow(a, b) === null)]));
}

// Arbitraries ------------------------------------------------------------------------------------

const latencyArb: fc.Arbitrary<LatencyDistribution> = fc.oneof(
  fc.record({ kind: fc.constant('constant' as const), ms: fc.integer({ min: 0, max: 100 }) }),
  fc
    .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 200 }))
    .map(([minMs, width]) => ({ kind: 'uniform' as const, minMs, maxMs: minMs + width })),
  fc.record({ kind: fc.constant('exponential' as const), meanMs: fc.integer({ min: 0, max: 200 }), minMs: fc.integer({ min: 0, max: 50 }) }),
);

const probabilityArb = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true }));

/** Rules without cuts: loss, latency, duplication, reordering. */
const noisyRulesArb: fc.Arbitrary<Partial<NetworkRules>> = fc.record({
  lossProbability: probabilityArb,
  latency: latencyArb,
  duplicateProbability: probabilityArb,
  reorderProbability: probabilityArb,
  reorderWindowMs: fc.integer({ min: 0, max: 100 }),
});

const linkArb = fc.tuple(fc.constantFrom(...NODES), fc.constantFrom(...NODES)).filter(([a, b]) => a !== b);

/** Non-decreasing send times built from random increments. */
const sendTimesArb = (minLength: number, maxLength: number): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 })), { minLength, maxLength }).map((steps) => {
    let t = 0;
    return steps.map((s) => (t += s));
  });

// Determinism ------------------------------------------------------------------------------------

describe('NetworkModel: determinism', () => {
  it('the same seed, rules and sequence of sends give identical decisions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        noisyRulesArb,
        fc.array(fc.tuple(linkArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 500 })), { minLength: 1, maxLength: 200 }),
        (seed, rules, sends) => {
          const a = new NetworkModel(NODES, seed, rules);
          const b = new NetworkModel(NODES, seed, rules);
          const da = sends.map(([[from, to], now, bytes]) => a.decide(from, to, now, bytes));
          const db = sends.map(([[from, to], now, bytes]) => b.decide(from, to, now, bytes));
          expect(db).toEqual(da);
          expect(b.linkCounters()).toEqual(a.linkCounters());
        },
      ),
    );
  });

  it('a different seed gives different decisions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfffffffe }), (seed) => {
        const rules: Partial<NetworkRules> = { lossProbability: 0.3, latency: { kind: 'uniform', minMs: 0, maxMs: 100 } };
        const at = (i: number): number => i * 1000;
        const a = sendMany(new NetworkModel(NODES, seed, rules), 'n1', 'n2', 50, at);
        const b = sendMany(new NetworkModel(NODES, seed + 1, rules), 'n1', 'n2', 50, at);
        expect(b).not.toEqual(a);
      }),
    );
  });

  it("a link's decisions do not depend on traffic on other links", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        noisyRulesArb,
        sendTimesArb(1, 60),
        // Before each send on n1->n2: some sends on other links, the reverse link included.
        fc.array(fc.array(fc.tuple(linkArb.filter(([a, b]) => !(a === 'n1' && b === 'n2')), fc.integer({ min: 0, max: 1000 })), { maxLength: 4 }), {
          minLength: 60,
          maxLength: 60,
        }),
        (seed, rules, times, noise) => {
          const quiet = new NetworkModel(NODES, seed, rules);
          const busy = new NetworkModel(NODES, seed, rules);
          const alone = times.map((t) => quiet.decide('n1', 'n2', t, 10));
          const interleaved = times.map((t, i) => {
            for (const [[from, to], now] of noise[i]!) busy.decide(from, to, now, 99);
            return busy.decide('n1', 'n2', t, 10);
          });
          expect(interleaved).toEqual(alone);
          expect(busy.link('n1', 'n2')).toEqual(quiet.link('n1', 'n2'));
        },
      ),
    );
  });

  it('a link\'s decisions depend on the link\'s names, not on the order the nodes were listed in', () => {
    const rules: Partial<NetworkRules> = { lossProbability: 0.2, latency: { kind: 'exponential', meanMs: 20 }, duplicateProbability: 0.2 };
    const a = new NetworkModel(['n1', 'n2', 'n3'], 7, rules);
    const b = new NetworkModel(['n3', 'n2', 'n1', 'n4'], 7, rules);
    expect(sendMany(b, 'n1', 'n3', 200, (i) => i)).toEqual(sendMany(a, 'n1', 'n3', 200, (i) => i));
  });
});

// Loss -------------------------------------------------------------------------------------------

describe('NetworkModel: loss', () => {
  it.each([0.01, 0.1, 0.25, 0.5, 0.75, 0.9])('loss probability %f drops about that share of 10 000 messages, with cause "loss"', (p) => {
    const model = new NetworkModel(NODES, 42, { lossProbability: p });
    const ds = sendMany(model, 'n1', 'n2', 10_000);
    expect(Math.abs(dropRate(ds) - p)).toBeLessThan(0.03);
    for (const d of ds) if (d.kind === 'drop') expect(d.cause).toBe('loss');
  });

  it('loss probability 0 drops nothing and 1 drops everything', () => {
    expect(dropRate(sendMany(new NetworkModel(NODES, 3, { lossProbability: 0 }), 'n1', 'n2', 2000))).toBe(0);
    expect(dropRate(sendMany(new NetworkModel(NODES, 3, { lossProbability: 1 }), 'n1', 'n2', 2000))).toBe(1);
  });

  it('every link, in either direction, loses about the configured share', () => {
    const model = new NetworkModel(NODES, 9, { lossProbability: 0.3 });
    for (const [from, to] of [
      ['n1', 'n2'],
      ['n2', 'n1'],
      ['n3', 'n5'],
    ] as const) {
      expect(Math.abs(dropRate(sendMany(model, from, to, 5000)) - 0.3)).toBeLessThan(0.03);
    }
  });

  it('a retransmission of an identical message gets its own fate', () => {
    // Every send is the same (same link, time and size); only the sequence number differs.
    const ds = sendMany(new NetworkModel(NODES, 5, { lossProbability: 0.5 }), 'n1', 'n2', 100);
    expect(new Set(ds.map((d) => d.kind))).toEqual(new Set(['drop', 'deliver']));
  });
});

// Latency ----------------------------------------------------------------------------------------

describe('NetworkModel: latency', () => {
  // Sends are spaced far apart so FIFO order never holds a message back: these are raw samples.
  const SPACING = 1_000_000;
  const samples = (latency: LatencyDistribution, count = 10_000, seed = 11): number[] => {
    const model = new NetworkModel(NODES, seed, { latency });
    return sendMany(model, 'n2', 'n4', count, (i) => i * SPACING).map((d, i) => {
      if (d.kind !== 'deliver' || d.atMs.length !== 1) throw new Error(`message ${i} was not delivered exactly once`);
      return d.atMs[0]! - i * SPACING;
    });
  };

  it.each([0, 1, 17.5, 250])('constant latency of %f ms delivers every message exactly that long after it was sent', (ms) => {
    expect(new Set(samples({ kind: 'constant', ms }, 500))).toEqual(new Set([ms]));
  });

  it.each([
    [0, 10],
    [5, 5],
    [10, 200],
    [100, 101],
  ])('uniform latency in [%i, %i] ms stays within the bounds and averages the midpoint', (minMs, maxMs) => {
    const xs = samples({ kind: 'uniform', minMs, maxMs });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(minMs);
    expect(Math.max(...xs)).toBeLessThanOrEqual(maxMs);
    expect(Math.abs(mean(xs) - (minMs + maxMs) / 2)).toBeLessThanOrEqual(0.02 * (maxMs - minMs));
    if (maxMs - minMs >= 10) {
      // Both ends of the range are used, not just the middle.
      expect(Math.min(...xs)).toBeLessThan(minMs + 0.05 * (maxMs - minMs));
      expect(Math.max(...xs)).toBeGreaterThan(maxMs - 0.05 * (maxMs - minMs));
    }
  });

  it.each([
    [10, 0],
    [50, 5],
    [200, 20],
    [0, 7],
  ])('exponential latency of mean %i ms above a minimum of %i ms is never below the minimum and averages minimum + mean', (meanMs, minMs) => {
    const xs = samples({ kind: 'exponential', meanMs, minMs });
    expect(xs.every(Number.isFinite)).toBe(true);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(minMs);
    expect(Math.abs(mean(xs) - (minMs + meanMs))).toBeLessThanOrEqual(0.05 * meanMs + 1e-9);
    if (meanMs > 0) {
      // An exponential tail: about e^-3 (5%) of the samples are beyond three means.
      const tail = xs.filter((x) => x - minMs > 3 * meanMs).length / xs.length;
      expect(Math.abs(tail - Math.exp(-3))).toBeLessThan(0.015);
    }
  });

  it('exponential latency without a minimum starts at 0', () => {
    const xs = samples({ kind: 'exponential', meanMs: 30 });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.min(...xs)).toBeLessThan(1);
  });
});

// FIFO and reordering ----------------------------------------------------------------------------

describe('NetworkModel: per-link FIFO', () => {
  it('with reordering off, delivery times on a link never go backwards, whatever the latency distribution', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        latencyArb,
        probabilityArb,
        probabilityArb,
        sendTimesArb(1, 300),
        (seed, latency, lossProbability, duplicateProbability, times) => {
          const model = new NetworkModel(NODES, seed, { latency, lossProbability, duplicateProbability, reorderProbability: 0 });
          let last = -Infinity;
          for (const t of times) {
            const d = model.decide('n1', 'n2', t, 1);
            if (d.kind === 'drop') continue;
            for (const at of d.atMs) {
              expect(at).toBeGreaterThanOrEqual(t);
              expect(at).toBeGreaterThanOrEqual(last);
              last = at;
            }
          }
        },
      ),
    );
  });

  it('FIFO holds on every link at once when traffic on several links is interleaved', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        latencyArb,
        fc.array(fc.tuple(linkArb, fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 300 }),
        (seed, latency, sends) => {
          const model = new NetworkModel(NODES, seed, { latency });
          const last = new Map<string, number>();
          let now = 0;
          for (const [[from, to], step] of sends) {
            now += step;
            const d = model.decide(from, to, now, 1);
            if (d.kind !== 'deliver') throw new Error('a healthy network without loss dropped a message');
            const key = `${from}->${to}`;
            expect(d.atMs[0]!).toBeGreaterThanOrEqual(last.get(key) ?? -Infinity);
            last.set(key, d.atMs[0]!);
          }
        },
      ),
    );
  });

  it('a latency change does not let later messages overtake earlier ones', () => {
    const model = new NetworkModel(NODES, 1, { latency: { kind: 'constant', ms: 500 } });
    const slow = model.decide('n1', 'n2', 0, 1);
    model.update({ latency: { kind: 'constant', ms: 1 } });
    const fast = model.decide('n1', 'n2', 10, 1);
    expect(slow).toEqual({ kind: 'deliver', atMs: [500] });
    expect(fast.kind).toBe('deliver');
    expect(delivered([fast])[0]![0]).toBeGreaterThanOrEqual(500);
  });

  it('with reordering on, some later messages overtake earlier ones', () => {
    const model = new NetworkModel(NODES, 8, { latency: { kind: 'constant', ms: 5 }, reorderProbability: 0.3, reorderWindowMs: 50 });
    const times = sendMany(model, 'n1', 'n2', 1000, (i) => i).map((d) => (d.kind === 'deliver' ? d.atMs[0]! : Number.NaN));
    let overtaken = 0;
    for (let i = 1; i < times.length; i++) if (times[i]! < Math.max(...times.slice(Math.max(0, i - 60), i))) overtaken++;
    expect(overtaken).toBeGreaterThan(50);
  });

  it('with reordering on, a message not selected for reordering is not held back by one that was', () => {
    // Constant latency and strictly increasing send times: an in-order message arrives exactly one
    // latency after it was sent. If reordered messages held later ones back, far fewer would.
    for (const p of [0.1, 0.5, 0.9]) {
      const model = new NetworkModel(NODES, 21, { latency: { kind: 'constant', ms: 5 }, reorderProbability: p, reorderWindowMs: 100 });
      const ds = sendMany(model, 'n1', 'n2', 10_000, (i) => i);
      const onTime = ds.filter((d, i) => d.kind === 'deliver' && d.atMs[0] === i + 5).length / ds.length;
      expect(Math.abs(onTime - (1 - p))).toBeLessThan(0.03);
    }
  });

  it('with reordering on, messages not selected for reordering never go backwards relative to each other', () => {
    // A reordered message's time moves with the reorder window; an in-order one's does not. Two
    // models that differ only in the window tell which messages were selected.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        latencyArb,
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        sendTimesArb(2, 300),
        (seed, latency, reorderProbability, reorderWindowMs, times) => {
          const a = new NetworkModel(NODES, seed, { latency, reorderProbability, reorderWindowMs });
          const b = new NetworkModel(NODES, seed, { latency, reorderProbability, reorderWindowMs: reorderWindowMs * 2 });
          let last = -Infinity;
          for (const t of times) {
            const da = a.decide('n1', 'n2', t, 1);
            const db = b.decide('n1', 'n2', t, 1);
            if (da.kind !== 'deliver' || db.kind !== 'deliver') throw new Error('unexpected drop');
            expect(da.atMs[0]!).toBeGreaterThanOrEqual(t);
            if (da.atMs[0] !== db.atMs[0]) continue; // selected for reordering
            expect(da.atMs[0]!).toBeGreaterThanOrEqual(last);
            last = da.atMs[0]!;
          }
        },
      ),
    );
  });

  it('a reordered message is delayed by at most the reorder window beyond its latency', () => {
    const model = new NetworkModel(NODES, 4, { latency: { kind: 'constant', ms: 3 }, reorderProbability: 1, reorderWindowMs: 40 });
    const extra = sendMany(model, 'n1', 'n2', 5000, (i) => i * 2).map((d, i) => (d.kind === 'deliver' ? d.atMs[0]! - i * 2 - 3 : Number.NaN));
    for (const x of extra) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(40);
    }
    expect(Math.abs(mean(extra) - 20)).toBeLessThan(1);
  });
});

// Duplication ------------------------------------------------------------------------------------

describe('NetworkModel: duplication', () => {
  it('without the duplicate fault every delivered message is delivered once', () => {
    const ds = sendMany(new NetworkModel(NODES, 2, { lossProbability: 0.2, latency: { kind: 'uniform', minMs: 0, maxMs: 9 } }), 'n1', 'n2', 5000, (i) => i);
    for (const times of delivered(ds)) expect(times).toHaveLength(1);
  });

  it.each([0.05, 0.2, 0.5, 1])('duplicate probability %f delivers about that share of messages twice', (p) => {
    const model = new NetworkModel(NODES, 13, { duplicateProbability: p, latency: { kind: 'exponential', meanMs: 10, minMs: 1 } });
    const ds = sendMany(model, 'n3', 'n1', 10_000, (i) => i * 3);
    const twice = delivered(ds).filter((t) => t.length === 2).length;
    expect(delivered(ds).every((t) => t.length === 1 || t.length === 2)).toBe(true);
    expect(Math.abs(twice / ds.length - p)).toBeLessThan(0.03);
    expect(model.link('n3', 'n1')!.duplicated).toBe(twice);
    for (const [i, times] of delivered(ds).entries()) for (const at of times) expect(at).toBeGreaterThanOrEqual(i * 3);
  });
});

// Partitions and grudges -------------------------------------------------------------------------

describe('NetworkModel: partitions and grudges', () => {
  it('a partition cuts both ways between groups and leaves a bridge node connected to all', () => {
    const model = new NetworkModel(NODES, 1, { partition: bridge(NODES) }); // [n1,n2] n3 [n4,n5]
    const left = ['n1', 'n2'];
    const right = ['n4', 'n5'];
    for (const a of left) {
      for (const b of right) {
        expect(model.cutNow(a, b)).toBe('partition');
        expect(model.cutNow(b, a)).toBe('partition');
        expect(model.decide(a, b, 0, 1)).toEqual({ kind: 'drop', cause: 'partition' });
        expect(model.decide(b, a, 0, 1)).toEqual({ kind: 'drop', cause: 'partition' });
      }
    }
    for (const group of [left, right]) for (const a of group) for (const b of group) expect(model.cutNow(a, b)).toBeNull();
    for (const other of NODES) {
      expect(model.cutNow('n3', other)).toBeNull();
      expect(model.cutNow(other, 'n3')).toBeNull();
      if (other !== 'n3') expect(model.decide('n3', other, 0, 1).kind).toBe('deliver');
      if (other !== 'n3') expect(model.decide(other, 'n3', 0, 1).kind).toBe('deliver');
    }
  });

  it('a partition into several groups cuts every pair of groups', () => {
    const model = new NetworkModel(names(6), 1, { partition: { shape: 'groups', groups: [['n1', 'n2'], ['n3'], ['n4', 'n5', 'n6']] } });
    const sets = reachSets(model, names(6));
    expect(sets.get('n1')).toEqual(['n1', 'n2']);
    expect(sets.get('n3')).toEqual(['n3']);
    expect(sets.get('n6')).toEqual(['n4', 'n5', 'n6']);
  });

  it('a partition drops every message across it, whatever the loss rate says', () => {
    const model = new NetworkModel(NODES, 1, { partition: halves(NODES), lossProbability: 0.5 });
    const ds = sendMany(model, 'n1', 'n5', 1000);
    expect(ds.every((d) => d.kind === 'drop' && d.cause === 'partition')).toBe(true);
    expect(model.link('n1', 'n5')!.dropped).toMatchObject({ partition: 1000, loss: 0 });
  });

  it('in a majorities ring every node hears exactly a majority (itself included), and no two nodes hear the same one', () => {
    fc.assert(
      // The ring order is a permutation of the nodes: the shape must not depend on their listing order.
      fc.property(
        fc.integer({ min: 3, max: 15 }).chain((n) => fc.shuffledSubarray(names(n), { minLength: n, maxLength: n })),
        (order) => {
          const n = order.length;
          const nodes = names(n);
          const model = new NetworkModel(nodes, 1, { partition: majoritiesRing(order) });
          const majority = Math.floor(n / 2) + 1;
          const hears = new Map(nodes.map((b) => [b, nodes.filter((a) => model.cutNow(a, b) === null)]));
          for (const b of nodes) {
            expect(hears.get(b)).toContain(b);
            expect(hears.get(b)!.length).toBe(majority);
          }
          expect(new Set([...hears.values()].map((s) => s.join(','))).size).toBe(n);
          // Odd majorities give symmetric windows; even ones cut some pairs one way only, as in Jepsen.
          const symmetric = nodes.every((a) => nodes.every((b) => model.cutNow(a, b) === model.cutNow(b, a)));
          expect(symmetric).toBe(majority % 2 === 1);
        },
      ),
    );
  });

  it('a grudge drops messages one way only', () => {
    const model = new NetworkModel(NODES, 1, { grudges: [{ from: 'n1', to: 'n2' }] });
    expect(model.cutNow('n1', 'n2')).toBe('grudge');
    expect(model.cutNow('n2', 'n1')).toBeNull();
    expect(model.decide('n1', 'n2', 0, 1)).toEqual({ kind: 'drop', cause: 'grudge' });
    expect(model.decide('n2', 'n1', 0, 1).kind).toBe('deliver');
    expect(model.decide('n1', 'n3', 0, 1).kind).toBe('deliver');
    expect(model.link('n1', 'n2')!.dropped.grudge).toBe(1);
  });

  it('a node always reaches itself, even under a grudge from itself to itself', () => {
    const model = new NetworkModel(NODES, 1, { grudges: [{ from: 'n1', to: 'n1' }], partition: halves(NODES) });
    for (const n of NODES) expect(model.cutNow(n, n)).toBeNull();
  });

  it('cutNow reflects the rules in force after each update', () => {
    const model = new NetworkModel(NODES, 1);
    expect(model.cutNow('n1', 'n5')).toBeNull();
    model.update({ partition: halves(NODES) });
    expect(model.cutNow('n1', 'n5')).toBe('partition');
    expect(model.cutNow('n5', 'n1')).toBe('partition');
    model.update({ grudges: [{ from: 'n1', to: 'n2' }] });
    expect(model.cutNow('n1', 'n5')).toBe('partition'); // an update of other rules keeps the partition
    expect(model.cutNow('n1', 'n2')).toBe('grudge');
    model.update({ partition: null });
    expect(model.cutNow('n1', 'n5')).toBeNull();
    expect(model.cutNow('n1', 'n2')).toBe('grudge');
    model.update({ grudges: [] });
    expect(model.cutNow('n1', 'n2')).toBeNull();
    expect(model.decide('n1', 'n2', 0, 1).kind).toBe('deliver');
  });

  it('a link both partitioned and under a grudge reports the partition', () => {
    const model = new NetworkModel(NODES, 1, { partition: halves(NODES), grudges: [{ from: 'n1', to: 'n5' }] });
    expect(model.cutNow('n1', 'n5')).toBe('partition');
    model.update({ partition: null });
    expect(model.cutNow('n1', 'n5')).toBe('grudge');
  });
});

// Rule changes -----------------------------------------------------------------------------------

describe('NetworkModel: rule changes', () => {
  it('every update bumps the epoch by one and returns it', () => {
    const model = new NetworkModel(NODES, 1);
    expect(model.epoch).toBe(0);
    for (let i = 1; i <= 5; i++) {
      expect(model.update({ lossProbability: i / 10 })).toBe(i);
      expect(model.epoch).toBe(i);
    }
    expect(model.update({})).toBe(6);
    expect(model.rules.lossProbability).toBe(0.5);
  });

  it('an update changes only the rules it names', () => {
    const model = new NetworkModel(NODES, 1, { lossProbability: 0.2, latency: { kind: 'constant', ms: 7 } });
    model.update({ duplicateProbability: 0.1 });
    expect(model.rules).toMatchObject({ lossProbability: 0.2, latency: { kind: 'constant', ms: 7 }, duplicateProbability: 0.1 });
  });

  it.each<[string, string, Partial<NetworkRules>]>([
    ['loss probability 1.5', 'INVALID_CONFIG', { lossProbability: 1.5 }],
    ['negative loss probability', 'INVALID_CONFIG', { lossProbability: -0.1 }],
    ['NaN duplicate probability', 'INVALID_CONFIG', { duplicateProbability: Number.NaN }],
    ['reorder probability 2', 'INVALID_CONFIG', { reorderProbability: 2 }],
    ['negative reorder window', 'INVALID_CONFIG', { reorderWindowMs: -1 }],
    ['infinite reorder window', 'INVALID_CONFIG', { reorderWindowMs: Number.POSITIVE_INFINITY }],
    ['negative constant latency', 'INVALID_CONFIG', { latency: { kind: 'constant', ms: -1 } }],
    ['uniform latency with max < min', 'INVALID_CONFIG', { latency: { kind: 'uniform', minMs: 10, maxMs: 5 } }],
    ['exponential latency with a negative mean', 'INVALID_CONFIG', { latency: { kind: 'exponential', meanMs: -3 } }],
    ['an unknown latency kind', 'INVALID_CONFIG', { latency: { kind: 'pareto' } as unknown as LatencyDistribution }],
    ['a partition naming an unknown node', 'UNKNOWN_NODE', { partition: { shape: 'groups', groups: [['n1'], ['n9']] } }],
    ['a node in two partition groups', 'INVALID_CONFIG', { partition: { shape: 'groups', groups: [['n1', 'n2'], ['n2', 'n3']] } }],
    ['a ring naming an unknown node', 'UNKNOWN_NODE', { partition: { shape: 'ring', order: ['n1', 'n2', 'x'] } }],
    ['a ring naming a node twice', 'INVALID_CONFIG', { partition: { shape: 'ring', order: ['n1', 'n2', 'n3', 'n1', 'n4'] } }],
    ['an unknown partition shape', 'INVALID_CONFIG', { partition: { shape: 'star' } as unknown as NetworkRules['partition'] }],
    ['a partition left undefined', 'INVALID_CONFIG', { partition: undefined }],
    ['grudges left undefined', 'INVALID_CONFIG', { grudges: undefined }],
    ['a grudge from an unknown node', 'UNKNOWN_NODE', { grudges: [{ from: 'x', to: 'n1' }] }],
    ['a grudge to an unknown node', 'UNKNOWN_NODE', { grudges: [{ from: 'n1', to: 'x' }] }],
  ])('an invalid update (%s) throws %s and leaves the previous rules and epoch in force', (_what, code, change) => {
    const model = new NetworkModel(NODES, 1, { partition: halves(NODES), lossProbability: 0.25 });
    model.update({ grudges: [{ from: 'n1', to: 'n2' }] });
    const rules = model.rules;
    const before = sendMany(new NetworkModel(NODES, 1, rules), 'n2', 'n1', 100, (i) => i);
    expect(codeOf(() => model.update(change))).toBe(code);
    expect(model.epoch).toBe(1);
    expect(model.rules).toBe(rules);
    expect(model.cutNow('n1', 'n5')).toBe('partition');
    expect(model.cutNow('n1', 'n2')).toBe('grudge');
    expect(model.describe()).toContain('loss 0.25');
    expect(sendMany(model, 'n2', 'n1', 100, (i) => i)).toEqual(before);
  });

  it('a model cannot be built with invalid rules', () => {
    expect(codeOf(() => new NetworkModel(NODES, 1, { lossProbability: 1.5 }))).toBe('INVALID_CONFIG');
    expect(codeOf(() => new NetworkModel(NODES, 1, { grudges: [{ from: 'n1', to: 'zz' }] }))).toBe('UNKNOWN_NODE');
  });

  it('describes the rules in force in one line', () => {
    const model = new NetworkModel(NODES, 1);
    expect(model.describe()).toBe('healthy');
    model.update({ lossProbability: 0.1, grudges: [{ from: 'n1', to: 'n2' }], partition: halves(NODES) });
    expect(model.describe()).toBe('loss 0.1; drop n1->n2; partition [n1,n2,n3] | [n4,n5]');
    expect(model.describe()).not.toContain('\n');
  });
});

// Counters and membership ------------------------------------------------------------------------

describe('NetworkModel: counters', () => {
  it('per-link counters add up: sent = dropped + delivered decisions, with duplicates, bytes and deliveries counted', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        noisyRulesArb,
        fc.boolean(),
        fc.array(fc.tuple(linkArb, fc.integer({ min: 0, max: 1000 })), { maxLength: 300 }),
        (seed, rules, partitioned, sends) => {
          const model = new NetworkModel(NODES, seed, { ...rules, partition: partitioned ? halves(NODES) : null, grudges: [{ from: 'n2', to: 'n1' }] });
          const expected = new Map<string, { sent: number; bytes: number; duplicated: number; delivered: number; dropped: Record<string, number> }>();
          for (const [[from, to], bytes] of sends) {
            const key = `${from}->${to}`;
            const e = expected.get(key) ?? { sent: 0, bytes: 0, duplicated: 0, delivered: 0, dropped: {} };
            expected.set(key, e);
            e.sent++;
            e.bytes += bytes;
            const d = model.decide(from, to, 0, bytes);
            if (d.kind === 'drop') {
              e.dropped[d.cause] = (e.dropped[d.cause] ?? 0) + 1;
              continue;
            }
            if (d.atMs.length === 2) e.duplicated++;
            for (const _ of d.atMs) {
              model.noteDelivered(from, to);
              e.delivered++;
            }
          }
          const actual = model.linkCounters();
          expect(Object.keys(actual).sort()).toEqual([...expected.keys()].sort());
          for (const [key, e] of expected) {
            const c = actual[key]!;
            expect({ sent: c.sent, bytes: c.bytes, duplicated: c.duplicated, delivered: c.delivered }).toEqual({
              sent: e.sent,
              bytes: e.bytes,
              duplicated: e.duplicated,
              delivered: e.delivered,
            });
            for (const [cause, count] of Object.entries(c.dropped)) expect(count).toBe(e.dropped[cause] ?? 0);
            const drops = Object.values(c.dropped).reduce((a, b) => a + b, 0);
            expect(c.delivered).toBe(c.sent - drops + c.duplicated);
          }
        },
      ),
    );
  });

  it('drops made by the runtime at delivery are counted under their cause', () => {
    const model = new NetworkModel(NODES, 1);
    model.decide('n1', 'n2', 0, 5);
    model.decide('n1', 'n2', 0, 5);
    model.noteDropped('n1', 'n2', 'node-down');
    model.noteDropped('n1', 'n2', 'partition');
    expect(model.link('n1', 'n2')!.dropped).toMatchObject({ 'node-down': 1, partition: 1, loss: 0 });
  });

  it('linkCounters returns a copy that the caller cannot use to change the model', () => {
    const model = new NetworkModel(NODES, 1);
    model.decide('n1', 'n2', 0, 5);
    const snapshot = model.linkCounters();
    snapshot['n1->n2']!.sent = 100;
    snapshot['n1->n2']!.dropped.loss = 100;
    expect(model.link('n1', 'n2')).toMatchObject({ sent: 1, dropped: { loss: 0 } });
    expect(Object.keys(snapshot)).toEqual(['n1->n2']);
  });

  it('a message to or from an unknown node is dropped with cause "unknown-node" and counts on no link', () => {
    const model = new NetworkModel(NODES, 1);
    expect(model.decide('n1', 'ghost', 0, 5)).toEqual({ kind: 'drop', cause: 'unknown-node' });
    expect(model.decide('ghost', 'n1', 0, 5)).toEqual({ kind: 'drop', cause: 'unknown-node' });
    expect(model.cutNow('ghost', 'n1')).toBeNull();
    expect(model.link('ghost', 'n1')).toBeUndefined();
    model.noteDelivered('ghost', 'n1');
    model.noteDropped('n1', 'ghost', 'loss');
    expect(model.linkCounters()).toEqual({});
  });
});

describe('NetworkModel: joins', () => {
  it('addNode keeps existing links\' sequence numbers and counters, so their decisions continue unchanged', () => {
    const rules: Partial<NetworkRules> = { lossProbability: 0.3, duplicateProbability: 0.2, latency: { kind: 'uniform', minMs: 0, maxMs: 50 } };
    const grown = new NetworkModel(['n1', 'n2'], 77, rules);
    const fixed = new NetworkModel(['n1', 'n2'], 77, rules);
    const first = sendMany(grown, 'n1', 'n2', 100, (i) => i);
    expect(sendMany(fixed, 'n1', 'n2', 100, (i) => i)).toEqual(first);
    grown.decide('n2', 'n1', 100, 3);
    fixed.decide('n2', 'n1', 100, 3);
    const before = structuredClone(grown.linkCounters());

    grown.addNode('n3');
    expect(grown.nodeNames).toEqual(['n1', 'n2', 'n3']);
    expect(grown.linkCounters()).toEqual(before);
    expect(sendMany(grown, 'n1', 'n2', 100, (i) => 100 + i)).toEqual(sendMany(fixed, 'n1', 'n2', 100, (i) => 100 + i));
    expect(grown.link('n1', 'n2')).toEqual(fixed.link('n1', 'n2'));
    expect(grown.link('n2', 'n1')).toEqual(fixed.link('n2', 'n1'));
  });

  it("a joined node's links start empty and decide as if the node had been there from the start", () => {
    const rules: Partial<NetworkRules> = { lossProbability: 0.3, latency: { kind: 'exponential', meanMs: 5 } };
    const grown = new NetworkModel(['n1', 'n2'], 5, rules);
    sendMany(grown, 'n1', 'n2', 50);
    grown.addNode('n3');
    expect(grown.link('n1', 'n3')).toMatchObject({ sent: 0, delivered: 0, duplicated: 0, bytes: 0 });
    expect(grown.cutNow('n1', 'n3')).toBeNull();
    const fromStart = new NetworkModel(['n1', 'n2', 'n3'], 5, rules);
    expect(sendMany(grown, 'n3', 'n1', 100, (i) => i)).toEqual(sendMany(fromStart, 'n3', 'n1', 100, (i) => i));
  });

  it('addNode keeps the rules in force and their epoch', () => {
    const model = new NetworkModel(['n1', 'n2', 'n3'], 5);
    model.update({ grudges: [{ from: 'n1', to: 'n2' }], partition: { shape: 'groups', groups: [['n1'], ['n3']] } });
    model.addNode('n4');
    expect(model.epoch).toBe(1);
    expect(model.cutNow('n1', 'n2')).toBe('grudge');
    expect(model.cutNow('n3', 'n1')).toBe('partition');
    // Rules may now name the new node.
    model.update({ grudges: [{ from: 'n4', to: 'n1' }] });
    expect(model.cutNow('n4', 'n1')).toBe('grudge');
  });

  it('adding a node that is already there changes nothing', () => {
    const model = new NetworkModel(['n1', 'n2'], 5, { lossProbability: 0.5 });
    const untouched = new NetworkModel(['n1', 'n2'], 5, { lossProbability: 0.5 });
    sendMany(model, 'n1', 'n2', 10);
    sendMany(untouched, 'n1', 'n2', 10);
    model.addNode('n1');
    expect(model.nodeNames).toEqual(['n1', 'n2']);
    expect(model.link('n1', 'n2')!.sent).toBe(10);
    expect(sendMany(model, 'n1', 'n2', 20)).toEqual(sendMany(untouched, 'n1', 'n2', 20));
  });
});
