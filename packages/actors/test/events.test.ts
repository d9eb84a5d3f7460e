import { describe, expect, it } from 'vitest';
import { EventStream, type RuntimeEvent } from '@starling/actors';

const deadLetter: RuntimeEvent = {
  type: 'dead-letter',
  node: 'n1',
  atMs: 0,
  reason: 'no-such-actor',
  to: { node: 'n1', nodeUid: 'x', path: '/user/a', uid: 1 },
  msg: { type: 'hello' },
};

describe('EventStream', () => {
  it('delivers each event on its own channel and on `event`', () => {
    const stream = new EventStream();
    const byType: RuntimeEvent[] = [];
    const all: RuntimeEvent[] = [];
    stream.on('dead-letter', (e) => byType.push(e));
    stream.on('event', (e) => all.push(e));
    stream.publish(deadLetter);
    expect(byType).toEqual([deadLetter]);
    expect(all).toEqual([deadLetter]);
  });

  it('a listener that throws does not throw into the runtime; its error surfaces on a later microtask', async () => {
    const stream = new EventStream();
    const all: RuntimeEvent[] = [];
    stream.on('dead-letter', () => {
      throw new Error('buggy listener');
    });
    stream.on('event', (e) => all.push(e));
    const surfaced = new Promise<unknown>((resolve) => {
      const original = queueMicrotask;
      // Capture the rethrow instead of letting it become an uncaught error of the test run.
      globalThis.queueMicrotask = (fn) => {
        globalThis.queueMicrotask = original;
        try {
          fn();
        } catch (err) {
          resolve(err);
        }
      };
    });
    expect(() => stream.publish(deadLetter)).not.toThrow();
    expect(all).toEqual([deadLetter]);
    expect(await surfaced).toMatchObject({ message: 'buggy listener' });
  });
});
