/**
 * The host-side client of the store: `put`, `get` and `delete` against any node's coordinator,
 * with typed errors, and an optional history recorder that notes every invocation and completion
 * for the checker (Jepsen's discipline: a put whose outcome is not known is `unknown`, not failed).
 */
import { AskFailedError, AskTimeoutError, type Cluster, InvalidArgumentError, StarlingError } from '@starling/actors';
import { coordinatorRef, coordinatorStatsRef, storeKey } from './coordinator.ts';
import { mergeContexts, type VersionVector } from './dvv.ts';
import { KvError } from './errors.ts';
import type { Completion, HistoryRecorder, OpKind } from './history.ts';
import type { CoordinatorStats, GetOk, GetReply, KvOptions, KvRequest, PutOk, PutReply, StatsRequest, StorageRequest, StorageStats } from './protocol.ts';
import { storageRef } from './storage.ts';

/** Options of one operation. */
export interface ClientOptions extends KvOptions {
  readonly bucket?: string;
  /** The node whose coordinator serves the request. Default: the client's nodes in turn. */
  readonly node?: string;
}

/** Options of a write. */
export interface WriteOptions extends ClientOptions {
  /** The causal context of the last read (or put) of the key: the write replaces what it saw. */
  readonly context?: VersionVector;
}

/** How a client is set up. */
export interface KvClientOptions {
  /** Names this client in the history. Default `client`. */
  readonly name?: string;
  /** Nodes whose coordinators serve requests, in turn. Default: every node of the cluster. */
  readonly nodes?: readonly string[];
  /** Records every operation for the checker. */
  readonly recorder?: HistoryRecorder;
  /**
   * How long the client waits beyond the coordinator's own deadline, in ms: a reply lost in the
   * network becomes an `unknown` outcome after this. Default 1 000.
   */
  readonly graceMs?: number;
  /**
   * Make the client a session (Terry et al. 1994): it remembers, per key, the context of every
   * successful operation, and its reads return a value at least as new (read-your-writes,
   * monotonic reads), from any node, or fail `SESSION_UNAVAILABLE` when no reachable replica has
   * it. Default false.
   */
  readonly session?: boolean;
  /**
   * The most keys a session remembers a context for; past this it forgets the key it used least
   * recently, and that key's reads lose the session's guarantees. Default: no limit (a session
   * that touches every key of a large store remembers every one).
   */
  readonly maxSessionKeys?: number;
  /**
   * How a value is written into the history (a put's value, a get's results), from its text (a
   * string as it is, anything else as its JSON). Default: the text itself. A load that writes
   * large values can record a short unique part instead and give the checker the same function
   * (`CheckInput.valueKey`, which gets stored values' text the same way), so the history's memory
   * does not grow with the values' size.
   */
  readonly recordValue?: (text: string) => string;
}

/** A node's counts: its coordinator's and its storage's. */
export interface NodeStats {
  readonly coordinator: CoordinatorStats;
  readonly storage: StorageStats;
}

/** The client's request deadline unless a request names one, in ms (it overrides the bucket's). */
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * A client of the store from the host.
 *
 * ```ts
 * const kv = new KvClient(cluster);
 * const { context } = await kv.put('cart:42', { items: 3 });
 * const { values } = await kv.get('cart:42'); // [{ items: 3 }]
 * await kv.put('cart:42', { items: 4 }, { context }); // replaces what that context saw
 * ```
 */
