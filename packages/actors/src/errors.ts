/**
 * Typed errors. Every error the runtime hands to user code is a {@link StarlingError} with a stable
 * `code`, so callers branch on `err.code`, never on message text.
 */

/** Every stable error code the actor runtime produces. */
export type ErrorCode =
  | 'ASK_TIMEOUT'
  | 'ASK_FAILED'
  | 'UNENCODABLE_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'NAME_TAKEN'
  | 'INVALID_NAME'
  | 'UNKNOWN_ACTOR_TYPE'
  | 'UNKNOWN_NODE'
  | 'UNKNOWN_PLUGIN'
  | 'INVALID_CONFIG'
  | 'INVALID_SCHEDULE'
  | 'NODE_NOT_RUNNING'
  | 'SYSTEM_STOPPED'
  | 'NOT_A_CHILD'
  | 'ACTOR_FAILED'
  | 'ESCALATED'
  | 'TIMEOUT'
  | 'STALE_CONTEXT'
  | 'ACTOR_STOPPED'
  | 'MAILBOX_FULL'
  | 'NOT_PERMITTED';

/**
 * Base class of every error with a stable code. Packages above the runtime (replication's
 * `QUORUM_NOT_MET`) extend it with their own code union as `C`.
 */
export class StarlingError<C extends string = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An `ask` got no reply within its timeout. The request may still have been processed. */
export class AskTimeoutError extends StarlingError {
  constructor(
    readonly target: string,
    readonly timeoutMs: number,
  ) {
    super('ASK_TIMEOUT', `no reply from ${target} within ${timeoutMs} ms`);
  }
}

/**
 * An `ask` was answered by the runtime instead of the target: the request became a dead letter.
 * For `no-such-actor`, `stale`, `stopped` and `mailbox-full` the request was not processed; for
 * `crashed` its handler ran and threw, possibly after side effects.
 */
export class AskFailedError extends StarlingError {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super('ASK_FAILED', `request to ${target} was not delivered: ${reason}`);
  }
}

/** A message cannot be encoded (a function, a symbol, a cycle...). Thrown at the `tell`. */
export class UnencodableMessageError extends StarlingError {
  constructor(detail: string, cause?: unknown) {
    super('UNENCODABLE_MESSAGE', `message cannot be encoded: ${detail}`, { cause });
  }
}

/** An encoded message exceeds `maxMessageBytes`. Thrown at the `tell`. */
export class MessageTooLargeError extends StarlingError {
  constructor(
    readonly sizeBytes: number,
    readonly maxMessageBytes: number,
  ) {
    super('MESSAGE_TOO_LARGE', `message of ${sizeBytes} bytes exceeds maxMessageBytes ${maxMessageBytes}`);
  }
}

/** A tell from the same node hit a full mailbox whose overflow policy is `reject`. */
export class MailboxFullError extends StarlingError {
  constructor(
    readonly target: string,
    readonly capacity: number,
  ) {
    super('MAILBOX_FULL', `mailbox of ${target} is full (capacity ${capacity})`);
  }
}

/** Generic error for invalid arguments with a code (bad names, unknown nodes, bad config). */
export class InvalidArgumentError extends StarlingError {}

/**
 * A context was used after its incarnation ended (the actor restarted, stopped, or its node
 * died): the continuation of an old async handler can no longer act for the actor.
 */
export class StaleContextError extends StarlingError {
  constructor(readonly actor: string) {
    super('STALE_CONTEXT', `the context of ${actor} belongs to an incarnation that has ended`);
  }
}
