/**
 * The fault model's rules in shared memory, so that every worker sees a change at once and no
 * node has to acknowledge it (a busy or paused node included).
 *
 * Layout of one SharedArrayBuffer:
 *   Int32 [0]            epoch, written as a seqlock: odd while the host writes, even when stable
 *   Int32 [1]            byte length of the rules JSON
 *   Int32 [2 .. 2+n)     paused flag per node slot
 *   Int32 [2+n .. 2+2n)  per node slot: the epoch of the delivery it is making now, 0 when none
 *   bytes after that     the rules as JSON (a few hundred bytes; rewritten only on change)
 *
 * Deliveries are enforced by epoch: a worker re-reads the rules whenever the epoch moved, and the
 * host, after publishing, waits until no worker is in the middle of a delivery made under an older
 * epoch. Once `update` returns, nothing is delivered under the old rules.
 */
import { InvalidArgumentError } from '../../errors.ts';
import type { NetworkRules } from '../../network/rules.ts';

const HEADER_INTS = 2;
const JSON_BYTES = 64 * 1024;
/**
 * How long the host waits for an in-progress delivery under the old rules. A delivery is
 * microseconds of synchronous work; only a worker terminated in the middle of one leaves its mark
 * behind, and this bound keeps that from blocking the host forever.
 */
const BARRIER_LIMIT_MS = 1_000;

export class SharedRules {
  private readonly ints: Int32Array;
  private readonly json: Uint8Array;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly slots: number,
  ) {
    this.ints = new Int32Array(buffer, 0, HEADER_INTS + 2 * slots);
    this.json = new Uint8Array(buffer, (HEADER_INTS + 2 * slots) * 4, JSON_BYTES);
  }

  /** Allocates the shared area for `slots` node slots (the host side). */
  static create(slots: number, rules: NetworkRules): SharedRules {
    const buffer = new SharedArrayBuffer((HEADER_INTS + 2 * slots) * 4 + JSON_BYTES);
    const shared = new SharedRules(buffer, slots);
    shared.write(rules);
    return shared;
  }

  /** Opens an area created by the host (the worker side). */
  static open(buffer: SharedArrayBuffer, slots: number): SharedRules {
    return new SharedRules(buffer, slots);
  }

  /** The current stable epoch (even). */
  epoch(): number {
    return Atomics.load(this.ints, 0);
  }

  /** Publishes new rules and waits out deliveries still running under the old ones. Host only. */
  write(rules: NetworkRules): number {
    const bytes = this.encoder.encode(JSON.stringify(rules));
    if (bytes.length > JSON_BYTES) {
      throw new InvalidArgumentError('INVALID_CONFIG', `network rules of ${bytes.length} bytes exceed the shared area (${JSON_BYTES})`);
    }
    const start = Atomics.add(this.ints, 0, 1) + 1; // odd: writing
    this.json.set(bytes);
    Atomics.store(this.ints, 1, bytes.length);
    const epoch = start + 1;
    Atomics.store(this.ints, 0, epoch); // even: stable
    this.awaitDeliveriesBefore(epoch);
    return epoch;
  }

  /** Reads a consistent copy of the rules and the epoch they belong to. */
  read(): { epoch: number; rules: NetworkRules } {
    for (;;) {
      const before = Atomics.load(this.ints, 0);
      if (before & 1) continue;
      const length = Atomics.load(this.ints, 1);
      const text = this.decoder.decode(this.json.slice(0, length));
      if (Atomics.load(this.ints, 0) === before) return { epoch: before, rules: JSON.parse(text) as NetworkRules };
    }
  }

  setPaused(slot: number, paused: boolean): void {
    Atomics.store(this.ints, HEADER_INTS + slot, paused ? 1 : 0);
  }

  isPaused(slot: number): boolean {
    return Atomics.load(this.ints, HEADER_INTS + slot) === 1;
  }

  /**
   * Marks the start of a delivery by the node in `slot` and returns the epoch it runs under. The
   * slot is marked busy before the epoch is read: a host that checks after publishing either sees
   * the mark (and waits) or the worker reads the new epoch (sequentially consistent atomics).
   */
  beginDelivery(slot: number): number {
    const at = HEADER_INTS + this.slots + slot;
    Atomics.store(this.ints, at, -1);
    const epoch = Atomics.load(this.ints, 0) & ~1;
    Atomics.store(this.ints, at, epoch);
    return epoch;
  }

  endDelivery(slot: number): void {
    const at = HEADER_INTS + this.slots + slot;
    Atomics.store(this.ints, at, 0);
    Atomics.notify(this.ints, at);
  }

  /** Clears a slot whose worker died (it may have died mid-delivery). */
  resetSlot(slot: number): void {
    this.endDelivery(slot);
    this.setPaused(slot, false);
  }

  private awaitDeliveriesBefore(epoch: number): void {
    const deadline = performance.now() + BARRIER_LIMIT_MS;
    for (let slot = 0; slot < this.slots; slot++) {
      const at = HEADER_INTS + this.slots + slot;
      for (;;) {
        const e = Atomics.load(this.ints, at);
        if (e === 0 || (e !== -1 && e >= epoch)) break;
        const left = deadline - performance.now();
        if (left <= 0) break;
        // Sleep until that node ends its delivery (it notifies) instead of spinning the host's core.
        Atomics.wait(this.ints, at, e, Math.min(left, 5));
      }
    }
  }
}
