import { type AnyRef, MAX_COUNTED_TYPES } from '@starling/actors';
import { afterEach, describe, expect, it } from 'vitest';
import { type SenderMsg, sender } from './fixtures/actors.ts';
import { simCluster, withProbe } from './support/cluster.ts';

type Cluster = Awaited<ReturnType<typeof simCluster>>;
let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** Has n1's sender tell `payload` to `to`, and waits for its report. */
async function send(c: Cluster, from: AnyRef, to: AnyRef, payload: unknown): Promise<string> {
  return c.until(c.ask(from as never, (replyTo): SenderMsg => ({ type: 'send', to, payload, replyTo }), { timeoutMs: 1_000 }));
}

describe('messages sent to other nodes, by type', () => {
  it('counts each message under its type field, untyped ones apart, and nothing sent within the node', async () => {
    const c = (cluster = await simCluster(1));
    const { ref: far } = await withProbe(c, 'n2');
    const { ref: near } = await withProbe(c, 'n1', 'near');
    const from = await c.spawn('n1', sender, undefined, { name: 'sender' });
    const before = (await c.stats('n1')).sentByType;
    expect(await send(c, from, far, { type: 'note', text: 'a' })).toBe('ok');
    expect(await send(c, from, far, { type: 'note', text: 'b' })).toBe('ok');
    expect(await send(c, from, far, 'a bare string')).toBe('ok');
    expect(await send(c, from, near, { type: 'note', text: 'local' })).toBe('ok');
    expect(await send(c, from, far, { type: '__proto__' })).toBe('ok');
    const after = (await c.stats('n1')).sentByType;
    expect((after.note ?? 0) - (before.note ?? 0)).toBe(2);
    // The bare string; the sender's five 'ok' replies to the host are not traffic between nodes.
    expect((after['(untyped)'] ?? 0) - (before['(untyped)'] ?? 0)).toBe(1);
    // A name some encodings treat specially is an ordinary own key of the snapshot.
    expect(Object.getOwnPropertyDescriptor(after, '__proto__')?.value).toBe(1);
    expect(Object.getPrototypeOf(after)).toBe(Object.prototype);
    expect((await c.stats('n2')).sentByType.note).toBeUndefined();
  });

  it('keeps at most MAX_COUNTED_TYPES names, folding the rest and overlong names into (other), and loses no count', async () => {
    const c = (cluster = await simCluster(2));
    const { ref: far } = await withProbe(c, 'n2');
    const from = await c.spawn('n1', sender, undefined, { name: 'sender' });
    const sends = MAX_COUNTED_TYPES + 40;
    for (let i = 0; i < sends; i++) await send(c, from, far, { type: `kind-${i}` });
    await send(c, from, far, { type: 'x'.repeat(65) });
    const byType = (await c.stats('n1')).sentByType;
    expect(Object.keys(byType).length).toBeLessThanOrEqual(MAX_COUNTED_TYPES + 1);
    expect(byType['(other)']).toBeGreaterThan(40);
    const total = Object.values(byType).reduce((a, b) => a + b, 0);
    // Every send to n2 counted once (the replies to the host are not counted).
    expect(total).toBe(sends + 1);
  });
});
