/** Helpers of the ring tests. */
import { expect } from 'vitest';
import { RingError } from '../../src/index.ts';

/** The error a ring operation throws, for its code. */
export function refusal(fn: () => unknown): RingError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RingError);
    return err as RingError;
  }
  throw new Error('expected a RingError');
}
