/**
 * A bench-only plugin loaded on every node of the kv benchmark's clusters, so the host can see
 * inside the worker threads: `kv-bench-probe` reports its node's event-loop utilisation (how busy
 * the thread was) and, on request, runs the V8 profiler on its thread and answers with a summary
 * (profile.ts). It handles nothing else and sends nothing unless asked.
 */
import { type ActorContext, type ActorRef, defineActor, definePlugin } from '@starling/actors';
import { MessagePort } from 'node:worker_threads';
import { type ProfileSummary, startProfile } from './profile.ts';

/**
 * `postMessage` calls made by this thread since the module loaded, counted only when
 * `KV_BENCH_PROFILE=1` (the wrapper costs a call per post; normal runs leave the method alone).
 */
let posts = 0;
export const isCountingPosts = process.env.KV_BENCH_PROFILE === '1';
if (isCountingPosts) {
  const original = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function countedPost(this: MessagePort, value: unknown, transferList?: Parameters<MessagePort['postMessage']>[1]): void {
    posts++;
    original.call(this, value, transferList);
  };
}

/** Cumulative event-loop times of a thread, in ms (diff two readings for a window's utilisation). */
export interface LoopTimes {
  readonly node: string;
  readonly activeMs: number;
  readonly idleMs: number;
  /** `postMessage` calls so far (0 unless counting, see `isCountingPosts`). */
  readonly posts: number;
}

export type ProbeMsg =
  | { readonly type: 'loop'; readonly replyTo: ActorRef<LoopTimes> }
  | { readonly type: 'profile-start'; readonly replyTo: ActorRef<boolean> }
  | { readonly type: 'profile-stop'; readonly replyTo: ActorRef<ProfileSummary | string> }
  | { readonly type: 'profile-started'; readonly replyTo: ActorRef<boolean>; readonly error?: string }
  | { readonly type: 'profile-stopped'; readonly replyTo: ActorRef<ProfileSummary | string>; readonly summary: ProfileSummary | string };

interface ProbeState {
  profiler: { stop(thread: string): Promise<ProfileSummary> } | null;
}

/** This thread's event-loop times. */
export function loopTimes(node: string): LoopTimes {
  const elu = performance.eventLoopUtilization();
  return { node, activeMs: elu.active, idleMs: elu.idle, posts };
}

function onProfileStart(state: ProbeState, msg: Extract<ProbeMsg, { type: 'profile-start' }>, ctx: ActorContext<ProbeMsg>): void {
  ctx.pipeToSelf(
    ctx.external(async () => {
      state.profiler = await startProfile();
    }),
    (r): ProbeMsg => ({ type: 'profile-started', replyTo: msg.replyTo, ...(r.ok ? {} : { error: String(r.error) }) }),
  );
}

function onProfileStop(state: ProbeState, msg: Extract<ProbeMsg, { type: 'profile-stop' }>, ctx: ActorContext<ProbeMsg>): void {
  const profiler = state.profiler;
  state.profiler = null;
  if (profiler === null) {
    ctx.tell(msg.replyTo, 'no profile running');
    return;
  }
  ctx.pipeToSelf(
    ctx.external(() => profiler.stop(ctx.nodeName)),
    (r): ProbeMsg => ({ type: 'profile-stopped', replyTo: msg.replyTo, summary: r.ok ? r.value : String(r.error) }),
  );
}

export const probeActor = defineActor({
  name: 'kv-bench-probe',
  init: (): ProbeState => ({ profiler: null }),
  receive(state, msg: ProbeMsg, ctx) {
    switch (msg.type) {
      case 'loop':
        ctx.tell(msg.replyTo, loopTimes(ctx.nodeName));
        return state;
      case 'profile-start':
        onProfileStart(state, msg, ctx);
        return state;
      case 'profile-started':
        ctx.tell(msg.replyTo, msg.error === undefined);
        return state;
      case 'profile-stop':
        onProfileStop(state, msg, ctx);
        return state;
      case 'profile-stopped':
        ctx.tell(msg.replyTo, msg.summary);
        return state;
    }
  },
});

export const kvProbePlugin = definePlugin({
  name: 'bench-kv-probe',
  module: import.meta.url,
  actors: [probeActor],
});
