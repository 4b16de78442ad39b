import {
  C2C_AFTER_MSG_WITHDRAW,
  C2C_AFTER_SEND_MSG,
  GROUP_AFTER_NEW_MEMBER_JOIN,
  GROUP_AFTER_RECALL_MSG,
  GROUP_AFTER_SEND_MSG,
  SUPPORTED_COMMANDS,
} from '@imsync/protocol';
import { describe, expect, test } from 'vitest';
import { withRecordedSettings } from './replay.js';
import { parseReplayArgs, REPLAY_HELP, type ReplayPlan } from './replay-args.js';
import { UsageError } from './send.js';

const ENV = { DATABASE_URL: 'postgres://db/imsync', REDIS_URL: 'redis://:secret@redis:6379' };
const NOW = new Date('2026-11-30T12:00:00.000Z');
const plan = (argv: string[], env: NodeJS.ProcessEnv = ENV) => parseReplayArgs(argv, env, NOW) as ReplayPlan;
const refusal = (argv: string[], env: NodeJS.ProcessEnv = ENV) => {
  try {
    parseReplayArgs(argv, env, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('imsync replay arguments', () => {
  test('refuses without --to, and without the archive and the queues', () => {
    expect(refusal([])).toMatch(/--to NAME is required/);
    expect(refusal(['--dry-run'])).toMatch(/--to NAME is required/);
    expect(refusal(['--to', ''])).toMatch(/--to NAME is required/);
    expect(refusal(['--to', 'hooks'], {})).toBe('needs DATABASE_URL (the archive) and REDIS_URL (the queues)');
    expect(refusal(['--to', 'hooks'], { ...ENV, REDIS_URL: '' })).toBe('needs REDIS_URL (the queues)');
  });

  test('by default: every command, everything received until now, the default prefix and attempts', () => {
    expect(plan(['--to', 'hooks'])).toMatchObject({
      to: 'hooks',
      since: undefined,
      until: NOW,
      group: undefined,
      app: undefined,
      commands: SUPPORTED_COMMANDS,
      leftOutByGroup: [],
      dryRun: false,
      json: false,
      resumed: false,
      databaseUrl: ENV.DATABASE_URL,
      redisUrl: ENV.REDIS_URL,
      prefix: 'imsync',
      attempts: 10,
      pageRows: 1000,
    });
    expect(
      plan(['--to', 'hooks'], { ...ENV, QUEUE_PREFIX: 'staging', REPLAY_ATTEMPTS: '3', REPLAY_PAGE_ROWS: '50' }),
    ).toMatchObject({ prefix: 'staging', attempts: 3, pageRows: 50 });
    expect(refusal(['--to', 'hooks'], { ...ENV, REPLAY_PAGE_ROWS: '1.5' })).toMatch(/REPLAY_PAGE_ROWS must be/);
    expect(refusal(['--to', 'hooks'], { ...ENV, QUEUE_PREFIX: 'a:b' })).toMatch(/QUEUE_PREFIX/);
    expect(refusal(['--to', 'hooks'], { ...ENV, REPLAY_ATTEMPTS: '0' })).toMatch(/REPLAY_ATTEMPTS must be/);
  });

  test('each run has its own id, which makes job ids no original delivery holds; --run-id resumes one', () => {
    const first = plan(['--to', 'hooks']).runId;
    expect(first).toMatch(/^[a-z0-9]+$/);
    expect(plan(['--to', 'hooks']).runId).not.toBe(first);
    expect(plan(['--to', 'hooks', '--run-id', first])).toMatchObject({ runId: first, resumed: true });
    expect(refusal(['--to', 'hooks', '--run-id', 'x:y'])).toMatch(/--run-id/);
  });

  test('--since and --until: ISO 8601 or a time ago', () => {
    expect(plan(['--to', 'h', '--since', '2h']).since).toEqual(new Date('2026-11-30T10:00:00.000Z'));
    expect(plan(['--to', 'h', '--since', '3d', '--until', '90s'])).toMatchObject({
      since: new Date('2026-11-27T12:00:00.000Z'),
      until: new Date('2026-11-30T11:58:30.000Z'),
    });
    expect(plan(['--to', 'h', '--since', '1w']).since).toEqual(new Date('2026-11-23T12:00:00.000Z'));
    expect(plan(['--to', 'h', '--since', '15m']).since).toEqual(new Date('2026-11-30T11:45:00.000Z'));
    expect(plan(['--to', 'h', '--since', '2026-11-29T08:30Z']).since).toEqual(new Date('2026-11-29T08:30:00.000Z'));
    expect(plan(['--to', 'h', '--since', '2026-11-29T08:30:00.250+08:00']).since).toEqual(
      new Date('2026-11-29T00:30:00.250Z'),
    );
    expect(plan(['--to', 'h', '--since', '2026-11-29']).since).toEqual(new Date('2026-11-29T00:00:00.000Z'));
    // A --since after now is a window with nothing in it yet, not an error.
    expect(plan(['--to', 'h', '--since', '2027-01-01T00:00Z']).since).toEqual(new Date('2027-01-01T00:00:00.000Z'));
  });

  test('--since and --until refuse what is not a time, and a window the wrong way round', () => {
    for (const bad of ['yesterday', '2h ago', '-2h', '2x', '1700000000', '2026-13-01', '']) {
      expect(refusal(['--to', 'h', `--since=${bad}`])).toMatch(/--since must be an ISO 8601 time .* or a time ago/);
    }
    expect(refusal(['--to', 'h', '--until', 'soon'])).toMatch(/--until must be/);
    expect(refusal(['--to', 'h', '--since', '1h', '--until', '2h'])).toMatch(/--since .* must be before --until/);
  });

  test('--command: repeated or comma-separated, in catalog order, catalog commands only', () => {
    expect(plan(['--to', 'h', '--command', GROUP_AFTER_SEND_MSG]).commands).toEqual([GROUP_AFTER_SEND_MSG]);
    expect(
      plan([
        '--to',
        'h',
        '--command',
        `${C2C_AFTER_SEND_MSG}, ${GROUP_AFTER_RECALL_MSG}`,
        '--command',
        GROUP_AFTER_SEND_MSG,
      ]).commands,
    ).toEqual([GROUP_AFTER_SEND_MSG, GROUP_AFTER_RECALL_MSG, C2C_AFTER_SEND_MSG]);
    expect(refusal(['--to', 'h', '--command', 'Group.CallbackBeforeSendMsg'])).toMatch(
      /--command must name catalog commands \(not Group\.CallbackBeforeSendMsg\): Group\.CallbackAfterSendMsg/,
    );
    expect(refusal(['--to', 'h', '--command', ','])).toMatch(/--command must name catalog commands/);
  });

  test('--group leaves out the C2C commands, and refuses when nothing else is left', () => {
    expect(plan(['--to', 'h', '--group', '@TGS#1'])).toMatchObject({
      group: '@TGS#1',
      commands: SUPPORTED_COMMANDS.filter((c) => c !== C2C_AFTER_SEND_MSG && c !== C2C_AFTER_MSG_WITHDRAW),
      leftOutByGroup: [C2C_AFTER_SEND_MSG, C2C_AFTER_MSG_WITHDRAW],
    });
    expect(
      plan(['--to', 'h', '--group', '@TGS#1', '--command', `${GROUP_AFTER_NEW_MEMBER_JOIN},${C2C_AFTER_SEND_MSG}`]),
    ).toMatchObject({ commands: [GROUP_AFTER_NEW_MEMBER_JOIN], leftOutByGroup: [C2C_AFTER_SEND_MSG] });
    expect(refusal(['--to', 'h', '--group', '@TGS#1', '--command', C2C_AFTER_MSG_WITHDRAW])).toMatch(
      /--group selects group events only, and C2C\.CallbackAfterMsgWithDraw have no group/,
    );
    expect(refusal(['--to', 'h', '--group', ''])).toMatch(/--group needs a group id/);
  });

  test('--app takes an SDKAppID; --dry-run and --json; unknown options and stray words are refused', () => {
    expect(plan(['--to', 'h', '--app', '1400000001', '--dry-run', '--json'])).toMatchObject({
      app: '1400000001',
      dryRun: true,
      json: true,
    });
    expect(refusal(['--to', 'h', '--app', '01400'])).toMatch(/--app must be an SDKAppID/);
    expect(refusal(['--to', 'h', '--from', 'x'])).toMatch(/Unknown option '--from'/);
    expect(refusal(['--to', 'h', 'everything'])).toMatch(/Unexpected argument 'everything'/);
    expect(refusal(['--to'])).toMatch(/--to/);
  });

  test('--help: every option, the catalog, and why running it twice is harmless', () => {
    expect(parseReplayArgs(['--help'], {})).toBe('help');
    for (const option of ['--to', '--since', '--until', '--group', '--command', '--app', '--dry-run', '--json']) {
      expect(REPLAY_HELP).toContain(`  ${option} `);
    }
    for (const command of SUPPORTED_COMMANDS) {
      expect(REPLAY_HELP).toContain(command);
    }
    expect(REPLAY_HELP).toMatch(/same webhook-id|webhook-id of its original delivery/);
    expect(REPLAY_HELP).toMatch(/deduplicates by webhook-id/);
    expect(REPLAY_HELP).toMatch(/Ctrl-C/);
  });
});

describe("the settings the destination's workers recorded", () => {
  const recorded = JSON.stringify({ commands: [GROUP_AFTER_SEND_MSG, GROUP_AFTER_RECALL_MSG], attempts: 4 });

  test('fill in the subscription and the attempts when the command line left them open', () => {
    const filled = withRecordedSettings(plan(['--to', 'crm']), recorded);
    expect(filled.commands).toEqual([GROUP_AFTER_SEND_MSG, GROUP_AFTER_RECALL_MSG]);
    expect(filled.attempts).toBe(4);
  });

  test('never override --command or REPLAY_ATTEMPTS, and are ignored when absent or unreadable', () => {
    const given = plan(['--to', 'crm', '--command', C2C_AFTER_SEND_MSG], { ...ENV, REPLAY_ATTEMPTS: '7' });
    expect(withRecordedSettings(given, recorded)).toMatchObject({ commands: [C2C_AFTER_SEND_MSG], attempts: 7 });
    const open = plan(['--to', 'crm']);
    expect(withRecordedSettings(open, null)).toEqual(open);
    expect(withRecordedSettings(open, '{"attempts":"x"}')).toEqual(open);
  });
});
