/** Test helpers' guard on a whole-store dump: a store too large for one message answers empty with `isTooLarge`, which must not pass for an empty store. */
import type { StorageDump } from '../../src/index.ts';

export function whole(dump: StorageDump): StorageDump {
  if (dump.isTooLarge === true) throw new Error(`${dump.node}'s store does not fit one message: read it with dumpStore`);
  return dump;
}
