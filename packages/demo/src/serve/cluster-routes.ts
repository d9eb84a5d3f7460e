/**
 * The cluster API: what the cluster is (members and each node's view of them, the ring, the links)
 * and fault control (partitions, heal, one-way drops, loss, kill, restart, pause, resume, and ring
 * joins and leaves). Every fault answers once it is in force.
 */
import { bridge, type Cluster, halves, isolate, majoritiesRing, majorityMinority, type Partition } from '@starling/actors';
import { RingAdmin } from '@starling/replication';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';
import type { ClusterWatch } from './watch.ts';

/** A partition as the API takes it: explicit groups or ring, a named shape over every node, or one node cut off. */
export type PartitionBody =
  | { readonly shape: 'groups'; readonly groups: readonly (readonly string[])[] }
  | { readonly shape: 'ring'; readonly order: readonly string[] }
  | { readonly shape: 'majority-minority' | 'halves' | 'bridge' | 'majorities-ring' }
  | { readonly shape: 'isolate'; readonly node: string };

const NODE_NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;
const NODE_LIST = { type: 'array', items: NODE_NAME, minItems: 1, maxItems: 64 } as const;

const PARTITION_SCHEMA = {
  body: {
    type: 'object',
    required: ['shape'],
    oneOf: [
      { properties: { shape: { const: 'groups' }, groups: { type: 'array', items: NODE_LIST, minItems: 1, maxItems: 64 } }, required: ['groups'], additionalProperties: false },
      { properties: { shape: { const: 'ring' }, order: NODE_LIST }, required: ['order'], additionalProperties: false },
      { properties: { shape: { enum: ['majority-minority', 'halves', 'bridge', 'majorities-ring'] } }, additionalProperties: false },
      { properties: { shape: { const: 'isolate' }, node: NODE_NAME }, required: ['node'], additionalProperties: false },
    ],
  },
} as const;

const DROP_SCHEMA = {
  body: { type: 'object', properties: { from: NODE_NAME, to: NODE_NAME }, required: ['from', 'to'], additionalProperties: false },
} as const;

const LOSS_SCHEMA = {
  body: { type: 'object', properties: { probability: { type: 'number', minimum: 0, maximum: 1 } }, required: ['probability'], additionalProperties: false },
} as const;

const NODE_ACTIONS = ['kill', 'restart', 'pause', 'resume', 'join', 'leave'] as const;
type NodeAction = (typeof NODE_ACTIONS)[number];

const NODE_SCHEMA = {
  params: { type: 'object', properties: { node: NODE_NAME, action: { enum: NODE_ACTIONS } }, required: ['node', 'action'] },
  querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean' } } },
} as const;

const RING_SCHEMA = {
  querystring: { type: 'object', additionalProperties: false, properties: { node: NODE_NAME } },
} as const;

/** How long a join or leave waits for the claimant to commit it, in ms. */
const RING_CHANGE_WAIT_MS = 10_000;
/** How long a read of one node waits, in ms. */
const READ_WAIT_MS = 2_000;