export class KvClient {
  private turn = 0;
  /** A session's context per store key. */
  private readonly contexts = new Map<string, VersionVector>();
  readonly name: string;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: KvClientOptions = {},
  ) {
    // The checker tells sessions apart by name: two unnamed session clients would look like one.
    if (options.session === true && options.recorder !== undefined && options.name === undefined) {
      throw new InvalidArgumentError('INVALID_CONFIG', 'a session client with a recorder needs a name of its own: the checker tells sessions apart by name');
    }
    this.name = options.name ?? 'client';
    const max = options.maxSessionKeys;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= 1)) throw new InvalidArgumentError('INVALID_CONFIG', `maxSessionKeys must be an integer >= 1, got ${max}`);
  }

  /** Writes `value` (plain data, not null). Throws {@link KvError}: `outcome` says whether it may have happened. */
  put(key: string, value: unknown, options: WriteOptions = {}): Promise<PutOk> {
    return this.write('put', key, value, options);
  }

  /** Deletes the key (a tombstone that replaces what `context` saw). */
  delete(key: string, options: WriteOptions = {}): Promise<PutOk> {
    return this.write('delete', key, null, options);
  }

  /** Reads the key: all siblings and one causal context. */
  async get(key: string, options: ClientOptions = {}): Promise<GetOk> {
    const sk = storeKey(options.bucket, key);
    const id = this.options.recorder?.invoke({ client: this.name, kind: 'get', key: sk, ...this.sessionMark(), atMs: this.cluster.now() });
    const atLeast = this.contexts.get(sk);
    let reply: GetReply;
    try {
      reply = await this.cluster.ask<KvRequest, GetReply>(
        coordinatorRef(this.pick(options)),
        (replyTo) => ({ type: 'kv-get', key, ...(options.bucket !== undefined ? { bucket: options.bucket } : {}), options: kvOptions(options), ...(atLeast !== undefined ? { atLeast } : {}), replyTo }),
        { timeoutMs: this.waitMs(options) },
      );
    } catch (err) {
      // A read changes nothing: whatever happened to it, it did not happen.
      this.complete(id, { outcome: 'failed', atMs: this.cluster.now(), error: describe(err) });
      throw toKvError(err, 'failed');
    }
    if (reply.type === 'kv-error') {
      this.complete(id, { outcome: 'failed', atMs: this.cluster.now(), error: { code: reply.code, message: reply.message, replicas: reply.replicas } });
      throw new KvError(reply.code, reply.message, 'failed', reply.replicas);
    }
    this.complete(id, {
      outcome: 'ok',
      atMs: this.cluster.now(),
      result: { kind: 'get', values: reply.values.map((v) => this.spell(v)), isDeleted: reply.isDeleted, context: reply.context },
    });
    this.remember(sk, reply.context);
    return reply;
  }

  /**
   * A session's context for the key: what its reads must be at least as new as. Empty for a
   * client that is not a session, or a key it has not used.
   */
  sessionContext(key: string, bucket?: string): VersionVector {
    return this.contexts.get(storeKey(bucket, key)) ?? {};
  }

  /** A node's counts: requests, sloppy writes, read repairs, session reads (coordinator); hints held, handed off, expired (storage). */
  async stats(node: string): Promise<NodeStats> {
    const opts = { timeoutMs: 2_000 };
    const [coordinator, storage] = await Promise.all([
      this.cluster.ask<StatsRequest, CoordinatorStats>(coordinatorStatsRef(node), (replyTo) => ({ type: 'kv-stats', replyTo }), opts),
      this.cluster.ask<StorageRequest, StorageStats>(storageRef(node), (replyTo) => ({ type: 'st-stats', replyTo }), opts),
    ]);
    return { coordinator, storage };
  }

  private async write(kind: Exclude<OpKind, 'get'>, key: string, value: unknown, options: WriteOptions): Promise<PutOk> {
    const id = this.options.recorder?.invoke({
      client: this.name,
      kind,
      key: storeKey(options.bucket, key),
      ...this.sessionMark(),
      ...(kind === 'put' ? { value: this.spell(value) } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
      atMs: this.cluster.now(),
    });
    let reply: PutReply;
    try {
      const base = { key, ...(options.bucket !== undefined ? { bucket: options.bucket } : {}), ...(options.context !== undefined ? { context: options.context } : {}), options: kvOptions(options) };
      reply = await this.cluster.ask<KvRequest, PutReply>(
        coordinatorRef(this.pick(options)),
        (replyTo) => (kind === 'put' ? { type: 'kv-put', ...base, value, replyTo } : { type: 'kv-delete', ...base, replyTo }),
        { timeoutMs: this.waitMs(options) },
      );
    } catch (err) {
      // The request may have reached a coordinator that stored it: unknown, unless it never left (a typed error at the tell).
      const outcome = err instanceof StarlingError && err.code !== 'ASK_TIMEOUT' && err.code !== 'ASK_FAILED' ? 'failed' : 'unknown';
      this.complete(id, { outcome, atMs: this.cluster.now(), error: describe(err) });
      throw toKvError(err, outcome);
    }
    if (reply.type === 'kv-error') {
      const error = { code: reply.code, message: reply.message, replicas: reply.replicas };
      this.complete(id, reply.outcome === 'failed' ? { outcome: 'failed', atMs: this.cluster.now(), error } : { outcome: 'unknown', atMs: this.cluster.now(), error });
      throw new KvError(reply.code, reply.message, reply.outcome, reply.replicas);
    }
    this.complete(id, { outcome: 'ok', atMs: this.cluster.now(), result: { kind, context: reply.context, dot: reply.dot, replicas: reply.replicas } });
    this.remember(storeKey(options.bucket, key), reply.context);
    return reply;
  }

  /** A value as the history spells it. */
  private spell(value: unknown): string {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return this.options.recordValue === undefined ? text : this.options.recordValue(text);
  }

  private pick(options: ClientOptions): string {
    if (options.node !== undefined) return options.node;
    const nodes = this.options.nodes ?? this.cluster.nodes;
    return nodes[this.turn++ % nodes.length]!;
  }

  private waitMs(options: ClientOptions): number {
    return (options.timeoutMs ?? DEFAULT_TIMEOUT_MS) + (this.options.graceMs ?? 1_000);
  }

  private sessionMark(): { session?: true } {
    return this.options.session === true ? { session: true } : {};
  }

  private remember(sk: string, context: VersionVector): void {
    if (this.options.session !== true) return;
    const old = this.contexts.get(sk);
    // Insertion order is recency: a key used moves to the end, and the first is the least recently used.
    this.contexts.delete(sk);
    this.contexts.set(sk, old ? mergeContexts(old, context) : context);
    const max = this.options.maxSessionKeys;
    if (max !== undefined && this.contexts.size > max) this.contexts.delete(this.contexts.keys().next().value!);
  }

  private complete(id: number | undefined, completion: Completion): void {
    if (id !== undefined) this.options.recorder?.complete(id, completion);
  }
}

