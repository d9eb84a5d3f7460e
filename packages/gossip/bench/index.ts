/**
 * Benchmarks of @starling/gossip, run by `pnpm bench` (scripts/bench.ts). Each figure is printed
 * beside a baseline measured in the same run; see scripts/bench/types.ts for the contract.
 */
import type { BenchGroup } from '../../../scripts/bench/types.ts';
import { broadcastWorkload } from './broadcast.ts';
import { simEpidemic1000 } from './epidemic.ts';
import { swimLoadPerMember } from './swim-load.ts';

export const benchmarks: readonly BenchGroup[] = [simEpidemic1000, swimLoadPerMember, broadcastWorkload];
