/**
 * The ceiling: the least an in-thread actor runtime must do per message, with nothing else.
 * Array mailboxes, actors found by name in a Map, a run queue of actors with mail, each handling
 * up to THROUGHPUT messages per turn (Starling's default), and a NEW message per receive. No
 * supervision, counters, refs, timers or yielding to the event loop.
 */
import { type Done, INITIAL_HOPS, type OpenContender, RING_SIZE, ringDeliveries, type Token } from './shared.ts';

type Msg = Token | Done;

/** Messages one actor handles before the next gets a turn, as in Starling. */
const THROUGHPUT = 32;

interface BareActor {
  readonly mailbox: Msg[];
  head: number;
  isScheduled: boolean;
  readonly receive: (msg: Msg) => void;
}

class BareLoop {
  private readonly actors = new Map<string, BareActor>();
  private queue: BareActor[] = [];
  private head = 0;

  add(name: string, receive: (msg: Msg) => void): void {
    this.actors.set(name, { mailbox: [], head: 0, isScheduled: false, receive });
  }

  tell(name: string, msg: Msg): void {
    const actor = this.actors.get(name);
    if (actor === undefined) throw new Error(`bare loop: no actor ${name}`);
    actor.mailbox.push(msg);
    if (!actor.isScheduled) {
      actor.isScheduled = true;
      this.queue.push(actor);
    }
  }

  /** Runs until every mailbox is empty. */
  runUntilIdle(): void {
    while (this.head < this.queue.length) {
      const actor = this.queue[this.head++]!;
      const box = actor.mailbox;
      for (let n = 0; n < THROUGHPUT && actor.head < box.length; n++) actor.receive(box[actor.head++]!);
      if (actor.head === box.length) {
        box.length = 0;
        actor.head = 0;
        actor.isScheduled = false;
      } else {
        this.queue.push(actor);
      }
      // Drop the consumed prefix now and then, as any real run queue must.
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
    this.queue.length = 0;
    this.head = 0;
  }
}

export function openBareRing(name: string): OpenContender {
  const loop = new BareLoop();
  const names = Array.from({ length: RING_SIZE }, (_, i) => `r${i}`);
  let finished = 0;
  loop.add('sink', () => void finished++);
  names.forEach((_, i) => {
    const next = names[(i + 1) % RING_SIZE]!;
    loop.add(names[i]!, (msg) => {
      if (msg.type !== 'token') throw new Error('bare ring: unexpected message');
      if (msg.hops > 0) loop.tell(next, { type: 'token', hops: msg.hops - 1 });
      else loop.tell('sink', { type: 'done' });
    });
  });
  return {
    name,
    initialSize: INITIAL_HOPS,
    async run(hops) {
      finished = 0;
      for (const n of names) loop.tell(n, { type: 'token', hops });
      loop.runUntilIdle();
      if (finished !== RING_SIZE) throw new Error(`bare ring: ${finished} of ${RING_SIZE} tokens reported`);
      return ringDeliveries(hops);
    },
    close: () => {},
  };
}
