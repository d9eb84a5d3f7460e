/**
 * @starling/replication: a Dynamo-style replicated key-value store built from actors: the ring,
 * storage, a replica coordinator with N/R/W quorums, dotted version vectors, and the history
 * checker every fault test is judged by.
 */
export {
  type CheckInput,
  type CheckResult,
  type CheckStats,
  check,
  type Excuse,
  type FinalState,
  formatViolations,
  type Violation,
  type ViolationKind,
  type Wipe,
} from './checker.ts';
export { type ClientOptions, KvClient, type KvClientOptions, type NodeStats, type WriteOptions } from './client.ts';
export {
  COORDINATOR_PATH,
  coordinatorActor,
  type CoordinatorMessage,
  coordinatorRef,
  coordinatorStatsRef,
  DEFAULT_REPLICATION,
  MAX_KEY_LENGTH,
  MAX_TIMEOUT_MS,
  MIN_FALLBACK_MS,
  type ReplicationDefaults,
  storeKey,
} from './coordinator.ts';
export {
  clientWrite,
  clockDescends,
  covers,
  descends,
  type Dot,
  type DvvEntry,
  type DvvSet,
  emptyClock,
  isDvvSet,
  join,
  latestDot,
  less,
  mergeContexts,
  type ReplicaId,
  size,
  sync,
  update,
  values,
  type Version,
  type VersionVector,
  versions,
} from './dvv.ts';
export { KvError, type KvErrorCode, type KvOutcome } from './errors.ts';
export { type Divergence, divergence, type DumpOptions, dumpStore, dumpStores, finalStateOf, KEYS_PER_PAGE, rootDivergence, treeRoots } from './inspect.ts';
export { type Completion, formatContext, formatDot, formatEntry, type HistoryEntry, HistoryRecorder, type Invocation, type OpKind, type OpResult } from './history.ts';
export { DEFAULT_ANTI_ENTROPY, DEFAULT_HANDOFF, DEFAULT_TRANSFER, type ReplicationOptions, replicationPlugin, type ResolvedReplicationOptions, useReplication } from './plugin.ts';
export {
  type GetOk,
  type GetReply,
  isKvRequest,
  isVersionVector,
  type KvFailure,
  type KvKey,
  type KvOptions,
  type KvRequest,
  type PutOk,
  type PutReply,
  type CoordinatorStats,
  type StatsRequest,
  type StorageDump,
  type StorageReply,
  type StorageRequest,
  type StorageStats,
} from './protocol.ts';
export { type QuorumSpec, ReadQuorum, WriteQuorum } from './quorum.ts';
export {
  beginChange,
  changingNodes,
  createRing,
  DEFAULT_PARTITION_COUNT,
  finishChange,
  isRing,
  joinRing,
  keyHash,
  leaveRing,
  newerRing,
  partitionOf,
  partitionOfHash,
  preferenceList,
  type Ring,
  RingError,
  type RingErrorCode,
  type RingMember,
  ringMoves,
  ringDigest,
  ringNodes,
  type RingTarget,
  reassignClaimant,
  settledRing,
  shares,
  supersedes,
} from './ring.ts';
export { ringKeeperActor, type RingKeeperProps } from './ring-keeper.ts';
export {
  isWellFormedRingMessage,
  RING_PATH,
  type RingChange,
  type RingChangeReply,
  type RingMessage,
  ringRef,
  type RingSettled,
  type RingUpdated,
  type TransferConfig,
  type TransferStatus,
} from './ring-protocol.ts';
export { RingAdmin, type RingAdminOptions } from './ring-admin.ts';
export { droppedPartitions, holdsPartition, pendingReplicas, planTransfers, type Transfer } from './transfer-plan.ts';
export { type Batch, type BatchLimits, decodeBatch, decodeKeys, packEntries, packKeys, readBatch } from './transfer-batch.ts';
export { type Finished, type Pull, Receiver, type ReceiverConfig, type ReceiverProgress } from './transfer-receiver.ts';
export { type Hint, type HintStore, openHints } from './hints.ts';
export { type Placement, placeReplicas, type ReplicaTarget } from './placement.ts';
export { Reachability } from './reachability.ts';
export { type HandoffConfig, STORAGE_PATH, storageActor, type StorageMessage, type StorageProps, storageRef } from './storage.ts';
export { KEYS_PER_BUCKET, openStore, type Store, type StoreKind, type StoredClock, type StoredValue } from './store.ts';
export { depthFor, descendants, differing, differingBuckets, type Hash64, leafIndex, levelOf, MAX_MERKLE_DEPTH, MerkleTree } from './merkle.ts';
export { bucketHash, clockSummary, murmur32, pairHash, treeOf } from './version-hash.ts';
export { antiEntropyActor, type AntiEntropyProps } from './anti-entropy.ts';
export {
  ANTI_ENTROPY_PATH,
  MAX_LEVELS_PER_ROUND,
  type AntiEntropyConfig,
  type AntiEntropyMessage,
  antiEntropyRef,
  type AntiEntropyStatus,
  type ExchangeReport,
  isWellFormedAntiEntropyMessage,
  type TreeRoots,
} from './anti-entropy-protocol.ts';
