/** The dashboard's tables and cards, redrawn from each snapshot. */
import type { ClusterSnapshot, LogLine } from '../src/serve/snapshot.ts';
import { clock, colourOf, figure, h } from './dom.ts';

/** What a node card's buttons ask the server to do. */
export type NodeAction = 'kill' | 'restart' | 'pause' | 'resume' | 'join' | 'leave';

/**
 * Node cards: state, partitions, keys, hints, and the buttons that act on the node. Cards are
 * built once and updated in place: a card rebuilt every tick would swallow a click that lands
 * between the press and the release.
 */
export function renderNodes(box: HTMLElement, s: ClusterSnapshot, act: (node: string, action: NodeAction) => void): void {
  const cards = new Map([...box.querySelectorAll<HTMLElement>('[data-testid="node"]')].map((el) => [el.dataset['node']!, el]));
  s.nodes.forEach((n, i) => {
    let card = cards.get(n.name);
    if (card === undefined) {
      card = nodeCard(n.name, i, act);
      box.append(card);
    }
    cards.delete(n.name);
    card.dataset['state'] = n.state;
    card.querySelector('.state')!.textContent = n.state;
    card.querySelector('.ring-share')!.textContent = n.inRing ? `${n.partitions} partitions` : 'not in the ring';
    card.querySelector('.store')!.textContent = `${figure(n.keys)} keys, ${figure(n.hintsHeld)} hints held`;
    const set = (slot: string, action: NodeAction, label: string, enabled: boolean): void => {
      const b = card.querySelector<HTMLButtonElement>(`button[data-slot="${slot}"]`)!;
      b.dataset['action'] = action;
      b.textContent = label;
      b.disabled = !enabled;
    };
    set('kill', 'kill', 'Kill', n.state !== 'down');
    set('restart', 'restart', 'Restart', true);
    if (n.state === 'paused') set('pause', 'resume', 'Resume', true);
    else set('pause', 'pause', 'Pause', n.state === 'running');
    if (n.inRing) set('ring', 'leave', 'Leave', n.state === 'running');
    else set('ring', 'join', 'Join', n.state === 'running');
  });
  for (const gone of cards.values()) gone.remove();
}

function nodeCard(name: string, index: number, act: (node: string, action: NodeAction) => void): HTMLElement {
  const button = (slot: string): HTMLButtonElement => {
    const b = h('button', { type: 'button', 'data-slot': slot, 'data-node': name });
    // The action is read at the click: the same button is Pause or Resume, Join or Leave.
    b.addEventListener('click', () => act(name, b.dataset['action'] as NodeAction));
    return b;
  };
  return h(
    'div',
    { class: 'node', 'data-testid': 'node', 'data-node': name },
    h('h3', {}, h('span', { class: 'swatch', style: `background:${colourOf(index)}` }), name, h('span', { class: 'muted state' })),
    h('div', { class: 'muted ring-share' }),
    h('div', { class: 'muted store' }),
    h('div', { class: 'buttons' }, button('kill'), button('restart'), button('pause'), button('ring')),
  );
}

const STATE_LETTER: Readonly<Record<string, string>> = { alive: 'alive', suspect: 'suspect', dead: 'dead', left: 'left', unknown: '?' };

/** Each running node's view of each member: a row per observer. */
export function renderViews(table: HTMLTableElement, s: ClusterSnapshot): void {
  const names = s.nodes.map((n) => n.name);
  const head = h('tr', {}, h('th', {}, 'sees →'), ...names.map((n) => h('th', {}, n)));
  const rows = names.map((observer) => {
    const view = s.views[observer];
    const cells = names.map((subject) => {
      const state = view === undefined || view === null ? 'unknown' : (view.find((m) => m.name === subject)?.state ?? 'unknown');
      const m = view?.find((x) => x.name === subject);
      return h(
        'td',
        { 'data-testid': 'view-cell', 'data-observer': observer, 'data-subject': subject, 'data-state': state, title: m === undefined ? `${observer} has no view of ${subject}` : `${observer} sees ${subject} ${state} (incarnation ${m.incarnation})` },
        STATE_LETTER[state] ?? state,
      );
    });
    return h('tr', {}, h('th', {}, observer), ...cells);
  });
  table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
}

/** The link matrix: messages per second on each directed link, struck through where the rules cut it. */
export function renderLinks(table: HTMLTableElement, s: ClusterSnapshot): void {
  const names = s.nodes.map((n) => n.name);
  const byKey = new Map(s.links.map((l) => [`${l.from}->${l.to}`, l]));
  const head = h('tr', {}, h('th', {}, 'from \\ to'), ...names.map((n) => h('th', {}, n)));
  const rows = names.map((from) =>
    h(
      'tr',
      {},
      h('th', {}, from),
      ...names.map((to) => {
        if (from === to) return h('td', { class: 'self' }, '·');
        const l = byKey.get(`${from}->${to}`);
        const cls = [l?.isCut ? 'cut' : '', (l?.droppedPerS ?? 0) > 0 ? 'dropping' : ''].filter(Boolean).join(' ');
        return h(
          'td',
          { class: cls || undefined, 'data-testid': 'link-cell', 'data-from': from, 'data-to': to, 'data-cut': l?.isCut ? 'true' : 'false', title: `${from}→${to}: ${l?.sentPerS ?? 0} sent/s, ${l?.droppedPerS ?? 0} dropped/s` },
          figure(l?.sentPerS ?? 0),
        );
      }),
    ),
  );
  table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
}

/** Hints, repairs and transfers, added up over every start of every node. */
export function renderRepairs(list: HTMLElement, s: ClusterSnapshot): void {
  const r = s.repairs;
  const rows: [string, number][] = [
    ['writes taken as hints', r.hintsStored],
    ['hints delivered', r.hintsDelivered],
    ['hints expired', r.hintsExpired],
    ['hints held now', s.nodes.reduce((sum, n) => sum + (n.hintsHeld ?? 0), 0)],
    ['sloppy writes', r.sloppyWrites],
    ['read repairs', r.readRepairs],
    ['anti-entropy exchanges', r.antiEntropyExchanges],
    ['keys repaired by anti-entropy', r.keysRepairedByAntiEntropy],
    ['keys moved by ring changes', r.keysTransferred],
    ['partitions still to move', r.partitionsPending],
  ];
  list.replaceChildren(...rows.flatMap(([label, n]) => [h('dt', {}, label), h('dd', {}, figure(n))]));
}

/** Lines kept on the page, newest first. */
const LOG_LINES = 200;

export function prependLog(list: HTMLElement, lines: readonly LogLine[]): void {
  list.prepend(...[...lines].reverse().map((l) => h('li', { 'data-kind': l.kind }, `${clock(l.atMs)}  ${l.text}`)));
  while (list.childElementCount > LOG_LINES) list.lastElementChild!.remove();
}
