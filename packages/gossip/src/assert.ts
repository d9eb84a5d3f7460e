/** A broken protocol invariant: a bug, found in simulation with its seed rather than in production. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Asserts an invariant the protocol relies on (TigerBeetle's habit). */
export function assert(condition: boolean, invariant: string): asserts condition {
  if (!condition) throw new InvariantError(`invariant broken: ${invariant}`);
}
