/** Helpers for threads tests: start a cluster with the fixture plugins, wait for events. */
import { type Cluster, type ClusterConfig, type RuntimeEvent, startCluster, usePlugin } from '@starling/actors';
import { fixturesPlugin } from '../test/fixtures/actors.ts';
import { testPlugin } from '../test/fixtures/echo-plugin.ts';
import { threadFixturesPlugin } from './fixtures/thread-actors.ts';

export function threadsCluster(overrides: Partial<ClusterConfig> = {}): Promise<Cluster> {
  return startCluster({
    runtime: 'threads',
    nodes: 3,
    plugins: [usePlugin(fixturesPlugin), usePlugin(testPlugin), usePlugin(threadFixturesPlugin)],
    ...overrides,
  } as ClusterConfig);
}

/** Resolves with the first event that matches (waits for events, never for time). */
export function nextEvent<T extends RuntimeEvent['type']>(
  cluster: Cluster,
  type: T,
  match: (e: Extract<RuntimeEvent, { type: T }>) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<Extract<RuntimeEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cluster.events.off(type, listener as never);
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (e: Extract<RuntimeEvent, { type: T }>): void => {
      if (!match(e)) return;
      clearTimeout(timer);
      cluster.events.off(type, listener as never);
      resolve(e);
    };
    cluster.events.on(type, listener as never);
  });
}
