/**
 * Benchmarks of @starling/actors, run by `pnpm bench` (scripts/bench.ts). Each figure is printed
 * beside a baseline measured in the same run; see scripts/bench/types.ts for the contract.
 */
import type { BenchGroup } from '../../../scripts/bench/types.ts';
import { askLocal } from './ask.ts';
import { crossNodeAllToAll, crossNodeAsk, crossNodeOneWay } from './cross-node.ts';
import { simInterNode } from './sim-inter-node.ts';
import { spawnStopLocal } from './spawn-stop.ts';
import { tellLocal } from './tell.ts';
import { threadsCluster32, threadsIdleRss, threadsNodeStart } from './threads-start.ts';

export const benchmarks: readonly BenchGroup[] = [
  tellLocal,
  askLocal,
  spawnStopLocal,
  simInterNode,
  crossNodeOneWay,
  crossNodeAllToAll,
  crossNodeAsk,
  threadsNodeStart,
  threadsIdleRss,
  threadsCluster32,
];
