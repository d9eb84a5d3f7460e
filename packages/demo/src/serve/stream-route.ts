/**
 * `GET /events`: the dashboard's server-sent event stream (the WHATWG HTML standard's
 * `text/event-stream`). A new stream gets `hello` (the latest snapshot, the rate history and the
 * event log), then `snapshot` every tick and `log` as events happen. Every stream shares the
 * watch's one read of the cluster per tick.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error.ts';
import type { ClusterSnapshot, LogLine } from './snapshot.ts';
import type { ClusterWatch } from './watch.ts';

/** Streams open at once, at most: each is a socket and a listener. */
export const MAX_STREAMS = 64;

/** How long a browser waits before it reconnects a dropped stream, in ms (the stream's `retry` field). */
const RECONNECT_MS = 1_000;

/**
 * Bytes a stream may have queued unsent before it is ended: a client that stops reading would
 * otherwise grow the server's memory by every snapshot. A browser reconnects and starts afresh.
 */
export const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;

/** Registers the stream route on `app`; ending every stream on close is the caller's (see {@link StreamSet.endAll}). */
export function registerStreamRoute(app: FastifyInstance, watch: ClusterWatch): StreamSet {
  const streams = new StreamSet();
  // A snapshot is encoded once for every stream, not once per stream.
  const encoded = new WeakMap<object, string>();
  const encode = (data: object): string => {
    let text = encoded.get(data);
    if (text === undefined) {
      text = JSON.stringify(data);
      encoded.set(data, text);
    }
    return text;
  };
  // No HEAD route: a hijacked stream never ends, and a HEAD answer must.
  app.get('/events', { exposeHeadRoute: false }, (req: FastifyRequest, reply: FastifyReply) => {
    if (streams.size >= MAX_STREAMS) throw new ApiError(503, 'TOO_MANY_STREAMS', `at most ${MAX_STREAMS} event streams at once`);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: object): void => {
      // Destroyed, not ended: ending would wait to flush a backlog the client is not reading.
      if (raw.writableLength > MAX_STREAM_BACKLOG_BYTES) return void raw.destroy();
      raw.write(`event: ${event}\ndata: ${encode(data)}\n\n`);
    };
    raw.write(`retry: ${RECONNECT_MS}\n\n`);
    send('hello', watch.hello());
    const onSnapshot = (s: ClusterSnapshot): void => send('snapshot', s);
    const onLog = (l: LogLine): void => send('log', l);
    watch.on('snapshot', onSnapshot);
    watch.on('log', onLog);
    function end(): void {
      watch.off('snapshot', onSnapshot);
      watch.off('log', onLog);
      streams.delete(end);
      if (!raw.writableEnded) raw.end();
    }
    streams.add(end);
    req.raw.on('close', end);
  });
  return streams;
}

/** The open streams, each by the function that ends it. */
export class StreamSet extends Set<() => void> {
  /** Ends every stream (the server is closing: a stream never ends by itself). */
  endAll(): void {
    for (const end of [...this]) end();
  }
}
