/**
 * `gossip.load_per_member`: messages each member sends per SWIM protocol period in a converged,
 * quiet 1024-node cluster, beside the same figure at 16 nodes measured in the same run. SWIM's
 * claim (Das et al. 2002, §3) is a per-member load that does not grow with the cluster: one ping,
 * its ack, and the occasional indirect probe. Goal: the 1024-node figure within 1.2x of the
 * 16-node one. Message counts come from the network model's link counters, so every message the
 * protocol sends is counted. Virtual time, so the figure does not depend on the machine.
 */
import type { BenchGroup } from '../../../scripts/bench/types.ts';
import { figureResult } from '../../../scripts/bench/types.ts';
import { loadRun } from '../src/sim/swim-experiments.ts';

const PERIODS = 30;
const SEED = 1;

export const swimLoadPerMember: BenchGroup = {
  ids: ['gossip.load_per_member'],
  async run(ctx) {
    ctx.log('gossip.load_per_member: 16 nodes');
    const small = await loadRun(SEED, 16, PERIODS);
    ctx.log('gossip.load_per_member: 1024 nodes (a few seconds to start)');
    const large = await loadRun(SEED, 1024, PERIODS);
    ctx.log(`  bytes/member/period: ${small.bytesPerMemberPerPeriod.toFixed(0)} at 16, ${large.bytesPerMemberPerPeriod.toFixed(0)} at 1024`);
    return [
      figureResult(
        'gossip.load_per_member',
        'msgs/member/period at 1024 nodes (lower is better)',
        { name: 'swim, 1024 nodes', value: large.messagesPerMemberPerPeriod },
        { name: 'swim, 16 nodes', value: small.messagesPerMemberPerPeriod },
        { maxRatio: 1.2 },
      ),
    ];
  },
};
