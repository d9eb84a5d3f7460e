/**
 * The whole path on real worker threads: a 5-node cluster serves puts, gets and deletes from the
 * host, siblings included, and keeps serving with a node down.
 */
import { type Cluster, startCluster } from '@starling/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { createRing, KvClient, partitionOf, preferenceList, storeKey, useReplication } from '../src/index.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('the store on threads', () => {
  it('a 5-node cluster serves puts and gets from the host, with siblings, deletes, and a node down', async () => {
    const c = (cluster = await startCluster({ runtime: 'threads', nodes: 5, plugins: [useReplication()] }));
    const kv = new KvClient(c);
    const puts = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.put(`key-${i}`, { n: i, pad: 'x'.repeat(80) })));
    expect(puts.every((p) => p.replicas.length >= 2)).toBe(true);
    for (let i = 0; i < 50; i += 7) expect((await kv.get(`key-${i}`)).values).toEqual([{ n: i, pad: 'x'.repeat(80) }]);

    const base = await kv.get('shared');
    await Promise.all([kv.put('shared', 'left', { context: base.context, node: 'n1' }), kv.put('shared', 'right', { context: base.context, node: 'n5' })]);
    const both = await kv.get('shared');
    expect([...both.values].sort()).toEqual(['left', 'right']);
    await kv.delete('shared', { context: both.context });
    expect(await kv.get('shared')).toMatchObject({ values: [], isDeleted: true });

    // One node down: N=3 with R=W=2 still serves every key. (Without the membership plugin a
    // coordinator cannot know n3 is down, so the write goes to a live primary of its key.)
    await c.kill('n3');
    const nodes = ['n1', 'n2', 'n4', 'n5'];
    const survivor = new KvClient(c, { nodes });
    for (let i = 0; i < 50; i += 5) expect((await survivor.get(`key-${i}`)).values).toEqual([{ n: i, pad: 'x'.repeat(80) }]);
    const ring = createRing(c.nodes.map((node) => ({ node, weight: 1 })));
    const primary = preferenceList(ring, partitionOf(ring, storeKey(undefined, 'after-kill')), 3).find((n) => n !== 'n3')!;
    const after = await survivor.put('after-kill', 'ok', { node: primary });
    expect(after.replicas).not.toContain('n3');
  });
});
