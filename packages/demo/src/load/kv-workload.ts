/**
 * The store's workload: clients that get, put and delete keys drawn from a distribution, each put
 * carrying the context of the client's last result for the key (read-modify-write, as Riak's
 * clients do), so concurrent writers make true siblings and nothing else does. Every operation is
 * recorded for the history checker; afterwards every acknowledged write is also read back.
 */
import type { Cluster, Random } from '@starling/actors';
import {
  check as checkHistory,
  covers,
  type Dot,
  dumpStores,
  finalStateOf,
  HistoryRecorder,
  KvClient,
  KvError,
  storeKey,
  type VersionVector,
  type Wipe,
} from '@starling/replication';
import { type KeyDistribution, keyChooser } from './keys.ts';
import type { Check, Operation, Workload, WorkloadRun } from './workload.ts';

/** Shares of each operation; they sum to 1. */
export interface Mix {
  readonly get: number;
  readonly put: number;
  readonly delete: number;
}

/** The store workload's settings. */
export interface KvWorkloadOptions {
  /** Keys in the key space (`k0`...). */
  readonly keys: number;
  readonly distribution: KeyDistribution;
  readonly mix: Mix;
  /** Bytes of each put's value (a unique id, padded). */
  readonly valueBytes: number;
  /** Clients, each with its own contexts; operations go to them in turn. */
  readonly clients: number;
  /** The ring's partition count (dumps are read by partition). */
  readonly partitionCount: number;
  /** Replicas per key: the readback reads all of them. */
  readonly n: number;
  /** Each request's deadline, in ms. Default the client's (2 000). */
  readonly timeoutMs?: number;
  /** The run's restarts-empty so far (the checker excuses a write every acknowledging replica of which was wiped). */
  readonly wipes: () => readonly Wipe[];
  /**
   * Any client writes any key (default false: each key belongs to one client). Clients then write
   * over each other with contexts read long ago, or none: concurrent writes and siblings, as a
   * verifier wants them.
   */
  readonly sharedKeys?: boolean;
  /** How many of the clients are sessions (read-your-writes, monotonic reads; the checker checks them). Default 0. */
  readonly sessions?: number;
  /** The share of writes that send the client's context for the key (the rest send none, and add a sibling). Default 1. */
  readonly contextShare?: number;
}

/** Checks a mix; throws a RangeError naming the problem. */
export function validateMix(mix: Mix): void {
  for (const [k, v] of Object.entries(mix)) if (!(v >= 0 && v <= 1)) throw new RangeError(`the ${k} share must be in [0, 1], got ${v}`);
  const sum = mix.get + mix.put + mix.delete;
  if (Math.abs(sum - 1) > 1e-9) throw new RangeError(`the shares must sum to 1, got ${sum}`);
}

const pct = (share: number): string => `${Math.round(share * 1000) / 10}`;

/**
 * A put's value is its unique id, padded to the value size (`c3.1234:xxxx...`). The history
 * records the id only, and the checker reads stored values the same way, so the history's memory
 * does not grow with the value size.
 */
function idOf(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? value : value.slice(0, colon);
}



/**
 * Largest value the store workload writes, in bytes. Replicas are read a partition per message at
 * the least (convergence, the checker), and one partition of a 1 000-key space holds a handful of
 * keys, each with its siblings, within the 1 MiB `maxMessageBytes`.
 */
export const MAX_VALUE_BYTES = 64 * 1024;

/** Gets the readback keeps in flight at once. */
const READBACK_IN_FLIGHT = 16;

export function kvWorkload(o: KvWorkloadOptions): Workload {
  validateMix(o.mix);
  if (!Number.isSafeInteger(o.valueBytes) || o.valueBytes < 1 || o.valueBytes > MAX_VALUE_BYTES) throw new RangeError(`valueBytes must be an integer from 1 to ${MAX_VALUE_BYTES}, got ${o.valueBytes}`);
  if (!Number.isSafeInteger(o.clients) || o.clients < 1) throw new RangeError(`clients must be a positive integer, got ${o.clients}`);
  const sessions = o.sessions ?? 0;
  if (!Number.isSafeInteger(sessions) || sessions < 0 || sessions > o.clients) throw new RangeError(`sessions must be an integer from 0 to clients (${o.clients}), got ${sessions}`);
  const share = o.contextShare ?? 1;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`contextShare must be in [0, 1], got ${share}`);
  const choose = keyChooser(o.keys, o.distribution);
  return {
    name: 'kv',
    description: `store: ${o.keys} keys (${o.distribution.kind === 'zipfian' ? `zipfian ${o.distribution.theta}` : 'uniform'}), get/put/delete ${pct(o.mix.get)}/${pct(o.mix.put)}/${pct(o.mix.delete)} %, ${o.valueBytes}-byte values`,
    start: ({ cluster }) => new KvRun(cluster, o, choose),
  };
}

