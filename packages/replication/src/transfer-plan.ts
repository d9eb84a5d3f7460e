/**
 * What a ring change moves, pure (principle 1): for a ring with a change in progress (`next`),
 * which node sends which partition to which, who takes writes during the move, and what each node
 * drops once the change is done. Every node computes the same plan from the same ring, so no plan
 * is ever sent around.
 *
 * Moves are computed on replica sets, not on owner slots: partition p is held by its preference
 * list of `n` (the first n distinct owners clockwise), so an owner slot changing hands changes the
 * replica sets of the n partitions before it too. For each partition, every node entering its
 * replica set receives it from a node leaving the set (paired in order), or from an old replica
 * that stays when none leaves (the cluster grows past fewer than n nodes); every node leaving the
 * set sends it to an entering node, or to a staying one when none enters (the cluster shrinks
 * below n), so its copy, which may hold writes the others missed, is merged somewhere before it
 * is dropped.
 */
import { preferenceList, type Ring, settledRing } from './ring.ts';

/** One partition moving from one node to another. */
export interface Transfer {
  readonly partition: number;
  /** The node that sends (it holds the partition under the current owners). */
  readonly from: string;
  /** The node that receives. */
  readonly to: string;
}

/** The moves of the change in progress, by partition then by position in the replica set; empty when none is. */
export function planTransfers(ring: Ring, n: number): Transfer[] {
  if (ring.next === undefined) return [];
  const target = settledRing(ring);
  const out: Transfer[] = [];
  for (let p = 0; p < ring.partitionCount; p++) {
    const before = preferenceList(ring, p, n);
    const after = preferenceList(target, p, n);
    const entering = after.filter((x) => !before.includes(x));
    const leaving = before.filter((x) => !after.includes(x));
    const staying = before.filter((x) => after.includes(x));
    for (let i = 0; i < entering.length; i++) {
      const from = i < leaving.length ? leaving[i]! : staying[(i - leaving.length) % staying.length]!;
      out.push({ partition: p, from, to: entering[i]! });
    }
    for (let i = entering.length; i < leaving.length; i++) out.push({ partition: p, from: leaving[i]!, to: staying[(i - entering.length) % staying.length]! });
  }
  return out;
}

/**
 * Nodes that take a partition's writes during the change beside its current replicas: its new
 * replicas that are not current ones (Cassandra's pending endpoints). A write must also be
 * acknowledged by as many more nodes as there are of these, so that W of the new replicas hold
 * it when the change is done, whichever old replica is dropped.
 */
export function pendingReplicas(ring: Ring, partition: number, n: number): string[] {
  if (ring.next === undefined) return [];
  const before = preferenceList(ring, partition, n);
  return preferenceList(settledRing(ring), partition, n).filter((x) => !before.includes(x));
}

/** Whether `node` holds `partition` under `ring`: a replica under its owners, or under the change in progress. */
export function holdsPartition(ring: Ring, partition: number, n: number, node: string): boolean {
  if (preferenceList(ring, partition, n).includes(node)) return true;
  return ring.next !== undefined && preferenceList(settledRing(ring), partition, n).includes(node);
}

/**
 * The partitions `node` held under `before` and no longer holds under `after`: what it drops on
 * adopting `after`. Safe only once the change that moved them is done (the claimant commits that
 * after every receiver confirmed every partition), which is what a newer ring without the old
 * `next` says.
 */
export function droppedPartitions(before: Ring, after: Ring, n: number, node: string): number[] {
  const out: number[] = [];
  if (before.partitionCount !== after.partitionCount) return out;
  for (let p = 0; p < before.partitionCount; p++) if (holdsPartition(before, p, n, node) && !holdsPartition(after, p, n, node)) out.push(p);
  return out;
}
