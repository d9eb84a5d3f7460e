/**
 * Partition shapes from Jepsen's nemesis vocabulary, as pure functions of a node order. Callers
 * that want a random split shuffle the order with the cluster's seeded generator first.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { Partition } from './rules.ts';

function needNodes(nodes: readonly string[], atLeast: number, shape: string): void {
  if (nodes.length < atLeast) {
    throw new InvalidArgumentError('INVALID_CONFIG', `${shape} needs at least ${atLeast} nodes, got ${nodes.length}`);
  }
}

/** Two halves; with an odd count the first half is the larger (a majority). */
export function halves(nodes: readonly string[]): Partition {
  needNodes(nodes, 2, 'halves');
  const cut = Math.ceil(nodes.length / 2);
  return { shape: 'groups', groups: [nodes.slice(0, cut), nodes.slice(cut)] };
}

/** A majority and a minority of `minoritySize` nodes (default: the largest minority). */
export function majorityMinority(nodes: readonly string[], minoritySize = Math.floor((nodes.length - 1) / 2)): Partition {
  needNodes(nodes, 2, 'majority/minority');
  if (!(minoritySize >= 1 && minoritySize * 2 < nodes.length)) {
    throw new InvalidArgumentError('INVALID_CONFIG', `a minority of ${minoritySize} of ${nodes.length} nodes is not a minority`);
  }
  const cut = nodes.length - minoritySize;
  return { shape: 'groups', groups: [nodes.slice(0, cut), nodes.slice(cut)] };
}

/** One node cut off from all others. */
export function isolate(nodes: readonly string[], node: string): Partition {
  if (!nodes.includes(node)) throw new InvalidArgumentError('UNKNOWN_NODE', `cannot isolate unknown node '${node}'`);
  return { shape: 'groups', groups: [[node], nodes.filter((n) => n !== node)] };
}

/**
 * Two halves joined by one bridge node in the middle of `nodes`, which talks to both sides while
 * the sides cannot talk to each other (Jepsen's `bridge`).
 */
export function bridge(nodes: readonly string[]): Partition {
  needNodes(nodes, 3, 'bridge');
  const mid = Math.floor(nodes.length / 2);
  return { shape: 'groups', groups: [nodes.slice(0, mid), nodes.slice(mid + 1)] };
}

/** Each node sees a majority made of its ring neighbours; no two majorities are equal (Jepsen). */
export function majoritiesRing(nodes: readonly string[]): Partition {
  needNodes(nodes, 3, 'majorities ring');
  return { shape: 'ring', order: [...nodes] };
}
