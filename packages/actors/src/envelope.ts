/**
 * What travels between nodes. User messages and the runtime's own signals (watch, terminated,
 * ask failures, remote stop) share one envelope type, encoded once at the `tell` by the codec.
 */
import type { DeadLetterReason, TerminationReason } from './events.ts';
import type { AnyRef } from './ref.ts';

export type Envelope =
  | { readonly kind: 'user'; readonly to: AnyRef; readonly msg: unknown; readonly askReplyTo?: AnyRef }
  | { readonly kind: 'watch'; readonly watchee: AnyRef; readonly watcher: AnyRef }
  | { readonly kind: 'unwatch'; readonly watchee: AnyRef; readonly watcher: AnyRef }
  | {
      readonly kind: 'terminated';
      readonly watchee: AnyRef;
      readonly watcher: AnyRef;
      readonly reason: TerminationReason;
    }
  | { readonly kind: 'ask-failed'; readonly to: AnyRef; readonly target: AnyRef; readonly reason: DeadLetterReason }
  | { readonly kind: 'stop'; readonly target: AnyRef };

/** The node an envelope is addressed to. */
export function envelopeTarget(env: Envelope): AnyRef {
  switch (env.kind) {
    case 'user':
    case 'ask-failed':
      return env.to;
    case 'watch':
    case 'unwatch':
      return env.watchee;
    case 'terminated':
      return env.watcher;
    case 'stop':
      return env.target;
  }
}
