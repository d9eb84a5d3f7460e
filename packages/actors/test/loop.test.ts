import { describe, expect, it } from 'vitest';
import { EventLoop, Lane } from '../src/runtime/loop.ts';

const lane = (name = 'n1', holdLimit = 100, overflow: (arg: unknown) => void = () => {}) => new Lane(name, holdLimit, overflow);

function runAll(loop: EventLoop): void {
  while (loop.runNext(Infinity));
}

describe('EventLoop', () => {
  it('runs events in (time, posting order), whether due now or later', () => {
    const loop = new EventLoop(undefined);
    const ran: string[] = [];
    loop.post(5, null, () => ran.push('b@5'));
    loop.post(0, null, () => ran.push('a@0'));
    loop.post(5, null, () => ran.push('c@5'));
    loop.post(1, null, () => {
      ran.push('d@1');
      loop.post(1, null, () => ran.push('e@1'));
    });
    runAll(loop);
    expect(ran).toEqual(['a@0', 'd@1', 'e@1', 'b@5', 'c@5']);
    expect(loop.now()).toBe(5);
  });

  it('a flood of cancelled timeouts does not stay in memory until they come due', () => {
    const loop = new EventLoop(undefined);
    for (let i = 0; i < 100_000; i++) loop.cancel(loop.post(10_000 + i, null, () => {}));
    expect(loop.size).toBeLessThan(2048);
    let ran = 0;
    loop.post(20_000, null, () => ran++);
    runAll(loop);
    expect(ran).toBe(1);
  });

  it('a paused lane holds its events and runs them once, in order, at resume; a held event can still be cancelled', () => {
    const loop = new EventLoop(undefined);
    const l = lane();
    const ran: string[] = [];
    loop.pause(l);
    loop.post(1, l, () => ran.push('timer'));
    const cancelMe = loop.post(2, l, () => ran.push('cancelled'));
    loop.post(3, l, (m) => ran.push(String(m)), 'message', { isMessage: true });
    loop.post(10, null, () => loop.resume(l));
    loop.post(4, null, () => loop.cancel(cancelMe));
    runAll(loop);
    expect(ran).toEqual(['timer', 'message']);
    expect(loop.now()).toBe(10);
  });

  it('a paused lane holds at most holdLimit messages and hands the rest to its overflow handler', () => {
    const loop = new EventLoop(undefined);
    const dropped: unknown[] = [];
    const l = lane('n1', 2, (arg) => dropped.push(arg));
    loop.pause(l);
    for (let i = 0; i < 5; i++) loop.post(1, l, () => {}, i, { isMessage: true });
    runAll(loop);
    expect(dropped).toEqual([2, 3, 4]);
  });

  it('killing a lane drops its timers but not messages on the wire', () => {
    const loop = new EventLoop(undefined);
    const l = lane();
    const ran: string[] = [];
    loop.post(5, l, () => ran.push('timer'));
    loop.post(5, l, () => ran.push('message'), undefined, { survivesKill: true, isMessage: true });
    loop.kill(l);
    runAll(loop);
    expect(ran).toEqual(['message']);
  });
});
