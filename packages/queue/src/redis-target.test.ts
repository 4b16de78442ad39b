import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { parseRedisUrl, REDIS_VARS, redisTarget } from './redis-target.js';

describe('REDIS_URL', () => {
  test('one server, with or without TLS, is kept as the URL', () => {
    expect(parseRedisUrl('redis://:pw@10.0.0.5:6379/0')).toEqual({
      kind: 'single',
      url: 'redis://:pw@10.0.0.5:6379/0',
    });
    expect(parseRedisUrl('rediss://cache.example.com:6380')).toMatchObject({ kind: 'single' });
  });

  test('a cluster lists its seed nodes, with credentials and TLS from the scheme', () => {
    expect(parseRedisUrl('rediss+cluster://imsync:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'imsync',
      password: 'p@ss',
      tls: true,
    });
  });

  test('Sentinel lists the Sentinels and names the master', () => {
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379,s2:26379/imsync-master')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'imsync-master',
      password: 'secret',
      tls: false,
    });
  });

  test.each([
    ['http://10.0.0.1:6379', /must be redis:\/\//],
    ['redis+cluster://10.0.0.1', /not host:port/],
    ['redis+cluster://10.0.0.1:70000', /not host:port/],
    ['redis+sentinel://s1:26379', /must name the master/],
  ])('%s is refused: %s', (url, problem) => {
    const parsed = parseRedisUrl(url);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });

  test("the error never quotes the URL's credentials", () => {
    const result = v.safeParse(v.object(REDIS_VARS), { REDIS_URL: 'redis+cluster://u:hunter2@host' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.issues?.map((issue) => issue.message))).not.toContain('hunter2');
  });

  test('REDIS_NAT_MAP maps announced addresses for a cluster; REDIS_SENTINEL_PASSWORD goes to the Sentinels', () => {
    const config = v.parse(v.object(REDIS_VARS), {
      REDIS_URL: 'redis+cluster://10.0.0.1:7000',
      REDIS_NAT_MAP: '10.0.0.1:7000=203.0.113.9:17000, 10.0.0.2:7001=203.0.113.9:17001',
    });
    expect(redisTarget(config)).toMatchObject({
      natMap: {
        '10.0.0.1:7000': { host: '203.0.113.9', port: 17000 },
        '10.0.0.2:7001': { host: '203.0.113.9', port: 17001 },
      },
    });
    expect(
      redisTarget({ REDIS_URL: 'redis+sentinel://s1:26379/m', REDIS_SENTINEL_PASSWORD: 'sentinel-secret' }),
    ).toMatchObject({ sentinelPassword: 'sentinel-secret' });
    expect(v.safeParse(v.object(REDIS_VARS), { REDIS_URL: 'redis://r:6379', REDIS_NAT_MAP: 'nonsense' }).success).toBe(
      false,
    );
  });
});
