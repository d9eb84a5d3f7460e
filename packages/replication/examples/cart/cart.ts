/**
 * The shopping cart of the Dynamo paper (§4.4, §6.1), as an application plugin: `/user/cart` on
 * every node serves `cart-add`, `cart-remove` and `cart-get` for any cart, storing each cart as
 * an {@link Orswot} under the store's bucket `carts`, through its own node's coordinator.
 *
 * Every operation is a read-modify-write: `kv-get` the cart (all siblings and one context), merge
 * the siblings with the ORSWOT merge (so concurrent versions lose nothing: an add wins over a
 * concurrent remove, a remove holds against versions that never saw the item), apply the
 * operation, and `kv-put` the result with the read's context, which supersedes every sibling it
 * merged. Operations on one cart run one at a time in the actor (a queue per cart); carts are
 * independent.
 *
 * The actor adds under its own ORSWOT actor ids, `node/nodeUid/token.slot` (a token drawn at each
 * start of the actor, a number per cart slot), and remembers the last version it wrote of each
 * cart: it merges that version into every read, so it never mints a dot from a read that misses
 * one of its own (a sloppy quorum may well answer from replicas that never got its last write).
 * That memory dies with the actor, or with the slot when the cart is forgotten (at most
 * `maxCarts` are kept), and the next adds go under a new id.
 *
 * This module defines the plugin and its actor only: the script that starts a cluster must be
 * another module (nodes import this one when they start).
 */
import { type ActorContext, type ActorRef, defineActor, definePlugin, InvalidArgumentError, isActorRef, type PluginSpec, selectActor, type Settled, StarlingError } from '@starling/actors';
import { coordinatorRef, type GetReply, type KvErrorCode, type KvOutcome, type KvRequest, type PutReply } from '@starling/replication';
import { add, elements, has, isOrswot, mergeAll, type Orswot, remove } from './orswot.ts';

/** Where the cart actor lives on every node. */
export const CART_PATH = '/user/cart';

/** Longest cart id accepted, in characters (the cart id is the store key). */
export const MAX_CART_ID_LENGTH = 256;

/** Longest item (SKU) accepted, in characters. */
export const MAX_ITEM_LENGTH = 128;

/** What the cart actor serves. Every request is answered on `replyTo` with a {@link CartReply}. */
export type CartRequest =
  /** Puts one item in the cart (a cart is a set of SKUs: adding a present item keeps one). */
  | { readonly type: 'cart-add'; readonly cart: string; readonly item: string; readonly replyTo: ActorRef<CartReply> }
  /** Takes the item out of the cart, as far as this node's read of the cart has seen it added. */
  | { readonly type: 'cart-remove'; readonly cart: string; readonly item: string; readonly replyTo: ActorRef<CartReply> }
  /** Reads the cart: the merge of every version the store holds. */
  | { readonly type: 'cart-get'; readonly cart: string; readonly replyTo: ActorRef<CartReply> };

/** A request served: the cart's items after it. */
export interface CartOk {
  readonly type: 'cart-ok';
  readonly cart: string;
  /** The items in the cart, sorted. */
  readonly items: readonly string[];
  /** How many versions of the cart the read found (siblings, merged): more than one after concurrent writes. */
  readonly siblings: number;
}

/** Why a request failed. The store's codes pass through (`QUORUM_NOT_MET`, `NO_REPLY`, ...). */
export type CartErrorCode =
  /** The request is malformed: an unknown type, a bad cart id or item. */
  | 'INVALID_REQUEST'
  /** The store holds a value under the cart's key that is not a cart: nothing was written. */
  | 'CORRUPT_CART'
  /** More than `maxQueuedPerCart` requests wait for this cart on this node. */
  | 'BUSY'
  | KvErrorCode;

/** A request not served, or not known to be. */
export interface CartFailure {
  readonly type: 'cart-error';
  readonly code: CartErrorCode;
  readonly message: string;
  /**
   * `failed`: the cart did not change. `unknown`: the write may have happened (a put that timed
   * out); it may also show up later, since this node's next write of the cart carries it along.
   */
  readonly outcome: KvOutcome;
}

