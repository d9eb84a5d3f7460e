/**
 * `pnpm demo serve`: a cluster kept up behind an HTTP API (Fastify) on 127.0.0.1, with a live
 * dashboard at `/`. {@link startServe} starts the demo's cluster and serves it; {@link serveCluster}
 * serves a cluster the caller started (with its own plugins), as long as it runs the store and
 * membership.
 */
import type { Cluster, PluginSpec, RuntimeKind } from '@starling/actors';
import type { GossipOptions } from '@starling/gossip';
import { MAX_KEY_LENGTH, type ReplicationOptions } from '@starling/replication';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { MAX_VALUE_BYTES } from '../load/kv-workload.ts';
import { MAX_DEMO_NODES, startDemoCluster, validateShape } from '../run/cluster.ts';
import { ApiError, toApiError } from './api-error.ts';
import { registerClusterRoutes } from './cluster-routes.ts';
import { dashboardAssets } from './dashboard-assets.ts';
import { registerKvRoutes } from './kv-routes.ts';
import { registerStreamRoute } from './stream-route.ts';
import { ClusterWatch } from './watch.ts';

/** The port `pnpm demo serve` listens on unless told. */
export const DEFAULT_PORT = 7070;

/** Where the server listens: loopback only, so a demo cluster is never open to the network. */
export const SERVE_HOST = '127.0.0.1';

/** How a served cluster is started. */
export interface ServeOptions {
  /** `threads` (default: each node a worker thread) or `local` (every node in this thread). */
  readonly runtime?: Exclude<RuntimeKind, 'simulation'>;
  /** Nodes in the ring. Default 5. */
  readonly nodes?: number;
  /** More nodes, running but outside the ring, for `join`. Default 0. */
  readonly spares?: number;
  /** The store's default replicas, read and write quorums. Default 3, 2, 2. */
  readonly n?: number;
  readonly r?: number;
  readonly w?: number;
  readonly seed?: number;
  /** Port on 127.0.0.1; 0 takes any free port. Default {@link DEFAULT_PORT}. */
  readonly port?: number;
  /** Time between the dashboard's snapshots, in ms. Default 1 000. */
  readonly tickMs?: number;
  readonly gossip?: GossipOptions;
  readonly replication?: ReplicationOptions;
  /** More plugins, on every node. */
  readonly plugins?: readonly PluginSpec[];
}

/** A running server. */
export interface ServeHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly cluster: Cluster;
  readonly app: FastifyInstance;
  /** Stops the server and its streams; {@link startServe}'s handle stops the cluster too. */
  close(): Promise<void>;
}

/**
 * Starts a cluster (5 nodes on worker threads by default, N=3 R=2 W=2, membership and the store)
 * and serves it.
 *
 * ```ts
 * const server = await startServe({ port: 0 });
 * await fetch(`${server.url}/kv/cart`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"items":3}' });
 * await server.close();
 * ```
 */
export async function startServe(o: ServeOptions = {}): Promise<ServeHandle> {
  const nodes = o.nodes ?? 5;
  const spares = o.spares ?? 0;
  const quorum = { n: o.n ?? 3, r: o.r ?? 2, w: o.w ?? 2 };
  const runtime = o.runtime ?? 'threads';
  if ((runtime as RuntimeKind) === 'simulation') throw new ApiError(400, 'BAD_REQUEST', 'serve runs a real-time cluster: runtime threads or local');
  validateShape({ nodes, ...quorum });
  if (!Number.isSafeInteger(spares) || spares < 0 || nodes + spares > MAX_DEMO_NODES) throw new RangeError(`spares must be an integer from 0 to ${MAX_DEMO_NODES - nodes}, got ${spares}`);
  const ringMembers = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  const { cluster } = await startDemoCluster({
    runtime,
    seed: o.seed ?? 1,
    nodes: nodes + spares,
    ...quorum,
    replication: { ...o.replication, ...(spares > 0 ? { ringMembers } : {}) },
    ...(o.gossip !== undefined ? { gossip: o.gossip } : {}),
    ...(o.plugins !== undefined ? { plugins: o.plugins } : {}),
  });
  try {
    const handle = await serveCluster(cluster, { quorum, ...(o.port !== undefined ? { port: o.port } : {}), ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}) });
    return { ...handle, close: () => handle.close().finally(() => cluster.stop()) };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** How {@link serveCluster} serves. */
export interface ServeClusterOptions {
  /** Port on 127.0.0.1; 0 takes any free port. Default {@link DEFAULT_PORT}. */
  readonly port?: number;
  readonly tickMs?: number;
  /** The store's default N, R and W, as the page shows them. */
  readonly quorum: { readonly n: number; readonly r: number; readonly w: number };
}

/** Serves a running cluster (which must run membership and the store); closing the handle leaves the cluster running. */
export async function serveCluster(cluster: Cluster, o: ServeClusterOptions): Promise<ServeHandle> {
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  const assets = await dashboardAssets();
  const watch = new ClusterWatch(cluster, { quorum: o.quorum, ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}) });
  const app = buildApp();
  registerKvRoutes(app, cluster);
  registerClusterRoutes(app, cluster, watch);
  const streams = registerStreamRoute(app, watch);
  app.get('/', (_req, reply) => reply.type('text/html; charset=utf-8').send(assets.html));
  app.get('/dashboard.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').send(assets.js));
  app.get('/dashboard.css', (_req, reply) => reply.type('text/css; charset=utf-8').send(assets.css));
  app.addHook('onClose', async () => {
    streams.endAll();
    await watch.stop();
  });
  await watch.start();
  try {
    await app.listen({ host: SERVE_HOST, port });
  } catch (err) {
    await watch.stop();
    throw err;
  }
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return { url: `http://${SERVE_HOST}:${bound}`, port: bound, cluster, app, close: () => app.close() };
}

function buildApp(): FastifyInstance {
  const app = Fastify({
    // The store's own limit: a larger value is refused before it is parsed.
    bodyLimit: MAX_VALUE_BYTES,
    // A key of MAX_KEY_LENGTH characters may take 3 bytes each percent-encoded (9 characters); the route's schema checks its decoded length.
    routerOptions: { maxParamLength: MAX_KEY_LENGTH * 9 },
    // Server-sent event streams never end by themselves: closing the server ends them.
    forceCloseConnections: true,
    // Reject unknown query parameters and body fields (a typo such as `?R=2` must not pass silently).
    ajv: { customOptions: { removeAdditional: false } },
    // Errors before routing (a malformed percent-encoding in the path) answer as every other error does.
    frameworkErrors: (err, _req, reply) => {
      const e = toApiError(err);
      void (reply as FastifyReply).code(e.status).send(e.body());
    },
    // Errors before Fastify sees a request (headers over Node's 16 KiB, a malformed request line): still a JSON answer.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      // As Node's own handler: answer only if no response has started on this socket (a pipelined
      // bad request must not write into a stream being sent), then close it.
      const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
      if (!socket.writable || started) return void socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify(new ApiError(status, 'BAD_REQUEST', `the request could not be read: ${err.message}`).body());
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
    },
  });
  // Values are JSON: Fastify's default text/plain parser would store a body's text as a string value.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err, _req, reply) => {
    const e = toApiError(err);
    if (e.code === 'INTERNAL') process.stderr.write(`starling serve: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return reply.code(e.status).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(new ApiError(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`).body()));
  return app;
}
