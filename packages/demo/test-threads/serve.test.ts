/**
 * `demo serve` on its default runtime, worker threads: the HTTP API stores and reads through the
 * workers, and killing and restarting a node through the API shows in the event stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterSnapshot, type ServeHandle, startServe } from '../src/index.ts';

let server: ServeHandle;
/** The replicas that acknowledged the first test's write. */
let replicas: string[] = [];

beforeAll(async () => {
  server = await startServe({ port: 0, tickMs: 500 });
});

afterAll(async () => {
  await server?.close();
});

async function snapshot(): Promise<ClusterSnapshot> {
  return (await (await fetch(`${server.url}/cluster/snapshot`)).json()) as ClusterSnapshot;
}

describe('serve on worker threads', () => {
  it('runs 5 nodes on threads and serves the store over HTTP', async () => {
    expect(server.cluster.runtime).toBe('threads');
    const put = await fetch(`${server.url}/kv/t1?w=3`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: 'threads' }) });
    expect(put.status).toBe(200);
    replicas = ((await put.json()) as { replicas: string[] }).replicas;
    expect(replicas).toHaveLength(3);
    const got = await fetch(`${server.url}/kv/t1?r=3`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { values: unknown[] }).values).toEqual([{ on: 'threads' }]);
    const s = await snapshot();
    expect(s.nodes.map((n) => n.state)).toEqual(['running', 'running', 'running', 'running', 'running']);
  });

  it('kills and restarts a replica through the API; the value survives on the others', async () => {
    const victim = replicas[0]!;
    const reader = server.cluster.nodes.find((n) => n !== victim)!;
    const kill = await fetch(`${server.url}/cluster/nodes/${victim}/kill`, { method: 'POST' });
    expect(((await kill.json()) as { state: string }).state).toBe('down');
    // In threads a killed node's store dies with its worker: the value lives on the other two replicas.
    const got = await fetch(`${server.url}/kv/t1?node=${reader}&r=2`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { values: unknown[] }).values).toEqual([{ on: 'threads' }]);
    const restart = await fetch(`${server.url}/cluster/nodes/${victim}/restart`, { method: 'POST' });
    const restarted = (await restart.json()) as { state: string; uid: string };
    expect(restarted.state).toBe('running');
    // Every node, the new start among them, sees all five alive.
    const deadline = Date.now() + 60_000;
    let s = await snapshot();
    const converged = (x: ClusterSnapshot): boolean =>
      x.nodes.find((n) => n.name === victim)?.uid === restarted.uid && Object.keys(x.views).length === 5 && Object.values(x.views).every((v) => v !== null && v.length === 5 && v.every((m) => m.state === 'alive'));
    while (!converged(s)) {
      if (Date.now() > deadline) throw new Error(`views did not converge: ${JSON.stringify(s.views)}`);
      await new Promise((r) => setTimeout(r, 250));
      s = await snapshot();
    }
    // The restarted node coordinates again, and all three replicas answer.
    const again = await fetch(`${server.url}/kv/t1?node=${victim}&r=3`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { values: unknown[] }).values).toEqual([{ on: 'threads' }]);
  });
});
