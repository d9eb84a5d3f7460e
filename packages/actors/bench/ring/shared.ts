/**
 * The `tell.local` workload, identical for every contender: RING_SIZE actors in a ring, one token
 * told to each from outside, every receive sending a NEW token object on to the next actor until
 * its hop count runs out, then reporting to a sink. A round's size is the hops per token.
 */
import type { Contender } from '../../../../scripts/bench/types.ts';

export const RING_SIZE = 1000;

export interface Token {
  readonly type: 'token';
  readonly hops: number;
}

/** The sink's report: the token's journey is over. */
export interface Done {
  readonly type: 'done';
}

/** Token deliveries in a round of `hops`: the kick-off plus one per hop, for every token. */
export function ringDeliveries(hops: number): number {
  return RING_SIZE * (hops + 1);
}

/** A contender that holds resources (a system, actors) between rounds. */
export interface OpenContender extends Contender {
  close(): Promise<void> | void;
}

/** A first round that is short for every contender, slow peers included. */
export const INITIAL_HOPS = 20;
