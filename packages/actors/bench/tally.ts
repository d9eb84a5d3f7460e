/**
 * The actor that tells the host a round is over: it counts `done` reports and answers the host's
 * `await` ask once every token has reported. Shared by the local ring and the simulated cluster.
 */
import { type ActorRef, defineActor } from '@starling/actors';

export type TallyMsg =
  | { readonly type: 'await'; readonly expected: number; readonly replyTo: ActorRef<number> }
  | { readonly type: 'done' };

interface TallyState {
  expected: number;
  finished: number;
  replyTo: ActorRef<number> | null;
}

export const tally = defineActor({
  name: 'bench-tally',
  init: (): TallyState => ({ expected: 0, finished: 0, replyTo: null }),
  receive(state, msg: TallyMsg, ctx) {
    if (msg.type === 'await') {
      // The host asks before it kicks a round off, so no report of this round can precede it.
      if (state.replyTo !== null) throw new Error('tally: a round is already in progress');
      return { expected: msg.expected, finished: 0, replyTo: msg.replyTo };
    }
    state.finished++;
    if (state.finished === state.expected && state.replyTo !== null) {
      ctx.tell(state.replyTo, state.finished);
      state.replyTo = null;
    }
    return state;
  },
});
