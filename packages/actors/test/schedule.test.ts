/**
 * Fault schedules as data: generated from a seed, printed, parsed back and replayed. A failing run
 * is reported as its schedule and seed, so these must round-trip exactly and be checked on input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeFault,
  type EpisodeKind,
  type Fault,
  type FaultSchedule,
  formatSchedule,
  generateSchedule,
  type GenerateOptions,
  InvalidArgumentError,
  NetworkModel,
  type NetworkRules,
  parseSchedule,
  type TimedFault,
  validateSchedule,
} from '@starling/actors';

const ALL_KINDS: readonly EpisodeKind[] = ['partition', 'loss', 'latency', 'duplicate', 'reorder', 'grudge', 'kill', 'restart-empty', 'pause'];
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

interface Episode {
  readonly kind: EpisodeKind;
  readonly start: TimedFault;
  readonly end: TimedFault;
}

/**
 * Splits a schedule into episodes, failing if a fault opens an episode while another is open, or
 * if a fault does not close the open episode the way it was opened.
 */
function episodes(faults: readonly TimedFault[]): Episode[] {
  const out: Episode[] = [];
  for (let i = 0; i < faults.length; i += 2) {
    const start = faults[i]!;
    const end = faults[i + 1];
    const where = `faults[${i}] ${JSON.stringify(start)} then ${JSON.stringify(end)}`;
    expect(end, `${where}: episode never ends`).toBeDefined();
    const s = start.fault;
    const e = end!.fault;
    let kind: EpisodeKind;
    switch (s.kind) {
      case 'partition':
      case 'grudge':
        expect(e, where).toEqual({ kind: 'heal' });
        kind = s.kind;
        break;
      case 'loss':
      case 'duplicate':
      case 'reorder':
        // Rate episodes end by returning to the cluster's configured rules, not to a hard-coded 0.
        expect(s.probability, where).toBeGreaterThan(0);
        expect(e, where).toEqual({ kind: 'reset-network' });
        kind = s.kind;
        break;
      case 'latency':
        expect(e, where).toEqual({ kind: 'reset-network' });
        kind = 'latency';
        break;
      case 'kill':
        expect(['restart', 'restart-empty'], where).toContain(e.kind);
        expect(e, where).toEqual({ kind: e.kind, node: s.node });
        kind = e.kind === 'restart' ? 'kill' : 'restart-empty';
        break;
      case 'pause':
        expect(e, where).toEqual({ kind: 'resume', node: s.node });
        kind = 'pause';
        break;
      default:
        throw new Error(`${where}: ${s.kind} does not open an episode`);
    }
    expect(end!.atMs, `${where}: an episode lasts some time`).toBeGreaterThan(start.atMs);
    const next = faults[i + 2];
    if (next) expect(next.atMs, `${where}: the next episode starts before this one ends`).toBeGreaterThanOrEqual(end!.atMs);
    out.push({ kind, start, end: end! });
  }
  return out;
}

/** Applies a network fault to a model the way a cluster's `network` control does. */
function applyToModel(model: NetworkModel, f: Fault): void {
  const change: Record<string, Partial<NetworkRules> | null> = {
    partition: f.kind === 'partition' ? { partition: f.partition } : null,
    heal: { partition: null, grudges: [] },
    loss: f.kind === 'loss' ? { lossProbability: f.probability } : null,
    latency: f.kind === 'latency' ? { latency: f.latency } : null,
    duplicate: f.kind === 'duplicate' ? { duplicateProbability: f.probability } : null,
    reorder: f.kind === 'reorder' ? { reorderProbability: f.probability, reorderWindowMs: f.windowMs } : null,
    grudge: f.kind === 'grudge' ? { grudges: [...model.rules.grudges, { from: f.from, to: f.to }] } : null,
    'reset-network': { partition: null, grudges: [], lossProbability: 0, duplicateProbability: 0, reorderProbability: 0, latency: { kind: 'constant', ms: 0 } },
  };
  const c = change[f.kind];
  if (c) model.update(c);
}

function codeAndMessage(fn: () => unknown): { code?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return { code: (err as InvalidArgumentError).code, message: (err as Error).message };
  }
  return {};
}

// Arbitraries ------------------------------------------------------------------------------------

