import { appCommand } from '@imsync/local-services';
import { spawnCaptured } from '@imsync/testing';
import { expect, test } from 'vitest';

// A misconfigured process says what is wrong with each variable, and never what a secret is.

const SECRET = 'sensitive-9f3a';

test.each([
  [
    'receiver',
    {
      REDIS_URL: `redis://imsync:${SECRET}@`,
      TIM_SDK_APP_ID: '1600012345',
      TIM_CALLBACK_TOKEN: `${SECRET}${'x'.repeat(200)}`,
    },
  ],
  [
    'worker',
    {
      REDIS_URL: `http://imsync:${SECRET}@redis:6379`,
      DATABASE_URL: `postgres://w:${SECRET}@db/x?password=${SECRET}`,
      TIM_SDK_APP_ID: 'x',
    },
  ],
  [
    'dashboard',
    {
      REDIS_URL: `redis://:${SECRET}@r:6379`,
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: SECRET,
      DASHBOARD_SESSION_SECRET: SECRET,
    },
  ],
] as const)('a bad configuration of the %s names the variables and prints no secret', async (app, env) => {
  const portVariable = app === 'worker' ? 'METRICS_PORT' : 'PORT';
  const { command, args, cwd } = appCommand(app);
  const run = spawnCaptured(command, args, { cwd, env: { ...env, [portVariable]: 'not-a-port' } });
  expect(await run.closed()).toBe(1);
  const output = run.output();
  expect(output).toContain(`${portVariable}: must be an integer`);
  expect(output).toMatch(new RegExp(`^imsync-${app}: invalid configuration:`));
  expect(output).not.toContain(SECRET);
});