function kvOptions(o: ClientOptions): KvOptions {
  // The deadline always travels with the request, so the client and the coordinator wait alike.
  return {
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(o.n !== undefined ? { n: o.n } : {}),
    ...(o.r !== undefined ? { r: o.r } : {}),
    ...(o.w !== undefined ? { w: o.w } : {}),
    ...(o.sloppy !== undefined ? { sloppy: o.sloppy } : {}),
    ...(o.fallbackAfterMs !== undefined ? { fallbackAfterMs: o.fallbackAfterMs } : {}),
    ...(o.readRepair !== undefined ? { readRepair: o.readRepair } : {}),
  };
}

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof StarlingError) return { code: err.code, message: err.message };
  return { code: 'ERROR', message: err instanceof Error ? err.message : String(err) };
}

function toKvError(err: unknown, outcome: 'failed' | 'unknown'): Error {
  if (err instanceof AskTimeoutError) return new KvError('NO_REPLY', `no answer from the coordinator: ${err.message}`, outcome);
  // Not delivered (too old on arrival, its node down): whether it ran is as unknown as a timeout's.
  if (err instanceof AskFailedError) return new KvError('NO_REPLY', `the request did not reach the coordinator: ${err.message}`, outcome);
  return err instanceof Error ? err : new Error(String(err));
}
