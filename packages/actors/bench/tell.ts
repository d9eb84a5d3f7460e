/**
 * `tell.local`: actor-to-actor messaging on the `local` runtime, beside the bare-loop ceiling and
 * two peer libraries doing the same work (the ring of ring/shared.ts), all in interleaved rounds.
 */
import { type BenchGroup, result } from '../../../scripts/bench/types.ts';
import { measured } from './measured.ts';
import { openBareRing } from './ring/bare.ts';
import { openNactRing } from './ring/nact.ts';
import type { OpenContender } from './ring/shared.ts';
import { openStarlingRing } from './ring/starling.ts';
import { openXstateRing } from './ring/xstate.ts';

const UNIT = 'msg/s';
const STARLING = 'starling';
const BARE = 'bare loop';
const NACT = 'nact';
const XSTATE = 'xstate';

export const tellLocal: BenchGroup = {
  ids: ['tell.local', 'tell.local_vs_bare', 'tell.peer.nact', 'tell.peer.xstate'],
  async run(ctx) {
    const opened: OpenContender[] = [];
    try {
      // One at a time, so that whatever opened before a failure is still closed below.
      opened.push(await openStarlingRing(STARLING));
      opened.push(openBareRing(BARE));
      opened.push(openNactRing(NACT));
      opened.push(openXstateRing(XSTATE));
      const m = await ctx.compare(opened);
      const starling = measured(m, STARLING);
      const bare = measured(m, BARE);
      const nact = measured(m, NACT);
      const xstate = measured(m, XSTATE);
      const fasterPeer = nact.rate >= xstate.rate ? nact : xstate;
      return [
        result('tell.local', UNIT, starling, fasterPeer, { minRatio: 2 }),
        result('tell.local_vs_bare', UNIT, starling, bare, { minRatio: 0.3 }),
        result('tell.peer.nact', UNIT, nact, bare),
        result('tell.peer.xstate', UNIT, xstate, bare),
      ];
    } finally {
      for (const c of opened) await c.close();
    }
  },
};
