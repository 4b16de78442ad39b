import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { SUPPORTED_COMMANDS } from '@imsync/protocol';
import { ConfigError } from '@imsync/runtime';
import { expect, test } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, type DestinationConfig, loadDestinationsConfig } from './index.js';

const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;
const [SECRET_A, SECRET_B] = [secret(), secret()];

/** Loads `text` as the file at `path`, with no other variable set. */
function load(text: string, path = '/etc/imsync/sinks.json'): DestinationConfig[] {
  return loadDestinationsConfig({ IMSYNC_SINKS_FILE: path }, (file) => {
    expect(file).toBe(path);
    return text;
  });
}

/** The ConfigError's message for `text`, checked to hold no secret of this file. */
function problems(text: string, path?: string): string {
  try {
    load(text, path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const value of [SECRET_A, SECRET_B, 'hunter2']) {
      expect(message).not.toContain(value);
    }
    return message;
  }
  throw new Error('expected a ConfigError');
}

const noFile = () => {
  throw new Error('no file should be read');
};

test('nothing configured: no destinations', () => {
  expect(loadDestinationsConfig({}, noFile)).toEqual([]);
  expect(loadDestinationsConfig({ IMSYNC_SINKS_FILE: '', SYNC_HTTP_URL: '' }, noFile)).toEqual([]);
});

test('the simple case: SYNC_HTTP_URL and SYNC_HTTP_SECRET make one destination named http', () => {
  expect(
    loadDestinationsConfig({ SYNC_HTTP_URL: 'https://hooks.example.com/imsync', SYNC_HTTP_SECRET: SECRET_A }, noFile),
  ).toEqual([
    {
      type: 'http',
      name: 'http',
      url: 'https://hooks.example.com/imsync',
      secrets: [SECRET_A],
      timeoutMs: 15_000,
      retrySchedule: DEFAULT_RETRY_SCHEDULE,
    },
  ]);
  const [rotating] = loadDestinationsConfig(
    { SYNC_HTTP_URL: 'http://127.0.0.1:9000/', SYNC_HTTP_SECRET: ` ${SECRET_A}, ${SECRET_B} ` },
    noFile,
  );
  expect(rotating).toMatchObject({ secrets: [SECRET_A, SECRET_B] });
});