/** The answer to every {@link CartRequest}. */
export type CartReply = CartOk | CartFailure;

/** Options of the cart plugin. */
export interface CartOptions {
  /** The store's bucket for carts. Default `carts`. */
  readonly bucket?: string;
  /** The store's deadline for each get and put, in ms. Default 2 000 (the store's own default). */
  readonly storeTimeoutMs?: number;
  /** Requests that may wait for one cart on one node; more are refused with `BUSY`. Default 64. */
  readonly maxQueuedPerCart?: number;
  /**
   * Carts the actor keeps in memory (its last write of each, and waiting requests), at most; the
   * least recently used idle one is forgotten first, and adds to it later go under a fresh ORSWOT
   * id. Default 10 000.
   */
  readonly maxCarts?: number;
}

/** Options after validation. */
export interface ResolvedCartOptions {
  readonly bucket: string;
  readonly storeTimeoutMs: number;
  readonly maxQueuedPerCart: number;
  readonly maxCarts: number;
}

/** The defaults of {@link CartOptions}. */
export const DEFAULT_CART_OPTIONS: ResolvedCartOptions = { bucket: 'carts', storeTimeoutMs: 2_000, maxQueuedPerCart: 64, maxCarts: 10_000 };

/** How long the actor waits for its coordinator beyond the store's own deadline, in ms (as `KvClient`). */
const ASK_GRACE_MS = 1_000;

/** Whether `item` is an acceptable item (SKU): 1 to {@link MAX_ITEM_LENGTH} characters. */
export function isItem(item: unknown): item is string {
  return typeof item === 'string' && item.length > 0 && item.length <= MAX_ITEM_LENGTH;
}

/** Whether `cart` is an acceptable cart id: 1 to {@link MAX_CART_ID_LENGTH} characters. */
export function isCartId(cart: unknown): cart is string {
  return typeof cart === 'string' && cart.length > 0 && cart.length <= MAX_CART_ID_LENGTH;
}

/** Checks a value read from the store is a cart: an {@link Orswot} of acceptable items. */
export function isCart(x: unknown): x is Orswot {
  return isOrswot(x, isItem);
}

// -------------------------------------------------------------------------------------------------
// The actor

/** A store reply, or why the ask for it failed (plain data: it arrives as a message). */
type Answer<R> = R | { readonly type: 'ask-failed'; readonly code: string; readonly message: string; readonly outcome: KvOutcome };

/** Steps of an operation, piped to self. `token` names the actor's start; `opId` the operation. */
type CartStep =
  | { readonly type: 'cart-read'; readonly token: number; readonly opId: number; readonly cart: string; readonly reply: Answer<GetReply> }
  | { readonly type: 'cart-written'; readonly token: number; readonly opId: number; readonly cart: string; readonly reply: Answer<PutReply> };

/** Everything the cart actor accepts. */
export type CartMessage = CartRequest | CartStep;

/** The operation a cart is busy with. */
interface Running {
  readonly opId: number;
  readonly request: CartRequest;
  /** The merged read it applies to (once read). */
  base?: Orswot;
  /** What it writes (once read). */
  next?: Orswot;
  siblings?: number;
}

/** One cart, as this actor sees it. */
interface Slot {
  /**
   * The ORSWOT actor id this slot adds under: the actor's id and the slot's number. A slot
   * forgotten and made again gets a new number, so it never adds from a counter it lost.
   */
  readonly addId: string;
  readonly queue: CartRequest[];
  running?: Running;
  /** The last version this start of the actor wrote (or may have written): merged into every read. */
  mine?: Orswot;
}

