/**
 * A history of client operations, recorded the way Jepsen records one: each operation is an
 * invocation (who asked what, when) and, later, a completion with one of three outcomes:
 *
 * - `ok`: it happened, with its result (a put's new dot and the replicas that acknowledged it);
 * - `failed`: it certainly did not happen (nothing was stored);
 * - `unknown`: it may or may not have happened (a put that timed out may be stored somewhere).
 *
 * An operation still in flight when the run ends has no completion and counts as `unknown`. The
 * checker ({@link ./checker.ts}) judges a history against what the replicas hold at the end.
 */
import type { Dot, VersionVector } from './dvv.ts';

/** What a client asked. */
export type OpKind = 'put' | 'get' | 'delete';

/** An operation as the client issued it. */
export interface Invocation {
  /** Names the client (a session), e.g. `c0`. */
  readonly client: string;
  readonly kind: OpKind;
  /** The store key (`bucket/key`), as the replicas name it. */
  readonly key: string;
  /** A put's value: unique per put, so a value found at the end names the put that wrote it. */
  readonly value?: string;
  /** The causal context a put or delete carried: the write replaces what it saw. */
  readonly context?: VersionVector;
  /** True for a session's operation: its reads must be at least as new as the session's earlier results of the key (the checker verifies it). */
  readonly session?: boolean;
  readonly atMs: number;
}

/** What an operation returned. */
export type OpResult =
  | {
      readonly kind: 'put' | 'delete';
      /** The context after the write, to carry into the next write of the key. */
      readonly context: VersionVector;
      /** The event the write created. */
      readonly dot: Dot;
      /** Replicas that acknowledged it (principle 8: the checker's one legitimate loss is all of them wiped). */
      readonly replicas: readonly string[];
    }
  | { readonly kind: 'get'; readonly values: readonly string[]; readonly isDeleted: boolean; readonly context: VersionVector };

/** How an operation ended. */
export type Completion =
  | { readonly outcome: 'ok'; readonly atMs: number; readonly result: OpResult }
  /** It certainly did not happen. */
  | { readonly outcome: 'failed'; readonly atMs: number; readonly error: { readonly code: string; readonly message: string; readonly replicas?: readonly string[] } }
  /** It may or may not have happened (a put that timed out). */
  | { readonly outcome: 'unknown'; readonly atMs: number; readonly error: { readonly code: string; readonly message: string } };

/** One operation of a history. Without a completion it was still in flight at the end: unknown. */
export interface HistoryEntry {
  /** Position in invocation order, from 0. */
  readonly id: number;
  readonly invocation: Invocation;
  readonly completion?: Completion;
}

/**
 * Records invocations and completions as clients make them. One recorder serves any number of
 * clients; the order of `invoke` calls is the order of ids.
 *
 * ```ts
 * const history = new HistoryRecorder();
 * const id = history.invoke({ client: 'c0', kind: 'put', key: 'default/k', value: 'v1', atMs: now() });
 * history.complete(id, { outcome: 'unknown', atMs: now(), error: { code: 'NO_REPLY', message: 'timed out' } });
 * check({ history: history.entries(), final });
 * ```
 */
export class HistoryRecorder {
  private readonly log: HistoryEntry[] = [];

  /** Notes that an operation starts; returns its id for {@link HistoryRecorder.complete}. */
  invoke(invocation: Invocation): number {
    // A put without a value could not be found at the end: the checker would call it lost.
    if (invocation.kind === 'put' && invocation.value === undefined) throw new RangeError(`a put invocation needs its value (client ${invocation.client}, key ${invocation.key})`);
    const id = this.log.length;
    this.log.push({ id, invocation });
    return id;
  }

  /** Notes how operation `id` ended. Each operation completes at most once. */
  complete(id: number, completion: Completion): void {
    const entry = this.log[id];
    if (entry === undefined) throw new RangeError(`no operation ${id} was invoked`);
    if (entry.completion !== undefined) throw new RangeError(`operation ${id} already completed: ${formatEntry(entry)}`);
    if (completion.atMs < entry.invocation.atMs) throw new RangeError(`operation ${id} completes at ${completion.atMs} ms, before its invocation at ${entry.invocation.atMs} ms`);
    if (completion.outcome === 'ok' && completion.result.kind !== entry.invocation.kind) {
      throw new RangeError(`operation ${id} is a ${entry.invocation.kind}, but completes with a ${completion.result.kind} result`);
    }
    // Entries are replaced, never mutated, so a snapshot from entries() stays as it was.
    this.log[id] = { id, invocation: entry.invocation, completion };
  }

  /** A snapshot of the history so far, in invocation order. */
  entries(): readonly HistoryEntry[] {
    return this.log.slice();
  }

  /** Number of operations invoked. */
  get size(): number {
    return this.log.length;
  }

  /** The history, one operation a line, in invocation order. */
  format(): string {
    return this.log.map(formatEntry).join('\n');
  }

  /** The same as {@link HistoryRecorder.format}, so a history prints as itself in a template string. */
  toString(): string {
    return this.format();
  }
}

/**
 * One operation on one line: id, client, what it asked, and how it ended. For example
 * `#4 c1 put default/k0 "c1-7" ctx {n1@x:2} @120ms -> ok @151ms dot n1@x:3 acked by [n1, n2] ctx {n1@x:3}`.
 */
export function formatEntry(e: HistoryEntry): string {
  const inv = e.invocation;
  const asked = [`#${e.id}`, inv.client, inv.kind, inv.key];
  if (inv.value !== undefined) asked.push(JSON.stringify(inv.value));
  if (inv.context !== undefined) asked.push(`ctx ${formatContext(inv.context)}`);
  asked.push(`@${inv.atMs}ms`);
  return `${asked.join(' ')} -> ${formatCompletion(e.completion)}`;
}

/** A context as `{id:n, ...}`, ids sorted, so equal contexts print alike. */
export function formatContext(context: VersionVector): string {
  const parts = Object.keys(context)
    .sort()
    .map((id) => `${id}:${context[id]}`);
  return `{${parts.join(', ')}}`;
}

/** A dot as `id:counter`. */
export function formatDot(dot: Dot): string {
  return `${dot.id}:${dot.counter}`;
}

function formatCompletion(c: Completion | undefined): string {
  if (c === undefined) return 'in flight at the end (unknown)';
  if (c.outcome === 'ok') {
    const r = c.result;
    if (r.kind === 'get') return `ok @${c.atMs}ms ${r.isDeleted ? 'deleted ' : ''}[${r.values.map((v) => JSON.stringify(v)).join(', ')}] ctx ${formatContext(r.context)}`;
    return `ok @${c.atMs}ms dot ${formatDot(r.dot)} acked by [${r.replicas.join(', ')}] ctx ${formatContext(r.context)}`;
  }
  const replicas = c.outcome === 'failed' && c.error.replicas !== undefined ? ` (replicas [${c.error.replicas.join(', ')}])` : '';
  return `${c.outcome} @${c.atMs}ms ${c.error.code}: ${c.error.message}${replicas}`;
}