const seedArb = fc.integer({ min: 0, max: 0xffffffff });
const nodesArb = fc.integer({ min: 2, max: 7 }).map(names);
const kindsArb = fc.subarray([...ALL_KINDS], { minLength: 1 });

/** Generator settings with short episodes so a schedule holds many of them. */
const optionsArb: fc.Arbitrary<GenerateOptions> = fc
  .record({
    seed: seedArb,
    nodes: nodesArb,
    durationMs: fc.integer({ min: 0, max: 120_000 }),
    kinds: kindsArb,
    minEpisodeMs: fc.integer({ min: 1, max: 2000 }),
    episodeSpread: fc.integer({ min: 0, max: 3000 }),
    minGapMs: fc.integer({ min: 0, max: 1000 }),
    gapSpread: fc.integer({ min: 0, max: 2000 }),
  })
  .map(({ episodeSpread, gapSpread, ...o }) => ({ ...o, maxEpisodeMs: o.minEpisodeMs + episodeSpread, maxGapMs: o.minGapMs + gapSpread }));

// Generation -------------------------------------------------------------------------------------

describe('generateSchedule', () => {
  it('generates the same schedule from the same seed', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, fc.integer({ min: 0, max: 100_000 }), (seed, nodes, durationMs) => {
        const a = generateSchedule({ seed, nodes, durationMs });
        const b = generateSchedule({ seed, nodes: [...nodes], durationMs });
        expect(b).toEqual(a);
        expect(a.seed).toBe(seed);
      }),
    );
  });

  it('generates different schedules from different seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfffffffe }), nodesArb, (seed, nodes) => {
        const a = generateSchedule({ seed, nodes, durationMs: 60_000 });
        const b = generateSchedule({ seed: seed + 1, nodes, durationMs: 60_000 });
        expect(a.faults.length).toBeGreaterThan(0);
        expect(b.faults).not.toEqual(a.faults);
      }),
    );
  });

  it('sorts faults by time and ends every fault within durationMs', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const { faults } = generateSchedule(o);
        for (let i = 0; i < faults.length; i++) {
          expect(faults[i]!.atMs).toBeGreaterThanOrEqual(i === 0 ? 0 : faults[i - 1]!.atMs);
          expect(faults[i]!.atMs).toBeLessThanOrEqual(o.durationMs);
        }
      }),
    );
  });

  it('closes every episode (kill by restart, pause by resume, partition and grudge by heal, loss, duplication, reordering and latency by a reset to the configured rules) before the next one starts', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        episodes(generateSchedule(o).faults);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps each episode and each quiet gap within the configured bounds', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const eps = episodes(generateSchedule(o).faults);
        let previousEnd = 0;
        for (const ep of eps) {
          const length = ep.end.atMs - ep.start.atMs;
          const gap = ep.start.atMs - previousEnd;
          expect(length).toBeGreaterThanOrEqual(o.minEpisodeMs!);
          expect(length).toBeLessThanOrEqual(o.maxEpisodeMs!);
          expect(gap).toBeGreaterThanOrEqual(o.minGapMs!);
          expect(gap).toBeLessThanOrEqual(o.maxGapMs!);
          previousEnd = ep.end.atMs;
        }
      }),
    );
  });

  it('fills the duration: no further episode would have fitted after the last one', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const eps = episodes(generateSchedule(o).faults);
        const lastEnd = eps.length ? eps[eps.length - 1]!.end.atMs : 0;
        expect(lastEnd + o.maxGapMs! + o.maxEpisodeMs!).toBeGreaterThan(o.durationMs);
      }),
    );
  });

  it('draws only the episode kinds it is given', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, kindsArb, (seed, nodes, kinds) => {
        const eps = episodes(generateSchedule({ seed, nodes, kinds, durationMs: 60_000, minEpisodeMs: 100, maxEpisodeMs: 500 }).faults);
        expect(eps.length).toBeGreaterThan(0);
        for (const ep of eps) expect(kinds).toContain(ep.kind);
      }),
    );
  });

  it.each(ALL_KINDS)('given only %s, every episode is of that kind', (kind) => {
    const eps = episodes(generateSchedule({ seed: 3, nodes: names(5), kinds: [kind], durationMs: 30_000 }).faults);
    expect(eps.length).toBeGreaterThan(3);
    expect(new Set(eps.map((e) => e.kind))).toEqual(new Set([kind]));
  });

  it('by default draws every episode kind', () => {
    const eps = episodes(generateSchedule({ seed: 1, nodes: names(5), durationMs: 600_000 }).faults);
    expect(new Set(eps.map((e) => e.kind))).toEqual(new Set(ALL_KINDS));
  });

  it('names only the given nodes, and every partition it draws is valid for them', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, (seed, nodes) => {
        const s = generateSchedule({ seed, nodes, durationMs: 60_000, minEpisodeMs: 100, maxEpisodeMs: 300 });
        expect(() => validateSchedule(s, nodes)).not.toThrow();
        for (const { fault } of s.faults) {
          if (fault.kind === 'grudge') expect(fault.from).not.toBe(fault.to);
        }
      }),
    );
  });

  it('replayed on a network model, every network fault is accepted and the network is healthy again after each episode', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, (seed, nodes) => {
        const model = new NetworkModel(nodes, seed);
        const eps = episodes(generateSchedule({ seed, nodes, durationMs: 60_000, minEpisodeMs: 100, maxEpisodeMs: 300 }).faults);
        for (const ep of eps) {
          applyToModel(model, ep.start.fault);
          applyToModel(model, ep.end.fault);
          expect(model.rules).toMatchObject({
            partition: null,
            grudges: [],
            lossProbability: 0,
            duplicateProbability: 0,
            reorderProbability: 0,
            latency: { kind: 'constant', ms: 0 },
          });
        }
      }),
    );
  });

  it('returns no faults when no episode fits in the duration or no kinds are given', () => {
    expect(generateSchedule({ seed: 1, nodes: names(3), durationMs: 0 }).faults).toEqual([]);
    expect(generateSchedule({ seed: 1, nodes: names(3), durationMs: 600 }).faults).toEqual([]); // shortest gap 200 + episode 500
    expect(generateSchedule({ seed: 1, nodes: names(3), durationMs: 60_000, kinds: [] })).toEqual({ seed: 1, faults: [] });
  });

  it('rejects fewer than two nodes with INVALID_CONFIG', () => {
    expect(codeAndMessage(() => generateSchedule({ seed: 1, nodes: ['n1'], durationMs: 10_000 })).code).toBe('INVALID_CONFIG');
    expect(codeAndMessage(() => generateSchedule({ seed: 1, nodes: [], durationMs: 10_000 })).code).toBe('INVALID_CONFIG');
  });

  it.each<[string, Partial<GenerateOptions>]>([
    ['a NaN duration', { durationMs: Number.NaN }],
    ['an infinite duration', { durationMs: Number.POSITIVE_INFINITY }],
    ['a negative duration', { durationMs: -1 }],
    ['zero-length episodes and gaps', { minEpisodeMs: 0, maxEpisodeMs: 0, minGapMs: 0, maxGapMs: 0 }],
    ['a negative episode length', { minEpisodeMs: -10, maxEpisodeMs: 100 }],
    ['a shortest episode longer than the longest', { minEpisodeMs: 500, maxEpisodeMs: 100 }],
    ['a shortest gap longer than the longest', { minGapMs: 500, maxGapMs: 100 }],
    ['an unknown episode kind', { kinds: ['meteor' as EpisodeKind] }],
  ])('rejects %s with INVALID_CONFIG instead of looping or drawing nothing', (_what, bad) => {
    expect(codeAndMessage(() => generateSchedule({ seed: 1, nodes: names(3), durationMs: 60_000, ...bad })).code).toBe('INVALID_CONFIG');
  });
});

