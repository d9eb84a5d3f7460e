/** The README's `demo serve` example runs and prints what the README says. */
import { expect, it } from 'vitest';
import { main } from '../examples/http-client.ts';

it('the HTTP client example: siblings, a merge with their context, a typed error, a partition and a heal', async () => {
  expect(await main()).toEqual([
    'siblings: Ada | Ada L.',
    'after the merge: [{"name":"Ada Lovelace"}]',
    'malformed JSON: 400 MALFORMED_JSON',
    'partition: 200',
    'healed: partition null',
  ]);
});