/** Registers the cluster routes on `app`. */
export function registerClusterRoutes(app: FastifyInstance, cluster: Cluster, watch: ClusterWatch): void {
  const admin = new RingAdmin(cluster);
  const known = (node: string): string => {
    if (!cluster.nodes.includes(node)) throw new ApiError(404, 'UNKNOWN_NODE', `no node ${JSON.stringify(node)}; the nodes are ${cluster.nodes.join(', ')}`);
    return node;
  };
  const running = (): string[] => cluster.nodes.filter((n) => cluster.nodeState(n) === 'running');
  // The page's next snapshot shows a fault at once, not a tick later.
  const refreshed = (): void => watch.refresh();
  // Actions on one node run one at a time: a kill racing a restart would otherwise check the
  // node's state, wait for its counters, and act on a state that changed meanwhile.
  const queues = new Map<string, Promise<unknown>>();
  const serially = <T>(node: string, action: () => Promise<T>): Promise<T> => {
    const next = (queues.get(node) ?? Promise.resolve()).then(action, action);
    const settled = next.catch(() => undefined);
    queues.set(node, settled);
    void settled.then(() => {
      if (queues.get(node) === settled) queues.delete(node);
    });
    return next;
  };

  app.get('/cluster', async () => ({
    runtime: cluster.runtime,
    nodes: cluster.nodes.map((name) => ({ name, state: cluster.nodeState(name), uid: cluster.nodeUid(name) })),
    network: cluster.network.rules,
  }));

  app.get('/cluster/members', async () => ({ views: await watch.readViews(running()) }));

  app.get('/cluster/ring', { schema: RING_SCHEMA }, async (req: FastifyRequest<{ Querystring: { node?: string } }>) => {
    const from = req.query.node === undefined ? running()[0] : known(req.query.node);
    if (from === undefined) throw new ApiError(503, 'NODE_NOT_RUNNING', 'no node is running');
    if (cluster.nodeState(from) !== 'running') throw new ApiError(409, 'NODE_NOT_RUNNING', `node ${from} is ${cluster.nodeState(from)}`);
    return { from, ring: await admin.ring(from, { timeoutMs: READ_WAIT_MS }) };
  });

  app.get('/cluster/links', async () => ({ network: cluster.network.rules, links: await cluster.network.links() }));

  app.get('/cluster/snapshot', async () => watch.hello().snapshot);

  app.post('/cluster/partition', { schema: PARTITION_SCHEMA }, async (req: FastifyRequest<{ Body: PartitionBody }>) => {
    const partition = partitionOf(req.body, cluster.nodes);
    for (const n of partition.shape === 'groups' ? partition.groups.flat() : partition.order) known(n);
    await cluster.network.partition(partition);
    refreshed();
    return { network: cluster.network.rules };
  });

  app.post('/cluster/heal', async () => {
    await cluster.network.heal();
    refreshed();
    return { network: cluster.network.rules };
  });

  app.post('/cluster/drop', { schema: DROP_SCHEMA }, async (req: FastifyRequest<{ Body: { from: string; to: string } }>) => {
    const from = known(req.body.from);
    const to = known(req.body.to);
    if (from === to) throw new ApiError(400, 'BAD_REQUEST', 'a one-way drop is between two different nodes');
    await cluster.network.grudge(from, to);
    refreshed();
    return { network: cluster.network.rules };
  });

  app.post('/cluster/loss', { schema: LOSS_SCHEMA }, async (req: FastifyRequest<{ Body: { probability: number } }>) => {
    await cluster.network.setLoss(req.body.probability);
    refreshed();
    return { network: cluster.network.rules };
  });

  app.post('/cluster/nodes/:node/:action', { schema: NODE_SCHEMA }, async (req: FastifyRequest<{ Params: { node: string; action: NodeAction }; Querystring: { force?: boolean } }>, reply) => {
    const node = known(req.params.node);
    const { action } = req.params;
    const answer = await serially(node, () => act(node, action, req.query.force === true));
    refreshed();
    return reply.code(answer.status).send(answer.body);
  });

  /** Does `action` to `node`, checking its state first (the caller runs one action per node at a time). */
  async function act(node: string, action: NodeAction, force: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
    const state = cluster.nodeState(node);
    const refuse = (why: string): never => {
      throw new ApiError(409, 'NODE_NOT_RUNNING', `cannot ${action} ${node}: ${why}`, { node, state });
    };
    switch (action) {
      case 'kill':
        if (state === 'down') refuse('it is down');
        // Its counters die with it: read them first, so the totals keep what it counted.
        await watch.sampleBeforeKill(node).catch(() => undefined);
        await cluster.kill(node);
        break;
      case 'restart':
        if (state === 'running') await watch.sampleBeforeKill(node).catch(() => undefined);
        await cluster.restart(node);
        break;
      case 'pause':
        if (state !== 'running') refuse(`it is ${state}`);
        await cluster.pause(node);
        break;
      case 'resume':
        if (state !== 'paused') refuse(`it is ${state}, not paused`);
        await cluster.resume(node);
        break;
      case 'join':
      case 'leave': {
        // A joiner must be up to receive its partitions; a node gone for good leaves with force.
        if (action === 'join' && state !== 'running') refuse(`it is ${state}; a joining node pulls its partitions`);
        const via = running()[0];
        if (via === undefined) throw new ApiError(503, 'NODE_NOT_RUNNING', 'no node is running to take the ring change');
        const opts = { via, timeoutMs: RING_CHANGE_WAIT_MS };
        const version = action === 'join' ? await admin.join(node, opts) : await admin.leave(node, { ...opts, force });
        // 202: the change is committed; partitions move in the background (the stream shows them).
        return { status: 202, body: { node, action, ringVersion: version } };
      }
    }
    return { status: 200, body: { node, action, state: cluster.nodeState(node), uid: cluster.nodeUid(node) } };
  }
}

function partitionOf(body: PartitionBody, nodes: readonly string[]): Partition {
  switch (body.shape) {
    case 'groups':
      return { shape: 'groups', groups: body.groups };
    case 'ring':
      return { shape: 'ring', order: body.order };
    case 'majority-minority':
      return majorityMinority(nodes);
    case 'halves':
      return halves(nodes);
    case 'bridge':
      return bridge(nodes);
    case 'majorities-ring':
      return majoritiesRing(nodes);
    case 'isolate':
      return isolate(nodes, body.node);
  }
}
