/**
 * Latency recording with HdrHistogram (Gil Tene's design, via hdr-histogram-js): constant memory
 * whatever the run's length, 3 significant digits at every magnitude, and histograms that add up,
 * so a phase's figures and the whole run's come from the same records.
 */
import * as hdr from 'hdr-histogram-js';

/** A latency distribution's summary, in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** Latencies of one group of operations, recorded in µs. */
export class Latency {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });

  /** Records one operation's time, in ms (fractions kept to the µs; anything shorter counts as 1 µs). */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Adds every record of `other`. */
  add(other: Latency): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
    // A percentile is its bucket's highest equivalent value, which can pass the largest value
    // recorded: clamp, so that a percentile never exceeds the max printed beside it.
    const at = (q: number): number => Math.min(h.getValueAtPercentile(q), h.maxValue) / 1000;
    return { count: h.totalCount, meanMs: h.mean / 1000, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), p999Ms: at(99.9), maxMs: h.maxValue / 1000 };
  }
}
