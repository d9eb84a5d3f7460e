/**
 * The shopping cart example end to end, in simulation: `/user/cart` on every node (the plugin),
 * carts stored as ORSWOTs through each node's coordinator, concurrent versions merged with
 * add-wins semantics, across a partition too; and its demo script.
 */
import { type ActorRef, type SimulationCluster, startCluster } from '@starling/actors';
import { MembershipTracker, useGossip } from '@starling/gossip';
import { describe, expect, it } from 'vitest';
import { simIt } from '../../../scripts/testing/seed.ts';
import { main as demo } from '../examples/cart/demo.ts';
import { type CartError, CartClient, type CartOptions, type CartReply, type CartRequest, cartRef, counterOf, elements, isCart, mergeAll, type Orswot, useCart } from '../examples/cart/index.ts';
import { createRing, KvClient, partitionOf, preferenceList, storeKey, useReplication } from '../src/index.ts';
import { FAST_GOSSIP } from './support/workload.ts';

const LATENCY = { kind: 'uniform', minMs: 1, maxMs: 10 } as const;

async function cartCluster(seed: number, o: { cart?: CartOptions } = {}): Promise<SimulationCluster> {
  return startCluster({ runtime: 'simulation', seed, nodes: 5, network: { latency: LATENCY }, plugins: [useReplication(), useCart(o.cart)] });
}

/**
 * A cluster whose failure detector is gossip alone, so coordinators skip exactly the nodes
 * membership declares dead (sloppy quorum), with a tracker of every node's view.
 */
async function gossipCartCluster(seed: number): Promise<{ cluster: SimulationCluster; split: (sides: string[][]) => Promise<void>; heal: () => Promise<void> }> {
  const cluster = await startCluster({ runtime: 'simulation', seed, nodes: 5, network: { latency: LATENCY }, hostFailureDetector: false, plugins: [useGossip(FAST_GOSSIP), useReplication(), useCart()] });
  const tracker = await MembershipTracker.attach(cluster);
  const isWhole = () => cluster.nodes.every((a) => cluster.nodes.every((b) => a === b || tracker.stateOf(a, b) === 'alive'));
  expect(await cluster.runUntil(isWhole, { timeoutMs: 30_000 }), 'membership converges').toBe(true);
  return {
    cluster,
    /** Partitions the network and runs until each side's membership declares the other side dead. */
    async split(sides) {
      await cluster.network.partition({ shape: 'groups', groups: sides });
      const isSplit = () => sides.every((side) => side.every((observer) => cluster.nodes.every((other) => side.includes(other) || tracker.stateOf(observer, other) === 'dead')));
      expect(await cluster.runUntil(isSplit, { timeoutMs: 30_000 }), 'membership sees the partition').toBe(true);
    },
    /** Heals, runs until membership merges, then long enough for hints to be handed over. */
    async heal() {
      await cluster.network.heal();
      expect(await cluster.runUntil(isWhole, { timeoutMs: 30_000 }), 'membership merges').toBe(true);
      await cluster.runFor(3_000);
    },
  };
}

/** The cart's versions as the store holds them (siblings not merged), read with R = 3. */
async function stored(cluster: SimulationCluster, cart: string): Promise<Orswot[]> {
  const got = await cluster.until(new KvClient(cluster).get(cart, { bucket: 'carts', r: 3 }));
  for (const v of got.values) expect(isCart(v)).toBe(true);
  return got.values as Orswot[];
}

function primaries(cluster: SimulationCluster, cart: string): string[] {
  const ring = createRing(cluster.nodes.map((node) => ({ node, weight: 1 })));
  return preferenceList(ring, partitionOf(ring, storeKey('carts', cart)), 3);
}

/** The first cart id with exactly one primary in `side`. */
function cartStraddling(cluster: SimulationCluster, side: readonly string[]): string {
  for (let i = 0; ; i++) if (primaries(cluster, `cart-${i}`).filter((n) => side.includes(n)).length === 1) return `cart-${i}`;
}

