/**
 * The causal context on the wire: an opaque header, as Riak's `X-Riak-Vclock`. A client reads it
 * from a GET (or a PUT's answer) and sends it back with its next write of the key, which then
 * replaces every value that context saw. Its text is base64url of the version vector's JSON, with
 * replica ids sorted so equal contexts spell the same; clients should not rely on that.
 */
import { isVersionVector, type VersionVector } from '@starling/replication';
import { ApiError } from './api-error.ts';

/** The header's name (HTTP header names are case-insensitive; Node gives them lower-cased). */
export const CONTEXT_HEADER = 'x-starling-context';

/**
 * The longest context header accepted, in characters: some 200 replica entries (a replica id is a
 * node name and its start's uid, ~20 bytes), far beyond any real key's writers. It also bounds the
 * work a hostile header can cause, and stays under Node's 16 KiB limit on all headers together, so
 * a too-long context is this API's BAD_CONTEXT, not the HTTP server's 431.
 */
export const MAX_CONTEXT_HEADER_CHARS = 8 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The header text of a context. */
export function encodeContext(context: VersionVector): string {
  const sorted = Object.keys(context)
    .sort()
    .map((id) => [id, context[id]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8').toString('base64url');
}

/**
 * A context from its header text.
 *
 * @throws {@link ApiError} `BAD_CONTEXT` (400) for anything {@link encodeContext} could not have written.
 */
export function decodeContext(text: string): VersionVector {
  const bad = (why: string): never => {
    throw new ApiError(400, 'BAD_CONTEXT', `the ${CONTEXT_HEADER} header is not a context this API wrote: ${why}`);
  };
  if (text.length === 0) bad('it is empty');
  if (text.length > MAX_CONTEXT_HEADER_CHARS) bad(`it is longer than ${MAX_CONTEXT_HEADER_CHARS} characters`);
  if (!BASE64URL.test(text)) bad('it is not base64url');
  let entries: unknown;
  try {
    entries = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return bad('its content is not JSON');
  }
  if (!Array.isArray(entries)) return bad('its content is not a list of [replica, counter] pairs');
  // A map first: replica ids are names peers chose (`__proto__` among them), never keys of a plain object literal.
  const byId = new Map<string, number>();
  for (const e of entries) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || e[0].length === 0) return bad('an entry is not a [replica, counter] pair');
    if (!Number.isSafeInteger(e[1]) || e[1] < 0) return bad(`replica ${JSON.stringify(e[0])} has counter ${JSON.stringify(e[1])}, not a non-negative integer`);
    if (byId.has(e[0])) return bad(`replica ${JSON.stringify(e[0])} appears twice`);
    byId.set(e[0], e[1]);
  }
  const context: VersionVector = Object.fromEntries(byId);
  if (!isVersionVector(context)) return bad('it is not a version vector');
  return context;
}
