/**
 * `spawn_stop.local`: spawning a trivial actor and stopping it again, through the public API,
 * beside the least an actor registry does per actor: create an object, insert it in a Map by its
 * path, delete it.
 */
import { createSystem, defineActor, type LocalSystem } from '@starling/actors';
import { type BenchGroup, result } from '../../../scripts/bench/types.ts';
import { measured } from './measured.ts';

const UNIT = 'spawn+stop/s';

const trivial = defineActor({
  name: 'bench-trivial',
  init: () => undefined,
  receive: (state: undefined, _msg: never) => state,
});

const STARLING = 'starling';
const BARE = 'bare object + Map insert/delete';

export const spawnStopLocal: BenchGroup = {
  ids: ['spawn_stop.local'],
  async run(ctx) {
    let system: LocalSystem | undefined;
    try {
      system = await createSystem({ name: 'bench' });
      const sys = system;
      const registry = new Map<string, { readonly path: string; state: unknown }>();
      let nextId = 0;
      const m = await ctx.compare([
        {
          name: STARLING,
          initialSize: 1000,
          async run(n) {
            for (let i = 0; i < n; i++) sys.stop(sys.spawn(trivial, undefined));
            return n;
          },
        },
        {
          name: BARE,
          initialSize: 1000,
          async run(n) {
            for (let i = 0; i < n; i++) {
              const actor = { path: `/user/$${(nextId++).toString(36)}`, state: undefined };
              registry.set(actor.path, actor);
              registry.delete(actor.path);
            }
            return n;
          },
        },
      ]);
      return [result('spawn_stop.local', UNIT, measured(m, STARLING), measured(m, BARE))];
    } finally {
      await system?.shutdown();
    }
  },
};
