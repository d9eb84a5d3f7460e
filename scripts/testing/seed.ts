/**
 * Seeds for simulation tests. A failing simulation test names its seed and how to replay it;
 * `STARLING_SEED=<n>` replays exactly that seed.
 */
import { it } from 'vitest';

/** The seed a test should use: `STARLING_SEED` when set, else `fallback`. */
export function testSeed(fallback: number): number {
  const env = process.env.STARLING_SEED;
  return env === undefined ? fallback : Number(env);
}

/**
 * A simulation test with a seed. On failure the error names the seed and the command that
 * replays it.
 */
export function simIt(name: string, fallbackSeed: number, body: (seed: number) => Promise<void> | void, timeoutMs?: number): void {
  it(
    name,
    async () => {
      const seed = testSeed(fallbackSeed);
      try {
        await body(seed);
      } catch (err) {
        if (err instanceof Error) {
          err.message = `[seed ${seed}; replay with STARLING_SEED=${seed}] ${err.message}`;
        }
        throw err;
      }
    },
    timeoutMs,
  );
}
