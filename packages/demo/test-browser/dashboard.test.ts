/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core): it loads, sees
 * 5 nodes alive in every view, partitions the cluster with its button and sees suspicion and then
 * death spread through the views, heals and sees every node alive again; kills and restarts a node
 * with its buttons. Screenshots go to `test-results/`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeHandle, startServe } from '../src/index.ts';

/** Debian's `chromium` package; `.ci/run` installs it (playwright's own browser download does not work here). */
const CHROMIUM = process.env['STARLING_CHROMIUM'] ?? '/usr/bin/chromium';
/** Headless as root on a closed network: no sandbox, no GPU, no background fetches that would be refused. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = 'test-results';
/** memberlist's LAN timers at a quarter (push-pull and reconnects at a sixth): suspicion, death and rejoins in seconds. */
const FAST_GOSSIP = { probeIntervalMs: 250, probeTimeoutMs: 125, gossipIntervalMs: 50, pushPullIntervalMs: 5_000, reconnectIntervalMs: 5_000 };
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** The majority/minority partition of 5 nodes, as the server draws it. */
const MAJORITY = ['n1', 'n2', 'n3'];
const MINORITY = ['n4', 'n5'];
const WAIT = { timeout: 45_000, intervals: [100, 250, 500] };

let server: ServeHandle;
let context: BrowserContext;
let profile: string;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), or set STARLING_CHROMIUM`);
  server = await startServe({ runtime: 'local', port: 0, nodes: 5, tickMs: 250, seed: 5, gossip: FAST_GOSSIP });
  profile = mkdtempSync(join(tmpdir(), 'starling-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1300 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

/** Cells of the membership matrix in `state`, as `observer>subject`. */
function cellsIn(state: string): Promise<string[]> {
  return page.$$eval(`[data-testid="view-cell"][data-state="${state}"]`, (cells) => cells.map((c) => `${c.getAttribute('data-observer')}>${c.getAttribute('data-subject')}`));
}

/** Pairs across the cut: each side's view of the other. */
const ACROSS = [...MAJORITY.flatMap((a) => MINORITY.map((b) => `${a}>${b}`)), ...MINORITY.flatMap((a) => MAJORITY.map((b) => `${a}>${b}`))].sort();

describe('the dashboard, in Chromium', () => {
  it('shows 5 nodes, each seeing all 5 alive', async () => {
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('#stream').getAttribute('data-state'), WAIT).toBe('live');
    await expect.poll(async () => (await cellsIn('alive')).length, WAIT).toBe(25);
    expect(await page.locator('[data-testid="node"][data-state="running"]').count()).toBe(5);
    expect(await page.locator('[data-testid="ring"] rect').count()).toBe(1_024);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-healthy.png'), fullPage: true });
  });

  it('partitions with its button: suspicion, then death, spread through the views', async () => {
    // Record every suspicion the page ever shows: it may turn to death between two polls.
    // (Page code as text: this file is type-checked without the DOM's types.)
    await page.evaluate(`{
      const seen = new Set();
      window.suspected = seen;
      const note = () => {
        for (const c of document.querySelectorAll('[data-testid="view-cell"][data-state="suspect"]')) seen.add(c.getAttribute('data-observer') + '>' + c.getAttribute('data-subject'));
      };
      new MutationObserver(note).observe(document.getElementById('views'), { childList: true, subtree: true });
    }`);
    await page.selectOption('#partition-shape', 'majority-minority');
    await page.click('#partition');
    await expect.poll(() => page.locator('#network').textContent(), WAIT).toContain('partition [n1,n2,n3] | [n4,n5]');
    await expect.poll(() => page.locator('[data-testid="link-cell"][data-cut="true"]').count(), WAIT).toBe(12);
    // Every node on each side ends up declaring the other side dead...
    await expect.poll(async () => (await cellsIn('dead')).sort(), WAIT).toEqual(ACROSS);
    // ...after suspecting it first (SWIM never declares a member dead without a suspicion).
    const suspected = await page.evaluate<string[]>('[...window.suspected]');
    expect(suspected.length).toBeGreaterThan(0);
    for (const pair of suspected) expect(ACROSS).toContain(pair);
    // Nobody lost sight of its own side.
    const alive = await cellsIn('alive');
    for (const side of [MAJORITY, MINORITY]) for (const a of side) for (const b of side) expect(alive).toContain(`${a}>${b}`);
    await expect.poll(() => page.locator('#log li[data-kind="membership"]').count(), WAIT).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-partitioned.png'), fullPage: true });
  });

  it('heals with its button: every node alive in every view again', async () => {
    await page.click('#heal');
    await expect.poll(() => page.locator('#network').textContent(), WAIT).toContain('healthy');
    await expect.poll(async () => (await cellsIn('alive')).length, WAIT).toBe(25);
    expect(await page.locator('[data-testid="link-cell"][data-cut="true"]').count()).toBe(0);
  });

  it('kills and restarts a node with its buttons', async () => {
    await page.click('[data-node="n5"] button[data-action="kill"]');
    await expect.poll(() => page.locator('[data-testid="node"][data-node="n5"]').getAttribute('data-state'), WAIT).toBe('down');
    // The running nodes come to see n5 dead.
    await expect.poll(async () => (await cellsIn('dead')).sort(), WAIT).toEqual(NODES.filter((n) => n !== 'n5').map((n) => `${n}>n5`));
    await page.click('[data-node="n5"] button[data-action="restart"]');
    await expect.poll(async () => (await cellsIn('alive')).length, WAIT).toBe(25);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-after.png'), fullPage: true });
  });

  it('drew the message-rate chart and raised no error in the page', async () => {
    // Pixels the chart inked (alpha > 0) on its canvas.
    const inked = await page.evaluate<number>(`{
      const c = document.getElementById('rates');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      n;
    }`);
    expect(inked).toBeGreaterThan(1_000);
    expect(pageErrors).toEqual([]);
  });
});
