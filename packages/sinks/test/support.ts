import { type CallbackFixture, loadCallbackFixtures } from '@imsync/fixtures';
import { CALLBACK_CATALOG, type JobKind, parseCallback } from '@imsync/protocol';
import type { ArchivedEvent } from '../src/index.js';

const SDK_APP_ID = '1600012345';
export const FIXTURES = loadCallbackFixtures();

/** The archived event of a callback fixture (by name), with top-level fields replaced. */
export function eventOf(
  name: string,
  fields: Record<string, unknown> = {},
  receivedAt = new Date(1767583400000),
): { kind: JobKind; event: ArchivedEvent } {
  const fixture = FIXTURES.find((f) => f.name === name) as CallbackFixture;
  const definition = CALLBACK_CATALOG[fixture.command];
  const body = { ...fixture.body, ...fields };
  const parsed = definition && parseCallback(definition, SDK_APP_ID, body);
  if (!definition || !parsed?.ok) {
    throw new Error(`fixture ${name} does not parse`);
  }
  return {
    kind: definition.job,
    event: {
      key: parsed.key,
      sdkAppId: SDK_APP_ID,
      command: fixture.command,
      message: parsed.body,
      body: JSON.stringify(body),
      receivedAt,
    },
  };
}