/** A client: its own history name, the newest context it saw per key, and the coordinator it uses. */
interface Client {
  readonly kv: KvClient;
  readonly contexts: Map<number, VersionVector>;
  /** Index of its coordinator among the cluster's nodes: it starts at the client's own and moves on when one does not answer. */
  nodeIndex: number;
}

class KvRun implements WorkloadRun {
  private readonly recorder = new HistoryRecorder();
  private readonly clients: Client[];
  private readonly touched = new Set<number>();
  private puts = 0;
  private siblingsSeen = 0;
  private lostByChecker = 0;
  private lostByReadback = 0;
  private readBack = 0;
  private checked = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly o: KvWorkloadOptions,
    private readonly choose: (random: Random) => number,
  ) {
    const nodes = cluster.nodes;
    this.clients = Array.from({ length: o.clients }, (_, i) => ({
      kv: new KvClient(cluster, { name: `c${i}`, recorder: this.recorder, recordValue: idOf, session: i < (o.sessions ?? 0) }),
      contexts: new Map(),
      nodeIndex: i % nodes.length,
    }));
  }

  next(random: Random): Operation {
    const index = this.choose(random);
    // Each key belongs to one client (as a cart to its user's session): a client's context for its
    // key is the newest it has seen, so siblings come from what the cluster did (a partition, a
    // write of unknown outcome, two of the client's writes in flight at once), not from clients
    // writing over each other's keys with contexts read long ago.
    const client = this.o.sharedKeys === true ? this.clients[random.int(this.clients.length)]! : this.clients[index % this.clients.length]!;
    const key = `k${index}`;
    this.touched.add(index);
    const roll = random.next();
    // A client library knows when its connection is gone: a coordinator whose node is down is left at once.
    const nodes = this.cluster.nodes;
    for (let i = 0; i < nodes.length && this.cluster.nodeState(nodes[client.nodeIndex]!) === 'down'; i++) client.nodeIndex = (client.nodeIndex + 1) % nodes.length;
    const node = nodes[client.nodeIndex]!;
    const options = this.o.timeoutMs === undefined ? { node } : { node, timeoutMs: this.o.timeoutMs };
    const context = client.contexts.get(index);
    const sendsContext = this.o.contextShare === undefined || random.next() < this.o.contextShare;
    const withContext = context === undefined || !sendsContext ? options : { ...options, context };
    const failOver = (err: unknown): never => {
      // A client library's failover: a coordinator that did not answer is left for the next node.
      if (err instanceof KvError && err.code === 'NO_REPLY' && this.cluster.nodes[client.nodeIndex] === node) client.nodeIndex = (client.nodeIndex + 1) % this.cluster.nodes.length;
      throw err;
    };
    if (roll < this.o.mix.get) {
      return {
        kind: 'get',
        run: async () => {
          const got = await client.kv.get(key, options).catch(failOver);
          if (got.values.length > 1) this.siblingsSeen++;
          client.contexts.set(index, got.context);
        },
      };
    }
    if (roll < this.o.mix.get + this.o.mix.put) {
      const id = `${client.kv.name}.${this.puts++}`;
      const value = id.length + 1 >= this.o.valueBytes ? id : `${id}:${'x'.repeat(this.o.valueBytes - id.length - 1)}`;
      return {
        kind: 'put',
        run: async () => {
          const put = await client.kv.put(key, value, withContext).catch(failOver);
          client.contexts.set(index, put.context);
        },
      };
    }
    return {
      kind: 'delete',
      run: async () => {
        const del = await client.kv.delete(key, withContext).catch(failOver);
        client.contexts.set(index, del.context);
      },
    };
  }

  figures(): Record<string, number> {
    return {
      'gets that returned siblings': this.siblingsSeen,
      'operations checked (history checker)': this.checked,
      'acknowledged writes lost (history checker)': this.lostByChecker,
      'keys read back from all replicas (every key with an acknowledged write)': this.readBack,
      'acknowledged writes lost (read back)': this.lostByReadback,
    };
  }

  async check(): Promise<readonly Check[]> {
    const c = this.cluster;
    const dumps = await c.until(dumpStores(c, c.nodes, this.o.partitionCount), { timeoutMs: 120_000 });
    const result = checkHistory({ history: this.recorder.entries(), final: finalStateOf(dumps), wipes: this.o.wipes(), collectsTombstones: true, valueKey: idOf });
    this.checked = result.stats.ops;
    const lost = result.violations.filter((v) => v.kind === 'lost-write');
    const others = result.violations.filter((v) => v.kind !== 'lost-write');
    this.lostByChecker = lost.length;
    const byKind = new Map<string, number>();
    for (const v of others) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + 1);
    const readback = await c.until(this.readBackAll(), { timeoutMs: 600_000 });
    this.lostByReadback = readback.lost.length;
    this.readBack = readback.keys;
    return [
      {
        name: 'acknowledged writes lost (history checker)',
        ok: lost.length === 0,
        detail: lost.length === 0 ? `0 of ${result.stats.byOutcome.ok} acknowledged operations` : `${lost.length}; first: ${lost[0]!.message}`,
      },
      {
        name: 'acknowledged writes lost (read back)',
        ok: readback.lost.length === 0 && readback.unreadable.length === 0,
        detail:
          readback.unreadable.length > 0
            ? `${readback.unreadable.length} keys could not be read; first: ${readback.unreadable[0]}`
            : readback.lost.length === 0
              ? `0; ${readback.keys} keys read, ${readback.collected} found collected after a delete${readback.excused > 0 ? `, ${readback.excused} writes excused (every replica that acknowledged them was restarted empty)` : ''}`
              : `${readback.lost.length}; first: ${readback.lost[0]}`,
      },
      {
        name: 'other anomalies (history checker)',
        ok: others.length === 0,
        detail: others.length === 0 ? 'none' : `${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}; first: ${others[0]!.message}`,
      },
    ];
  }

  /**
   * Reads every key the run touched, through the cluster, and checks that each acknowledged write
   * is in the causal history of what is read: its dot is covered by the read's context. A key read
   * as absent may be a collected tombstone, which no context covers: that explains exactly the
   * writes a delete's context covered; the history checker judges the rest.
   */
  private async readBackAll(): Promise<{ keys: number; lost: string[]; unreadable: string[]; collected: number; excused: number }> {
    const acked = new Map<string, { dots: Dot[]; deleteContexts: VersionVector[] }>();
    const wipes = this.o.wipes();
    // The durability model's one allowed loss (principle 8): every replica that acknowledged the write was wiped since.
    const isWipedOut = (replicas: readonly string[], ackedAtMs: number): boolean => replicas.length > 0 && replicas.every((r) => wipes.some((w) => w.node === r && w.atMs >= ackedAtMs));
    let excused = 0;
    for (const e of this.recorder.entries()) {
      if (e.invocation.kind === 'get') continue;
      let a = acked.get(e.invocation.key);
      if (a === undefined) acked.set(e.invocation.key, (a = { dots: [], deleteContexts: [] }));
      if (e.completion?.outcome === 'ok' && e.completion.result.kind !== 'get') {
        if (isWipedOut(e.completion.result.replicas, e.completion.atMs)) excused++;
        else a.dots.push(e.completion.result.dot);
      }
      if (e.invocation.kind === 'delete' && e.completion?.outcome !== 'failed' && e.invocation.context !== undefined) a.deleteContexts.push(e.invocation.context);
    }
    const reader = new KvClient(this.cluster, { name: 'readback' });
    const keys = [...this.touched].sort((a, b) => a - b);
    const lost: string[] = [];
    const unreadable: string[] = [];
    let collected = 0;
    let read = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const key = `k${keys[next++]!}`;
        const a = acked.get(storeKey(undefined, key));
        if (a === undefined || a.dots.length === 0) continue;
        read++;
        let got;
        try {
          // Every replica answers (R = N): this asks whether the write survived, not whether a
          // quorum overlaps it (with sloppy quorum it need not, until the replicas converge).
          got = await reader.get(key, { r: this.o.n });
        } catch (err) {
          unreadable.push(`${key}: ${(err as Error).message}`);
          continue;
        }
        let missing = a.dots.filter((d) => !covers(got.context, d));
        if (missing.length === 0) continue;
        if (got.values.length === 0 && Object.keys(got.context).length === 0) {
          // Nothing at all: a collected tombstone explains exactly the writes a delete's context covered.
          const explained = missing.filter((d) => a.deleteContexts.some((c) => covers(c, d)));
          if (explained.length > 0) collected++;
          missing = missing.filter((d) => !explained.includes(d));
          if (missing.length === 0) continue;
        }
        lost.push(`${key}: ${missing.length} acknowledged write(s) not in what a read returns, first ${missing[0]!.id}:${missing[0]!.counter}`);
      }
    };
    await Promise.all(Array.from({ length: READBACK_IN_FLIGHT }, worker));
    return { keys: read, lost, unreadable, collected, excused };
  }
}
