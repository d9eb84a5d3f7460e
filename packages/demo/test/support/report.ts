/**
 * What every report must satisfy, whatever happened in the run: operation counts add up (by
 * outcome, by kind, by phase, by error code), every latency summary has one record per operation
 * and ordered percentiles, and phases tile the load.
 */
import { expect } from 'vitest';
import type { LatencySummary, OpCounts, Report } from '../../src/index.ts';

function expectOrdered(l: LatencySummary, where: string): void {
  if (l.count === 0) return;
  const chain = [l.p50Ms, l.p90Ms, l.p99Ms, l.p999Ms, l.maxMs];
  for (let i = 1; i < chain.length; i++) expect(chain[i]!, `${where}: percentiles ${chain.join(' <= ')}`).toBeGreaterThanOrEqual(chain[i - 1]!);
  expect(l.meanMs, where).toBeLessThanOrEqual(l.maxMs);
  expect(l.p50Ms, where).toBeGreaterThan(0);
}

function expectSums(c: OpCounts, where: string): void {
  expect(c.ok + c.failed + c.unknown, where).toBe(c.total);
}

export function expectConsistent(r: Report): void {
  expectSums(r.operations, 'operations');
  expect(r.latency.count).toBe(r.operations.total);
  expectOrdered(r.latency, 'overall');
  const kinds = Object.entries(r.kinds);
  expect(kinds.reduce((n, [, k]) => n + k.total, 0)).toBe(r.operations.total);
  for (const [name, k] of kinds) {
    expectSums(k, name);
    expect(k.latency.count, name).toBe(k.total);
    expectOrdered(k.latency, name);
    expect(Object.values(k.errors).reduce((a, b) => a + b, 0), `${name} errors by code`).toBe(k.failed + k.unknown);
  }
  for (const key of ['ok', 'failed', 'unknown'] as const) expect(kinds.reduce((n, [, k]) => n + k[key], 0), key).toBe(r.operations[key]);
  expect(r.phases.reduce((n, p) => n + p.total, 0)).toBe(r.operations.total);
  expect(r.phases[0]?.startMs).toBe(0);
  for (let i = 0; i < r.phases.length; i++) {
    const p = r.phases[i]!;
    expectSums(p, p.name);
    expect(p.latency.count, p.name).toBe(p.total);
    expectOrdered(p.latency, p.name);
    if (i > 0) expect(p.startMs).toBeCloseTo(r.phases[i - 1]!.startMs + r.phases[i - 1]!.durationMs, 6);
  }
  const last = r.phases[r.phases.length - 1]!;
  expect(last.startMs + last.durationMs).toBeCloseTo(r.loadMs, 6);
  expect(r.throughputOpsPerSec).toBeCloseTo((r.operations.total / r.loadMs) * 1000, 6);
  expect(r.ok).toBe(r.checks.every((c) => c.ok));
  const counts = Object.values(r.messagesByType);
  expect(counts.every((n) => Number.isSafeInteger(n) && n > 0)).toBe(true);
  // Most first.
  for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeLessThanOrEqual(counts[i - 1]!);
}
