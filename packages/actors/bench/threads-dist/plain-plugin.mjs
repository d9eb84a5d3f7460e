// A plugin in plain JavaScript for the start and memory benchmarks (threads-start.ts): loadable by
// every node worker without a TypeScript loader (the dist build's workers have none), and used by
// the in-process, from-sources start as well, so both starts load the same plugin.
// Plain objects: `defineActor` and `definePlugin` are identity helpers.

/** Replies to `{ n, replyTo }` with `n`. */
const plainEcho = {
  name: 'bench-plain-echo',
  init: () => undefined,
  receive(state, msg, ctx) {
    ctx.tell(msg.replyTo, msg.n);
    return state;
  },
};

export const plainEchoPlugin = {
  name: 'bench-plain-echo',
  module: import.meta.url,
  actors: [plainEcho],
};
