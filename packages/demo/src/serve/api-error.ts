/**
 * The HTTP API's errors: every failure is a status and a JSON body `{ "error": { "code",
 * "message", ...details } }`, so a client branches on `code`, never on message text.
 */
import { InvalidArgumentError, StarlingError } from '@starling/actors';
import { KvError, RingError } from '@starling/replication';

/** Stable codes of the HTTP API's errors. */
export type ApiErrorCode =
  /** The request is not what the route takes (a query parameter, a path, a body field). */
  | 'BAD_REQUEST'
  /** The body is not valid JSON. */
  | 'MALFORMED_JSON'
  /** The body is not `application/json`. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** The body is larger than the store takes (`MAX_VALUE_BYTES`). */
  | 'VALUE_TOO_LARGE'
  /** The causal context header is not one this API wrote. */
  | 'BAD_CONTEXT'
  /** No such key (or it is deleted), or no such route. */
  | 'NOT_FOUND'
  /** The path or body names a node the cluster does not have. */
  | 'UNKNOWN_NODE'
  /** The node asked to serve (or to be killed, paused...) is not in a state that allows it. */
  | 'NODE_NOT_RUNNING'
  /** The ring refused a join or leave (already a member, not a member...). */
  | 'RING_CHANGE_REFUSED'
  /** The store's own errors: a quorum not met, no reply from the coordinator, a session's version unreachable. */
  | 'QUORUM_NOT_MET'
  | 'NO_REPLY'
  | 'SESSION_UNAVAILABLE'
  /** The store refused the request as asked (N < R, a null value...). */
  | 'INVALID_REQUEST'
  /** The cluster did not answer in time (a node busy or gone mid-request). */
  | 'TIMEOUT'
  /** Too many event streams are open. */
  | 'TOO_MANY_STREAMS'
  | 'INTERNAL';

/** The longest message an error carries, in characters: a message may quote the request (a 9 KiB path), and an answer should not. */
const MAX_MESSAGE_CHARS = 300;

/** An HTTP API error: its status, stable code and any details a client can act on. */
export class ApiError extends StarlingError<ApiErrorCode> {
  constructor(
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(code, message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message);
  }

  /** The JSON body of the response. */
  body(): { error: Record<string, unknown> } {
    return { error: { ...this.details, code: this.code, message: this.message } };
  }
}

/** Fastify's own request errors, by its code, as this API spells them. */
const FRAMEWORK_ERRORS: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'VALUE_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

/**
 * Any error a route threw, as an {@link ApiError}. The store's errors keep their code and the
 * replicas that answered; `outcome` tells a client whether a failed write may still have happened
 * (`unknown`) or certainly did not (`failed`).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KvError) {
    const details = { outcome: err.outcome, replicas: err.replicas };
    if (err.code === 'INVALID_REQUEST') return new ApiError(400, 'INVALID_REQUEST', err.message, details);
    // 503: the cluster could not serve this now; the same request may succeed later (RFC 9110 15.6.4).
    return new ApiError(503, err.code, err.message, details);
  }
  if (err instanceof RingError) return new ApiError(409, 'RING_CHANGE_REFUSED', err.message, { reason: err.code });
  if (err instanceof InvalidArgumentError) {
    return err.code === 'UNKNOWN_NODE' ? new ApiError(404, 'UNKNOWN_NODE', err.message) : new ApiError(400, 'BAD_REQUEST', err.message);
  }
  if (err instanceof StarlingError && (err.code === 'ASK_TIMEOUT' || err.code === 'ASK_FAILED' || err.code === 'TIMEOUT')) {
    return new ApiError(503, 'TIMEOUT', err.message);
  }
  if (err instanceof StarlingError && err.code === 'NODE_NOT_RUNNING') return new ApiError(409, 'NODE_NOT_RUNNING', err.message);
  // A value the codec cannot carry (nested past its depth limit) or one too large for a message: the client's to change.
  if (err instanceof StarlingError && err.code === 'UNENCODABLE_MESSAGE') return new ApiError(400, 'BAD_REQUEST', `the value cannot be stored: ${err.message}`);
  if (err instanceof StarlingError && err.code === 'MESSAGE_TOO_LARGE') return new ApiError(413, 'VALUE_TOO_LARGE', `the value is too large for a message: ${err.message}`);
  const e = err as { code?: unknown; statusCode?: unknown; validation?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (e.validation !== undefined) return new ApiError(400, 'BAD_REQUEST', message);
  const known = typeof e.code === 'string' ? FRAMEWORK_ERRORS[e.code] : undefined;
  if (known !== undefined && typeof e.statusCode === 'number') return new ApiError(e.statusCode, known, message);
  // Any other 4xx the framework raised (a bad header, a prototype-poisoning body) is the client's.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ApiError(e.statusCode, 'BAD_REQUEST', message);
  return new ApiError(500, 'INTERNAL', message);
}
