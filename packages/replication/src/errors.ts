/** Typed errors of the key-value store. */
import { StarlingError } from '@starling/actors';

/** Stable codes of the store's errors. */
export type KvErrorCode =
  /** Fewer than R (or W) replicas of the preference list answered in time. */
  | 'QUORUM_NOT_MET'
  /** A request that cannot be served as asked (bad key, N < R, a null value). */
  | 'INVALID_REQUEST'
  /** The coordinator did not answer in time (it, or the network to it, failed). */
  | 'NO_REPLY'
  /** A session read found no reachable replica holding the session's version of the key (read-your-writes, monotonic reads). */
  | 'SESSION_UNAVAILABLE';

/**
 * Whether the operation took effect: `failed` means it certainly did not; `unknown` means it may
 * have (a put stored at the coordinator and some replicas, short of W). A put that times out is
 * unknown, never failed (Jepsen's rule).
 */
export type KvOutcome = 'failed' | 'unknown';

/** A failed or uncertain key-value operation, with the replicas that did answer. */
export class KvError extends StarlingError<KvErrorCode> {
  constructor(
    code: KvErrorCode,
    message: string,
    readonly outcome: KvOutcome,
    /** Replicas of the preference list that answered before the deadline. */
    readonly replicas: readonly string[] = [],
  ) {
    super(code, message);
  }
}
