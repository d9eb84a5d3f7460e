/**
 * Messages per second by type over time, with Chart.js: the busiest types each get a line, the
 * rest add up under `other`, so the legend stays readable while the protocol mix shifts.
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { RatePoint } from '../src/serve/snapshot.ts';
import { clock, colourOf } from './dom.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

/** Lines drawn, at most; the rest are `other`. */
const MAX_LINES = 8;
/** Points kept (the server sends two minutes at one tick per second). */
const MAX_POINTS = 120;

export class RatesChart {
  private readonly points: RatePoint[] = [];
  private readonly chart: Chart<'line', number[], string>;

  constructor(canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        elements: { point: { radius: 0 }, line: { borderWidth: 2, cubicInterpolationMode: 'monotone' } },
        scales: { x: { ticks: { maxTicksLimit: 12, maxRotation: 0 } }, y: { beginAtZero: true, title: { display: true, text: 'messages/s' } } },
        plugins: { legend: { position: 'right' } },
      },
    });
  }

  /** Replaces the history (a new stream). */
  reset(points: readonly RatePoint[]): void {
    this.points.splice(0, this.points.length, ...points.slice(-MAX_POINTS));
    this.draw();
  }

  add(point: RatePoint): void {
    // A snapshot taken right after a tick (a fault's refresh) repeats that tick's rates.
    if (this.points.at(-1)?.atMs === point.atMs) return;
    this.points.push(point);
    if (this.points.length > MAX_POINTS) this.points.shift();
    this.draw();
  }

  private draw(): void {
    // The types with the most messages over the window get lines, in a stable order of that total.
    const totals = new Map<string, number>();
    for (const p of this.points) for (const [type, n] of Object.entries(p.byType)) totals.set(type, (totals.get(type) ?? 0) + n);
    const ranked = [...totals].sort((a, b) => b[1] - a[1]).map(([type]) => type);
    const shown = ranked.slice(0, MAX_LINES);
    const hasOther = ranked.length > MAX_LINES;
    this.chart.data.labels = this.points.map((p) => clock(p.atMs));
    this.chart.data.datasets = [
      ...shown.map((type, i) => ({ label: type, data: this.points.map((p) => p.byType[type] ?? 0), borderColor: colourOf(i), backgroundColor: colourOf(i) })),
      ...(hasOther
        ? [
            {
              label: 'other',
              data: this.points.map((p) => Object.entries(p.byType).reduce((sum, [type, n]) => sum + (shown.includes(type) ? 0 : n), 0)),
              borderColor: '#adb5bd',
              backgroundColor: '#adb5bd',
            },
          ]
        : []),
    ];
    this.chart.update();
  }
}
