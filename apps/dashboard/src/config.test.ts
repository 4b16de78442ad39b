import { ConfigError } from '@imsync/runtime';
import { expect, test } from 'vitest';
import { loadDashboardConfig } from './config.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const login = { REDIS_URL, DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD: 'correct-horse-battery' };

test('with a login set, the rest has production defaults: all interfaces, actions allowed', () => {
  expect(loadDashboardConfig(login)).toMatchObject({
    DASHBOARD_USER: 'admin',
    DASHBOARD_PASSWORD: 'correct-horse-battery',
    HOST: '0.0.0.0',
    PORT: 3000,
    QUEUE_PREFIX: 'imsync',
    DASHBOARD_LOCAL_ONLY: false,
    DASHBOARD_READ_ONLY: false,
  });
});

test('refuses to start without both DASHBOARD_USER and DASHBOARD_PASSWORD', () => {
  const required = /DASHBOARD_USER and DASHBOARD_PASSWORD are required/;
  expect(() => loadDashboardConfig({ REDIS_URL })).toThrow(ConfigError);
  expect(() => loadDashboardConfig({ REDIS_URL })).toThrow(required);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_USER: 'admin' })).toThrow(required);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_PASSWORD: 'correct-horse-battery' })).toThrow(required);
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_USER: '' })).toThrow(/DASHBOARD_USER/);
});

test('DASHBOARD_LOCAL_ONLY=true needs no login, but only on a loopback HOST', () => {
  const loopbackOnly = /DASHBOARD_LOCAL_ONLY=true needs HOST=127\.0\.0\.1/;
  // HOST defaults to 0.0.0.0: every interface, so other machines would reach a board with no login.
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_LOCAL_ONLY: 'true' })).toThrow(loopbackOnly);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_LOCAL_ONLY: 'true', HOST: '0.0.0.0' })).toThrow(loopbackOnly);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_LOCAL_ONLY: 'true', HOST: '192.168.1.10' })).toThrow(
    loopbackOnly,
  );
  // A login does not lift the rule: local-only is a promise about where the board is reachable.
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_LOCAL_ONLY: 'true' })).toThrow(loopbackOnly);

  const config = loadDashboardConfig({ REDIS_URL, DASHBOARD_LOCAL_ONLY: 'true', HOST: '127.0.0.1' });
  expect(config).toMatchObject({ DASHBOARD_LOCAL_ONLY: true, HOST: '127.0.0.1' });
  expect(config.DASHBOARD_USER).toBeUndefined();
  expect(config.DASHBOARD_PASSWORD).toBeUndefined();
});

test('a password shorter than 12 characters is refused, even in local-only mode', () => {
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_PASSWORD: 'eleven-char' })).toThrow(
    /DASHBOARD_PASSWORD: must be at least 12 characters/,
  );
  expect(() =>
    loadDashboardConfig({ ...login, DASHBOARD_PASSWORD: 'short', DASHBOARD_LOCAL_ONLY: 'true', HOST: '127.0.0.1' }),
  ).toThrow(/DASHBOARD_PASSWORD/);
  expect(loadDashboardConfig({ ...login, DASHBOARD_PASSWORD: 'twelve-chars' }).DASHBOARD_PASSWORD).toBe('twelve-chars');
});

test('a session secret shorter than 32 characters is refused', () => {
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_SESSION_SECRET: 'x'.repeat(31) })).toThrow(
    /DASHBOARD_SESSION_SECRET: must be at least 32 characters/,
  );
  expect(loadDashboardConfig({ ...login, DASHBOARD_SESSION_SECRET: 'x'.repeat(32) }).DASHBOARD_SESSION_SECRET).toBe(
    'x'.repeat(32),
  );
});

test('DASHBOARD_READ_ONLY and DASHBOARD_LOCAL_ONLY parse to booleans; other spellings are refused', () => {
  expect(loadDashboardConfig({ ...login, DASHBOARD_READ_ONLY: 'true' }).DASHBOARD_READ_ONLY).toBe(true);
  expect(loadDashboardConfig({ ...login, DASHBOARD_READ_ONLY: '1' }).DASHBOARD_READ_ONLY).toBe(true);
  expect(loadDashboardConfig({ ...login, DASHBOARD_READ_ONLY: 'false' }).DASHBOARD_READ_ONLY).toBe(false);
  expect(loadDashboardConfig({ ...login, DASHBOARD_READ_ONLY: '0' }).DASHBOARD_READ_ONLY).toBe(false);
  // A typo must not silently leave the board writable.
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_READ_ONLY: 'yes' })).toThrow(/DASHBOARD_READ_ONLY/);
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_LOCAL_ONLY: 'TRUE' })).toThrow(/DASHBOARD_LOCAL_ONLY/);
});

test('the queue prefix is checked: it becomes part of every Redis key', () => {
  expect(loadDashboardConfig({ ...login, QUEUE_PREFIX: 'staging.imsync' }).QUEUE_PREFIX).toBe('staging.imsync');
  expect(() => loadDashboardConfig({ ...login, QUEUE_PREFIX: 'a b' })).toThrow(/QUEUE_PREFIX/);
  expect(() => loadDashboardConfig({ ...login, REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL/);
});
