import { describe, expect, it } from 'vitest';
import { defineActor, Disk, EventStream, createRandom } from '@starling/actors';
import { ActorSystem, type NodeHost } from '../src/system.ts';

/** A node with a hand-cranked host: nothing runs unless the test calls drain(). */
function bareSystem(): { sys: ActorSystem; drains: () => number } {
  let requested = 0;
  const host: NodeHost = {
    now: () => 0,
    schedule: () => ({ cancel: () => {} }),
    requestDrain: () => void requested++,
    send: () => {},
    noteAsync: () => {},
    nodeFailed: () => {},
    external: (work) => work(),
  };
  const sys = new ActorSystem({ name: 'n1', uid: 'u1', host, random: createRandom(1), disk: new Disk(), events: new EventStream() });
  return { sys, drains: () => requested };
}

const counter = defineActor({ name: 'counter', init: () => 0, receive: (n: number, _msg: { type: 'inc' }) => n + 1 });

describe('drain slices', () => {
  it('a drain turn ends when the host says the slice is over, and asks for another turn', () => {
    const { sys, drains } = bareSystem();
    const refs = Array.from({ length: 10 }, (_, i) => sys.spawn('user', counter, undefined, { name: `c${i}` }));
    for (const ref of refs) for (let k = 0; k < 100; k++) sys.tell(ref, { type: 'inc' }, undefined);
    const before = drains();
    // The slice is over as soon as the first actor had its turn.
    const handled = sys.drain(1_000_000, () => true);
    expect(handled).toBe(32); // one actor's throughput
    expect(sys.queued).toBe(1000 - 32);
    expect(drains()).toBe(before + 1);
    expect(sys.drain(1_000_000)).toBe(1000 - 32);
    expect(sys.queued).toBe(0);
  });
});
