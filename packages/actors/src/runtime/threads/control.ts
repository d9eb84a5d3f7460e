/**
 * The control plane between the host and a node worker (served by comlink): spawning, stopping,
 * counters, wiring the port mesh, and shutdown. The message path never uses it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SpawnOptions } from '../../actor.ts';
import { InvalidArgumentError, StarlingError, type ErrorCode } from '../../errors.ts';
import type { ReachabilityReport } from '../../actor.ts';
import type { MailboxCounters } from '../../mailbox.ts';
import type { LinkCounters } from '../../network/model.ts';
import type { AnyRef } from '../../ref.ts';
import type { SystemCounters } from '../../system.ts';
import type { OutCounters } from './link.ts';

/** An error as it crosses threads: comlink keeps only name and message, so the code travels here. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

/** Rebuilds a typed error on the host side. */
export function fromWireError(e: WireError): Error {
  if (e.code) {
    const err = e.name === 'InvalidArgumentError' ? new InvalidArgumentError(e.code as ErrorCode, e.message) : new StarlingError(e.code as ErrorCode, e.message);
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw fromWireError(r.error);
}

/** Counters a worker reports for its links. */
export interface WorkerLinkCounters {
  /** Per destination: what this node sent. */
  readonly out: Record<string, OutCounters>;
  /** Per source: what arrived here and what became of it (the network model runs at the receiver). */
  readonly in: Record<string, LinkCounters>;
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
