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
  | 'TIMEOUT';

/** Base class of every error with a stable code. */
export class StarlingError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
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
 * An `ask` was answered by the runtime instead of the target: the request became a dead letter
 * (no such actor, stale ref, mailbox full, ...). The request was not processed.
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

/** Generic error for invalid arguments with a code (bad names, unknown nodes, bad config). */
export class InvalidArgumentError extends StarlingError {}
