import { C2C_AFTER_SEND_MSG, GROUP_AFTER_SEND_MSG, SUPPORTED_COMMANDS } from '@imsync/protocol';
import { describe, expect, test } from 'vitest';
import { LOCAL_DEFAULTS } from './defaults.js';
import { parseSendArgs, SEND_HELP, type SendPlan, UsageError } from './send.js';

const plan = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseSendArgs(argv, env) as SendPlan;
const refusal = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  try {
    parseSendArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('imsync send arguments', () => {
  test('by default: group messages, as the one local app, signed with its token', () => {
    expect(plan([])).toMatchObject({
      commands: [GROUP_AFTER_SEND_MSG],
      apps: new Map([[LOCAL_DEFAULTS.sdkAppId, [LOCAL_DEFAULTS.token]]]),
      count: 100,
      verify: undefined,
    });
    expect(plan([], { TIM_SDK_APP_ID: '1400000009', TIM_CALLBACK_TOKEN: 'envtok' }).apps).toEqual(
      new Map([['1400000009', ['envtok']]]),
    );
    expect(plan(['--app-id', '1400000009', '--unsigned']).apps).toEqual(new Map([['1400000009', []]]));
  });

  test('--commands: a list in catalog order, or all of them', () => {
    expect(plan(['--commands', 'all']).commands).toEqual(SUPPORTED_COMMANDS);
    expect(plan(['--commands', `${C2C_AFTER_SEND_MSG}, ${GROUP_AFTER_SEND_MSG}`]).commands).toEqual([
      GROUP_AFTER_SEND_MSG,
      C2C_AFTER_SEND_MSG,
    ]);
  });

  test('--commands refuses unknown commands and recalls without their messages', () => {
    expect(refusal(['--commands', 'Group.CallbackBeforeSendMsg'])).toMatch(
      /--commands must list supported commands only \(Group\.CallbackBeforeSendMsg\)/,
    );
    expect(refusal(['--commands', 'Group.CallbackAfterRecallMsg'])).toMatch(/needs Group\.CallbackAfterSendMsg/);
    expect(refusal(['--commands', `${GROUP_AFTER_SEND_MSG},C2C.CallbackAfterMsgWithDraw`])).toMatch(
      /needs C2C\.CallbackAfterSendMsg/,
    );
    expect(refusal(['--commands', ','])).toMatch(/supported commands only/);
  });

  test('--apps: several apps as TIM_APPS lists them, a rotation included', () => {
    expect(plan(['--apps', '1400000001:tokA,1400000002:tokB,1400000002:tokB2']).apps).toEqual(
      new Map([
        ['1400000001', ['tokA']],
        ['1400000002', ['tokB', 'tokB2']],
      ]),
    );
    expect(plan(['--apps', '1400000001:tokA,1400000002', '--unsigned']).apps).toEqual(
      new Map([
        ['1400000001', []],
        ['1400000002', []],
      ]),
    );
  });

  test('--apps refuses a bad list without repeating its tokens, and --app-id or --token beside it', () => {
    const message = refusal(['--apps', '1400000001:secret-a,abc:secret-b']);
    expect(message).toMatch(/--apps entry 2 must start with an SDKAppID/);
    expect(message).not.toMatch(/secret/);
    expect(refusal(['--apps', '1400000001:tokA', '--app-id', '1400000002'])).toMatch(/leave out --app-id and --token/);
    expect(refusal(['--apps', '1400000001:tokA', '--token', 'tokB'])).toMatch(/leave out --app-id and --token/);
  });

  test('--verify needs the archive; --help documents --commands and --apps', () => {
    expect(refusal(['--verify'])).toMatch(/DATABASE_URL/);
    expect(plan(['--verify', '--verify-timeout', '5'], { DATABASE_URL: 'postgres://db/x' }).verify).toEqual({
      databaseUrl: 'postgres://db/x',
      timeoutMs: 5000,
    });
    expect(parseSendArgs(['--help'], {})).toBe('help');
    expect(SEND_HELP).toMatch(/--commands C,\.\.\. +callback commands to send, or "all"/);
    expect(SEND_HELP).toMatch(/--apps ID:TOKEN,\.\.\. +several apps instead, written as the receiver's TIM_APPS/);
    for (const command of SUPPORTED_COMMANDS) {
      expect(SEND_HELP).toContain(command);
    }
  });
});
