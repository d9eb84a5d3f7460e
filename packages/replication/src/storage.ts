/**
 * `/system/storage`: a node's replica of the keys it holds. It mints new versions for the
 * coordinator on its node (under its replica id, `node@epoch`), merges replicated versions, and
 * answers reads. The data lives in the {@link Store}, outside the actor.
 */
import { type ActorRef, defineActor, isActorRef } from '@starling/actors';
import { clientWrite, type DvvSet, emptyClock, isDvvSet, latestDot, sync, update } from './dvv.ts';
import { isVersionVector, type StorageDump, type StorageReply, type StorageRequest } from './protocol.ts';
import { openStore, type Store, type StoreKind, type StoredClock } from './store.ts';

/** Where the storage actor lives on every node. */
export const STORAGE_PATH = '/system/storage';

interface StorageState {
  readonly store: Store;
  /** The id this replica mints dots under. */
  readonly replicaId: string;
  malformedMessages: number;
}

function randomHex(random: () => number): string {
  return Math.floor(random() * 0x1_0000_0000)
    .toString(16)
    .padStart(8, '0');
}

/** Shape checks for requests from other nodes. */
function isWellFormed(msg: StorageRequest): boolean {
  if (msg.type === 'st-dump') return isActorRef(msg.replyTo);
  if (typeof msg.reqId !== 'string' || !Number.isSafeInteger(msg.partition) || msg.partition < 0 || typeof msg.key !== 'string' || !isActorRef(msg.replyTo)) return false;
  if (msg.type === 'st-coordinate') return isVersionVector(msg.context) && msg.value !== undefined;
  if (msg.type === 'st-write') return isDvvSet(msg.clock) && Number.isSafeInteger(msg.ringVersion);
  return msg.type === 'st-read' && Number.isSafeInteger(msg.ringVersion);
}

/** The storage actor. */
export const storageActor = defineActor<StorageRequest, StorageState, { readonly store: StoreKind }>({
  name: 'starling.storage',
  init(props, ctx) {
    const store = openStore(ctx.disk, props.store, ctx.nodeUid, () => randomHex(() => ctx.random()));
    return { store, replicaId: `${ctx.nodeName}@${store.epoch}`, malformedMessages: 0 };
  },
  receive(state, msg, ctx) {
    if (typeof msg !== 'object' || msg === null || !isWellFormed(msg)) {
      state.malformedMessages++;
      return state;
    }
    const { store } = state;
    switch (msg.type) {
      case 'st-coordinate': {
        // Dynamo's coordinator: the new version descends from what the client saw, and is stored
        // here before it is replicated.
        const stored = store.get(msg.partition, msg.key) ?? emptyClock();
        const clock = update(clientWrite(msg.context, msg.value), stored, state.replicaId);
        store.put(msg.partition, msg.key, clock);
        const dot = latestDot(clock, state.replicaId)!;
        ctx.tell(msg.replyTo, { type: 'st-coordinated', reqId: msg.reqId, node: ctx.nodeName, clock, dot });
        return state;
      }
      case 'st-write': {
        const stored = store.get(msg.partition, msg.key);
        store.put(msg.partition, msg.key, stored ? sync(stored, msg.clock as StoredClock) : (msg.clock as StoredClock));
        ctx.tell(msg.replyTo, { type: 'st-written', reqId: msg.reqId, node: ctx.nodeName });
        return state;
      }
      case 'st-read':
        ctx.tell(msg.replyTo, { type: 'st-read-result', reqId: msg.reqId, node: ctx.nodeName, clock: store.get(msg.partition, msg.key) ?? null });
        return state;
      case 'st-dump': {
        const keys: Record<string, DvvSet<unknown>> = {};
        for (const p of store.partitions()) for (const k of store.keys(p)) keys[k] = store.get(p, k)!;
        ctx.tell(msg.replyTo, { type: 'st-dump', node: ctx.nodeName, replicaId: state.replicaId, keys } satisfies StorageDump);
        return state;
      }
    }
  },
});

/** The ref of a node's storage actor. */
export function storageRef(node: string): ActorRef<StorageRequest> {
  return { node, nodeUid: '', path: STORAGE_PATH, uid: 0 };
}

export type { StorageReply };
