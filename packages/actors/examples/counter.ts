/**
 * The README's first example: one actor on the `local` runtime (real clock, one node).
 * Run: corepack pnpm exec tsx --conditions=source packages/actors/examples/counter.ts
 */
import { type ActorRef, createSystem, defineActor } from '@starling/actors';

type CounterMsg = { type: 'add'; n: number } | { type: 'get'; replyTo: ActorRef<number> };

const counter = defineActor({
  name: 'counter',
  init: () => 0,
  receive(count, msg: CounterMsg, ctx) {
    switch (msg.type) {
      case 'add':
        return count + msg.n;
      case 'get':
        ctx.tell(msg.replyTo, count);
        return count;
    }
  },
});

export async function main(): Promise<number> {
  const system = await createSystem();
  const ref = system.spawn(counter, undefined, { name: 'counter' });
  system.tell(ref, { type: 'add', n: 2 });
  system.tell(ref, { type: 'add', n: 40 });
  const total = await system.ask(ref, (replyTo): CounterMsg => ({ type: 'get', replyTo }), { timeoutMs: 1000 });
  await system.shutdown();
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main()); // 42
