/**
 * The run's progress on a terminal: a bar redrawn in place (at most ten times a second), and lines
 * that stay (phases, faults). Off a terminal (CI logs, a pipe) the bar is printed as a line at
 * every tenth of the run instead, so a log shows progress without thousands of lines.
 */

/** Where progress goes. */
export interface ProgressSink {
  write(text: string): void;
  /** A terminal: the bar is redrawn in place. */
  readonly isTTY?: boolean;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export class Progress {
  private lastDrawMs = -Infinity;
  private lastTenth = -1;
  private barShown = false;

  constructor(private readonly sink: ProgressSink | undefined) {}

  /** A line that stays. */
  note(line: string): void {
    if (this.sink === undefined) return;
    this.clearBar();
    this.sink.write(`${line}\n`);
  }

  /** The bar at `fraction` of the run, with a status. Throttled: call it as often as convenient. */
  update(fraction: number, status: string): void {
    if (this.sink === undefined) return;
    const f = Math.min(1, Math.max(0, fraction));
    const bar = `[${'#'.repeat(Math.round(f * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${(f * 100).toFixed(0).padStart(3)}%  ${status}`;
    if (this.sink.isTTY === true) {
      // Wall-clock throttling of a display: host code, not protocol time.
      const now = performance.now();
      if (now - this.lastDrawMs < REDRAW_MS && f < 1) return;
      this.lastDrawMs = now;
      this.sink.write(`\r\x1b[2K${bar}`);
      this.barShown = true;
      return;
    }
    const tenth = Math.floor(f * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.sink.write(`${bar}\n`);
  }

  /** Ends the bar's line. */
  end(): void {
    this.clearBar();
  }

  private clearBar(): void {
    if (this.barShown && this.sink !== undefined) this.sink.write('\r\x1b[2K');
    this.barShown = false;
  }
}
