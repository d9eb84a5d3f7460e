/**
 * A plugin module: it defines actors and exports the plugin, nothing else. Nodes import it by URL
 * when they start, so it must not start clusters or do work at its top level.
 */
import { type ActorRef, defineActor, definePlugin, selectActor } from '@starling/actors';

export type GreeterMsg =
  | { type: 'greet'; name: string; replyTo: ActorRef<string> }
  /** Ask the greeter on node `via` to answer instead. */
  | { type: 'relay'; via: string; name: string; replyTo: ActorRef<string> };

export const greeter = defineActor({
  name: 'greeter',
  init: () => undefined,
  receive(state, msg: GreeterMsg, ctx) {
    if (msg.type === 'relay') {
      ctx.tell(selectActor<GreeterMsg>(msg.via, '/user/greeter'), { type: 'greet', name: msg.name, replyTo: msg.replyTo });
    } else {
      ctx.tell(msg.replyTo, `hello ${msg.name}, from ${ctx.nodeName}`);
    }
    return state;
  },
});

// The cluster config names this plugin by module URL, so the same config can start nodes anywhere.
export const greeterPlugin = definePlugin({
  name: 'greeter',
  module: import.meta.url,
  actors: [greeter],
  setup(node) {
    node.spawn('user', greeter, undefined, { name: 'greeter' });
  },
});
