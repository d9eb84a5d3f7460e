/**
 * Helpers of the anti-entropy tests: a simulated cluster in which nothing but anti-entropy moves
 * data between replicas, and a node's anti-entropy counters.
 */
import { type SimulationCluster, startCluster } from '@starling/actors';
import { useGossip } from '@starling/gossip';
import { type AntiEntropyMessage, antiEntropyRef, type AntiEntropyStatus, type ReplicationOptions, type Ring, RingAdmin, useReplication } from '../../src/index.ts';
import { awaitMembership, FAST_GOSSIP } from './workload.ts';

/** Partitions of the anti-entropy test clusters (few, so runs stay short). */
export const AE_PARTITIONS = 64;

/** 5 simulated nodes with membership, Q = 64, strict quorum (no hints), no read repair, a round every ~1 s. */
export async function aeCluster(seed: number, extra: ReplicationOptions = {}): Promise<{ cluster: SimulationCluster; ring: Ring }> {
  const cluster = await startCluster({
    runtime: 'simulation',
    seed,
    nodes: 5,
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } },
    hostFailureDetector: false,
    plugins: [
      useGossip(FAST_GOSSIP),
      useReplication({
        partitionCount: AE_PARTITIONS,
        // Nothing but anti-entropy moves data between replicas: strict quorum (no hints), no read repair.
        defaults: { sloppy: false, readRepair: false, timeoutMs: 1_000 },
        antiEntropyIntervalMs: 1_000,
        ...extra,
      }),
    ],
  });
  await awaitMembership(cluster);
  return { cluster, ring: await cluster.until(new RingAdmin(cluster).ring('n1')) };
}

/** A node's anti-entropy counters. */
export async function aeStatus(cluster: SimulationCluster, node: string): Promise<AntiEntropyStatus> {
  return cluster.until(cluster.ask<AntiEntropyMessage, AntiEntropyStatus>(antiEntropyRef(node), (replyTo) => ({ type: 'ae-status', replyTo }), { timeoutMs: 1_000 }));
}
