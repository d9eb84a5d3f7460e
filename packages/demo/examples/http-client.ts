/**
 * The README's `demo serve` example: a cluster behind the HTTP API, used as any HTTP client would.
 * Two writers race on a key and make siblings; a read returns both under one context; a write
 * with that context resolves them; then the API partitions the cluster and heals it.
 * Run: corepack pnpm exec tsx --conditions=source packages/demo/examples/http-client.ts
 */
import { startServe } from '@starling/demo';

export async function main(): Promise<string[]> {
  const server = await startServe({ runtime: 'local', port: 0 });
  const lines: string[] = [];
  const kv = (key: string, query = ''): string => `${server.url}/kv/${encodeURIComponent(key)}${query}`;
  const json = { 'content-type': 'application/json' };
  try {
    // Two clients write without having read: concurrent writes, both kept.
    await fetch(kv('profile:7', '?node=n1'), { method: 'PUT', headers: json, body: JSON.stringify({ name: 'Ada' }) });
    await fetch(kv('profile:7', '?node=n2'), { method: 'PUT', headers: json, body: JSON.stringify({ name: 'Ada L.' }) });

    const read = await fetch(kv('profile:7', '?r=3'));
    const context = read.headers.get('x-starling-context')!;
    const { values } = (await read.json()) as { values: { name: string }[] };
    lines.push(`siblings: ${values.map((v) => v.name).sort().join(' | ')}`);

    // The client merges and writes back with the context it read: the siblings are replaced.
    const merged = { name: 'Ada Lovelace' };
    await fetch(kv('profile:7'), { method: 'PUT', headers: { ...json, 'x-starling-context': context }, body: JSON.stringify(merged) });
    const after = (await (await fetch(kv('profile:7', '?r=3'))).json()) as { values: unknown[] };
    lines.push(`after the merge: ${JSON.stringify(after.values)}`);

    // Bad input is a 4xx with a JSON error; the server keeps serving.
    const bad = await fetch(kv('profile:7'), { method: 'PUT', headers: json, body: '{"name": ' });
    lines.push(`malformed JSON: ${bad.status} ${((await bad.json()) as { error: { code: string } }).error.code}`);

    // Fault control: cut the cluster into a majority and a minority, then heal.
    const cut = await fetch(`${server.url}/cluster/partition`, { method: 'POST', headers: json, body: JSON.stringify({ shape: 'majority-minority' }) });
    lines.push(`partition: ${cut.status}`);
    const healed = (await (await fetch(`${server.url}/cluster/heal`, { method: 'POST' })).json()) as { network: { partition: unknown } };
    lines.push(`healed: partition ${JSON.stringify(healed.network.partition)}`);
  } finally {
    await server.close();
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const line of await main()) console.log(line);
