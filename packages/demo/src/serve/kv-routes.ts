/**
 * The key-value API: `GET`, `PUT` and `DELETE /kv/:key`. The causal context travels in the
 * `X-Starling-Context` header both ways; siblings come back as one JSON list under one context.
 * N, R, W, the request deadline, the coordinator and the session are query parameters.
 */
import type { Cluster } from '@starling/actors';
import { type ClientOptions, KvClient, MAX_KEY_LENGTH, type WriteOptions } from '@starling/replication';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_DEMO_NODES } from '../run/cluster.ts';
import { ApiError } from './api-error.ts';
import { CONTEXT_HEADER, decodeContext, encodeContext } from './context-header.ts';

/** Query parameters of every key-value request. */
interface KvQuery {
  readonly n?: number;
  readonly r?: number;
  readonly w?: number;
  /** A session's name: its reads see its own writes and never go back in time (Terry et al.). */
  readonly session?: string;
  /** The node whose coordinator serves the request. Default: the running nodes in turn. */
  readonly node?: string;
  /** The coordinator's deadline, in ms. */
  readonly timeout_ms?: number;
}

/** Sessions kept at once; the least recently used is forgotten past this (its guarantees end with it). */
export const MAX_SESSIONS = 256;
/** Keys a session remembers a context for; past this its least recently used key's guarantees end. Bounds the server's memory at MAX_SESSIONS x this. */
export const MAX_SESSION_KEYS = 1_024;

const QUORUM = { type: 'integer', minimum: 1, maximum: MAX_DEMO_NODES } as const;

const KV_SCHEMA = {
  params: {
    type: 'object',
    properties: { key: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH } },
    required: ['key'],
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n: QUORUM,
      r: QUORUM,
      w: QUORUM,
      session: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
      node: { type: 'string', minLength: 1, maxLength: 64 },
      timeout_ms: { type: 'integer', minimum: 1, maximum: 60_000 },
    },
  },
} as const;

type KvRequest = FastifyRequest<{ Params: { key: string }; Querystring: KvQuery }>;

/** Registers the key-value routes on `app`. */
export function registerKvRoutes(app: FastifyInstance, cluster: Cluster): void {
  const clients = new KvClients(cluster);

  app.get('/kv/:key', { schema: KV_SCHEMA }, async (req: KvRequest, reply: FastifyReply) => {
    const { client, options } = clients.of(req.query);
    const got = await client.get(req.params.key, options);
    reply.header(CONTEXT_HEADER, encodeContext(got.context));
    if (got.values.length === 0) {
      throw new ApiError(404, 'NOT_FOUND', got.isDeleted ? `key ${JSON.stringify(req.params.key)} is deleted` : `no key ${JSON.stringify(req.params.key)}`, {
        isDeleted: got.isDeleted,
        replicas: got.replicas,
      });
    }
    return { values: got.values, replicas: got.replicas };
  });

  app.put('/kv/:key', { schema: KV_SCHEMA }, async (req: KvRequest, reply: FastifyReply) => {
    const { client, options } = clients.of(req.query);
    if (req.body === null || req.body === undefined) throw new ApiError(400, 'BAD_REQUEST', 'a value is any JSON but null (DELETE removes a key)');
    const put = await client.put(req.params.key, req.body, withContext(options, req));
    reply.header(CONTEXT_HEADER, encodeContext(put.context));
    return { values: put.values, replicas: put.replicas };
  });

  app.delete('/kv/:key', { schema: KV_SCHEMA }, async (req: KvRequest, reply: FastifyReply) => {
    const { client, options } = clients.of(req.query);
    const done = await client.delete(req.params.key, withContext(options, req));
    reply.header(CONTEXT_HEADER, encodeContext(done.context));
    return reply.code(204).send();
  });
}

function withContext(options: ClientOptions, req: FastifyRequest): WriteOptions {
  // Node joins repeated headers with ", ", which is not base64url: two contexts are BAD_CONTEXT.
  const header = req.headers[CONTEXT_HEADER] as string | undefined;
  return header === undefined ? options : { ...options, context: decodeContext(header) };
}

/** The clients requests go through: one shared, and one per named session. */
class KvClients {
  private readonly shared: KvClient;
  /** Insertion order is recency: a used session moves to the end. */
  private readonly sessions = new Map<string, KvClient>();
  private turn = 0;

  constructor(private readonly cluster: Cluster) {
    this.shared = new KvClient(cluster, { name: 'http' });
  }

  of(q: KvQuery): { client: KvClient; options: ClientOptions } {
    const node = q.node === undefined ? this.nextRunning() : this.checked(q.node);
    const options: ClientOptions = {
      node,
      ...(q.n !== undefined ? { n: q.n } : {}),
      ...(q.r !== undefined ? { r: q.r } : {}),
      ...(q.w !== undefined ? { w: q.w } : {}),
      ...(q.timeout_ms !== undefined ? { timeoutMs: q.timeout_ms } : {}),
    };
    return { client: q.session === undefined ? this.shared : this.session(q.session), options };
  }

  private session(name: string): KvClient {
    let client = this.sessions.get(name);
    if (client !== undefined) this.sessions.delete(name);
    else client = new KvClient(this.cluster, { name: `session:${name}`, session: true, maxSessionKeys: MAX_SESSION_KEYS });
    this.sessions.set(name, client);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return client;
  }

  private checked(node: string): string {
    if (!this.cluster.nodes.includes(node)) throw new ApiError(404, 'UNKNOWN_NODE', `no node ${JSON.stringify(node)}; the nodes are ${this.cluster.nodes.join(', ')}`);
    const state = this.cluster.nodeState(node);
    if (state !== 'running') throw new ApiError(503, 'NODE_NOT_RUNNING', `node ${node} is ${state}`, { node, state });
    return node;
  }

  /** The running nodes in turn, as a load balancer that skips a node the host knows is down. */
  private nextRunning(): string {
    const running = this.cluster.nodes.filter((n) => this.cluster.nodeState(n) === 'running');
    if (running.length === 0) throw new ApiError(503, 'NODE_NOT_RUNNING', 'no node is running');
    return running[this.turn++ % running.length]!;
  }
}
