import * as v from 'valibot';
import { expect, test } from 'vitest';
import { ConfigError, intVar, parseConfig, urlVar } from './config.js';

const Schema = v.object({ REDIS_URL: urlVar(['redis:']), PORT: intVar(8080, 1, 65535) });

test('defaults apply and values are typed', () => {
  expect(parseConfig(Schema, { REDIS_URL: 'redis://h:1' })).toEqual({ REDIS_URL: 'redis://h:1', PORT: 8080 });
  expect(parseConfig(Schema, { REDIS_URL: 'redis://h:1', PORT: '9000' }).PORT).toBe(9000);
});

test('every problem is listed by variable name in one error', () => {
  const error = (() => {
    try {
      parseConfig(Schema, { PORT: '70000' });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message).toContain('REDIS_URL: is required but not set');
  expect(message).toContain('PORT: must be ≤ 65535 (got 70000)');
});

test('URLs with the wrong scheme and non-integers are refused', () => {
  expect(() => parseConfig(Schema, { REDIS_URL: 'http://h' })).toThrow(
    /REDIS_URL: must be a URL starting with redis:\/\//,
  );
  expect(() => parseConfig(Schema, { REDIS_URL: 'redis://h', PORT: '80.5' })).toThrow(/PORT: must be an integer/);
});