async function items(cluster: SimulationCluster, carts: CartClient, node: string, cart: string): Promise<readonly string[]> {
  return (await cluster.until(carts.get(node, cart))).items;
}

function ask(cluster: SimulationCluster, node: string, make: (replyTo: ActorRef<CartReply>) => unknown): Promise<CartReply> {
  return cluster.ask<CartRequest, CartReply>(cartRef(node), (replyTo) => make(replyTo) as CartRequest, { timeoutMs: 10_000 });
}

describe('the cart plugin', () => {
  simIt('add, remove and re-add through different nodes; every node reads the same cart', 701, async (seed) => {
    const cluster = await cartCluster(seed);
    const carts = new CartClient(cluster);
    expect(await items(cluster, carts, 'n1', 'c1')).toEqual([]);
    expect((await cluster.until(carts.add('n1', 'c1', 'apple'))).items).toEqual(['apple']);
    expect((await cluster.until(carts.add('n2', 'c1', 'bread'))).items).toEqual(['apple', 'bread']);
    expect((await cluster.until(carts.remove('n3', 'c1', 'apple'))).items).toEqual(['bread']);
    expect(await items(cluster, carts, 'n4', 'c1')).toEqual(['bread']);
    expect((await cluster.until(carts.add('n5', 'c1', 'apple'))).items).toEqual(['apple', 'bread']);
    // Removing an absent item changes nothing; adding a present one keeps one.
    expect((await cluster.until(carts.remove('n1', 'c1', 'cheese'))).items).toEqual(['apple', 'bread']);
    expect((await cluster.until(carts.add('n2', 'c1', 'bread'))).items).toEqual(['apple', 'bread']);
    for (const node of cluster.nodes) expect(await items(cluster, carts, node, 'c1')).toEqual(['apple', 'bread']);
    // Every write carried the read's context: one version in the store, no siblings.
    const versions = await stored(cluster, 'c1');
    expect(versions).toHaveLength(1);
    expect(elements(versions[0]!)).toEqual(['apple', 'bread']);
    // Another cart is another key.
    expect(await items(cluster, carts, 'n3', 'c2')).toEqual([]);
    await cluster.stop();
  });

  simIt('concurrent adds to one cart through every node all survive: siblings in the store, merged by the next operation', 702, async (seed) => {
    const cluster = await cartCluster(seed);
    const carts = new CartClient(cluster);
    await cluster.until(carts.add('n1', 'c1', 'base'));
    await cluster.until(Promise.all(cluster.nodes.map((node) => carts.add(node, 'c1', `from-${node}`))));
    const expected = ['base', ...cluster.nodes.map((n) => `from-${n}`)].sort();
    const siblings = await stored(cluster, 'c1');
    expect(siblings.length).toBeGreaterThan(1); // the writes were concurrent: the store kept them all
    expect(elements(mergeAll(siblings))).toEqual(expected);
    const read = await cluster.until(carts.get('n3', 'c1'));
    expect(read.items).toEqual(expected);
    expect(read.siblings).toBe(siblings.length);
    // A write supersedes the siblings its read merged.
    expect((await cluster.until(carts.remove('n2', 'c1', 'base'))).items).toEqual(expected.filter((i) => i !== 'base'));
    expect(await stored(cluster, 'c1')).toHaveLength(1);
    await cluster.stop();
  });

  simIt("one node's requests for one cart run one at a time: a burst of adds and removes applies in order, with no sibling", 703, async (seed) => {
    const cluster = await cartCluster(seed);
    const carts = new CartClient(cluster);
    const adds = Array.from({ length: 10 }, (_, i) => `sku-${i}`);
    const replies = await cluster.until(Promise.all([...adds.map((item) => carts.add('n1', 'c1', item)), ...adds.slice(0, 5).map((item) => carts.remove('n1', 'c1', item))]));
    // Each reply shows the cart after its own request and every earlier one.
    replies.slice(0, 10).forEach((r, i) => expect(r.items).toEqual(adds.slice(0, i + 1).sort()));
    replies.slice(10).forEach((r, i) => expect(r.items).toEqual(adds.slice(i + 1).sort()));
    const versions = await stored(cluster, 'c1');
    expect(versions).toHaveLength(1);
    expect(elements(versions[0]!)).toEqual(adds.slice(5));
    // One actor id minted all ten adds, one after another.
    expect(versions[0]!.clock).toHaveLength(1);
    expect(counterOf(versions[0]!.clock, versions[0]!.clock[0]![0])).toBe(10);
    await cluster.stop();
  });

  simIt('requests beyond maxQueuedPerCart are refused with BUSY; other carts and later requests are served', 704, async (seed) => {
    const cluster = await cartCluster(seed, { cart: { maxQueuedPerCart: 2 } });
    const carts = new CartClient(cluster);
    const results = await cluster.until(Promise.all(['a', 'b', 'c', 'd', 'e'].map((item) => carts.add('n1', 'c1', item).catch((e: unknown) => e as CartError))));
    expect(results.slice(0, 3).map((r) => ('items' in r ? r.items.length : r.code))).toEqual([1, 2, 3]);
    expect(results.slice(3).map((r) => ('code' in r ? [r.code, r.outcome] : r))).toEqual([
      ['BUSY', 'failed'],
      ['BUSY', 'failed'],
    ]);
    expect((await cluster.until(carts.add('n1', 'c2', 'x'))).items).toEqual(['x']);
    expect(await items(cluster, carts, 'n1', 'c1')).toEqual(['a', 'b', 'c']);
    await cluster.stop();
  });

  simIt('malformed requests get INVALID_REQUEST and a value that is not a cart gets CORRUPT_CART; the actor keeps serving and never restarts', 705, async (seed) => {
    const cluster = await cartCluster(seed);
    const carts = new CartClient(cluster);
    let restarts = 0;
    cluster.events.on('actor-restarted', () => restarts++);
    await cluster.until(carts.add('n1', 'c1', 'apple'));
    const bad = await cluster.until(
      Promise.all([
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-add', cart: '', item: 'x', replyTo })),
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-add', cart: 'c1', item: 42, replyTo })),
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-remove', cart: 'c1', replyTo })),
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-add', cart: 'c1', item: 'x'.repeat(129), replyTo })),
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-get', cart: 'c'.repeat(257), replyTo })),
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-clear', cart: 'c1', replyTo })),
        // A forged step of an operation: ignored, the sender gets nothing back.
        ask(cluster, 'n2', (replyTo) => ({ type: 'cart-read', token: 0, opId: 1, cart: 'c1', reply: { type: 'kv-get-ok', values: [] }, replyTo })).catch((e: unknown) => e),
      ]),
    );
    for (const r of bad.slice(0, 6)) expect(r).toMatchObject({ type: 'cart-error', code: 'INVALID_REQUEST', outcome: 'failed' });
    expect(bad[6]).toMatchObject({ code: 'ASK_TIMEOUT' });
    cluster.tell(cartRef('n2'), 'not an object' as unknown as CartRequest);
    cluster.tell(cartRef('n2'), { type: 'cart-add', cart: 'c1', item: 'x', replyTo: 'nowhere' } as unknown as CartRequest);
    expect(await items(cluster, carts, 'n2', 'c1')).toEqual(['apple']);

    // Somebody wrote a value that is not a cart under a cart's key: reported, never overwritten.
    const kv = new KvClient(cluster);
    await cluster.until(kv.put('c3', { items: ['apple'] }, { bucket: 'carts' }));
    for (const op of [carts.get('n3', 'c3'), carts.add('n3', 'c3', 'bread')]) {
      expect(await cluster.until(op.catch((e: unknown) => e))).toMatchObject({ code: 'CORRUPT_CART', outcome: 'failed' });
    }
    expect((await cluster.until(kv.get('c3', { bucket: 'carts' }))).values).toEqual([{ items: ['apple'] }]);
    expect(restarts).toBe(0);
    await cluster.stop();
  });

  it('the plugin validates its options', async () => {
    for (const cart of [{ bucket: 'a/b' }, { bucket: '' }, { storeTimeoutMs: 0 }, { maxQueuedPerCart: 1.5 }, { colour: 'red' }] as CartOptions[]) {
      await expect(startCluster({ runtime: 'simulation', seed: 1, nodes: 1, plugins: [useReplication(), useCart(cart)] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    }
  });

  simIt('a node restarted adds under a new ORSWOT id, and the cart keeps every earlier item', 706, async (seed) => {
    const cluster = await cartCluster(seed);
    const carts = new CartClient(cluster);
    await cluster.until(carts.add('n1', 'c1', 'apple'));
    await cluster.kill('n1');
    await cluster.restart('n1');
    await cluster.until(carts.add('n1', 'c1', 'bread'));
    const [version] = await stored(cluster, 'c1');
    expect(elements(version!)).toEqual(['apple', 'bread']);
    const ids = version!.clock.map(([actor]) => actor);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^n1\//);
    await cluster.stop();
  });

  simIt('an actor keeps at most maxCarts carts in memory: a forgotten cart adds under a fresh ORSWOT id and keeps every item', 712, async (seed) => {
    const cluster = await cartCluster(seed, { cart: { maxCarts: 2 } });
    const carts = new CartClient(cluster);
    await cluster.until(carts.add('n1', 'c1', 'apple'));
    await cluster.until(carts.add('n1', 'c2', 'pear'));
    await cluster.until(carts.add('n1', 'c3', 'plum')); // c1, the least recently used, is forgotten
    await cluster.until(carts.add('n1', 'c1', 'bread'));
    await cluster.until(carts.add('n1', 'c3', 'fig')); // c3 was kept: same id as before
    const [c1] = await stored(cluster, 'c1');
    const [c3] = await stored(cluster, 'c3');
    await cluster.stop();
    expect(elements(c1!)).toEqual(['apple', 'bread']);
    expect(c1!.clock.map(([actor]) => actor)).toHaveLength(2);
    expect(elements(c3!)).toEqual(['fig', 'plum']);
    expect(c3!.clock.map(([actor]) => actor)).toHaveLength(1);
  });

  simIt("a node whose read misses its own last write (a sloppy quorum answering from fallbacks) still loses no add: it merges the version it wrote", 707, async (seed) => {
    const { cluster, split, heal } = await gossipCartCluster(seed);
    const owners = primaries(cluster, 'c1');
    const [x, y] = cluster.nodes.filter((n) => !owners.includes(n));
    const carts = new CartClient(cluster);
    await cluster.until(carts.add(x!, 'c1', 'first'));
    await split([[x!, y!], owners]);
    // x's read reaches only fallbacks, which never saw 'first'; x still adds from a version that has it.
    expect((await cluster.until(new KvClient(cluster).get('c1', { bucket: 'carts', node: x! }))).values).toEqual([]);
    expect((await cluster.until(carts.add(x!, 'c1', 'second'))).items).toEqual(['first', 'second']);
    expect(await items(cluster, carts, y!, 'c1')).toEqual(['first', 'second']);
    await heal();
    for (const node of cluster.nodes) expect(await items(cluster, carts, node, 'c1')).toEqual(['first', 'second']);
    await cluster.stop();
  });
});

describe('carts under a partition', () => {
  simIt('concurrent adds and removes on both sides of a partition merge as specified', 711, async (seed) => {
    const { cluster, split, heal } = await gossipCartCluster(seed);
    const carts = new CartClient(cluster);
    const minority = ['n1', 'n2'];
    const majority = ['n3', 'n4', 'n5'];
    // A cart with one primary on the minority side and two on the majority: every read on either
    // side (R = 2 of the nodes it reaches) includes a replica that holds the cart from before the
    // split. (A side with no such replica reads its fallbacks, which start empty: it sees a stale
    // cart, and its removes cannot cancel adds it never saw. docs/cart.md.)
    const cart = cartStraddling(cluster, minority);
    const pre = ['a', 'b', 'c', 'd', 'k', 'x'];
    for (const item of pre) await cluster.until(carts.add('n1', cart, item));
    await cluster.runFor(500); // the third replica has every write too
    await split([minority, majority]);
    for (const node of cluster.nodes) expect(await items(cluster, carts, node, cart)).toEqual(pre);

    /** Each node's requests one after another, the nodes at once: clients on both sides, concurrently. */
    const concurrently = (script: Record<string, readonly (readonly ['add' | 'remove', string])[]>) =>
      cluster.until(
        Promise.all(
          Object.entries(script).map(async ([node, ops]) => {
            for (const [op, item] of ops) await (op === 'add' ? carts.add(node, cart, item) : carts.remove(node, cart, item));
          }),
        ),
      );
    await concurrently({
      n1: [['remove', 'a'], ['add', 'e'], ['add', 'h']],
      n2: [['remove', 'b'], ['add', 'f'], ['remove', 'x'], ['remove', 'k']],
      n3: [['add', 'a'], ['add', 'f']], // a: added again, concurrently with the minority's remove
      n4: [['remove', 'c'], ['remove', 'e']], // e: never seen on this side, so nothing to remove
      n5: [['add', 'g'], ['remove', 'x']],
    });
    await concurrently({
      n2: [['remove', 'h']], // added by n1 on this side: seen, removed
      n1: [['add', 'k']], // removed by n2 on this side, added back
      n4: [['add', 'i']],
    });
    await concurrently({ n3: [['remove', 'i']] });
    // Each side sees its own history only.
    for (const node of minority) expect(await items(cluster, carts, node, cart)).toEqual(['c', 'd', 'e', 'f', 'k']);
    for (const node of majority) expect(await items(cluster, carts, node, cart)).toEqual(['a', 'b', 'd', 'f', 'g', 'k']);

    await heal();
    // a: removed on one side, added concurrently on the other: present (add wins).
    // b, c: removed on a side that saw them, never added concurrently: removed. d: untouched.
    // e: added on one side; the other side's remove never saw it: present. f, g: added.
    // h, i: added and removed on one side: removed. k: removed then re-added: present. x: removed on both.
    const expected = ['a', 'd', 'e', 'f', 'g', 'k'];
    for (const node of cluster.nodes) expect(await items(cluster, carts, node, cart)).toEqual(expected);
    const versions = await stored(cluster, cart);
    expect(versions.length).toBeGreaterThan(1); // both sides' versions, as siblings
    expect(elements(mergeAll(versions))).toEqual(expected);
    // The next write supersedes them all.
    expect((await cluster.until(carts.add('n3', cart, 'z'))).items).toEqual([...expected, 'z']);
    expect(await stored(cluster, cart)).toHaveLength(1);
    for (const node of cluster.nodes) expect(await items(cluster, carts, node, cart)).toEqual([...expected, 'z']);
    await cluster.stop();
  }, 120_000);
});

describe('the cart demo', () => {
  it('both sides of the partition change the cart and the heal merges them add-wins; the seed replays it', async () => {
    const lines = await demo();
    expect(lines).toEqual([
      'n1 adds book, n2 adds pen: [book, pen]',
      'partition: n1 n2 | n3 n4 n5',
      '  n1 n2 (removed book, added ink): [ink, pen]',
      '  n3 n4 n5 (added book, removed pen): [book]',
      'healed',
      'n3 reads: [book, ink] (merged 2 versions)',
      'n1 adds a lamp: [book, ink, lamp] (merged 2 versions)',
      'n5 reads: [book, ink, lamp]',
    ]);
    expect(await demo()).toEqual(lines);
  });
});
