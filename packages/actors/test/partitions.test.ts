import { describe, expect, it } from 'vitest';
import { bridge, halves, InvalidArgumentError, isolate, majoritiesRing, majorityMinority, NetworkModel, type Partition } from '@starling/actors';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

function groupsOf(p: Partition): readonly (readonly string[])[] {
  if (p.shape !== 'groups') throw new Error(`expected a groups partition, got ${p.shape}`);
  return p.groups;
}

/** Asserts that `fn` throws an {@link InvalidArgumentError} with `code`. */
function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').toBeInstanceOf(InvalidArgumentError);
  expect((caught as InvalidArgumentError).code).toBe(code);
}

/** Who `from` can reach under partition `p`, applied to a model over `nodes`. */
function reachable(nodes: readonly string[], p: Partition, from: string): string[] {
  const model = new NetworkModel(nodes, 1, { partition: p });
  return nodes.filter((to) => model.cutNow(from, to) === null);
}

describe('halves', () => {
  it.each([
    [2, ['n1'], ['n2']],
    [3, ['n1', 'n2'], ['n3']],
    [4, ['n1', 'n2'], ['n3', 'n4']],
    [5, ['n1', 'n2', 'n3'], ['n4', 'n5']],
    [6, ['n1', 'n2', 'n3'], ['n4', 'n5', 'n6']],
    [7, ['n1', 'n2', 'n3', 'n4'], ['n5', 'n6', 'n7']],
  ])('splits %i nodes in order into two halves, the first the larger when the count is odd', (n, first, second) => {
    expect(halves(names(n))).toEqual({ shape: 'groups', groups: [first, second] });
  });

  it('puts every node in exactly one half, so no node is left as a bridge', () => {
    for (let n = 2; n <= 12; n++) {
      const [a, b] = groupsOf(halves(names(n)));
      expect([...a!, ...b!].sort()).toEqual(names(n).sort());
      expect(a!.length - b!.length).toBe(n % 2);
    }
  });

  it('follows the order it is given, so a shuffled order gives a random split', () => {
    expect(groupsOf(halves(['c', 'a', 'd', 'b']))).toEqual([
      ['c', 'a'],
      ['d', 'b'],
    ]);
  });

  it('rejects fewer than two nodes with INVALID_CONFIG', () => {
    expectCode(() => halves([]), 'INVALID_CONFIG');
    expectCode(() => halves(['n1']), 'INVALID_CONFIG');
  });
});

describe('majorityMinority', () => {
  it.each([
    [3, 1],
    [4, 1],
    [5, 2],
    [6, 2],
    [7, 3],
    [9, 4],
  ])('by default splits %i nodes into a majority and the largest minority (%i nodes)', (n, minority) => {
    const [major, minor] = groupsOf(majorityMinority(names(n)));
    expect(minor).toEqual(names(n).slice(n - minority));
    expect(major).toEqual(names(n).slice(0, n - minority));
    expect(major!.length * 2).toBeGreaterThan(n);
  });

  it.each([
    [5, 1],
    [5, 2],
    [7, 1],
    [7, 3],
    [10, 4],
  ])('with %i nodes and a minority of %i, the minority is the last nodes of the order', (n, size) => {
    const [major, minor] = groupsOf(majorityMinority(names(n), size));
    expect(minor!.length).toBe(size);
    expect(major!.length).toBe(n - size);
    expect([...major!, ...minor!]).toEqual(names(n));
  });

  it.each([
    [5, 0],
    [5, 3],
    [4, 2],
    [6, 3],
    [5, -1],
    [5, Number.NaN],
  ])('with %i nodes rejects a minority of %d, which is empty or not smaller than the rest, with INVALID_CONFIG', (n, size) => {
    expectCode(() => majorityMinority(names(n), size), 'INVALID_CONFIG');
  });

  it('rejects fewer than two nodes with INVALID_CONFIG', () => {
    expectCode(() => majorityMinority(['n1']), 'INVALID_CONFIG');
  });

  it('rejects two nodes with INVALID_CONFIG: one of two is not a minority', () => {
    expectCode(() => majorityMinority(names(2)), 'INVALID_CONFIG');
  });
});

describe('isolate', () => {
  it.each([2, 3, 5, 8])('cuts one node of %i from all the others, who still talk among themselves', (n) => {
    const nodes = names(n);
    const target = nodes[n - 1]!;
    const p = isolate(nodes, target);
    expect(groupsOf(p)).toEqual([[target], nodes.slice(0, n - 1)]);
    expect(reachable(nodes, p, target)).toEqual([target]);
    for (const other of nodes.slice(0, n - 1)) expect(reachable(nodes, p, other)).toEqual(nodes.slice(0, n - 1));
  });

  it('rejects an unknown node with UNKNOWN_NODE', () => {
    expectCode(() => isolate(names(3), 'n9'), 'UNKNOWN_NODE');
  });
});

describe('bridge', () => {
  it.each([
    [3, ['n1'], 'n2', ['n3']],
    [4, ['n1', 'n2'], 'n3', ['n4']],
    [5, ['n1', 'n2'], 'n3', ['n4', 'n5']],
    [6, ['n1', 'n2', 'n3'], 'n4', ['n5', 'n6']],
    [7, ['n1', 'n2', 'n3'], 'n4', ['n5', 'n6', 'n7']],
  ])('with %i nodes leaves the middle node out of both sides so it bridges them', (n, left, mid, right) => {
    const nodes = names(n);
    const p = bridge(nodes);
    expect(groupsOf(p)).toEqual([left, right]);
    expect(reachable(nodes, p, mid)).toEqual(nodes);
    for (const l of left) expect(reachable(nodes, p, l)).toEqual([...left, mid]);
    for (const r of right) expect(reachable(nodes, p, r)).toEqual([mid, ...right]);
  });

  it('rejects fewer than three nodes with INVALID_CONFIG', () => {
    expectCode(() => bridge(names(2)), 'INVALID_CONFIG');
  });
});

describe('majoritiesRing', () => {
  it('is a ring over a copy of the given order', () => {
    const nodes = ['c', 'a', 'b', 'e', 'd'];
    const p = majoritiesRing(nodes);
    expect(p).toEqual({ shape: 'ring', order: nodes });
    nodes.push('f');
    expect(p).toEqual({ shape: 'ring', order: ['c', 'a', 'b', 'e', 'd'] });
  });

  it.each([3, 4, 5, 6, 7, 8, 9, 10, 11])('with %i nodes, each node is heard by exactly a majority of ring neighbours and no two by the same set', (n) => {
    const nodes = names(n);
    const p = majoritiesRing(nodes);
    const sets = nodes.map((a) => reachable(nodes, p, a));
    for (const s of sets) expect(s.length).toBe(Math.floor(n / 2) + 1);
    expect(new Set(sets.map((s) => s.join(','))).size).toBe(n);
    // Each node hears the node after it on the ring (wrapping around): every node reaches its predecessor.
    for (let i = 0; i < n; i++) expect(sets[i]).toContain(nodes[(i - 1 + n) % n]);
  });

  it('rejects fewer than three nodes with INVALID_CONFIG', () => {
    expectCode(() => majoritiesRing(names(2)), 'INVALID_CONFIG');
  });
});
