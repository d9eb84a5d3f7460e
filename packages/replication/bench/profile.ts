/**
 * Where the time goes, from inside a thread: the V8 sampling profiler through `node:inspector`
 * (which works on the main thread and in worker threads alike, without `--inspect`), summarised
 * to the top functions and the top source areas by self time. Used by the kv benchmark when
 * `KV_BENCH_PROFILE=1` (see kv.ts); nothing here runs otherwise.
 */
import { Session } from 'node:inspector';

/** One line of a profile summary: a function (or an area) and its share of the profiled wall time. */
export interface ProfileLine {
  readonly name: string;
  /** Percent of the profiled wall time (idle included). */
  readonly pct: number;
}

/** A thread's profile, summarised. */
export interface ProfileSummary {
  readonly thread: string;
  readonly ms: number;
  /** Percent of the wall time the thread was idle (waiting for a message). */
  readonly idlePct: number;
  /** Percent in garbage collection. */
  readonly gcPct: number;
  readonly functions: readonly ProfileLine[];
  readonly areas: readonly ProfileLine[];
  /** Every category's share (see `category`), not truncated: summed across threads by the caller. */
  readonly categories: readonly ProfileLine[];
}

/** What kind of work a function is, for a breakdown that adds up across threads. */
export const CATEGORIES = [
  'postMessage (clone + transfer + signal)',
  'msgpackr encode/decode',
  'links: batching, acks (link.ts)',
  'actor runtime (system, loop, pump, worker, mailbox)',
  'store: coordinator, storage, dvv, quorum, ring',
  'key hashing (md5 via node:crypto)',
  'client (KvClient) and bench driver',
  'GC',
  'other native / V8 / Node internals',
] as const;
export type Category = (typeof CATEGORIES)[number];

function category(functionName: string, url: string): Category {
  if (functionName === 'postMessage' || functionName === 'countedPost') return CATEGORIES[0];
  if (functionName === '(garbage collector)') return CATEGORIES[7];
  if (url.includes('msgpackr')) return CATEGORIES[1];
  if (url.includes('/runtime/threads/link.ts')) return CATEGORIES[2];
  if (url.includes('packages/actors/src/')) return CATEGORIES[3];
  if (url.includes('internal/crypto') || functionName === 'Hash' || (url.includes('replication/src/ring.ts') && functionName === 'keyHash')) return CATEGORIES[5];
  if (url.includes('packages/replication/src/client.ts') || url.includes('packages/replication/bench/')) return CATEGORIES[6];
  if (url.includes('packages/replication/src/')) return CATEGORIES[4];
  return CATEGORIES[8];
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The part of a script URL that says where code lives (package and file, or a dependency's name). */
function area(url: string): string {
  if (url === '') return '(native / V8)';
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  const own = /packages\/([^/]+)\/(?:src|bench)\/(.+?)(?:\?.*)?$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^.*\//, '');
}

/** Self time per function and per area, as percents of the profile's wall time. */
export function summarise(thread: string, profile: CpuProfile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Self time from the sample timeline (more exact than hitCount × interval when sampling lags).
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const total = Math.max(1, profile.endTime - profile.startTime);
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  const categories = new Map<string, number>(CATEGORIES.map((c) => [c, 0]));
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (functionName === '(garbage collector)') gc += us;
    const where = area(url);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    areas.set(where, (areas.get(where) ?? 0) + us);
    const cat = category(functionName, url);
    categories.set(cat, categories.get(cat)! + us);
  }
  const lines = (m: Map<string, number>, n = top): ProfileLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, pct: (100 * us) / total }));
  return {
    thread,
    ms: total / 1000,
    idlePct: (100 * idle) / total,
    gcPct: (100 * gc) / total,
    functions: lines(fns),
    areas: lines(areas),
    categories: lines(categories, categories.size),
  };
}

/** A running profile of the current thread; `stop` summarises it. */
export async function startProfile(): Promise<{ stop(thread: string): Promise<ProfileSummary> }> {
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
  await post(session, 'Profiler.start');
  return {
    async stop(thread) {
      try {
        const { profile } = (await post(session, 'Profiler.stop')) as { profile: CpuProfile };
        return summarise(thread, profile);
      } finally {
        session.disconnect();
      }
    },
  };
}

/** The summary as log lines; with `ops`, each share also as µs of that thread's wall time per operation. */
export function formatProfile(p: ProfileSummary, ops?: number): string[] {
  const perOp = (pct: number): string => (ops === undefined ? '' : ` ${((pct / 100) * p.ms * 1000 / ops).toFixed(1).padStart(6)} µs/op`);
  const busy = 100 - p.idlePct;
  return [
    `  profile ${p.thread}: ${p.ms.toFixed(0)} ms, busy ${busy.toFixed(0)}%${perOp(busy)}, GC ${p.gcPct.toFixed(1)}%`,
    `    by area: ${p.areas.map((l) => `${l.name} ${l.pct.toFixed(1)}%`).join(', ')}`,
    ...p.functions.map((l) => `    ${l.pct.toFixed(1).padStart(5)}%${perOp(l.pct)}  ${l.name}`),
  ];
}
