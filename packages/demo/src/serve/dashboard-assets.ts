/**
 * The dashboard's files: its page, its stylesheet, and its TypeScript bundled with Chart.js by
 * esbuild when the server starts (in memory, ~100 ms), so `pnpm demo serve` needs no build step.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The dashboard's sources, beside `src` (it is browser code, with its own tsconfig). */
const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

export interface DashboardAssets {
  readonly html: string;
  readonly css: string;
  readonly js: string;
}

let assets: Promise<DashboardAssets> | undefined;

/** The dashboard's files, built once per process. */
export function dashboardAssets(): Promise<DashboardAssets> {
  assets ??= load().catch((err: unknown) => {
    // A failed build is not cached: the next server start tries again.
    assets = undefined;
    throw err;
  });
  return assets;
}

async function load(): Promise<DashboardAssets> {
  const [html, css, bundle] = await Promise.all([
    readFile(`${DASHBOARD_DIR}index.html`, 'utf8'),
    readFile(`${DASHBOARD_DIR}style.css`, 'utf8'),
    build({
      entryPoints: [`${DASHBOARD_DIR}main.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      minify: true,
      legalComments: 'inline',
      logLevel: 'silent',
    }),
  ]);
  return { html, css, js: bundle.outputFiles[0]!.text };
}
