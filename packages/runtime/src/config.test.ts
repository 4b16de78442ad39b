import * as v from 'valibot';
import { expect, test } from 'vitest';
import { ConfigError, intVar, parseConfig, redactUrl, urlVar } from './config.js';

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

test('a secret variable never shows its value, and URLs lose their credentials', () => {
  const Secretive = v.object({
    TIM_CALLBACK_TOKEN: v.pipe(v.string(), v.regex(/^\d+$/)),
    DASHBOARD_PASSWORD: v.pipe(v.string(), v.minLength(40)),
    DATABASE_URL: urlVar(['postgres:']),
    REDIS_URL: urlVar(['redis:']),
  });
  let message = '';
  try {
    parseConfig(Secretive, {
      TIM_CALLBACK_TOKEN: 'tok-sensitive-1',
      DASHBOARD_PASSWORD: 'pw-sensitive-2',
      DATABASE_URL: 'mysql://imsync:pg-sensitive-3@db:5432/imsync?sslpassword=q-sensitive-4',
      REDIS_URL: 'http://:redis-sensitive-5@cache:6379',
    });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain('TIM_CALLBACK_TOKEN: ');
  expect(message).toContain('DASHBOARD_PASSWORD: Invalid length');
  expect(message).toContain('"mysql://imsync:***@db:5432/imsync?***"');
  expect(message).toContain('"http://:***@cache:6379"');
  expect(message).not.toMatch(/sensitive/);
});

test('a rule across variables names its rule, never the environment it saw', () => {
  const Paired = v.pipe(
    v.object({ USER: v.optional(v.string()), SOME_PASSWORD: v.optional(v.string()) }),
    v.check((c) => (c.USER === undefined) === (c.SOME_PASSWORD === undefined), 'USER and SOME_PASSWORD go together'),
  );
  expect(() => parseConfig(Paired, { USER: 'admin', OTHER_SECRET: 'x-sensitive' })).toThrow(
    /^invalid configuration:\n {2}USER and SOME_PASSWORD go together$/,
  );
});

test('redactUrl leaves what is not a URL with credentials alone', () => {
  expect(redactUrl('redis://cache:6379/0')).toBe('redis://cache:6379/0');
  expect(redactUrl('redis://token-as-user@cache:6379')).toBe('redis://***@cache:6379');
  expect(redactUrl('not a url: a@b')).toBe('not a url: a@b');
  expect(redactUrl('postgres://u:p@ss@h/db')).toBe('postgres://u:***@h/db');
});

test('an empty variable counts as unset: its default applies, or it is reported as missing', () => {
  expect(parseConfig(Schema, { REDIS_URL: 'redis://h:1', PORT: '' }).PORT).toBe(8080);
  expect(() => parseConfig(Schema, { REDIS_URL: '' })).toThrow(/REDIS_URL: is required but not set/);
});
