/**
 * Workers run from the build as well as from sources: a script with plain `node` (no TypeScript,
 * no `source` condition) starts a threads cluster from `dist`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('threads from dist', () => {
  it('a cluster started from the compiled build serves asks and stops cleanly', () => {
    // `pnpm test` builds first; a lone run of this file builds the package if needed.
    if (!existsSync(`${root}packages/actors/dist/runtime/threads/worker.js`)) {
      execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', `${root}packages/actors`], { stdio: 'inherit' });
    }
    const script = fileURLToPath(new URL('./fixtures/dist-run.mjs', import.meta.url));
    const out = execFileSync(process.execPath, [script], { cwd: `${root}packages/actors`, encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(out.trim().split('\n').pop()!) as { reply: string; workersAfterStop: number; fromDist: boolean };
    expect(result).toEqual({ reply: 'n2:from dist', workersAfterStop: 0, fromDist: true });
  });
});