interface CartState {
  readonly options: ResolvedCartOptions;
  /** This start of the actor: the prefix of its ORSWOT actor ids (one per cart slot). */
  readonly replicaId: string;
  readonly token: number;
  /** In order of last use, oldest first. */
  readonly slots: Map<string, Slot>;
  nextSlot: number;
  nextOp: number;
  /** Messages dropped: not an object, no usable `replyTo`, or a step no operation waits for. */
  malformedMessages: number;
}

function failure(code: CartErrorCode, message: string, outcome: KvOutcome = 'failed'): CartFailure {
  return { type: 'cart-error', code, message, outcome };
}

/** What is wrong with a request whose `replyTo` is usable, if anything. */
function invalid(msg: CartRequest): string | undefined {
  if (msg.type !== 'cart-add' && msg.type !== 'cart-remove' && msg.type !== 'cart-get') return `unknown request type ${JSON.stringify((msg as { type?: unknown }).type)}`;
  if (!isCartId(msg.cart)) return `a cart id is a string of 1 to ${MAX_CART_ID_LENGTH} characters`;
  if (msg.type !== 'cart-get' && !isItem(msg.item)) return `an item is a string of 1 to ${MAX_ITEM_LENGTH} characters`;
  return undefined;
}

/** An ask's outcome as a message. A get that failed changed nothing; a put that got no answer may have happened. */
function answer<R>(r: Settled<R>, isWrite: boolean): Answer<R> {
  if (r.ok) return r.value;
  const code = r.error instanceof StarlingError ? r.error.code : 'ERROR';
  const message = r.error instanceof Error ? r.error.message : String(r.error);
  const mayHaveHappened = isWrite && (code === 'ASK_TIMEOUT' || code === 'ASK_FAILED' || code === 'ERROR');
  return { type: 'ask-failed', code, message, outcome: mayHaveHappened ? 'unknown' : 'failed' };
}

function askTimeoutMs(state: CartState): number {
  return state.options.storeTimeoutMs + ASK_GRACE_MS;
}

function start(state: CartState, ctx: ActorContext<CartMessage>, cart: string, slot: Slot, request: CartRequest): void {
  const opId = state.nextOp++;
  slot.running = { opId, request };
  const { bucket, storeTimeoutMs } = state.options;
  const read = ctx.ask<KvRequest, GetReply>(coordinatorRef(ctx.nodeName), (replyTo) => ({ type: 'kv-get', bucket, key: cart, options: { timeoutMs: storeTimeoutMs }, replyTo }), { timeoutMs: askTimeoutMs(state) });
  ctx.pipeToSelf(read, (r): CartMessage => ({ type: 'cart-read', token: state.token, opId, cart, reply: answer(r, false) }));
}

/** Answers the running operation and starts the next one waiting for the cart. */
function finish(state: CartState, ctx: ActorContext<CartMessage>, cart: string, slot: Slot, reply: CartReply): void {
  const running = slot.running!;
  slot.running = undefined;
  ctx.tell(running.request.replyTo, reply);
  const next = slot.queue.shift();
  if (next) start(state, ctx, cart, slot, next);
}

function onRead(state: CartState, ctx: ActorContext<CartMessage>, cart: string, slot: Slot, running: Running, reply: Answer<GetReply>): void {
  if (reply.type === 'ask-failed') return finish(state, ctx, cart, slot, failure('NO_REPLY', `no answer from the coordinator: ${reply.message}`));
  if (reply.type === 'kv-error') return finish(state, ctx, cart, slot, failure(reply.code, reply.message));
  const corrupt = reply.values.filter((v) => !isCart(v)).length;
  if (corrupt > 0) return finish(state, ctx, cart, slot, failure('CORRUPT_CART', `${corrupt} of the ${reply.values.length} values under ${state.options.bucket}/${cart} are not carts`));
  const versions = reply.values as readonly Orswot[];
  // Our own last write may be missing from what a (sloppy) quorum answered: never add from a read without it.
  const base = mergeAll(slot.mine ? [...versions, slot.mine] : versions);
  const request = running.request;
  const siblings = versions.length;
  if (request.type === 'cart-get' || (request.type === 'cart-remove' && !has(base, request.item))) {
    return finish(state, ctx, cart, slot, { type: 'cart-ok', cart, items: elements(base), siblings });
  }
  const next = request.type === 'cart-add' ? add(base, slot.addId, request.item) : remove(base, request.item);
  running.base = base;
  running.next = next;
  running.siblings = siblings;
  const { bucket, storeTimeoutMs } = state.options;
  const opId = running.opId;
  const write = ctx.ask<KvRequest, PutReply>(
    coordinatorRef(ctx.nodeName),
    // The read's context: this put supersedes every sibling the read merged.
    (replyTo) => ({ type: 'kv-put', bucket, key: cart, value: next, context: reply.context, options: { timeoutMs: storeTimeoutMs }, replyTo }),
    { timeoutMs: askTimeoutMs(state) },
  );
  ctx.pipeToSelf(write, (r): CartMessage => ({ type: 'cart-written', token: state.token, opId, cart, reply: answer(r, true) }));
}

