/**
 * Actor references are plain data (principle 6): they are copied into messages, cross threads,
 * and are compared by value. A ref names one incarnation of one actor: a message to a ref whose
 * node uid or actor uid is no longer current becomes a dead letter, never a message to a stranger.
 */

/**
 * A reference to an actor that accepts messages of type `M`.
 *
 * `nodeUid` identifies one start of the node; `uid` one spawn of the actor. A ref built with
 * {@link selectActor} leaves both empty and reaches whatever actor currently lives at the path
 * (like Akka's actor selection), which is how a node addresses a peer's system actors before it
 * knows their uids.
 */
export interface ActorRef<M = unknown> {
  readonly node: string;
  readonly nodeUid: string;
  readonly path: string;
  readonly uid: number;
  /** Phantom member: makes refs contravariant in the messages they accept. Never present at run time. */
  readonly __accepts?: (msg: M) => void;
}

/** A ref of any message type (for watch, stop and bookkeeping that never sends a message). */
export type AnyRef = ActorRef<never>;

/** A ref to whatever actor lives at `path` on `node`, whichever incarnation is current. */
export function selectActor<M>(node: string, path: string): ActorRef<M> {
  return { node, nodeUid: '', path, uid: 0 };
}

/** True when `x` has the shape of a ref: plain data from another node is checked with this before it is used as an address. */
export function isActorRef(x: unknown): x is AnyRef {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as AnyRef;
  return typeof r.node === 'string' && typeof r.nodeUid === 'string' && typeof r.path === 'string' && Number.isSafeInteger(r.uid);
}

/** True when the ref is a selection (matches any incarnation). */
export function isSelection(ref: AnyRef): boolean {
  return ref.uid === 0;
}

/** Value equality of two refs. */
export function sameRef(a: AnyRef, b: AnyRef): boolean {
  return a.uid === b.uid && a.path === b.path && a.nodeUid === b.nodeUid && a.node === b.node;
}

/** A stable, readable form: `n1#9f3a1c2e/user/orders/42#17`. */
export function refToString(ref: AnyRef): string {
  return `${ref.node}#${ref.nodeUid || '*'}${ref.path}#${ref.uid || '*'}`;
}

/** A compact key for maps of refs. */
export function refKey(ref: AnyRef): string {
  return `${ref.nodeUid}|${ref.path}|${ref.uid}`;
}

/** Copies only the four identifying fields, so a ref from user code carries nothing else. */
export function plainRef<M>(ref: ActorRef<M>): ActorRef<M> {
  return { node: ref.node, nodeUid: ref.nodeUid, path: ref.path, uid: ref.uid };
}

const NAME_PATTERN = /^[A-Za-z0-9_\-.:~@+=]+$/;

/** True when `name` may be an actor's name (one path segment; `$` names are the runtime's). */
export function isValidActorName(name: string): boolean {
  return name.length > 0 && name.length <= 128 && NAME_PATTERN.test(name);
}

/** Joins a parent path and a child name. */
export function childPath(parentPath: string, name: string): string {
  return parentPath === '/' ? `/${name}` : `${parentPath}/${name}`;
}
