/**
 * The ring, partition by partition in hash order (row by row), each cell coloured by its owner.
 * A donut of a thousand partitions blurs to grey at any size a page has room for; a grid keeps
 * every partition readable. During a ring change a moving partition is outlined in the colour of
 * the node it moves to.
 */
import type { ClusterSnapshot } from '../src/serve/snapshot.ts';
import { colourOf, h } from './dom.ts';

const SVG = 'http://www.w3.org/2000/svg';
const CELL = 10;
const GAP = 1;

function rect(x: number, y: number, fill: string, title: string, outline: string | undefined): SVGRectElement {
  const r = document.createElementNS(SVG, 'rect');
  r.setAttribute('x', String(x));
  r.setAttribute('y', String(y));
  r.setAttribute('width', String(CELL));
  r.setAttribute('height', String(CELL));
  r.setAttribute('fill', fill);
  if (outline !== undefined) {
    r.setAttribute('stroke', outline);
    r.setAttribute('stroke-width', '2');
  }
  const t = document.createElementNS(SVG, 'title');
  t.textContent = title;
  r.append(t);
  return r;
}

/** Draws the snapshot's ring into `box`. */
export function renderRing(box: HTMLElement, s: ClusterSnapshot): void {
  const ring = s.ring;
  if (ring === null) {
    box.replaceChildren(h('p', { class: 'muted' }, 'no ring yet'));
    return;
  }
  const index = new Map(s.nodes.map((n, i) => [n.name, i]));
  const q = ring.partitionCount;
  const columns = Math.ceil(Math.sqrt(q));
  const rows = Math.ceil(q / columns);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${columns * (CELL + GAP)} ${rows * (CELL + GAP)}`);
  svg.setAttribute('data-testid', 'ring');
  let moving = 0;
  ring.owners.forEach((owner, p) => {
    const next = ring.nextOwners?.[p];
    const moves = next !== undefined && next !== owner;
    if (moves) moving++;
    const x = (p % columns) * (CELL + GAP);
    const y = Math.floor(p / columns) * (CELL + GAP);
    svg.append(rect(x, y, colourOf(index.get(owner) ?? 0), moves ? `partition ${p}: ${owner}, moving to ${next}` : `partition ${p}: ${owner}`, moves ? colourOf(index.get(next) ?? 0) : undefined));
  });
  const legend = h(
    'div',
    { class: 'legend' },
    ...s.nodes.filter((n) => n.partitions > 0).map((n) => h('span', {}, h('span', { class: 'swatch', style: `background:${colourOf(index.get(n.name) ?? 0)}` }), ` ${n.name}: ${n.partitions}`)),
  );
  const status = `ring v${ring.version}, ${q} partitions${moving > 0 ? `, ${moving} moving` : ''}; claimant ${ring.claimant}; as ${ring.from} has it`;
  box.replaceChildren(h('p', { class: 'muted' }, status), svg, legend);
}