function onWritten(state: CartState, ctx: ActorContext<CartMessage>, cart: string, slot: Slot, running: Running, reply: Answer<PutReply>): void {
  const next = running.next!;
  if (reply.type === 'kv-put-ok') {
    // The put's answer carries any version concurrent with it: show it, and remember it too.
    const mine = mergeAll([next, ...reply.values.filter(isCart)]);
    slot.mine = mine;
    return finish(state, ctx, cart, slot, { type: 'cart-ok', cart, items: elements(mine), siblings: running.siblings! });
  }
  const outcome = reply.outcome;
  // A write that may have happened holds our new dot somewhere: remember it, so no later add reuses
  // the dot for another item. One that certainly did not happen leaves only what the read merged.
  slot.mine = outcome === 'unknown' ? next : running.base!;
  const code: CartErrorCode = reply.type === 'kv-error' ? reply.code : 'NO_REPLY';
  return finish(state, ctx, cart, slot, failure(code, reply.type === 'kv-error' ? reply.message : `no answer from the coordinator: ${reply.message}`, outcome));
}

/** Makes room for one more cart: forgets the least recently used idle carts beyond `maxCarts - 1`. */
function forgetIdle(state: CartState): void {
  if (state.slots.size < state.options.maxCarts) return;
  for (const [cart, slot] of state.slots) {
    if (state.slots.size < state.options.maxCarts) return;
    if (!slot.running && slot.queue.length === 0) state.slots.delete(cart);
  }
}

/** `/user/cart`: serves {@link CartRequest}s for every cart, through its node's coordinator. */
export const cartActor = defineActor<CartMessage, CartState, ResolvedCartOptions>({
  name: 'starling.example.cart',
  init(options, ctx) {
    const token = Math.floor(ctx.random() * 0x1_0000_0000);
    return {
      options,
      replicaId: `${ctx.nodeName}/${ctx.nodeUid}/${token.toString(16).padStart(8, '0')}`,
      token,
      slots: new Map(),
      nextSlot: 1,
      nextOp: 1,
      malformedMessages: 0,
    };
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null) {
      state.malformedMessages++;
      return state;
    }
    if (msg.type === 'cart-read' || msg.type === 'cart-written') {
      const slot = typeof msg.cart === 'string' ? state.slots.get(msg.cart) : undefined;
      const running = slot?.running;
      // Only the step the running operation waits for: anything else is forged or from an earlier start.
      if (msg.token !== state.token || !slot || !running || running.opId !== msg.opId || (msg.type === 'cart-written') !== (running.next !== undefined)) {
        state.malformedMessages++;
        return state;
      }
      if (msg.type === 'cart-read') onRead(state, ctx, msg.cart, slot, running, msg.reply);
      else onWritten(state, ctx, msg.cart, slot, running, msg.reply);
      return state;
    }
    const request = msg as CartRequest;
    if (!isActorRef(request.replyTo)) {
      state.malformedMessages++;
      return state;
    }
    const problem = invalid(request);
    if (problem !== undefined) {
      ctx.tell(request.replyTo, failure('INVALID_REQUEST', problem));
      return state;
    }
    let slot = state.slots.get(request.cart);
    if (slot) state.slots.delete(request.cart); // re-inserted below: the most recently used is last
    else {
      slot = { addId: `${state.replicaId}.${state.nextSlot++}`, queue: [] };
      forgetIdle(state);
    }
    state.slots.set(request.cart, slot);
    if (!slot.running) start(state, ctx, request.cart, slot, request);
    else if (slot.queue.length >= state.options.maxQueuedPerCart) ctx.tell(request.replyTo, failure('BUSY', `${slot.queue.length} requests already wait for cart ${request.cart} on ${ctx.nodeName}`));
    else slot.queue.push(request);
    return state;
  },
});

