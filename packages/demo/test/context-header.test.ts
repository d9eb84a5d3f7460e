/**
 * The causal context header: what encodeContext writes, decodeContext reads back as the same
 * version vector; anything else is a typed BAD_CONTEXT error, never a crash or a wrong context.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/serve/api-error.ts';
import { decodeContext, encodeContext, MAX_CONTEXT_HEADER_CHARS } from '../src/serve/context-header.ts';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

function badContext(text: string): ApiError {
  try {
    decodeContext(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error(`decodeContext accepted ${JSON.stringify(text)}`);
}

describe('the context header', () => {
  it('round-trips every version vector, whatever its replica ids', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), { maxKeys: 20 }), (vv) => {
        const back = decodeContext(encodeContext(vv));
        expect(new Map(Object.entries(back))).toEqual(new Map(Object.entries(vv)));
      }),
    );
  });

  it('spells equal contexts the same whatever their key order', () => {
    expect(encodeContext({ 'n2@b': 3, 'n1@a': 1 })).toBe(encodeContext({ 'n1@a': 1, 'n2@b': 3 }));
  });

  it('keeps a replica named __proto__ as data', () => {
    const vv = decodeContext(b64(JSON.stringify([['__proto__', 4]])));
    expect(Object.getOwnPropertyNames(vv)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(vv)).toBe(Object.prototype);
  });

  it('refuses what it could not have written, with BAD_CONTEXT and status 400', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['a'.repeat(MAX_CONTEXT_HEADER_CHARS + 1), /longer than/],
      ['not base64!', /not base64url/],
      [b64('{not json'), /not JSON/],
      [b64('{"n1":1}'), /not a list/],
      [b64('[["n1"]]'), /not a \[replica, counter\] pair/],
      [b64('[["",1]]'), /not a \[replica, counter\] pair/],
      [b64('[[1,1]]'), /not a \[replica, counter\] pair/],
      [b64('[["n1",-1]]'), /not a non-negative integer/],
      [b64('[["n1",1.5]]'), /not a non-negative integer/],
      [b64('[["n1","1"]]'), /not a non-negative integer/],
      [b64('[["n1",1e300]]'), /not a non-negative integer/],
      [b64('[["n1",1],["n1",2]]'), /appears twice/],
      [b64(JSON.stringify(Array.from({ length: 5000 }, (_, i) => [`r${i}`, 1]))), /longer than/],
    ];
    for (const [text, why] of cases) {
      const err = badContext(text);
      expect(err.code).toBe('BAD_CONTEXT');
      expect(err.status).toBe(400);
      expect(err.message).toMatch(why);
    }
  });

  it('never throws anything but BAD_CONTEXT on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map(b64), fc.json().map(b64)), (text) => {
        try {
          decodeContext(text);
        } catch (err) {
          expect((err as ApiError).code).toBe('BAD_CONTEXT');
        }
      }),
    );
  });
});