// Printing and parsing ---------------------------------------------------------------------------

/** One fault of every kind. */
const EVERY_KIND: FaultSchedule = {
  seed: 99,
  faults: [
    { atMs: 0, fault: { kind: 'partition', partition: { shape: 'groups', groups: [['n1', 'n2'], ['n3']] } } },
    { atMs: 10, fault: { kind: 'partition', partition: { shape: 'ring', order: ['n3', 'n1', 'n2'] } } },
    { atMs: 10, fault: { kind: 'heal' } },
    { atMs: 20, fault: { kind: 'loss', probability: 0.125 } },
    { atMs: 30, fault: { kind: 'latency', latency: { kind: 'uniform', minMs: 1, maxMs: 2.5 } } },
    { atMs: 31, fault: { kind: 'latency', latency: { kind: 'exponential', meanMs: 20 } } },
    { atMs: 40, fault: { kind: 'duplicate', probability: 1 } },
    { atMs: 50, fault: { kind: 'reorder', probability: 0.3, windowMs: 15 } },
    { atMs: 60, fault: { kind: 'grudge', from: 'n1', to: 'n3' } },
    { atMs: 70, fault: { kind: 'reset-network' } },
    { atMs: 80, fault: { kind: 'kill', node: 'n2' } },
    { atMs: 90, fault: { kind: 'restart', node: 'n2' } },
    { atMs: 100, fault: { kind: 'restart-empty', node: 'n2' } },
    { atMs: 110.5, fault: { kind: 'pause', node: 'n3' } },
    { atMs: 120, fault: { kind: 'resume', node: 'n3' } },
  ],
};