// -------------------------------------------------------------------------------------------------
// The plugin

function resolveCartOptions(raw: unknown): ResolvedCartOptions {
  if (raw === undefined) return DEFAULT_CART_OPTIONS;
  if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError('INVALID_CONFIG', 'cart options must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in DEFAULT_CART_OPTIONS)) throw new InvalidArgumentError('INVALID_CONFIG', `cart has no option '${k}'`);
  const bucket = o['bucket'] ?? DEFAULT_CART_OPTIONS.bucket;
  if (typeof bucket !== 'string' || bucket.length === 0 || bucket.includes('/')) throw new InvalidArgumentError('INVALID_CONFIG', `cart.bucket must be a non-empty string without '/', got ${String(bucket)}`);
  const storeTimeoutMs = o['storeTimeoutMs'] ?? DEFAULT_CART_OPTIONS.storeTimeoutMs;
  if (typeof storeTimeoutMs !== 'number' || !Number.isFinite(storeTimeoutMs) || storeTimeoutMs < 1) throw new InvalidArgumentError('INVALID_CONFIG', `cart.storeTimeoutMs must be a number >= 1, got ${String(storeTimeoutMs)}`);
  const maxQueuedPerCart = o['maxQueuedPerCart'] ?? DEFAULT_CART_OPTIONS.maxQueuedPerCart;
  if (!Number.isSafeInteger(maxQueuedPerCart) || (maxQueuedPerCart as number) < 0) throw new InvalidArgumentError('INVALID_CONFIG', `cart.maxQueuedPerCart must be an integer >= 0, got ${String(maxQueuedPerCart)}`);
  const maxCarts = o['maxCarts'] ?? DEFAULT_CART_OPTIONS.maxCarts;
  if (!Number.isSafeInteger(maxCarts) || (maxCarts as number) < 1) throw new InvalidArgumentError('INVALID_CONFIG', `cart.maxCarts must be an integer >= 1, got ${String(maxCarts)}`);
  return { bucket, storeTimeoutMs, maxQueuedPerCart: maxQueuedPerCart as number, maxCarts: maxCarts as number };
}

/**
 * The cart plugin: `/user/cart` on every node. It needs the replication plugin (listed before it
 * or after: the actor only talks to its coordinator when a request comes).
 */
export const cartPlugin = definePlugin<ResolvedCartOptions>({
  name: 'starling.example.cart',
  module: import.meta.url,
  actors: [cartActor],
  options: resolveCartOptions,
  setup(ctx) {
    ctx.spawn('user', cartActor, ctx.options, { name: 'cart' });
  },
});

/**
 * The config entry of the cart plugin.
 *
 * ```ts
 * const cluster = await startCluster({ runtime: 'simulation', nodes: 5, plugins: [useReplication(), useCart()] });
 * ```
 */
export function useCart(options?: CartOptions): PluginSpec {
  return options === undefined ? { module: cartPlugin.module, name: cartPlugin.name } : { module: cartPlugin.module, name: cartPlugin.name, options };
}

/** The typed ref of a node's cart actor. */
export function cartRef(node: string): ActorRef<CartRequest> {
  return selectActor<CartRequest>(node, CART_PATH);
}
