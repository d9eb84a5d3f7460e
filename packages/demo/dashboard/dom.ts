/** A small element builder: the page redraws a few dozen cells per tick, no framework needed. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, string | number | undefined>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** The element with `id`; the page is ours, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** One colour per node, by its position in the cluster (16 nodes at most). */
const PALETTE = ['#1971c2', '#2f9e44', '#e8590c', '#9c36b5', '#0c8599', '#c2255c', '#5c940d', '#f08c00', '#3b5bdb', '#862e9c', '#087f5b', '#d9480f', '#364fc7', '#a61e4d', '#2b8a3e', '#495057'];

export function colourOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** `12 345` style thousands, as the reports print them. */
export function figure(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US').replace(/,/g, '\u202f');
}

/** Cluster time as `m:ss`. */
export function clock(atMs: number): string {
  const s = Math.floor(atMs / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
