import * as v from 'valibot';
import { SdkAppIdSchema } from './schemas/scalars.js';

/** Each served app (SDKAppID) and the callback tokens it accepts (several while rotating). */
export type AppTokens = ReadonlyMap<string, readonly string[]>;

const MAX_TOKEN_LENGTH = 128;

/**
 * `TIM_APPS`: comma-separated `SDKAPPID:TOKEN` entries, e.g. `1400000001:tokA,1600012345:tokB`.
 * One SDKAppID listed twice with two tokens accepts both (token rotation); an entry without a
 * token names an app only (for workers, or receivers with TIM_CALLBACK_AUTH=off). Messages never
 * repeat a token: they name the entry by its position.
 */
export const AppListSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const apps = new Map<string, string[]>();
    const entries = dataset.value.split(',').map((entry) => entry.trim());
    for (const [i, entry] of entries.entries()) {
      const colon = entry.indexOf(':');
      const id = colon === -1 ? entry : entry.slice(0, colon);
      const token = colon === -1 ? undefined : entry.slice(colon + 1);
      if (!v.is(SdkAppIdSchema, id)) {
        addIssue({ message: `entry ${i + 1} must start with an SDKAppID (1 to 18 digits)` });
        continue;
      }
      if (token !== undefined && (token.length === 0 || token.length > MAX_TOKEN_LENGTH)) {
        addIssue({
          message: `entry ${i + 1} (app ${id}) must have a token of 1 to ${MAX_TOKEN_LENGTH} characters after ':'`,
        });
        continue;
      }
      const tokens = apps.get(id) ?? [];
      if (token !== undefined && !tokens.includes(token)) {
        tokens.push(token);
      }
      apps.set(id, tokens);
    }
    if (apps.size === 0) {
      addIssue({ message: 'must list at least one app' });
      return NEVER;
    }
    return apps;
  }),
);

/** Apps from both forms of configuration: `TIM_APPS`, and `TIM_SDK_APP_ID` with its token. */
export function mergeApps(
  list: AppTokens | undefined,
  single: { sdkAppId: string | undefined; token: string | undefined },
): Map<string, string[]> {
  const apps = new Map<string, string[]>();
  for (const [id, tokens] of list ?? []) {
    apps.set(id, [...tokens]);
  }
  if (single.sdkAppId !== undefined) {
    const tokens = apps.get(single.sdkAppId) ?? [];
    if (single.token !== undefined && !tokens.includes(single.token)) {
      tokens.push(single.token);
    }
    apps.set(single.sdkAppId, tokens);
  }
  return apps;
}
