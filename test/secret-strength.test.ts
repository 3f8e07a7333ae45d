/** API keys copied from the docs are refused at start, with a message that says how to make a real one. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { secretProblem } from '../src/config/secret-strength.js';
import { parseApiKeys } from '../src/server/auth.js';
import { parseHookSecrets } from '../src/server/serve.js';

describe('API keys and secrets', () => {
  it('refuses the README placeholder, short keys and keys that are not random', () => {
    expect(() => parseApiKeys('alice=operator,approver=<32+ random chars>')).toThrow(
      /TWELVE_API_KEYS: entry 1 \(alice\): the key looks like a placeholder from the documentation, not a random value \(make one with: openssl rand -base64 32\)/,
    );
    expect(secretProblem('changeme-changeme-changeme')).toMatch(/placeholder/);
    expect(secretProblem('short')).toBe('must be at least 16 characters (got 5)');
    expect(secretProblem('aaaaaaaaaaaaaaaaaaaaaaaa')).toMatch(/only 1 distinct characters/);
    expect(secretProblem('your-api-key-goes-here-1234')).toMatch(/placeholder/);
  });

  it('accepts random keys, and lists every bad entry in one error', () => {
    expect(secretProblem('tw_k1Zq8v3LmN0pXr7Ys2bD')).toBeUndefined();
    expect(parseApiKeys('ci=operator=tw_k1Zq8v3LmN0pXr7Ys2bD')).toHaveLength(1);
    expect(() => parseApiKeys('a=reader=<key>;b=reader=tooshort')).toThrow(/entry 1 \(a\).*; entry 2 \(b\): the key must be at least 16 characters/);
  });

  it('takes keys and hook secrets made by `openssl rand -base64 32` whole, "=" and all', () => {
    const key = execFileSync('openssl', ['rand', '-base64', '32'], { encoding: 'utf8' }).trim();
    expect(key).toMatch(/=$/);
    expect(parseApiKeys(`alice=operator,approver=${key};dash=reader=tw_k1Zq8v3LmN0pXr7Ys2bD`)).toEqual([
      { name: 'alice', roles: ['operator', 'approver'], key },
      { name: 'dash', roles: ['reader'], key: 'tw_k1Zq8v3LmN0pXr7Ys2bD' },
    ]);
    expect(parseHookSecrets(`support=${key}; billing = tw_k1Zq8v3LmN0pXr7Ys2bD==`)).toEqual(new Map([['support', key], ['billing', 'tw_k1Zq8v3LmN0pXr7Ys2bD==']]));
    expect(() => parseApiKeys('alice=tw_k1Zq8v3LmN0pXr7Ys2bD')).toThrow(/entry 1 is not name=role,role=key/);
  });

  it('refuses one key under two names (it would act as whichever came last), without printing it', () => {
    const shared = 'tw_k1Zq8v3LmN0pXr7Ys2bD';
    const error = (() => {
      try {
        parseApiKeys(`dash=reader=${shared};alice=operator,approver=${shared}`);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toBe('TWELVE_API_KEYS: dash and alice have the same key: give each its own');
  });
});
