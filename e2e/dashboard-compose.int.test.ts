import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { DEMO_PASSWORD, loadDashboardConfig } from '../apps/dashboard/src/config.js';

// `docker compose up` is the one-command trial: the dashboard must start with no .env at all (or
// with .env.example copied), be reachable from this machine only, and never take the demo password,
// since inside its container it listens on every interface. No Docker engine here: the compose
// file is read as compose reads it, and its environment given to the dashboard's own config.

const root = fileURLToPath(new URL('../', import.meta.url));
const composeText = readFileSync(`${root}docker-compose.yml`, 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, { ports?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
  volumes?: Record<string, unknown>;
};
const dashboard = compose.services.dashboard ?? {};

/** `${NAME:-default}` and `${NAME}` as compose substitutes them: an empty value takes the default. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback = '') => env[name] || fallback);
}

/** What the dashboard container's environment is for a given .env (or shell environment). */
function containerEnv(env: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(dashboard.environment ?? {}).map(([name, value]) => [name, interpolate(String(value), env)]),
  );
}

function dotEnvExample(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`${root}.env.example`, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

test('the dashboard is published on 127.0.0.1 only, whatever DASHBOARD_PORT says', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own substitution syntax, as the file spells it.
  expect(dashboard.ports).toEqual(['127.0.0.1:${DASHBOARD_PORT:-3000}:3000']);
  for (const env of [{}, { DASHBOARD_PORT: '8443' }] as Record<string, string>[]) {
    for (const port of dashboard.ports ?? []) {
      expect(interpolate(port, env)).toMatch(/^127\.0\.0\.1:\d+:3000$/);
    }
  }
});

test('with no .env, or .env.example copied, the dashboard starts with a password file on its volume', () => {
  for (const env of [{}, dotEnvExample()]) {
    const config = loadDashboardConfig(containerEnv(env));
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.DASHBOARD_PASSWORD).toBeUndefined();
    const file = config.DASHBOARD_PASSWORD_FILE ?? '';
    // The file lives on the named volume, so the generated password survives a restart.
    const mount = (dashboard.volumes ?? []).find((each) => file.startsWith(`${each.split(':')[1]}/`));
    expect(mount).toBe('dashboard-data:/var/lib/imsync-dashboard');
    expect(Object.keys(compose.volumes ?? {})).toContain('dashboard-data');
    expect(config).toMatchObject({ DASHBOARD_ALLOW_DESTRUCTIVE: false, DASHBOARD_TRUST_PROXY: false });
  }
});

test('an old .env with the demo password stops the container with a reason; a password of its own works', () => {
  expect(() => loadDashboardConfig(containerEnv({ DASHBOARD_PASSWORD: DEMO_PASSWORD }))).toThrow(
    /DASHBOARD_PASSWORD is the published demo password/,
  );
  const own = loadDashboardConfig(containerEnv({ DASHBOARD_PASSWORD: 'a-password-of-my-own' }));
  expect(own.DASHBOARD_PASSWORD).toBe('a-password-of-my-own');
});
