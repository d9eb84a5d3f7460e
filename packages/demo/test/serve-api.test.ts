/**
 * `demo serve`'s HTTP API through real HTTP on 127.0.0.1: the key-value routes with their context
 * header, siblings, quorum and session parameters; the cluster routes and fault control; the
 * event stream; and every kind of bad request answered with a 4xx JSON error while the node keeps
 * serving. The cluster runs in this thread (the local runtime, real time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_VALUE_BYTES, type ServeHandle, startServe } from '../src/index.ts';
import type { ClusterSnapshot, StreamHello } from '../src/serve/snapshot.ts';

const CONTEXT = 'x-starling-context';
/** memberlist's LAN timers at a quarter (push-pull and reconnects at a sixth): deaths and rejoins in seconds, not tens of seconds. */
const FAST_GOSSIP = { probeIntervalMs: 250, probeTimeoutMs: 125, gossipIntervalMs: 50, pushPullIntervalMs: 5_000, reconnectIntervalMs: 5_000 };

let server: ServeHandle;

interface Answer {
  readonly method: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string } & Record<string, unknown> };
}

async function call(method: string, path: string, init: { json?: unknown; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(`${server.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { method, status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

/** Asserts a JSON error with this status and code. */
function expectError(a: Answer, status: number, code: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  if (a.method === 'HEAD') return;
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  expect(a.body.error?.code).toBe(code);
  expect(typeof a.body.error?.message).toBe('string');
}

beforeAll(async () => {
  server = await startServe({ runtime: 'local', port: 0, nodes: 5, spares: 1, tickMs: 200, seed: 4, gossip: FAST_GOSSIP });
});

afterAll(async () => {
  await server?.close();
});

describe('serve: the key-value API', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const address = server.app.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
  });

  it('puts, gets and deletes a key; the context travels in a header', async () => {
    const put = await call('PUT', '/kv/cart%3A1', { json: { items: ['apple'] } });
    expect(put.status).toBe(200);
    expect(put.body['values']).toEqual([{ items: ['apple'] }]);
    const context = put.headers.get(CONTEXT);
    expect(context).toMatch(/^[A-Za-z0-9_-]+$/);

    const got = await call('GET', '/kv/cart%3A1');
    expect(got.status).toBe(200);
    expect(got.body['values']).toEqual([{ items: ['apple'] }]);
    expect(got.headers.get(CONTEXT)).toBe(context);

    const replaced = await call('PUT', '/kv/cart%3A1', { json: { items: ['apple', 'pear'] }, headers: { [CONTEXT]: got.headers.get(CONTEXT)! } });
    expect(replaced.body['values']).toEqual([{ items: ['apple', 'pear'] }]);

    const del = await call('DELETE', '/kv/cart%3A1', { headers: { [CONTEXT]: replaced.headers.get(CONTEXT)! } });
    expect(del.status).toBe(204);
    expect(del.headers.get(CONTEXT)).toBeTruthy();
    const gone = await call('GET', '/kv/cart%3A1');
    expectError(gone, 404, 'NOT_FOUND');
    expect(gone.body.error?.['isDeleted']).toBe(true);
    // A deleted key's context still comes back: a write with it replaces the tombstone.
    expect(gone.headers.get(CONTEXT)).toBeTruthy();
  });

  it('answers 404 with a JSON error for a key never written', async () => {
    const a = await call('GET', '/kv/never-written');
    expectError(a, 404, 'NOT_FOUND');
    expect(a.body.error?.['isDeleted']).toBe(false);
  });

  it('returns concurrent writes as siblings under one context, and a write with it resolves them', async () => {
    // Two writes without a context are concurrent: both stay.
    await call('PUT', '/kv/profile?node=n1', { json: { name: 'ada' } });
    await call('PUT', '/kv/profile?node=n2', { json: { name: 'grace' } });
    const got = await call('GET', '/kv/profile?r=3');
    expect(got.status).toBe(200);
    expect(got.body['values']).toHaveLength(2);
    expect(got.body['values']).toEqual(expect.arrayContaining([{ name: 'ada' }, { name: 'grace' }]));
    const resolved = await call('PUT', '/kv/profile', { json: { name: 'ada lovelace' }, headers: { [CONTEXT]: got.headers.get(CONTEXT)! } });
    expect(resolved.body['values']).toEqual([{ name: 'ada lovelace' }]);
    expect((await call('GET', '/kv/profile?r=3')).body['values']).toEqual([{ name: 'ada lovelace' }]);
  });

  it('takes N, R, W, a deadline and a coordinator as query parameters', async () => {
    const put = await call('PUT', '/kv/q?n=3&w=3&node=n4&timeout_ms=5000', { json: 1 });
    expect(put.status).toBe(200);
    expect(put.body['replicas']).toHaveLength(3);
    const got = await call('GET', '/kv/q?r=3&node=n5');
    expect(got.body['replicas']).toHaveLength(3);
    expect(got.body['values']).toEqual([1]);
  });

  it('keeps a session: a read that cannot see the session own write fails, where a plain read returns stale data', async () => {
    const put = await call('PUT', '/kv/note?session=alice&w=3', { json: 'v1' });
    expect(put.status).toBe(200);
    // The key's primaries, then a cut that leaves a coordinator with none of them.
    const primaries = (await call('GET', '/kv/note?r=3')).body['replicas'] as string[];
    expect(primaries).toHaveLength(3);
    const others = server.cluster.nodes.filter((n) => !primaries.includes(n));
    const coordinator = others[0]!;
    expect((await call('POST', '/cluster/partition', { json: { shape: 'groups', groups: [primaries, others] } })).status).toBe(200);
    try {
      // Without a session, a read from the far side finds only fallbacks, which never saw the write.
      const plain = await call('GET', `/kv/note?node=${coordinator}&r=1&timeout_ms=1000`);
      expect([404, 503]).toContain(plain.status);
      // The session's read must not go back in time: it fails instead.
      const session = await call('GET', `/kv/note?node=${coordinator}&r=1&timeout_ms=1000&session=alice`);
      expectError(session, 503, 'SESSION_UNAVAILABLE');
    } finally {
      await call('POST', '/cluster/heal');
    }
    const healed = await call('GET', `/kv/note?node=${coordinator}&session=alice`);
    expect(healed.body['values']).toEqual(['v1']);
  });

  it('refuses bad requests with 4xx JSON errors, and goes on serving', async () => {
    const long = 'k'.repeat(1_025);
    // (A HEAD answer has no body: its check below is of the status alone.)
    const cases: [Promise<Answer>, number, string][] = [
      [call('PUT', '/kv/a', { body: '{"broken": ', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON'],
      [call('PUT', '/kv/a', { body: '', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON'],
      [call('PUT', '/kv/a', { body: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [call('PUT', '/kv/a', { json: 'x'.repeat(MAX_VALUE_BYTES) }), 413, 'VALUE_TOO_LARGE'],
      [call('PUT', '/kv/a', { json: null }), 400, 'BAD_REQUEST'],
      [call('PUT', '/kv/a', { body: '{"__proto__": {"admin": true}}', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON'],
      [call('PUT', '/kv/a', { json: 1, headers: { [CONTEXT]: 'not!base64' } }), 400, 'BAD_CONTEXT'],
      [call('PUT', '/kv/a', { json: 1, headers: { [CONTEXT]: Buffer.from('[["n1",-4]]').toString('base64url') } }), 400, 'BAD_CONTEXT'],
      [call('DELETE', '/kv/a', { headers: { [CONTEXT]: Buffer.from('{}').toString('base64url') } }), 400, 'BAD_CONTEXT'],
      [call('GET', `/kv/${long}`), 400, 'BAD_REQUEST'],
      [call('GET', '/kv/a?R=2'), 400, 'BAD_REQUEST'],
      [call('GET', '/kv/a?r=zero'), 400, 'BAD_REQUEST'],
      [call('GET', '/kv/a?n=0'), 400, 'BAD_REQUEST'],
      [call('GET', '/kv/a?n=2&r=3'), 400, 'INVALID_REQUEST'],
      [call('GET', '/kv/a?session=no%20spaces'), 400, 'BAD_REQUEST'],
      [call('GET', '/kv/a?node=n9'), 404, 'UNKNOWN_NODE'],
      [call('GET', '/kv/a?timeout_ms=-1'), 400, 'BAD_REQUEST'],
      [call('GET', '/nowhere'), 404, 'NOT_FOUND'],
      [call('POST', '/kv/a', { json: 1 }), 404, 'NOT_FOUND'],
      [call('PUT', '/kv/a', { json: 1, headers: { [CONTEXT]: 'a'.repeat(9_000) } }), 400, 'BAD_CONTEXT'],
      [call('PUT', '/kv/a', { json: 1, headers: { [CONTEXT]: `${Buffer.from('[]').toString('base64url')}, ${Buffer.from('[]').toString('base64url')}` } }), 400, 'BAD_CONTEXT'],
      [call('GET', '/kv/a', { headers: { [CONTEXT]: 'a'.repeat(17_000) } }), 431, 'BAD_REQUEST'],
      [call('GET', '/kv/%E0%A4%A'), 400, 'BAD_REQUEST'],
      [call('GET', `/kv/${'k'.repeat(9_300)}`), 414, 'BAD_REQUEST'],
      [call('PUT', '/kv/a', { body: `${'['.repeat(5_000)}${']'.repeat(5_000)}`, headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST'],
      [call('HEAD', '/events'), 404, 'NOT_FOUND'],
    ];
    for (const [answer, status, code] of cases) expectError(await answer, status, code);
    // Nothing was lost and nothing crashed: the store still serves, on every node.
    for (const node of server.cluster.nodes) {
      const put = await call('PUT', `/kv/after-bad-input?node=${node}`, { json: node });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    expect((await call('GET', '/kv/q?r=3')).body['values']).toEqual([1]);
  });

  it('answers 503 with the replicas that did answer when a quorum cannot be met', async () => {
    expect((await call('POST', '/cluster/partition', { json: { shape: 'isolate', node: 'n1' } })).status).toBe(200);
    try {
      const a = await call('PUT', '/kv/cut-off?node=n1&w=3&timeout_ms=300', { json: 'x' });
      expect(a.status, JSON.stringify(a.body)).toBe(503);
      expect(['QUORUM_NOT_MET', 'NO_REPLY']).toContain(a.body.error?.code);
      // A write short of W may still have happened: the client is told it is unknown, never failed.
      expect(a.body.error?.['outcome']).toBe('unknown');
      expect(Array.isArray(a.body.error?.['replicas'])).toBe(true);
    } finally {
      await call('POST', '/cluster/heal');
    }
  });
});

describe('serve: the cluster API', () => {
  it('lists the nodes, each node view of the members, the ring and the links', async () => {
    const overview = await call('GET', '/cluster');
    expect((overview.body['nodes'] as { name: string }[]).map((n) => n.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    const members = await call('GET', '/cluster/members');
    const views = members.body['views'] as Record<string, { name: string; state: string }[]>;
    expect(Object.keys(views).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    for (const view of Object.values(views)) expect(view.map((m) => m.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    const ring = (await call('GET', '/cluster/ring?node=n2')).body as { from: string; ring: { owners: string[]; partitionCount: number } };
    expect(ring.from).toBe('n2');
    expect(ring.ring.owners).toHaveLength(ring.ring.partitionCount);
    // The spare is outside the ring until it joins.
    expect(new Set(ring.ring.owners)).toEqual(new Set(['n1', 'n2', 'n3', 'n4', 'n5']));
    const links = (await call('GET', '/cluster/links')).body as { links: Record<string, { sent: number }> };
    expect(links.links['n1->n2']?.sent).toBeGreaterThan(0);
  });

  it('partitions, drops one way, sets loss and heals, and the link rules say so', async () => {
    const p = await call('POST', '/cluster/partition', { json: { shape: 'groups', groups: [['n1', 'n2'], ['n3', 'n4', 'n5']] } });
    expect(p.body['network']).toMatchObject({ partition: { shape: 'groups', groups: [['n1', 'n2'], ['n3', 'n4', 'n5']] } });
    const d = await call('POST', '/cluster/drop', { json: { from: 'n6', to: 'n1' } });
    expect(d.body['network']).toMatchObject({ grudges: [{ from: 'n6', to: 'n1' }] });
    const l = await call('POST', '/cluster/loss', { json: { probability: 0.1 } });
    expect(l.body['network']).toMatchObject({ lossProbability: 0.1 });
    const snapshot = await waitForSnapshot((s) => s.links.some((x) => x.from === 'n1' && x.to === 'n3' && x.isCut));
    expect(snapshot.links.find((x) => x.from === 'n6' && x.to === 'n1')?.isCut).toBe(true);
    expect(snapshot.links.find((x) => x.from === 'n1' && x.to === 'n6')?.isCut).toBe(false);
    const healed = await call('POST', '/cluster/heal');
    // Heal removes partitions and one-way drops; loss is a separate knob.
    expect(healed.body['network']).toMatchObject({ partition: null, grudges: [], lossProbability: 0.1 });
    await call('POST', '/cluster/loss', { json: { probability: 0 } });
    const m = await call('POST', '/cluster/partition', { json: { shape: 'majority-minority' } });
    expect(m.body['network']).toMatchObject({ partition: { shape: 'groups', groups: [['n1', 'n2', 'n3', 'n4'], ['n5', 'n6']] } });
    await call('POST', '/cluster/heal');
  });

  it('kills, restarts, pauses and resumes nodes', async () => {
    const killed = await call('POST', '/cluster/nodes/n5/kill');
    expect(killed.body).toMatchObject({ node: 'n5', state: 'down' });
    expectError(await call('POST', '/cluster/nodes/n5/kill'), 409, 'NODE_NOT_RUNNING');
    expectError(await call('GET', '/kv/x?node=n5'), 503, 'NODE_NOT_RUNNING');
    // Requests without a node go to running nodes only. Until membership suspects n5, a forward to
    // it is lost (a known gap, docs/demo.md): write once every view has stopped calling it alive.
    await waitForSnapshot((s) => Object.entries(s.views).every(([observer, view]) => observer === 'n5' || view === null || view.find((m) => m.name === 'n5')?.state !== 'alive'));
    for (let i = 0; i < 6; i++) {
      const put = await call('PUT', `/kv/while-down-${i}`, { json: i });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    const restarted = await call('POST', '/cluster/nodes/n5/restart');
    expect(restarted.body).toMatchObject({ node: 'n5', state: 'running' });
    expect((await call('POST', '/cluster/nodes/n4/pause')).body).toMatchObject({ state: 'paused' });
    expectError(await call('POST', '/cluster/nodes/n4/pause'), 409, 'NODE_NOT_RUNNING');
    expect((await call('POST', '/cluster/nodes/n4/resume')).body).toMatchObject({ state: 'running' });
    expectError(await call('POST', '/cluster/nodes/n4/resume'), 409, 'NODE_NOT_RUNNING');
  });

  it('runs concurrent actions on one node one at a time, each answered for the state it found', async () => {
    const actions = ['kill', 'restart', 'pause', 'resume', 'kill', 'restart', 'kill', 'resume', 'restart', 'pause', 'resume'];
    const answers = await Promise.all(actions.map((a) => call('POST', `/cluster/nodes/n3/${a}`)));
    // The requests arrive in any order; each is answered for the state the one before it left.
    const after: Record<string, string> = { kill: 'down', restart: 'running', pause: 'paused', resume: 'running' };
    const refusedUnless: Record<string, (state: string) => boolean> = { kill: (st) => st !== 'down', pause: (st) => st === 'running', resume: (st) => st === 'paused', restart: () => true };
    answers.forEach((a, i) => {
      const action = actions[i]!;
      if (a.status === 200) expect(a.body['state'], `${action}: ${JSON.stringify(a.body)}`).toBe(after[action]);
      else {
        expectError(a, 409, 'NODE_NOT_RUNNING');
        expect(refusedUnless[action]!(a.body.error?.['state'] as string), `${action} refused in state ${String(a.body.error?.['state'])}`).toBe(false);
      }
    });
    // Run one at a time, the successes form a possible history: a kill needs a node brought up by
    // the start or a restart since the last kill, a pause a running node, a resume a paused one.
    // (Run at once, two kills would both find n3 running while the first read its counters.)
    const ok = (action: string): number => answers.filter((a, i) => actions[i] === action && a.status === 200).length;
    expect(ok('kill')).toBeLessThanOrEqual(1 + ok('restart'));
    expect(ok('resume')).toBeLessThanOrEqual(ok('pause'));
    expect(ok('pause')).toBeLessThanOrEqual(1 + ok('restart') + ok('resume'));
    if (server.cluster.nodeState('n3') !== 'running') await call('POST', '/cluster/nodes/n3/restart');
    expect(server.cluster.nodeState('n3')).toBe('running');
  });

  it('refuses to join a node that is down', async () => {
    await call('POST', '/cluster/nodes/n6/kill');
    try {
      expectError(await call('POST', '/cluster/nodes/n6/join'), 409, 'NODE_NOT_RUNNING');
    } finally {
      await call('POST', '/cluster/nodes/n6/restart');
    }
  });

  it('joins a spare to the ring and takes it out again', async () => {
    const joined = await call('POST', '/cluster/nodes/n6/join');
    expect(joined.status, JSON.stringify(joined.body)).toBe(202);
    const version = joined.body['ringVersion'] as number;
    expect(version).toBeGreaterThan(1);
    const owns = await waitForSnapshot((s) => (s.ring?.version ?? 0) > version && s.ring !== null && s.ring.nextOwners === undefined && s.ring.owners.includes('n6'), 30_000);
    expect(owns.nodes.find((n) => n.name === 'n6')?.inRing).toBe(true);
    // A join repeated (a client retrying) is the same change, already done: no new ring version.
    const again = await call('POST', '/cluster/nodes/n6/join');
    expect(again.status).toBe(202);
    expect(again.body['ringVersion']).toBeLessThanOrEqual(owns.ring!.version);
    const left = await call('POST', '/cluster/nodes/n6/leave');
    expect(left.status, JSON.stringify(left.body)).toBe(202);
    await waitForSnapshot((s) => s.ring !== null && s.ring.nextOwners === undefined && !s.ring.owners.includes('n6'), 30_000);
    const refused = await call('POST', '/cluster/nodes/n6/leave');
    expectError(refused, 409, 'RING_CHANGE_REFUSED');
    expect(refused.body.error?.['reason']).toBe('UNKNOWN_MEMBER');
  });

  it('refuses bad fault requests with 4xx JSON errors', async () => {
    const cases: [Promise<Answer>, number, string][] = [
      [call('POST', '/cluster/nodes/n9/kill'), 404, 'UNKNOWN_NODE'],
      [call('POST', '/cluster/nodes/n1/explode'), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/nodes/n1/leave?force=maybe'), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/partition', { json: { shape: 'triangle' } }), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/partition', { json: { shape: 'groups', groups: [['n1'], ['n9']] } }), 404, 'UNKNOWN_NODE'],
      [call('POST', '/cluster/partition', { json: { shape: 'groups', groups: [['n1'], ['n1', 'n2']] } }), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/partition', { json: { shape: 'isolate', node: 'n9' } }), 404, 'UNKNOWN_NODE'],
      [call('POST', '/cluster/partition', { body: '[', headers: { 'content-type': 'application/json' } }), 400, 'MALFORMED_JSON'],
      [call('POST', '/cluster/drop', { json: { from: 'n1', to: 'n1' } }), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/drop', { json: { from: 'n1' } }), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/drop', { json: { from: 'n1', to: 'n7' } }), 404, 'UNKNOWN_NODE'],
      [call('POST', '/cluster/loss', { json: { probability: 2 } }), 400, 'BAD_REQUEST'],
      [call('POST', '/cluster/loss', { json: { probability: 0.1, extra: 1 } }), 400, 'BAD_REQUEST'],
      [call('GET', '/cluster/ring?node=n9'), 404, 'UNKNOWN_NODE'],
    ];
    for (const [answer, status, code] of cases) expectError(await answer, status, code);
    const rules = (await call('GET', '/cluster')).body['network'] as { partition: unknown; grudges: unknown[]; lossProbability: number };
    expect(rules).toMatchObject({ partition: null, grudges: [], lossProbability: 0 });
  });
});

describe('serve: the event stream', () => {
  it('starts with hello, then a snapshot every tick, shared by every stream', async () => {
    const [a, b] = await Promise.all([readEvents(['hello', 'snapshot', 'snapshot']), readEvents(['hello', 'snapshot', 'snapshot'])]);
    const hello = a[0]!.data as StreamHello;
    expect(hello.snapshot?.nodes).toHaveLength(6);
    expect(hello.rates.length).toBeGreaterThan(0);
    const snapshot = a[1]!.data as ClusterSnapshot;
    expect(Object.keys(snapshot.views)).toHaveLength(6);
    // One read of the cluster per tick, whatever the number of streams: both saw the same ticks.
    const ticks = (events: { data: unknown }[]): number[] => events.slice(1).map((e) => (e.data as ClusterSnapshot).atMs);
    expect(ticks(a).some((t) => ticks(b).includes(t))).toBe(true);
  });

  it('takes one snapshot per tick however many faults ask for a refresh', async () => {
    await Promise.all(Array.from({ length: 20 }, () => call('POST', '/cluster/heal')));
    await Promise.all(Array.from({ length: 20 }, () => call('POST', '/cluster/loss', { json: { probability: 0 } })));
    // At the 200 ms tick, 3 s hold about 15 snapshots; a loop started per refresh would make hundreds.
    const started = Date.now();
    const events = await readEvents(['hello'], () => true, 3_000);
    const elapsedMs = Date.now() - started;
    const snapshots = events.filter((e) => e.event === 'snapshot').length;
    expect(snapshots).toBeGreaterThan(3);
    expect(snapshots).toBeLessThanOrEqual(Math.ceil(elapsedMs / 200) + 3);
  });

  it('refuses a stream past 64 open ones with 503 TOO_MANY_STREAMS, and takes one again once a slot frees', async () => {
    const controllers = Array.from({ length: 64 }, () => new AbortController());
    try {
      const opened = await Promise.all(controllers.map((c) => fetch(`${server.url}/events`, { signal: c.signal })));
      expect(opened.every((r) => r.status === 200)).toBe(true);
      expectError(await call('GET', '/events'), 503, 'TOO_MANY_STREAMS');
      controllers[0]!.abort();
      await expect.poll(async () => (await readEvents(['hello'])).length, { timeout: 5_000 }).toBe(1);
    } finally {
      for (const c of controllers) c.abort();
      // The server hears the hang-ups a moment later: wait until a stream is taken again.
      await expect.poll(async () => {
        const probe = new AbortController();
        const res = await fetch(`${server.url}/events`, { signal: probe.signal });
        probe.abort();
        return res.status;
      }, { timeout: 10_000 }).toBe(200);
    }
  });

  it('sends a log line when a node stops', async () => {
    const events = readEvents(['hello', 'log'], (e) => e.event !== 'log' || /^n3 (stopped|started)/.test((e.data as { text: string }).text));
    await new Promise((r) => setTimeout(r, 100));
    await call('POST', '/cluster/nodes/n3/restart');
    const log = (await events).find((e) => e.event === 'log')!.data as { text: string };
    expect(log.text).toMatch(/^n3 (stopped|started)/);
  });
});

interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

/** The events of a new stream, as they arrive, until `signal` aborts it or the server ends it. */
async function* streamEvents(signal: AbortSignal): AsyncGenerator<StreamEvent> {
  const res = await fetch(`${server.url}/events`, { signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) yield { event, data: JSON.parse(data) as unknown };
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/**
 * Reads the event stream until `wanted` events (in order of kind, each passing `keep`) arrived,
 * then hangs up; with `forMs`, reads every event for that long instead.
 */
async function readEvents(wanted: readonly string[], keep: (e: StreamEvent) => boolean = () => true, forMs?: number): Promise<StreamEvent[]> {
  const controller = new AbortController();
  const timer = forMs === undefined ? undefined : setTimeout(() => controller.abort(), forMs);
  const out: StreamEvent[] = [];
  try {
    for await (const e of streamEvents(controller.signal)) {
      if (forMs !== undefined) out.push(e);
      else if (e.event === wanted[out.length] && keep(e)) out.push(e);
      if (forMs === undefined && out.length === wanted.length) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (forMs === undefined && out.length < wanted.length) throw new Error('the stream ended');
  return out;
}

/** The first snapshot from the stream that satisfies `ok`. */
async function waitForSnapshot(ok: (s: ClusterSnapshot) => boolean, timeoutMs = 10_000): Promise<ClusterSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await call('GET', '/cluster/snapshot')).body as unknown as ClusterSnapshot;
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`no snapshot matched within ${timeoutMs} ms; the last: ${JSON.stringify({ ring: s.ring && { version: s.ring.version, next: s.ring.nextOwners !== undefined }, network: s.network.description })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('serve: closing', () => {
  it('ends every open stream and stops answering', async () => {
    const own = await startServe({ runtime: 'local', port: 0, nodes: 3, tickMs: 200, gossip: FAST_GOSSIP });
    const res = await fetch(`${own.url}/events`);
    const reader = res.body!.getReader();
    await reader.read();
    await own.close();
    // The stream ends (done, or cut: the server ends its streams and Fastify's forceCloseConnections
    // destroys what is left) rather than hanging; a new request is refused.
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true }));
      if (chunk.done) break;
    }
    await expect(fetch(`${own.url}/cluster`)).rejects.toThrow();
  });
});
