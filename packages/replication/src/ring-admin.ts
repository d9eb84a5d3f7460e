/**
 * The operator's side of ring changes, from the host: join and leave nodes, wait for a change to
 * finish, read progress, and (explicitly) make another node the claimant. Every call is a message
 * to a node's `/system/ring`, so an actor can do the same with `ringRef(node)`.
 */
import type { Cluster } from '@starling/actors';
import { type Ring, RingError, type RingErrorCode } from './ring.ts';
import { type RingChangeReply, type RingMessage, ringRef, type RingSettled, type TransferStatus } from './ring-protocol.ts';

/** Options of one call. */
export interface RingAdminOptions {
  /** The node asked (any node: it passes the change to the claimant, and repeats it until the claimant answers). Default: the cluster's first node. */
  readonly via?: string;
  /** How long to wait for the answer, in ms. Default 30 000. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Ring changes from the host.
 *
 * ```ts
 * const admin = new RingAdmin(cluster);
 * const version = await admin.join('n4');   // the change has begun: partitions start moving
 * await admin.settled(version);             // every move confirmed, old copies dropped
 * await admin.leave('n2');
 * ```
 */
export class RingAdmin {
  constructor(private readonly cluster: Cluster) {}

  /**
   * Asks for `node` to join the ring with `weight` (its share of partitions is weight / total).
   * Resolves with the ring version that began the change once the claimant committed it; a change
   * waits while another is in progress or while the claimant is unreachable.
   *
   * @throws {@link RingError} with the ring's reason (`INVALID_MEMBER`, `UNKNOWN_MEMBER`...), or
   *   the runtime's ask timeout error past `timeoutMs`.
   */
  join(node: string, options: RingAdminOptions & { readonly weight?: number } = {}): Promise<number> {
    return this.change({ kind: 'join', member: { node, weight: options.weight ?? 1 } }, options);
  }

  /**
   * Asks for `node` to leave the ring: its partitions (and hints) move to the others first.
   * Resolves as {@link join} does. With `force` (Riak's force-remove), for a node gone for good:
   * nobody waits for it, its partitions are rebuilt from the other replicas, and writes only it
   * held are lost.
   */
  leave(node: string, options: RingAdminOptions & { readonly force?: boolean } = {}): Promise<number> {
    return this.change({ kind: 'leave', node, ...(options.force === true ? { force: true } : {}) }, options);
  }

  /**
   * Makes `node` the claimant: for a claimant that left or is gone for good. It is the operator's
   * call, since a claimant still running could commit a ring of the same version.
   */
  async reassignClaimant(node: string, options: Omit<RingAdminOptions, 'via'> = {}): Promise<number> {
    const reply = await this.cluster.ask<RingMessage, RingChangeReply>(ringRef(node), (replyTo) => ({ type: 'ring-reassign', replyTo }), { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    return committed(reply);
  }

  /** Resolves with `via`'s ring once it is at `version` or later with no change in progress. */
  async settled(version: number, options: RingAdminOptions = {}): Promise<Ring> {
    const reply = await this.cluster.ask<RingMessage, RingSettled>(ringRef(this.via(options)), (replyTo) => ({ type: 'ring-await', version, replyTo }), {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    return reply.ring;
  }

  /** A node's ring. */
  async ring(node: string, options: Omit<RingAdminOptions, 'via'> = {}): Promise<Ring> {
    const reply = await this.cluster.ask<RingMessage, { type: 'ring'; ring: Ring }>(ringRef(node), (replyTo) => ({ type: 'ring-get', replyTo }), { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    return reply.ring;
  }

  /** A node's progress: partitions pending and moving, keys and bytes moved, the last change's duration. */
  status(node: string, options: Omit<RingAdminOptions, 'via'> = {}): Promise<TransferStatus> {
    return this.cluster.ask<RingMessage, TransferStatus>(ringRef(node), (replyTo) => ({ type: 'ring-status', replyTo }), { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }

  private async change(change: Extract<RingMessage, { type: 'ring-change' }>['change'], options: RingAdminOptions): Promise<number> {
    const reply = await this.cluster.ask<RingMessage, RingChangeReply>(ringRef(this.via(options)), (replyTo) => ({ type: 'ring-change', change, replyTo }), {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    return committed(reply);
  }

  private via(options: RingAdminOptions): string {
    return options.via ?? this.cluster.nodes[0]!;
  }
}

function committed(reply: RingChangeReply): number {
  if (reply.type === 'ring-committed') return reply.version;
  throw new RingError(reply.code as RingErrorCode, reply.message);
}