test('the simple case, wrong: each variable named, the secret never shown', () => {
  const message = (env: Record<string, string>) => {
    try {
      loadDestinationsConfig(env, noFile);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  };
  expect(message({ SYNC_HTTP_URL: 'https://x.example/' })).toContain('SYNC_HTTP_URL and SYNC_HTTP_SECRET go together');
  expect(message({ SYNC_HTTP_SECRET: SECRET_A })).toContain('SYNC_HTTP_URL and SYNC_HTTP_SECRET go together');
  const bad = message({ SYNC_HTTP_URL: 'ftp://x.example/', SYNC_HTTP_SECRET: 'whsec_hunter2' });
  expect(bad).toContain('SYNC_HTTP_URL: must be an http(s) URL');
  expect(bad).toContain('SYNC_HTTP_SECRET: must be whsec_ followed by the base64');
  expect(bad).not.toContain('hunter2');
  expect(
    message({ IMSYNC_SINKS_FILE: '/x.json', SYNC_HTTP_URL: 'https://x.example/', SYNC_HTTP_SECRET: SECRET_A }),
  ).toContain('set IMSYNC_SINKS_FILE or SYNC_HTTP_URL, not both');
});

test('a file of several destinations: defaults filled, secret or secrets, module paths from the file', () => {
  const destinations = load(
    JSON.stringify({
      destinations: [
        { name: 'crm', type: 'http', url: 'https://crm.example.com/hooks/im', secret: SECRET_A },
        {
          name: 'analytics-2',
          type: 'http',
          url: 'http://10.0.0.5:8080/in',
          secrets: [SECRET_A, SECRET_B],
          commands: ['Group.CallbackAfterSendMsg', 'C2C.CallbackAfterSendMsg'],
          rateLimit: { max: 50, durationMs: 1000 },
          concurrency: 4,
          timeoutMs: 5000,
          retrySchedule: '0,5s,1m',
        },
        { name: 'files', type: 'module', module: './sinks/ndjson.js', options: { path: '/data/events.ndjson' } },
        { name: 'abs', type: 'module', module: '/opt/sink.mjs', retrySchedule: ['0', '1h'] },
      ],
    }),
  );
  expect(destinations).toEqual([
    {
      type: 'http',
      name: 'crm',
      url: 'https://crm.example.com/hooks/im',
      secrets: [SECRET_A],
      timeoutMs: 15_000,
      retrySchedule: DEFAULT_RETRY_SCHEDULE,
    },
    {
      type: 'http',
      name: 'analytics-2',
      url: 'http://10.0.0.5:8080/in',
      secrets: [SECRET_A, SECRET_B],
      commands: new Set(['Group.CallbackAfterSendMsg', 'C2C.CallbackAfterSendMsg']),
      rateLimit: { max: 50, durationMs: 1000 },
      concurrency: 4,
      timeoutMs: 5000,
      retrySchedule: [0, 5000, 60_000],
    },
    {
      type: 'module',
      name: 'files',
      module: resolve('/etc/imsync/sinks/ndjson.js'),
      options: { path: '/data/events.ndjson' },
      timeoutMs: 15_000,
      retrySchedule: DEFAULT_RETRY_SCHEDULE,
    },
    {
      type: 'module',
      name: 'abs',
      module: resolve('/opt/sink.mjs'),
      options: {},
      timeoutMs: 15_000,
      retrySchedule: [0, 3_600_000],
    },
  ]);
});

test('YAML too, for a file ending in .yaml or .yml', () => {
  const yaml = `
destinations:
  - name: crm
    type: http
    url: https://crm.example.com/hooks/im
    secrets:
      - ${SECRET_A}
      - ${SECRET_B}
    commands: [Group.CallbackAfterRecallMsg]
    retrySchedule: [0, 5s, 5m]
`;
  expect(load(yaml, '/etc/imsync/sinks.yaml')).toEqual([
    {
      type: 'http',
      name: 'crm',
      url: 'https://crm.example.com/hooks/im',
      secrets: [SECRET_A, SECRET_B],
      commands: new Set(['Group.CallbackAfterRecallMsg']),
      timeoutMs: 15_000,
      retrySchedule: [0, 5000, 300_000],
    },
  ]);
  expect(load('destinations: []\n', '/x/sinks.YML')).toEqual([]);
});

test('every problem named by its path in one error, no value quoted', () => {
  const message = problems(
    JSON.stringify({
      destinations: [
        { name: 'ok', type: 'http', url: 'https://a.example/', secret: SECRET_A },
        { name: 'Bad Name', type: 'http', url: 'ftp://b.example/', secret: 'whsec_hunter2' },
        { name: 'ok', type: 'http', url: 'https://user:hunter2@c.example/', secrets: [SECRET_A, 'hunter2'] },
        { name: 'both', type: 'http', url: 'https://d.example/', secret: SECRET_A, secrets: [SECRET_B] },
        { name: 'none', type: 'http', url: 'https://d.example/' },
        { name: 'typo', type: 'http', url: 'https://d.example/', secert: SECRET_B, secret: SECRET_A },
        { name: 'cmds', type: 'module', module: './m.js', commands: ['Group.CallbackBeforeSendMsg'] },
        {
          name: 'limits',
          type: 'module',
          module: '',
          rateLimit: { max: 0 },
          concurrency: 1.5,
          timeoutMs: 10,
          retrySchedule: '0,5',
          options: 'x',
        },
        { name: 'kind', type: 'kafka' },
        { name: 'empty-commands', type: 'module', module: './m.js', commands: [] },
      ],
    }),
  );
  const lines = message.split('\n');
  expect(lines[0]).toBe('invalid configuration in /etc/imsync/sinks.json:');
  expect(lines.slice(1).sort()).toEqual(
    [
      '  IMSYNC_SINKS_FILE destinations[1].name: must be 1 to 63 of a-z, 0-9 and -, starting with a letter or digit',
      '  IMSYNC_SINKS_FILE destinations[1].url: must be an http(s) URL without credentials',
      '  IMSYNC_SINKS_FILE destinations[1].secret: must be whsec_ followed by the base64 of 24 to 64 random bytes',
      '  IMSYNC_SINKS_FILE destinations[2].url: must be an http(s) URL without credentials',
      '  IMSYNC_SINKS_FILE destinations[2].secrets[1]: must be whsec_ followed by the base64 of 24 to 64 random bytes',
      '  IMSYNC_SINKS_FILE destinations[5].secert: is not a setting here (a typo?)',
      `  IMSYNC_SINKS_FILE destinations[6].commands[0]: must be one of the catalog's commands: ${SUPPORTED_COMMANDS.join(', ')}`,
      '  IMSYNC_SINKS_FILE destinations[7].rateLimit.durationMs: is required',
      '  IMSYNC_SINKS_FILE destinations[7].rateLimit.max: must be a whole number from 1 to 1000000',
      '  IMSYNC_SINKS_FILE destinations[7].concurrency: must be a whole number from 1 to 1000',
      '  IMSYNC_SINKS_FILE destinations[7].timeoutMs: must be a whole number from 100 to 600000',
      '  IMSYNC_SINKS_FILE destinations[7].retrySchedule: "5" is not a wait like 500ms, 5s, 5m, 2h or 1d',
      '  IMSYNC_SINKS_FILE destinations[7].module: must be a path to an ES module',
      '  IMSYNC_SINKS_FILE destinations[7].options: must be an object (given to the module as it is)',
      '  IMSYNC_SINKS_FILE destinations[8].type: must be "http" or "module"',
      '  IMSYNC_SINKS_FILE destinations[9].commands: must list at least one command (leave it out for all of them)',
    ].sort(),
  );
});

test('checks across entries once each entry is right: unique names, secret xor secrets', () => {
  const message = problems(
    JSON.stringify({
      destinations: [
        { name: 'a', type: 'http', url: 'https://a.example/', secret: SECRET_A },
        { name: 'a', type: 'module', module: './m.js' },
        { name: 'both', type: 'http', url: 'https://d.example/', secret: SECRET_A, secrets: [SECRET_B] },
        { name: 'none', type: 'http', url: 'https://d.example/' },
      ],
    }),
  );
  expect(message.split('\n').slice(1)).toEqual([
    '  IMSYNC_SINKS_FILE destinations[1].name: is already the name of destinations[0]; names must be unique',
    '  IMSYNC_SINKS_FILE destinations[2]: needs either "secret" or "secrets" (a list, for rotation), and not both',
    '  IMSYNC_SINKS_FILE destinations[3]: needs either "secret" or "secrets" (a list, for rotation), and not both',
  ]);
});

test('secrets: whsec_ and the base64 of 24 to 64 bytes', () => {
  const one = (value: string) =>
    JSON.stringify({ destinations: [{ name: 'a', type: 'http', url: 'https://a.example/', secret: value }] });
  expect(load(one(secret(24)))).toHaveLength(1);
  expect(load(one(secret(64)))).toHaveLength(1);
  for (const bad of [
    secret(23),
    secret(65),
    SECRET_A.slice('whsec_'.length),
    `${SECRET_A}!`,
    SECRET_A.replace('whsec_', 'whsec-'),
    `whsec_${randomBytes(32).toString('base64url')}_-`,
  ]) {
    expect(problems(one(bad))).toContain('destinations[0].secret: must be whsec_');
  }
});

test('a file that is not there, not JSON or YAML, or not the right shape, says so without quoting it', () => {
  expect(() =>
    loadDestinationsConfig({ IMSYNC_SINKS_FILE: '/nope.json' }, () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    }),
  ).toThrow(new ConfigError('IMSYNC_SINKS_FILE: cannot read /nope.json (ENOENT)'));
  const broken = `{"destinations": [{"secret": "${SECRET_A}" x}]}`;
  expect(problems(broken)).toBe(
    `IMSYNC_SINKS_FILE: /etc/imsync/sinks.json is not valid JSON: Expected ',' or '}' after property value (line 1, column ${broken.indexOf('x}') + 1})`,
  );
  expect(problems('{\n  "destinations": [\n    {"name": "a",}\n  ]\n}')).toBe(
    'IMSYNC_SINKS_FILE: /etc/imsync/sinks.json is not valid JSON: Expected double-quoted property name (line 3, column 18)',
  );
  expect(problems(`{"destinations": [{"secret": hunter2}]}`)).toBe(
    "IMSYNC_SINKS_FILE: /etc/imsync/sinks.json is not valid JSON: Unexpected token 'h'",
  );
  expect(problems(`destinations:\n  - secret: ${SECRET_A}\n    secret: ${SECRET_B}\n`, '/s.yaml')).toBe(
    'IMSYNC_SINKS_FILE: /s.yaml is not valid YAML: Map keys must be unique (line 3, column 5)',
  );
  expect(problems('[]')).toContain('IMSYNC_SINKS_FILE (the whole file): must be an object with a "destinations" list');
  expect(problems('{}')).toContain('IMSYNC_SINKS_FILE destinations: is required');
  expect(problems('{"destinations": {}}')).toContain('IMSYNC_SINKS_FILE destinations: must be a list');
  expect(problems('{"destinations": [{"name": "m", "type": "module"}]}')).toContain(
    'IMSYNC_SINKS_FILE destinations[0].module: is required',
  );
  expect(problems('{"destinations": [], "version": 2}')).toContain(
    'IMSYNC_SINKS_FILE version: is not a setting here (a typo?)',
  );
  expect(problems('{"destinations": [{"name": "a"}]}')).toContain(
    'IMSYNC_SINKS_FILE destinations[0].type: is required: "http" or "module"',
  );
});