describe('formatSchedule and parseSchedule', () => {
  it('a generated schedule printed and parsed back is exactly the same schedule', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const s = generateSchedule(o);
        expect(parseSchedule(formatSchedule(s))).toEqual(s);
        expect(parseSchedule(formatSchedule(s), o.nodes)).toEqual(s);
        // And printing is stable, so a saved schedule diffs cleanly against a regenerated one.
        expect(formatSchedule(parseSchedule(formatSchedule(s)))).toBe(formatSchedule(s));
      }),
    );
  });

  it('round-trips a schedule holding every fault kind', () => {
    expect(parseSchedule(formatSchedule(EVERY_KIND), ['n1', 'n2', 'n3'])).toEqual(EVERY_KIND);
  });

  it('round-trips a hand-written schedule without a seed, and an empty one', () => {
    const s: FaultSchedule = { faults: EVERY_KIND.faults.slice(0, 3) };
    const parsed = parseSchedule(formatSchedule(s));
    expect(parsed).toEqual(s);
    expect('seed' in parsed).toBe(false);
    expect(parseSchedule(formatSchedule({ seed: 5, faults: [] }))).toEqual({ seed: 5, faults: [] });
  });

  it('prints one fault per line, so schedules diff line by line', () => {
    const text = formatSchedule(EVERY_KIND);
    const lines = text.split('\n');
    for (const tf of EVERY_KIND.faults) expect(lines.filter((l) => l.includes(JSON.stringify(tf))).length).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.includes('"atMs"'))).toHaveLength(EVERY_KIND.faults.length);
  });

  it('parses a hand-written schedule in any JSON layout', () => {
    const text = JSON.stringify({ faults: [{ atMs: 5, fault: { kind: 'kill', node: 'a' } }, { atMs: 5, fault: { kind: 'restart', node: 'a' } }] });
    expect(parseSchedule(text, ['a', 'b']).faults).toHaveLength(2);
  });

  const ok = (fault: unknown, atMs: unknown = 10): unknown => ({ atMs, fault });
  const heal = { kind: 'heal' };
  /** A schedule whose fault at index 2 is `bad`. */
  const withBadThird = (bad: unknown): string => JSON.stringify({ faults: [ok(heal, 0), ok(heal, 5), bad, ok(heal, 100)] });

  it.each<[string, string]>([
    ['a negative atMs', withBadThird(ok(heal, -1))],
    ['a missing atMs', withBadThird({ fault: heal })],
    ['a string atMs', withBadThird(ok(heal, '10'))],
    ['times out of order', withBadThird(ok(heal, 4))],
    ['an entry that is not an object', withBadThird(7)],
    ['a missing fault', withBadThird({ atMs: 10 })],
    ['an unknown kind', withBadThird(ok({ kind: 'meteor' }))],
    ['a loss probability above 1', withBadThird(ok({ kind: 'loss', probability: 1.5 }))],
    ['a negative duplicate probability', withBadThird(ok({ kind: 'duplicate', probability: -0.5 }))],
    ['a reorder probability given as a string', withBadThird(ok({ kind: 'reorder', probability: '0.5', windowMs: 10 }))],
    ['a negative reorder window', withBadThird(ok({ kind: 'reorder', probability: 0.5, windowMs: -1 }))],
    ['a bad latency', withBadThird(ok({ kind: 'latency', latency: { kind: 'uniform', minMs: 5, maxMs: 1 } }))],
    ['an unknown node to kill', withBadThird(ok({ kind: 'kill', node: 'n9' }))],
    ['a kill without a node', withBadThird(ok({ kind: 'kill' }))],
    ['a grudge against an unknown node', withBadThird(ok({ kind: 'grudge', from: 'n1', to: 'n9' }))],
    ['a partition naming an unknown node', withBadThird(ok({ kind: 'partition', partition: { shape: 'groups', groups: [['n1'], ['n9']] } }))],
    ['a ring naming an unknown node', withBadThird(ok({ kind: 'partition', partition: { shape: 'ring', order: ['n1', 'n2', 'x'] } }))],
    ['an unknown partition shape', withBadThird(ok({ kind: 'partition', partition: { shape: 'star', center: 'n1' } }))],
    ['a partition without groups', withBadThird(ok({ kind: 'partition', partition: { shape: 'groups' } }))],
    ['partition groups that are not arrays', withBadThird(ok({ kind: 'partition', partition: { shape: 'groups', groups: ['n1', 'n2'] } }))],
    ['a partition member that is not a name', withBadThird(ok({ kind: 'partition', partition: { shape: 'groups', groups: [['n1'], [2]] } }))],
    ['a node in two partition groups', withBadThird(ok({ kind: 'partition', partition: { shape: 'groups', groups: [['n1', 'n2'], ['n2']] } }))],
    ['a node twice in a ring', withBadThird(ok({ kind: 'partition', partition: { shape: 'ring', order: ['n1', 'n2', 'n1'] } }))],
  ])('rejects %s with INVALID_SCHEDULE, naming the offending index', (_what, text) => {
    const { code, message } = codeAndMessage(() => parseSchedule(text, ['n1', 'n2', 'n3']));
    expect(code).toBe('INVALID_SCHEDULE');
    expect(message).toContain('faults[2]');
  });

  it.each<[string, string, RegExp]>([
    ['text that is not JSON', '{"faults": [', /not JSON/],
    ['an empty string', '', /not JSON/],
    ['a schedule without faults', '{"seed": 1}', /faults/],
    ['faults that are not an array', '{"faults": {}}', /faults/],
    ['a schedule that is an array', '[]', /faults/],
    ['null', 'null', /faults/],
    ['a seed that is not a number', '{"seed": "1", "faults": []}', /seed/],
  ])('rejects %s with INVALID_SCHEDULE', (_what, text, pattern) => {
    const { code, message } = codeAndMessage(() => parseSchedule(text));
    expect(code).toBe('INVALID_SCHEDULE');
    expect(message).toMatch(pattern);
  });

  it('checks node names only when it is given the nodes', () => {
    const text = JSON.stringify({ faults: [ok({ kind: 'pause', node: 'elsewhere' })] });
    expect(parseSchedule(text).faults).toHaveLength(1);
    expect(codeAndMessage(() => parseSchedule(text, ['n1'])).message).toMatch(/faults\[0\].*unknown node 'elsewhere'/);
  });

  it('validateSchedule checks a schedule value that was never text', () => {
    expect(validateSchedule(EVERY_KIND, ['n1', 'n2', 'n3'])).toEqual(EVERY_KIND);
    expect(codeAndMessage(() => validateSchedule({ faults: [{ atMs: Number.NaN, fault: heal }] })).code).toBe('INVALID_SCHEDULE');
    expect(codeAndMessage(() => validateSchedule({ faults: [{ atMs: 1, fault: { kind: 'reorder', probability: 0.5, windowMs: Number.NaN } }] })).code).toBe(
      'INVALID_SCHEDULE',
    );
    expect(codeAndMessage(() => validateSchedule({ faults: [{ atMs: 1, fault: { kind: 'loss', probability: Number.NaN } }] })).code).toBe('INVALID_SCHEDULE');
  });
});

describe('describeFault', () => {
  it('describes every fault kind in one line naming what it acts on', () => {
    const expected = [
      'partition [n1,n2] | [n3]',
      'majorities ring n3,n1,n2',
      'heal',
      'loss 0.125',
      'latency {"kind":"uniform","minMs":1,"maxMs":2.5}',
      'latency {"kind":"exponential","meanMs":20}',
      'duplicate 1',
      'reorder 0.3 within 15ms',
      'drop n1->n3',
      'reset network',
      'kill n2',
      'restart n2',
      'restart-empty n2',
      'pause n3',
      'resume n3',
    ];
    expect(EVERY_KIND.faults.map((tf) => describeFault(tf.fault))).toEqual(expected);
  });
});
