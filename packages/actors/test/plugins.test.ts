import { describe, expect, it } from 'vitest';
import { selectActor, startCluster, usePlugin } from '@starling/actors';
import { type GreetingMsg, greetingPlugin } from './fixtures/options-plugin.ts';
import { failingPlugin, ticks } from './fixtures/failing-plugin.ts';
import { simIt } from '../../../scripts/testing/seed.ts';

const greeting = (node: string) => selectActor<GreetingMsg>(node, '/system/greeting');

describe('plugins', () => {
  simIt('a plugin spawns its actors under /system on every node, with validated options and defaults', 111, async (seed) => {
    const c = await startCluster({ runtime: 'simulation', seed, nodes: 3, plugins: [usePlugin(greetingPlugin, { greeting: 'hi', repeat: 2 })] });
    for (const node of c.nodes) {
      const said = await c.until(c.ask(greeting(node), (replyTo): GreetingMsg => ({ type: 'say', name: node, replyTo }), { timeoutMs: 100 }));
      expect(said).toBe(`hihi ${node}`);
    }
    await c.stop();
    const d = await startCluster({ runtime: 'simulation', seed, nodes: 1, plugins: [{ module: greetingPlugin.module, name: 'greeting' }] });
    expect(await d.until(d.ask(greeting('n1'), (replyTo): GreetingMsg => ({ type: 'say', name: 'x', replyTo }), { timeoutMs: 100 }))).toBe('hello x');
    await d.stop();
  });

  simIt('setup runs again at every start of a node', 112, async (seed) => {
    const c = await startCluster({ runtime: 'simulation', seed, nodes: 2, plugins: [usePlugin(greetingPlugin, { greeting: 'hi', repeat: 1 })] });
    await c.restart('n2');
    await c.kill('n2');
    await c.restart('n2');
    const starts = (node: string) => c.until(c.ask(greeting(node), (replyTo): GreetingMsg => ({ type: 'starts', replyTo }), { timeoutMs: 100 }));
    expect(await starts('n1')).toBe(1);
    expect(await starts('n2')).toBe(3);
    await c.stop();
  });

  it('bad plugin options are refused at start with the plugin own INVALID_CONFIG', async () => {
    await expect(
      startCluster({ runtime: 'simulation', nodes: 1, plugins: [usePlugin(greetingPlugin, { greeting: 'x', repeat: 0 })] }),
    ).rejects.toThrow(/repeat must be an integer >= 1/);
  });

  it('listing a plugin twice is refused', async () => {
    await expect(
      startCluster({ runtime: 'simulation', nodes: 1, plugins: [usePlugin(greetingPlugin, { greeting: 'a', repeat: 1 }), usePlugin(greetingPlugin, { greeting: 'b', repeat: 1 })] }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  simIt('the host can spawn a plugin-registered definition by name', 113, async (seed) => {
    const c = await startCluster({ runtime: 'simulation', seed, nodes: 1, plugins: [usePlugin(greetingPlugin, { greeting: 'yo', repeat: 1 })] });
    const ref = await c.spawn<GreetingMsg, unknown, { greeting: string; repeat: number }>('n1', 'greeting', { greeting: 'hey', repeat: 1 }, { name: 'g' });
    expect(await c.until(c.ask(ref, (replyTo): GreetingMsg => ({ type: 'say', name: 'you', replyTo }), { timeoutMs: 100 }))).toBe('hey you');
    await c.stop();
  });

  simIt('step() runs exactly one event of the simulation at a time', 114, async (seed) => {
    const c = await startCluster({ runtime: 'simulation', seed, nodes: 1, plugins: [usePlugin(greetingPlugin, { greeting: 'yo', repeat: 1 })] });
    const p = c.ask(greeting('n1'), (replyTo): GreetingMsg => ({ type: 'say', name: 'step', replyTo }), { timeoutMs: 100 });
    let settled = false;
    void p.then(() => (settled = true));
    let steps = 0;
    while (!settled && (await c.step())) steps++;
    // Deliver the request to n1, drain n1 (the actor replies), deliver the reply to the host.
    expect(steps).toBe(3);
    expect(await p).toBe('yo step');
    await c.stop();
  });

  it('a cluster whose plugin setup fails on one node rejects, and nothing of it keeps running', async () => {
    const start = startCluster({ runtime: 'local', nodes: ['n1', 'n2', 'n3'], plugins: [usePlugin(failingPlugin, { failOn: 'n2' })] });
    await expect(start).rejects.toThrow(/setup refused on n2/);
    const after = ticks.count;
    await new Promise((resolve) => setTimeout(resolve, 50));
    // n1 had started and was ticking every ms: it was stopped with the rest.
    expect(ticks.count).toBe(after);
  });

  simIt('a plugin setup that fails when a node restarts is retried under the node restart policy', 115, async (seed) => {
    const c = await startCluster({
      runtime: 'simulation',
      seed,
      nodes: ['n1', 'n2'],
      plugins: [usePlugin(failingPlugin, { failOn: 'n2', onlyAtStart: 2 })],
      nodeRestart: { maxRestarts: 3, withinMs: 60_000, minBackoffMs: 100 },
    });
    const stopped: string[] = [];
    c.events.on('node-stopped', (e) => stopped.push(`${e.node} ${e.reason}`));
    await c.restart('n2');
    expect(c.nodeState('n2')).toBe('down');
    await c.runFor(150);
    expect(c.nodeState('n2')).toBe('running');
    expect((await c.stats('n2')).starts).toBe(3);
    expect(stopped).toEqual(['n2 killed', 'n2 escalated']);
    await c.stop();
  });
});

