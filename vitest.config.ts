import { defineConfig } from 'vitest/config';
import ClosingLineReporter from './scripts/closing-line-reporter.ts';

// Workspace packages resolve to their TypeScript sources through the `source` export condition,
// so tests run without a build. The node environment reads `ssr.resolve.conditions`.
export default defineConfig({
  ssr: { resolve: { conditions: ['source'] } },
  resolve: { conditions: ['source'] },
  test: {
    reporters: ['default', new ClosingLineReporter()],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // --expose-gc lets memory tests measure after a collection instead of guessing around GC noise.
        test: { name: 'actors', include: ['packages/actors/test/**/*.test.ts'], execArgv: ['--expose-gc'] },
      },
      {
        extends: true,
        // Worker threads on two shared cores: files run one at a time, or the workers starve each
        // other and real-time protocols see false timeouts.
        test: { name: 'threads', include: ['packages/*/test-threads/**/*.test.ts'], fileParallelism: false, execArgv: ['--expose-gc'] },
      },
      {
        extends: true,
        test: { name: 'gossip', include: ['packages/gossip/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'replication', include: ['packages/replication/test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'demo', include: ['packages/demo/test/**/*.test.ts'] },
      },
      {
        extends: true,
        // A real browser (Debian's chromium, installed by .ci/run) against `demo serve`: one file at a time.
        test: { name: 'browser', include: ['packages/*/test-browser/**/*.test.ts'], fileParallelism: false },
      },
    ],
  },
});
