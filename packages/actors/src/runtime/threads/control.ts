/**
 * The control plane between the host and a node worker (served by comlink): spawning, stopping,
 * counters, wiring the port mesh, and shutdown. The message path never uses it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SpawnOptions } from '../../actor.ts';
import * as errors from '../../errors.ts';
import type { ReachabilityReport } from '../../actor.ts';
import type { MailboxCounters } from '../../mailbox.ts';
import type { LinkCounters } from '../../network/model.ts';
import type { AnyRef } from '../../ref.ts';
import type { SystemCounters } from '../../system.ts';
import type { OutCounters } from './link.ts';

/** An error as it crosses threads: its class name, message, stack and own fields (code, reason, target...). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly fields?: Record<string, string | number | boolean | null>;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const fields: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(err)) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}), fields };
}

/** The runtime's error classes by name: an error that crossed threads comes back as its own class. */
const CLASSES: Record<string, { prototype: Error }> = Object.fromEntries(
  Object.entries(errors).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error) as [string, { prototype: Error }][],
);
const BUILT_IN: Record<string, { prototype: Error }> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Rebuilds an error on the host side: same class (for the runtime's errors), message, fields and the original stack. */
export function fromWireError(e: WireError): Error {
  const proto = (CLASSES[e.name] ?? BUILT_IN[e.name] ?? Error).prototype;
  const err = Object.create(proto) as Error;
  Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
  Object.assign(err, e.fields ?? {});
  err.name = e.name;
  if (e.stack) Object.defineProperty(err, 'stack', { value: e.stack, writable: true, configurable: true });
  return err;
}

export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw fromWireError(r.error);
}

/** Counters a worker reports for its links. */
export interface WorkerLinkCounters {
  /** Per destination: what this node sent (and sends that found no link: the peer was down or unknown). */
  readonly out: Record<string, OutCounters & { noLink: number }>;
  /** Per source: what arrived here and what became of it (the network model runs at the receiver). */
  readonly in: Record<string, LinkCounters>;
  /** Per source: frames that could not be decoded. */
  readonly undecodable: Record<string, number>;
}

/** What a node worker serves to its host. */
export interface NodeControl {
  spawn(defName: string, props: unknown, options: SpawnOptions | undefined): Promise<Result<AnyRef>>;
  stopActor(ref: AnyRef): Promise<void>;
  stats(): Promise<SystemCounters>;
  actorStats(path: string): Promise<MailboxCounters | undefined>;
  links(): Promise<WorkerLinkCounters>;
  /** Attaches the two lane ports to a peer (transferred). */
  connect(peer: string, systemPort: MessagePort, userPort: MessagePort): Promise<void>;
  /** Forgets a peer that died. */
  disconnect(peer: string): Promise<void>;
  /** The host's failure detector reports another node. */
  reachability(report: ReachabilityReport): Promise<void>;
  /** Wakes the worker so it notices a resume. */
  wake(): Promise<void>;
  /** Stops every actor (stop hooks run) and closes the links. */
  shutdown(): Promise<void>;
}

/** Messages a worker posts on its events port. */
export type WorkerNotice =
  | { readonly kind: 'ready'; readonly uid: string }
  | { readonly kind: 'start-failed'; readonly error: WireError }
  | { readonly kind: 'events'; readonly events: readonly unknown[] }
  | { readonly kind: 'node-failed'; readonly error: WireError };
