/**
 * The dashboard: one server-sent event stream (`/events`) feeds every panel; the buttons post to
 * the cluster API and the next snapshot shows what they did.
 */
import type { ClusterSnapshot, LogLine, StreamHello } from '../src/serve/snapshot.ts';
import { byId, clock } from './dom.ts';
import { type NodeAction, prependLog, renderLinks, renderNodes, renderRepairs, renderViews } from './panels.ts';
import { RatesChart } from './rates-chart.ts';
import { renderRing } from './ring.ts';

const chart = new RatesChart(byId<HTMLCanvasElement>('rates'));
const streamBadge = byId('stream');
const actionError = byId('action-error');

function render(s: ClusterSnapshot): void {
  const running = s.nodes.filter((n) => n.state === 'running').length;
  byId('summary').textContent = `${s.runtime} · ${s.nodes.length} nodes, ${running} running · N=${s.quorum.n} R=${s.quorum.r} W=${s.quorum.w} · t=${clock(s.atMs)}`;
  byId('network').textContent = `network: ${s.network.description}`;
  renderNodes(byId('nodes'), s, (node, action) => void post(`/cluster/nodes/${encodeURIComponent(node)}/${action satisfies NodeAction}`));
  renderViews(byId<HTMLTableElement>('views'), s);
  renderLinks(byId<HTMLTableElement>('links'), s);
  // The ring's grid is a thousand cells: redrawn only when the ring changed.
  const ringKey = s.ring === null ? '' : `${s.ring.from}:${s.ring.version}:${s.ring.nextOwners?.join() ?? ''}:${s.nodes.map((n) => n.name).join()}`;
  if (ringKey !== lastRingKey) {
    lastRingKey = ringKey;
    renderRing(byId('ring'), s);
  }
  renderRepairs(byId('repairs'), s);
  const loss = byId<HTMLSelectElement>('loss');
  const p = String(s.network.lossProbability);
  // A loss set through the API may be one the menu does not list: it gets an entry of its own.
  if (![...loss.options].some((o) => o.value === p)) loss.append(new Option(`${Math.round(s.network.lossProbability * 1000) / 10}%`, p));
  if (document.activeElement !== loss) loss.value = p;
}

let lastRingKey = '';

/** Posts an action; its error (a 4xx/5xx JSON body) shows beside the controls. */
async function post(path: string, body?: unknown): Promise<void> {
  actionError.textContent = '';
  try {
    const res = await fetch(path, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!res.ok) {
      const err = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      actionError.textContent = err.error?.message ?? `${res.status} ${res.statusText}`;
    }
  } catch (err) {
    actionError.textContent = String(err);
  }
}

byId('partition').addEventListener('click', () => void post('/cluster/partition', { shape: byId<HTMLSelectElement>('partition-shape').value }));
byId('heal').addEventListener('click', () => void post('/cluster/heal'));
byId<HTMLSelectElement>('loss').addEventListener('change', (e) => void post('/cluster/loss', { probability: Number((e.target as HTMLSelectElement).value) }));

/**
 * The stream. EventSource reconnects by itself after a dropped connection (after the stream's
 * `retry`), but gives up for good on an answer that is not a stream (a 503 when too many are
 * open): then this reconnects, backing off up to 10 s.
 */
const setStream = (state: string): void => {
  streamBadge.dataset['state'] = state;
  streamBadge.textContent = state;
};
let backoffMs = 1_000;

function connect(): void {
  const source = new EventSource('/events');
  source.addEventListener('open', () => {
    backoffMs = 1_000;
    setStream('live');
  });
  source.addEventListener('error', () => {
    setStream('reconnecting');
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 10_000);
    }
  });
  source.addEventListener('hello', (e) => {
    const hello = JSON.parse((e as MessageEvent<string>).data) as StreamHello;
    chart.reset(hello.rates);
    byId('log').replaceChildren();
    prependLog(byId('log'), hello.log);
    if (hello.snapshot !== null) render(hello.snapshot);
  });
  source.addEventListener('snapshot', (e) => {
    const s = JSON.parse((e as MessageEvent<string>).data) as ClusterSnapshot;
    chart.add(s.rates);
    render(s);
  });
  source.addEventListener('log', (e) => prependLog(byId('log'), [JSON.parse((e as MessageEvent<string>).data) as LogLine]));
}

connect();
