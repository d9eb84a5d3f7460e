/**
 * What the main thread and the workers of the `merkle.rebuild_1m.pool` bench (../merkle.ts,
 * worker.ts) share: the messages, and the packed form of a share of a partition's entries.
 */
import type { StoredClock } from '../../src/store.ts';

export type Entries = readonly (readonly [string, StoredClock])[];

export type Share =
  | { readonly id: number; readonly depth: number; readonly kind: 'clone'; readonly entries: Entries }
  | { readonly id: number; readonly depth: number; readonly kind: 'packed'; readonly units: Uint16Array<ArrayBuffer>; readonly count: number };

export interface Leaves {
  readonly id: number;
  readonly count: number;
  readonly hi: Uint32Array<ArrayBuffer>;
  readonly lo: Uint32Array<ArrayBuffer>;
  /** A packed share's buffer, handed back (transferred) for the next share to be packed into. */
  readonly spare?: ArrayBuffer;
}

/**
 * Packs `entries[from, to)` as 16-bit units, per pair: the key's length (2 units) and code
 * units, the number of clock entries (2), then per entry the id's length (2) and code units,
 * the counter (3 units, 48 bits) and the number of values (2). Runs on the main thread; the
 * result's buffer is transferred, not copied, and the worker hands it back with its leaves. Packs
 * into `spare` if given and large enough: a fresh buffer of tens of MiB per rebuild is external
 * memory that makes V8 run full collections of the node's whole heap (~0.3 s at 1 M entries).
 */
export function packShare(entries: Entries, from: number, to: number, spare?: ArrayBuffer): { units: Uint16Array<ArrayBuffer>; count: number } {
  const want = Math.max(1024, (to - from) * 32);
  let buf = spare && spare.byteLength >= want * 2 ? new Uint16Array(spare) : new Uint16Array(want);
  let n = 0;
  const room = (need: number): void => {
    if (n + need <= buf.length) return;
    const bigger = new Uint16Array(Math.max(buf.length * 2, n + need));
    bigger.set(buf.subarray(0, n));
    buf = bigger;
  };
  const u32 = (x: number): void => {
    buf[n++] = x & 0xffff;
    buf[n++] = x >>> 16;
  };
  for (let i = from; i < to; i++) {
    const [key, clock] = entries[i]!;
    room(key.length + 4);
    u32(key.length);
    for (let j = 0; j < key.length; j++) buf[n++] = key.charCodeAt(j);
    u32(clock.entries.length);
    for (const e of clock.entries) {
      room(e.id.length + 7);
      u32(e.id.length);
      for (let j = 0; j < e.id.length; j++) buf[n++] = e.id.charCodeAt(j);
      buf[n++] = e.counter & 0xffff;
      u32(Math.floor(e.counter / 0x10000));
      u32(e.values.length);
    }
  }
  return { units: buf.subarray(0, n), count: to - from };
}
