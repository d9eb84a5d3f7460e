/**
 * The newest ring a node adopted, on its disk area (principle 8): a restarted claimant must not
 * commit a second ring under a version it already committed, and a restarted coordinator or
 * storage actor must not go by the initial ring. (In threads the disk dies with the worker, like
 * the store.)
 */
import type { Disk } from '@starling/actors';
import { isRing, type Ring } from './ring.ts';

const DISK_AREA = 'starling.ring';

/** The ring this node adopted last, if any (and valid). */
export function savedRing(disk: Disk): Ring | undefined {
  const ring = disk.area<Ring>(DISK_AREA).get('ring');
  return ring !== undefined && isRing(ring) ? ring : undefined;
}

/** Saves the ring this node adopts. */
export function saveRing(disk: Disk, ring: Ring): void {
  disk.area<Ring>(DISK_AREA).set('ring', ring);
}
