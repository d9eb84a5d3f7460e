/**
 * Benchmarks of @starling/replication, run by `pnpm bench` (scripts/bench.ts). Each figure is
 * printed beside a baseline measured in the same run; see scripts/bench/types.ts for the contract,
 * and kv.ts and one-down.ts for what is measured.
 */
import type { BenchGroup } from '../../../scripts/bench/types.ts';
import { kvThreads3, kvThreads5 } from './kv.ts';
import { kvOneDown } from './one-down.ts';
import { antiEntropyBytes } from './anti-entropy.ts';
import { antiEntropyP99 } from './anti-entropy-load.ts';
import { merkleBenchmarks } from './merkle.ts';
import { transferP99DuringJoin, transferPartition10k } from './transfer.ts';

export const benchmarks: readonly BenchGroup[] = [kvThreads3, kvThreads5, kvOneDown, transferPartition10k, transferP99DuringJoin, ...merkleBenchmarks, antiEntropyBytes, antiEntropyP99];
