import { describe, expect, it } from 'vitest';
import { main as counter } from '../examples/counter.ts';
import { main as simulatedCluster } from '../examples/simulated-cluster.ts';

describe('the README examples', () => {
  it('the counter on the local runtime answers 42', async () => {
    expect(await counter()).toBe(42);
  });

  it('the simulated cluster greets, times out while n2 is isolated, and greets again after heal', async () => {
    const lines = await simulatedCluster();
    expect(lines).toEqual(['hello ada, from n2', expect.stringMatching(/^n2 is cut off: ASK_TIMEOUT at \d+ ms$/), 'hello ada, from n2']);
    expect(await simulatedCluster()).toEqual(lines);
  });
});
