/**
 * The host's handle on carts: asks a node's `/user/cart` and turns its replies into values and
 * typed errors, as `KvClient` does for the store.
 */
import { AskTimeoutError, type Cluster, StarlingError } from '@starling/actors';
import type { KvOutcome } from '@starling/replication';
import { type CartErrorCode, type CartOk, type CartReply, type CartRequest, cartRef } from './cart.ts';

/** A cart request that failed (`outcome: 'failed'`) or may have happened (`'unknown'`). */
export class CartError extends StarlingError<CartErrorCode> {
  constructor(
    code: CartErrorCode,
    message: string,
    readonly outcome: KvOutcome,
  ) {
    super(code, message);
  }
}

/** How a {@link CartClient} is set up. */
export interface CartClientOptions {
  /**
   * How long to wait for a cart actor's answer, in ms. Default 10 000: an operation is a get and a
   * put, up to 3 s each, and may wait behind others for the same cart.
   */
  readonly timeoutMs?: number;
}

/**
 * Carts from the host: each call names the node whose cart actor serves it.
 *
 * ```ts
 * const carts = new CartClient(cluster);
 * await cluster.until(carts.add('n1', 'cart-42', 'book'));
 * const { items } = await cluster.until(carts.get('n4', 'cart-42')); // ['book']
 * ```
 */
export class CartClient {
  constructor(
    private readonly cluster: Cluster,
    private readonly options: CartClientOptions = {},
  ) {}

  /** Adds `item` to `cart` through `node`'s cart actor. Throws {@link CartError}. */
  add(node: string, cart: string, item: string): Promise<CartOk> {
    return this.request(node, true, (replyTo) => ({ type: 'cart-add', cart, item, replyTo }));
  }

  /** Removes `item` from `cart`, as far as `node` has seen it added. Throws {@link CartError}. */
  remove(node: string, cart: string, item: string): Promise<CartOk> {
    return this.request(node, true, (replyTo) => ({ type: 'cart-remove', cart, item, replyTo }));
  }

  /** Reads `cart` through `node`. Throws {@link CartError}. */
  get(node: string, cart: string): Promise<CartOk> {
    return this.request(node, false, (replyTo) => ({ type: 'cart-get', cart, replyTo }));
  }

  private async request(node: string, isWrite: boolean, make: (replyTo: CartRequest['replyTo']) => CartRequest): Promise<CartOk> {
    let reply: CartReply;
    try {
      reply = await this.cluster.ask<CartRequest, CartReply>(cartRef(node), make, { timeoutMs: this.options.timeoutMs ?? 10_000 });
    } catch (err) {
      if (err instanceof AskTimeoutError) throw new CartError('NO_REPLY', `no answer from ${node}'s cart actor: ${err.message}`, isWrite ? 'unknown' : 'failed');
      throw err;
    }
    if (reply.type === 'cart-error') throw new CartError(reply.code, reply.message, reply.outcome);
    return reply;
  }
}
