import { ConfigError } from '@imsync/runtime';
import { expect, test } from 'vitest';
import { DEMO_PASSWORD, loadDashboardConfig } from './config.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const login = { REDIS_URL, DASHBOARD_USER: 'admin', DASHBOARD_PASSWORD: 'correct-horse-battery' };

test('with a login set, the rest has production defaults: all interfaces, safe actions only, login limits', () => {
  expect(loadDashboardConfig(login)).toMatchObject({
    DASHBOARD_USER: 'admin',
    DASHBOARD_PASSWORD: 'correct-horse-battery',
    HOST: '0.0.0.0',
    PORT: 3000,
    QUEUE_PREFIX: 'imsync',
    DASHBOARD_LOCAL_ONLY: false,
    DASHBOARD_READ_ONLY: false,
    DASHBOARD_ALLOW_DESTRUCTIVE: false,
    DASHBOARD_TRUST_PROXY: false,
    DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: 5,
    DASHBOARD_LOGIN_FAILURES_TOTAL: 50,
  });
});

test('refuses to start without DASHBOARD_USER and a password (DASHBOARD_PASSWORD or DASHBOARD_PASSWORD_FILE)', () => {
  const required = /DASHBOARD_USER and DASHBOARD_PASSWORD \(or DASHBOARD_PASSWORD_FILE\) are required/;
  expect(() => loadDashboardConfig({ REDIS_URL })).toThrow(ConfigError);
  expect(() => loadDashboardConfig({ REDIS_URL })).toThrow(required);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_USER: 'admin' })).toThrow(required);
  expect(() => loadDashboardConfig({ REDIS_URL, DASHBOARD_PASSWORD: 'correct-horse-battery' })).toThrow(required);
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_USER: '' })).toThrow(/DASHBOARD_USER/);
});

test('an empty DASHBOARD_PASSWORD counts as unset (compose passes it so when unset), so the file is used', () => {
  const file = '/var/lib/imsync-dashboard/password';
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_PASSWORD: '' })).toThrow(
    /DASHBOARD_USER and DASHBOARD_PASSWORD \(or DASHBOARD_PASSWORD_FILE\) are required/,
  );
  const config = loadDashboardConfig({ ...login, DASHBOARD_PASSWORD: '', DASHBOARD_PASSWORD_FILE: file });
  expect(config.DASHBOARD_PASSWORD).toBeUndefined();
  expect(config.DASHBOARD_PASSWORD_FILE).toBe(file);
  // A password set wins over the file; an empty file name is no file.
  expect(loadDashboardConfig({ ...login, DASHBOARD_PASSWORD_FILE: file }).DASHBOARD_PASSWORD).toBe(
    'correct-horse-battery',
  );
  expect(loadDashboardConfig({ ...login, DASHBOARD_PASSWORD_FILE: '' }).DASHBOARD_PASSWORD_FILE).toBeUndefined();
});

test('the demo password is refused unless the dashboard listens on loopback, and the error says what to do', () => {
  const demo = { ...login, DASHBOARD_PASSWORD: DEMO_PASSWORD };
  for (const HOST of [undefined, '0.0.0.0', '::', '192.168.1.10', 'dashboard.example']) {
    let message = '';
    try {
      loadDashboardConfig({ ...demo, HOST });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message, String(HOST)).toMatch(/DASHBOARD_PASSWORD is the published demo password/);
    expect(message, String(HOST)).toMatch(/HOST=127\.0\.0\.1/);
    expect(message, String(HOST)).toMatch(/password of your own/);
    expect(message, String(HOST)).not.toContain(DEMO_PASSWORD);
  }
  // `pnpm start` runs the dashboard on 127.0.0.1 with the demo password: that keeps working.
  for (const HOST of ['127.0.0.1', '::1', 'localhost']) {
    expect(loadDashboardConfig({ ...demo, HOST }).DASHBOARD_PASSWORD, HOST).toBe(DEMO_PASSWORD);
  }
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

test('the flags parse to booleans; other spellings are refused', () => {
  for (const name of ['DASHBOARD_ALLOW_DESTRUCTIVE', 'DASHBOARD_TRUST_PROXY'] as const) {
    expect(loadDashboardConfig({ ...login, [name]: 'true' })[name], name).toBe(true);
    expect(loadDashboardConfig({ ...login, [name]: '0' })[name], name).toBe(false);
    expect(() => loadDashboardConfig({ ...login, [name]: 'on' }), name).toThrow(name);
  }
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

test('the login failure limits are positive integers', () => {
  const config = loadDashboardConfig({
    ...login,
    DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: '3',
    DASHBOARD_LOGIN_FAILURES_TOTAL: '20',
  });
  expect(config).toMatchObject({ DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: 3, DASHBOARD_LOGIN_FAILURES_TOTAL: 20 });
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: '0' })).toThrow(
    /DASHBOARD_LOGIN_FAILURES_PER_ADDRESS: must be ≥ 1/,
  );
  expect(() => loadDashboardConfig({ ...login, DASHBOARD_LOGIN_FAILURES_TOTAL: 'many' })).toThrow(
    /DASHBOARD_LOGIN_FAILURES_TOTAL/,
  );
});
