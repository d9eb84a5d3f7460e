/**
 * Where one request's replicas are, pure (Dynamo §4.6): the key's N primaries (its preference
 * list), and under sloppy quorum a fallback for each primary that failure detection reports down:
 * the next reachable node clockwise past the primaries, holding the replica with a hint that names
 * the primary it stands in for. Further reachable nodes clockwise are spares, for replicas that do
 * not answer in time.
 *
 * Failure detection only decides whom a request skips; the ring (and so who owns what) does not
 * change (principle 7).
 */
import type { Ring } from './ring.ts';
import { pendingReplicas } from './transfer-plan.ts';

/** One replica a request goes to. */
export interface ReplicaTarget {
  readonly node: string;
  /** The primary this node stands in for, holding the replica as a hint; absent for a primary. */
  readonly hintFor?: string;
}

/** A request's replicas. */
export interface Placement {
  /** The first N distinct nodes clockwise from the key's partition. */
  readonly primaries: readonly string[];
  /**
   * While a ring change is in progress, the key's new replicas that are not primaries yet: they
   * take writes too, and a write waits for as many more acknowledgements (transfer-plan.ts).
   */
  readonly pending: readonly string[];
  /**
   * Reachable primaries in order, reachable pending replicas, then (sloppy) one fallback per
   * unreachable primary or pending replica, in order.
   */
  readonly targets: readonly ReplicaTarget[];
  /** Further reachable nodes clockwise, unused by `targets`, in order (at most N of them). */
  readonly spares: readonly string[];
}

/**
 * The replicas of `partition` for a request with `n` replicas.
 *
 * @param isDown what failure detection says of a node; a primary it reports down is skipped.
 * @param sloppy whether unreachable primaries get fallbacks (sloppy quorum) or are just skipped.
 */
export function placeReplicas(ring: Ring, partition: number, n: number, isDown: (node: string) => boolean, sloppy: boolean): Placement {
  const q = ring.partitionCount;
  const pending = pendingReplicas(ring, partition, n);
  const primaries: string[] = [];
  const others: string[] = [];
  const seen = new Set<string>();
  // Enough reachable non-primaries for every down primary and N spares, or every member seen: the
  // walk stops there, so its cost does not grow with the cluster (nor walk all Q partitions of a
  // ring with no node to spare).
  let wanted = n + pending.filter(isDown).length;
  const members = ring.members.length;
  for (let i = 0; i < q && seen.size < members; i++) {
    const owner = ring.owners[(partition + i) % q]!;
    if (seen.has(owner)) continue;
    seen.add(owner);
    if (primaries.length < n) {
      primaries.push(owner);
      if (isDown(owner)) wanted++;
    } else if (!isDown(owner) && !pending.includes(owner)) {
      others.push(owner);
      if (others.length >= wanted) break;
    }
  }
  const replicas = [...primaries, ...pending];
  const targets: ReplicaTarget[] = replicas.filter((p) => !isDown(p)).map((node) => ({ node }));
  let used = 0;
  if (sloppy) {
    for (const p of replicas) {
      if (!isDown(p) || used >= others.length) continue;
      targets.push({ node: others[used++]!, hintFor: p });
    }
  }
  return { primaries, pending, targets, spares: others.slice(used, used + n) };
}
