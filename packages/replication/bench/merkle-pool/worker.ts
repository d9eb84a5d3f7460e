/**
 * A worker of the `merkle.rebuild_1m.pool` bench (../merkle.ts): given a share of a partition's
 * entries, XORs their pair hashes into the leaves of a tree of `depth` (what `treeOf` does before
 * it computes the inner nodes) and posts the two leaf arrays back, transferred. XOR is
 * associative, so the main thread combines the shares leaf by leaf.
 *
 * Two forms of a share: `clone`, the `[key, clock]` pairs as the store holds them (structured
 * clone of every object, values included); `packed`, what the tree hashes of each pair (the key,
 * and each clock entry's id, counter and number of values) in UTF-16 code units, transferred, see
 * packShare in pack.ts. The values themselves never need to travel: the tree does not hash them.
 */
import { parentPort } from 'node:worker_threads';
import type { StoredClock } from '../../src/store.ts';
import { bucketHash, pairHash } from '../../src/version-hash.ts';
import type { Leaves, Share } from './pack.ts';

/** Calls `each` for every (key, clock) of a packed share. */
function unpack(units: Uint16Array, count: number, each: (key: string, clock: StoredClock) => void): void {
  let n = 0;
  const u32 = (): number => {
    const x = units[n]! | (units[n + 1]! << 16);
    n += 2;
    return x >>> 0;
  };
  const str = (): string => {
    const length = u32();
    const s = String.fromCharCode.apply(null, units.subarray(n, n + length) as unknown as number[]);
    n += length;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const key = str();
    const k = u32();
    const entries: { id: string; counter: number; values: unknown[] }[] = [];
    for (let j = 0; j < k; j++) {
      const id = str();
      const low = units[n++]!;
      const counter = u32() * 0x10000 + low;
      entries.push({ id, counter, values: new Array<unknown>(u32()).fill(null) });
    }
    each(key, { entries, anonymous: [] });
  }
}

function leavesOf(share: Share): Leaves {
  const shift = 32 - share.depth;
  const hi = new Uint32Array(2 ** share.depth);
  const lo = new Uint32Array(2 ** share.depth);
  let count = 0;
  const add = (key: string, clock: StoredClock): void => {
    const b = share.depth === 0 ? 0 : bucketHash(key) >>> shift;
    const h = pairHash(key, clock);
    hi[b] = (hi[b]! ^ h.hi) >>> 0;
    lo[b] = (lo[b]! ^ h.lo) >>> 0;
    count++;
  };
  if (share.kind === 'clone') for (const [key, clock] of share.entries) add(key, clock);
  else unpack(share.units, share.count, add);
  return { id: share.id, count, hi, lo, ...(share.kind === 'packed' ? { spare: share.units.buffer } : {}) };
}

const port = parentPort!;
port.on('message', (share: Share) => {
  const out = leavesOf(share);
  port.postMessage(out, out.spare ? [out.hi.buffer, out.lo.buffer, out.spare] : [out.hi.buffer, out.lo.buffer]);
});
port.postMessage('ready');
