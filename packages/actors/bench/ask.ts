/**
 * `ask.local` and `ask.local_100`: request/response round trips from outside the system to an
 * actor that replies, one at a time and with 100 in flight. The baseline is the least any ask
 * needs: a promise whose resolver waits in a Map keyed by request id until the responder, called
 * directly, looks it up and resolves it. No scheduler, no timer, no mailbox.
 */
import { type ActorRef, createSystem, defineActor, type LocalSystem } from '@starling/actors';
import { type BenchGroup, type Contender, result } from '../../../scripts/bench/types.ts';
import { measured } from './measured.ts';

const UNIT = 'round trips/s';
const IN_FLIGHT = 100;
/** A typical request timeout: each ask arms a runtime timer, so its length is part of the cost. */
const ASK_TIMEOUT_MS = 10_000;

type Ping = { readonly type: 'ping'; readonly n: number; readonly replyTo: ActorRef<number> };

const responder = defineActor({
  name: 'bench-responder',
  init: () => undefined,
  receive(state, msg: Ping, ctx) {
    ctx.tell(msg.replyTo, msg.n);
    return state;
  },
});

/** The minimal ask machinery (see the module comment). */
class BareAsker {
  private nextId = 0;
  private readonly pending = new Map<number, (value: number) => void>();

  ask(n: number): Promise<number> {
    const id = ++this.nextId;
    return new Promise<number>((resolve) => {
      this.pending.set(id, resolve);
      bareRespond(this, { id, n });
    });
  }

  reply(id: number, value: number): void {
    const resolve = this.pending.get(id);
    if (resolve === undefined) throw new Error(`bare ask: no request ${id}`);
    this.pending.delete(id);
    resolve(value);
  }
}

function bareRespond(asker: BareAsker, request: { readonly id: number; readonly n: number }): void {
  asker.reply(request.id, request.n);
}

/** Runs `perLane` sequential asks on each of `lanes` concurrent lanes; resolves with the total. */
async function lanes(count: number, perLane: number, ask: (n: number) => Promise<number>): Promise<number> {
  const lane = async (): Promise<number> => {
    for (let i = 0; i < perLane; i++) {
      const reply = await ask(i);
      if (reply !== i) throw new Error(`ask: expected ${i}, got ${reply}`);
    }
    return perLane;
  };
  const done = await Promise.all(Array.from({ length: count }, lane));
  return done.reduce((a, b) => a + b, 0);
}

function contender(name: string, inFlight: number, ask: (n: number) => Promise<number>): Contender {
  return { name, initialSize: inFlight === 1 ? 1000 : 20, run: (size) => lanes(inFlight, size, ask) };
}

const STARLING = 'starling';
const STARLING_100 = `starling, ${IN_FLIGHT} in flight`;
const BARE = 'bare Map-of-resolvers ask';
const BARE_100 = `bare Map-of-resolvers ask, ${IN_FLIGHT} in flight`;

export const askLocal: BenchGroup = {
  ids: ['ask.local', 'ask.local_100'],
  async run(ctx) {
    let system: LocalSystem | undefined;
    try {
      system = await createSystem({ name: 'bench' });
      const sys = system;
      const target = sys.spawn(responder, undefined, { name: 'responder' });
      const starlingAsk = (n: number): Promise<number> =>
        sys.ask(target, (replyTo: ActorRef<number>): Ping => ({ type: 'ping', n, replyTo }), { timeoutMs: ASK_TIMEOUT_MS });
      const bare = new BareAsker();
      const bareAsk = (n: number): Promise<number> => bare.ask(n);
      const m = await ctx.compare([
        contender(STARLING, 1, starlingAsk),
        contender(BARE, 1, bareAsk),
        contender(STARLING_100, IN_FLIGHT, starlingAsk),
        contender(BARE_100, IN_FLIGHT, bareAsk),
      ]);
      return [
        result('ask.local', UNIT, measured(m, STARLING), measured(m, BARE)),
        result('ask.local_100', UNIT, measured(m, STARLING_100), measured(m, BARE_100)),
      ];
    } finally {
      await system?.shutdown();
    }
  },
};
